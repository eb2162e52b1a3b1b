/**
 * The OIDs of the built-in PostgreSQL types that rxpg decodes, named after their `typname`
 * in `pg_type` (array types drop the leading underscore and end in `Array`). These OIDs are
 * fixed in every PostgreSQL release (they are assigned in the server's catalog headers), so
 * they are constants, not looked up per connection.
 *
 * A column's type OID is `ResultField.dataTypeId`; a {@link TypeRegistry} maps it to a decoder.
 *
 * @example
 * import { TypeOid } from 'rxpg';
 * if (field.dataTypeId === TypeOid.timestamptz) { ... }
 */
export const TypeOid = Object.freeze({
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  xml: 142,
  float4: 700,
  float8: 701,
  money: 790,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  timetz: 1266,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,

  boolArray: 1000,
  byteaArray: 1001,
  charArray: 1002,
  nameArray: 1003,
  int2Array: 1005,
  int4Array: 1007,
  textArray: 1009,
  bpcharArray: 1014,
  varcharArray: 1015,
  int8Array: 1016,
  float4Array: 1021,
  float8Array: 1022,
  oidArray: 1028,
  jsonArray: 199,
  xmlArray: 143,
  moneyArray: 791,
  timestampArray: 1115,
  dateArray: 1182,
  timeArray: 1183,
  timestamptzArray: 1185,
  intervalArray: 1187,
  numericArray: 1231,
  timetzArray: 1270,
  uuidArray: 2951,
  jsonbArray: 3807,
} as const);

/**
 * The name of a built-in type in {@link TypeOid}, e.g. `'int4'` or `'textArray'`.
 *
 * @example
 * const name: TypeName = 'timestamptz';
 */
export type TypeName = keyof typeof TypeOid;

/**
 * For each built-in array type in {@link TypeOid}, the OID of its element type (`pg_type.typelem`),
 * e.g. `int4Array` (1007) → `int4` (23). Used by {@link TypeRegistry} to build array decoders
 * from element decoders. Not exported from the package.
 *
 * @example
 * arrayElementOids.get(TypeOid.int4Array); // 23
 */
export const arrayElementOids: ReadonlyMap<number, number> = new Map<number, number>([
  [TypeOid.boolArray, TypeOid.bool],
  [TypeOid.byteaArray, TypeOid.bytea],
  [TypeOid.charArray, TypeOid.char],
  [TypeOid.nameArray, TypeOid.name],
  [TypeOid.int2Array, TypeOid.int2],
  [TypeOid.int4Array, TypeOid.int4],
  [TypeOid.textArray, TypeOid.text],
  [TypeOid.bpcharArray, TypeOid.bpchar],
  [TypeOid.varcharArray, TypeOid.varchar],
  [TypeOid.int8Array, TypeOid.int8],
  [TypeOid.float4Array, TypeOid.float4],
  [TypeOid.float8Array, TypeOid.float8],
  [TypeOid.oidArray, TypeOid.oid],
  [TypeOid.jsonArray, TypeOid.json],
  [TypeOid.xmlArray, TypeOid.xml],
  [TypeOid.moneyArray, TypeOid.money],
  [TypeOid.timestampArray, TypeOid.timestamp],
  [TypeOid.dateArray, TypeOid.date],
  [TypeOid.timeArray, TypeOid.time],
  [TypeOid.timestamptzArray, TypeOid.timestamptz],
  [TypeOid.intervalArray, TypeOid.interval],
  [TypeOid.numericArray, TypeOid.numeric],
  [TypeOid.timetzArray, TypeOid.timetz],
  [TypeOid.uuidArray, TypeOid.uuid],
  [TypeOid.jsonbArray, TypeOid.jsonb],
]);
