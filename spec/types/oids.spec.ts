// Checks every OID in TypeOid against the catalog of the real server.
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { connect, type Connection } from '../../lib';
import { arrayElementOids, TypeOid, type TypeName } from '../../lib/types';
import { superuserConfig } from '../helpers/test-servers';

let connection: Connection;
beforeAll(async () => {
  connection = await firstValueFrom(connect(superuserConfig()));
});
afterAll(() => connection.close());

interface CatalogRow {
  readonly typname: string;
  readonly typarray: number;
  readonly typelem: number;
}

async function catalog(): Promise<Map<number, CatalogRow>> {
  const oids = Object.values(TypeOid).join(',');
  const [result] = await lastValueFrom(
    connection.simpleQuery(`SELECT oid, typname, typarray, typelem FROM pg_type WHERE oid IN (${oids})`).pipe(toArray()),
  );
  return new Map(result!.rows.map((row) => [Number(row[0]), { typname: row[1]!, typarray: Number(row[2]), typelem: Number(row[3]) }]));
}

describe('TypeOid', () => {
  it('names each OID after its pg_type.typname (arrays: _name → nameArray)', async () => {
    const rows = await catalog();
    for (const [name, oid] of Object.entries(TypeOid) as [TypeName, number][]) {
      const row = rows.get(oid);
      expect({ name, typname: row?.typname }).toEqual({
        name,
        typname: name.endsWith('Array') ? `_${name.slice(0, -'Array'.length)}` : name,
      });
    }
  });

  it("gives every scalar type's array OID (pg_type.typarray)", async () => {
    const rows = await catalog();
    for (const [name, oid] of Object.entries(TypeOid) as [TypeName, number][]) {
      if (name.endsWith('Array')) continue;
      expect({ name, typarray: rows.get(oid)?.typarray }).toEqual({ name, typarray: TypeOid[`${name}Array` as TypeName] });
    }
  });

  it('maps each array OID to its element OID (pg_type.typelem) in arrayElementOids', async () => {
    const rows = await catalog();
    const arrayNames = (Object.keys(TypeOid) as TypeName[]).filter((name) => name.endsWith('Array'));
    expect(arrayElementOids.size).toBe(arrayNames.length);
    for (const name of arrayNames) {
      const oid = TypeOid[name];
      expect({ name, element: arrayElementOids.get(oid) }).toEqual({ name, element: rows.get(oid)?.typelem });
    }
  });
});
