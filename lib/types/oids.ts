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
  /** SQL `boolean`. */
  bool: 16,
  /** SQL `bytea`. */
  bytea: 17,
  /** SQL `"char"`, a single byte (system catalogs). */
  char: 18,
  /** SQL `name`, a 63-byte identifier (system catalogs). */
  name: 19,
  /** SQL `bigint`. */
  int8: 20,
  /** SQL `smallint`. */
  int2: 21,
  /** SQL `integer`. */
  int4: 23,
  /** SQL `text`. */
  text: 25,
  /** SQL `oid`. */
  oid: 26,
  /** SQL `json`. */
  json: 114,
  /** SQL `xml`. */
  xml: 142,
  /** SQL `real`. */
  float4: 700,
  /** SQL `double precision`. */
  float8: 701,
  /** SQL `money`. */
  money: 790,
  /** SQL `character(n)`. */
  bpchar: 1042,
  /** SQL `character varying(n)`. */
  varchar: 1043,
  /** SQL `date`. */
  date: 1082,
  /** SQL `time without time zone`. */
  time: 1083,
  /** SQL `timestamp without time zone`. */
  timestamp: 1114,
  /** SQL `timestamp with time zone`. */
  timestamptz: 1184,
  /** SQL `interval`. */
  interval: 1186,
  /** SQL `time with time zone`. */
  timetz: 1266,
  /** SQL `numeric`. */
  numeric: 1700,
  /** SQL `uuid`. */
  uuid: 2950,
  /** SQL `jsonb`. */
  jsonb: 3802,

  /** SQL `boolean[]`. */
  boolArray: 1000,
  /** SQL `bytea[]`. */
  byteaArray: 1001,
  /** SQL `"char"[]`. */
  charArray: 1002,
  /** SQL `name[]`. */
  nameArray: 1003,
  /** SQL `smallint[]`. */
  int2Array: 1005,
  /** SQL `integer[]`. */
  int4Array: 1007,
  /** SQL `text[]`. */
  textArray: 1009,
  /** SQL `character(n)[]`. */
  bpcharArray: 1014,
  /** SQL `character varying(n)[]`. */
  varcharArray: 1015,
  /** SQL `bigint[]`. */
  int8Array: 1016,
  /** SQL `real[]`. */
  float4Array: 1021,
  /** SQL `double precision[]`. */
  float8Array: 1022,
  /** SQL `oid[]`. */
  oidArray: 1028,
  /** SQL `json[]`. */
  jsonArray: 199,
  /** SQL `xml[]`. */
  xmlArray: 143,
  /** SQL `money[]`. */
  moneyArray: 791,
  /** SQL `timestamp without time zone[]`. */
  timestampArray: 1115,
  /** SQL `date[]`. */
  dateArray: 1182,
  /** SQL `time without time zone[]`. */
  timeArray: 1183,
  /** SQL `timestamp with time zone[]`. */
  timestamptzArray: 1185,
  /** SQL `interval[]`. */
  intervalArray: 1187,
  /** SQL `numeric[]`. */
  numericArray: 1231,
  /** SQL `time with time zone[]`. */
  timetzArray: 1270,
  /** SQL `uuid[]`. */
  uuidArray: 2951,
  /** SQL `jsonb[]`. */
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
