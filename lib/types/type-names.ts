import { TypeOid } from './oids';

/** `TypeOid`'s names by OID, array types as `int4[]` rather than `int4Array`. */
const namesByOid: ReadonlyMap<number, string> = new Map(
  Object.entries(TypeOid).map(([name, oid]) => [oid, name.endsWith('Array') ? `${name.slice(0, -'Array'.length)}[]` : name]),
);

/**
 * The name of the built-in type `oid` as error messages give it (`'int4'`, `'timestamptz[]'`),
 * or undefined for an OID that {@link TypeOid} does not list (user types, enums, domains).
 * Not exported from the package.
 *
 * @example
 * builtinTypeName(1007); // 'int4[]'
 */
export function builtinTypeName(oid: number): string | undefined {
  return namesByOid.get(oid);
}
