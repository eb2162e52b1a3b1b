// Binary results end to end: a cached statement's first run is text (its columns are not known
// before its Bind), later runs ask for binary the columns whose type has a built-in binary
// decoder. Every built-in type and its edge values must decode the same in both, the same as
// through a connection without a statement cache (always text), as the simple protocol's text
// through the registry, and raw rows keep the server's text.
import { lastValueFrom, toArray } from 'rxjs';
import type { Connection } from '../../lib';
import { TypeOid, TypeRegistry } from '../../lib/types';
import { closeOpenedConnections, openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';
import { sameValue, showValue } from '../helpers/same-value';

afterEach(closeOpenedConnections);

/** One line per value of `actual` that is not the same as in `expected`. */
function differences(label: string, actual: readonly (readonly unknown[])[], expected: readonly (readonly unknown[])[]): string[] {
  if (actual.length !== expected.length) return [`${label}: ${actual.length} rows, expected ${expected.length}`];
  const found: string[] = [];
  actual.forEach((row, r) =>
    row.forEach((value, c) => {
      if (!sameValue(value, expected[r]![c]))
        found.push(`${label} row ${r} column ${c}: ${showValue(value)}, expected ${showValue(expected[r]![c])}`);
    }),
  );
  return found;
}

const arrayRows = (connection: Connection, sql: string) => lastValueFrom(connection.query(sql, [], { rowMode: 'array' }).pipe(toArray()));

/** The simple protocol's text rows (never binary) and the column type OIDs. */
async function textRows(connection: Connection, sql: string) {
  const results = await lastValueFrom(connection.simpleQuery(sql).pipe(toArray()));
  const last = results[results.length - 1]!;
  return { oids: last.fields.map((field) => field.dataTypeId), rows: last.rows };
}

/** The text rows decoded by a registry, as `query` decodes text results. */
function decodeText(types: TypeRegistry, oids: readonly number[], rows: readonly (readonly (string | null)[])[]): unknown[][] {
  return rows.map((row) => row.map((text, i) => (text === null ? null : types.decoderFor(oids[i]!)(text))));
}

/** A VALUES list of typed literals. */
function values(type: string, literals: readonly string[]): string {
  return literals.map((literal) => `('${literal.replace(/'/g, "''")}'::${type})`).join(', ');
}

/** Each type's edge values: a column of them, the same in a 1-D array with a NULL, and in a 2-D array with a lower bound of 0. */
function edgeQuery(type: string, literals: readonly string[]): string {
  return `SELECT v, ARRAY[v, NULL] AS a, ('[0:1][1:2]=' || ARRAY[ARRAY[v, v], ARRAY[NULL, v]]::text)::${type}[] AS b
          FROM (VALUES ${values(type, literals)}, (NULL)) AS t(v)`;
}

const edgeValues: readonly (readonly [string, readonly string[]])[] = [
  ['int2', ['-32768', '-1', '0', '1', '32767']],
  ['int4', ['-2147483648', '-1', '0', '1', '2147483647']],
  ['int8', ['-9223372036854775808', '-9007199254740993', '-4294967296', '-1', '0', '1', '9007199254740993', '9223372036854775807']],
  ['oid', ['0', '1', '4294967295']],
  [
    'float4',
    [
      'NaN',
      'Infinity',
      '-Infinity',
      '-0',
      '0',
      '1.1',
      '0.1',
      '1e-45',
      '1.1754944e-38',
      '3.4028235e38',
      '16777217',
      '7.038531e-26',
      '0.000244140625',
    ],
  ],
  ['float8', ['NaN', 'Infinity', '-Infinity', '-0', '0', '1.1', '0.1', '0.30000000000000004', '5e-324', '1.7976931348623157e308']],
  ['bool', ['true', 'false']],
  [
    'timestamp',
    [
      '4713-11-24 00:00:00 BC',
      '0044-03-15 12:00:00 BC',
      '0001-01-01 00:00:00',
      '1969-12-31 23:59:59.999999',
      '1970-01-01 00:00:00.000001',
      '2000-01-01 00:00:00',
      '2000-01-01 00:00:00.999999',
      '275760-09-13 00:00:00',
      '294276-12-31 23:59:59.999999',
      'infinity',
      '-infinity',
    ],
  ],
  [
    'timestamptz',
    [
      '4713-11-24 12:00:00+00 BC',
      '0044-03-15 12:00:00+00 BC',
      '1850-06-01 00:00:00+00',
      '1969-12-31 23:59:59.999999+00',
      '2000-01-01 00:00:00+00',
      '2024-03-31 01:30:00.000001+00',
      '275760-09-12 00:00:00+00',
      'infinity',
      '-infinity',
    ],
  ],
  [
    'date',
    ['4713-11-24 BC', '0044-03-15 BC', '0001-01-01', '1970-01-01', '2000-01-01', '2000-02-29', '5874897-12-31', 'infinity', '-infinity'],
  ],
  ['uuid', ['00000000-0000-0000-0000-000000000000', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'ffffffff-ffff-ffff-ffff-ffffffffffff']],
  ['bytea', ['', '\\x00ff5c', '\\x' + Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex')]],
];

/** Records the formats the row builders ask the registry for, by type OID. */
function watchFormats(connection: Connection): Map<number, Set<number>> {
  const formats = new Map<number, Set<number>>();
  const valueDecoderFor = connection.types.valueDecoderFor.bind(connection.types);
  jest.spyOn(connection.types, 'valueDecoderFor').mockImplementation((oid, format) => {
    if (!formats.has(oid)) formats.set(oid, new Set());
    formats.get(oid)!.add(format);
    return valueDecoderFor(oid, format);
  });
  return formats;
}

describe('query with binary results', () => {
  it('decodes every built-in type and edge value the same in text (first run), binary (later runs), uncached, raw and simple', async () => {
    const cached = await openConnection(superuserConfig());
    const uncached = await openConnection({ ...superuserConfig(), statementCacheSize: 0 });
    const formats = watchFormats(cached);
    const found: string[] = [];
    for (const zone of ['UTC', 'Asia/Kolkata']) {
      for (const connection of [cached, uncached]) await lastValueFrom(connection.simpleQuery(`SET TimeZone = '${zone}'`).pipe(toArray()));
      for (const [type, literals] of edgeValues) {
        const sql = `${edgeQuery(type, literals)} -- ${zone}`;
        const { oids, rows } = await textRows(cached, sql);
        const expected = decodeText(new TypeRegistry(), oids, rows);
        found.push(...differences(`${type} first run (text)`, await arrayRows(cached, sql), expected));
        formats.clear();
        found.push(...differences(`${type} second run (binary)`, await arrayRows(cached, sql), expected));
        expect([...(formats.get(oids[0]!) ?? [])]).toEqual([1]);
        expect([...(formats.get(oids[1]!) ?? [])]).toEqual([1]);
        found.push(...differences(`${type} third run (binary)`, await arrayRows(cached, sql), expected));
        found.push(...differences(`${type} uncached`, await arrayRows(uncached, sql), expected));
        const raw = await lastValueFrom(cached.query(sql, [], { rowMode: 'raw' }).pipe(toArray()));
        found.push(
          ...differences(
            `${type} raw`,
            raw.map((row) => row.values),
            rows,
          ),
        );
        const objects = await lastValueFrom(cached.query<Record<string, unknown>>(sql).pipe(toArray()));
        found.push(
          ...differences(
            `${type} objects (binary)`,
            objects.map((row) => [row.v, row.a, row.b]),
            expected,
          ),
        );
      }
    }
    expect(found).toEqual([]);
  });

  it('decodes int8 and int8[] as bigints the same in both formats', async () => {
    const cached = await openConnection({ ...superuserConfig(), bigint: true });
    const formats = watchFormats(cached);
    const sql = edgeQuery('int8', edgeValues.find(([type]) => type === 'int8')![1]);
    const { oids, rows } = await textRows(cached, sql);
    const expected = decodeText(new TypeRegistry({ bigint: true }), oids, rows);
    expect(expected[0]![0]).toBe(-9223372036854775808n);
    const first = await arrayRows(cached, sql);
    formats.clear();
    const second = await arrayRows(cached, sql);
    expect(formats.get(TypeOid.int8)).toEqual(new Set([1]));
    expect(differences('first', first, expected)).toEqual([]);
    expect(differences('second', second, expected)).toEqual([]);
  });

  it("keeps a type the user set a decoder for in text, and that decoder's values on every run", async () => {
    const cached = await openConnection(superuserConfig());
    const formats = watchFormats(cached);
    const sql = `SELECT 7::int4 AS n, ARRAY[7]::int4[] AS ns, 1.5::float8 AS f`;
    expect(await arrayRows(cached, sql)).toEqual([[7, [7], 1.5]]);
    expect(await arrayRows(cached, sql)).toEqual([[7, [7], 1.5]]);
    expect(formats.get(TypeOid.int4)).toEqual(new Set([0, 1]));

    cached.types.setDecoder(TypeOid.int4, (text) => `int4 ${text}`);
    expect(cached.types.resultFormatFor(TypeOid.int4)).toBe(0);
    formats.clear();
    for (let run = 0; run < 3; run++) {
      // The array type keeps its own (built-in) decoder, in binary as in text.
      expect(await arrayRows(cached, sql)).toEqual([['int4 7', [7], 1.5]]);
    }
    expect(formats.get(TypeOid.int4)).toEqual(new Set([0]));
    expect(formats.get(TypeOid.float8)).toEqual(new Set([1]));
    expect(formats.get(TypeOid.int4Array)).toEqual(new Set([1]));
  });

  it('keeps the overridden type of a registry made with overrides in text', () => {
    const types = new TypeRegistry({ overrides: { [TypeOid.timestamptz]: (text) => text } });
    expect(types.resultFormatFor(TypeOid.timestamptz)).toBe(0);
    expect(types.resultFormatFor(TypeOid.timestamp)).toBe(1);
    expect(types.resultFormatFor(TypeOid.numeric)).toBe(0);
  });
});
