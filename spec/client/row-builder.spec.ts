// The row builder decodes each value from the DataRow's bytes with the decoder of its (type
// OID, format); cached, described statements ask for binary results where the registry says
// so, and give the same rows as their first (text) run (issue 14 items 4 and 5).
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { connect, TypeOid, TypeRegistry, type Connection } from '../../lib';
import { rowBuilder, RowBuilderCache, type RawRow } from '../../lib/client/row-builder';
import { BackendMessageDecoder, dataRowLength, type DataRow, type FieldDescription } from '../../lib/wire';
import * as b from '../helpers/backend-messages';
import { superuserConfig } from '../helpers/test-servers';

function field(name: string, dataTypeId: number, format: 0 | 1 = 0): FieldDescription {
  return { name, tableId: 0, columnId: 0, dataTypeId, dataTypeSize: -1, dataTypeModifier: -1, format };
}

/** The DataRow message the decoder makes of these values (strings as UTF-8, Buffers as they are). */
function dataRow(values: readonly (string | Buffer | null)[]): DataRow {
  let row: DataRow | undefined;
  // Other bytes around it, as in a socket chunk.
  new BackendMessageDecoder().decode(Buffer.concat([b.commandComplete('SELECT 1'), b.dataRow(values), b.noData()]), (message) => {
    if (message.name === 'DataRow') row = message;
  });
  return row!;
}

const int4 = (value: number): Buffer => b.int32(value);

describe('rowBuilder', () => {
  const fields = [field('n', TypeOid.int4), field('t', TypeOid.text), field('f', TypeOid.float8), field('b', TypeOid.bool)];

  it('decodes text values from the bytes, NULL as null, in every mode', () => {
    const types = new TypeRegistry();
    const row = dataRow(['-42', 'snow ☃', null, 't']);
    expect(rowBuilder(fields, types, 'object')(row)).toEqual({ n: -42, t: 'snow ☃', f: null, b: true });
    expect(rowBuilder(fields, types, 'array')(row)).toEqual([-42, 'snow ☃', null, true]);
    const raw = rowBuilder(fields, types, 'raw')(row) as RawRow;
    expect(raw).toEqual({ columnNames: ['n', 't', 'f', 'b'], values: ['-42', 'snow ☃', null, 't'] });
  });

  it('decodes binary columns with the binary decoders, by the formats given (one per column, one for all, none)', () => {
    const types = new TypeRegistry();
    const two = [field('n', TypeOid.int4), field('m', TypeOid.int4)];
    expect(rowBuilder(two, types, 'array', [1, 0])(dataRow([int4(7), '8']))).toEqual([7, 8]);
    expect(rowBuilder(two, types, 'array', [1])(dataRow([int4(7), int4(-8)]))).toEqual([7, -8]);
    expect(rowBuilder(two, types, 'array', [])(dataRow(['7', '8']))).toEqual([7, 8]);
    // Without formats, the fields' own (a portal's RowDescription).
    expect(rowBuilder([field('n', TypeOid.int4, 1)], types, 'array')(dataRow([int4(9)]))).toEqual([9]);
  });

  it('keeps raw rows as text whatever the formats', () => {
    const row = rowBuilder([field('n', TypeOid.int4)], new TypeRegistry(), 'raw', [1])(dataRow(['12'])) as RawRow;
    expect(row.values).toEqual(['12']);
  });

  it('gives a user text decoder the text, and makes a column named __proto__ an own property', () => {
    const types = new TypeRegistry({ overrides: { [TypeOid.int4]: (text) => `<${text}>` } });
    const row = rowBuilder([field('__proto__', TypeOid.int4), field('x', TypeOid.text)], types, 'object')(dataRow(['5', 'y']));
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe('<5>');
    expect((row as Record<string, unknown>).x).toBe('y');
  });
});

describe('RowBuilderCache', () => {
  it('asks for binary where the registry has a binary decoder and the user set none, the same array until a decoder changes', () => {
    const types = new TypeRegistry();
    const cache = new RowBuilderCache(types);
    const fields = [field('n', TypeOid.int4), field('x', TypeOid.numeric)];
    const formats = cache.resultFormatsFor(fields);
    expect(formats).toEqual([types.resultFormatFor(TypeOid.int4), 0]);
    expect(cache.resultFormatsFor(fields)).toBe(formats);
    expect(cache.builderFor(fields, 'object', formats)).toBe(cache.builderFor(fields, 'object', formats));
    expect(cache.builderFor(fields, 'object', formats)).not.toBe(cache.builderFor(fields, 'object'));

    types.setDecoder(TypeOid.int4, (text) => `int4 ${text}`);
    expect(cache.resultFormatsFor(fields)).toBeUndefined();
    // Formats of an earlier version are still honoured (the Bind already asked for them).
    expect(cache.builderFor(fields, 'array', formats)(dataRow([int4(3), '1.5']))).toEqual([3, '1.5']);
    expect(cache.builderFor(fields, 'array')(dataRow(['3', '1.5']))).toEqual(['int4 3', '1.5']);
  });
});

describe('binary results on cached statements (a real server)', () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await firstValueFrom(connect(superuserConfig()));
  });
  afterAll(() => connection.close());

  const sql = `SELECT 12345678::int4 AS i, 'x'::text AS t, 1.5::float8 AS f, '2024-01-31 12:34:56.789+00'::timestamptz AS ts,
                      '{1,NULL}'::int4[] AS a, 1.25::numeric AS n, NULL::int8 AS z`;

  /** The rows of one run and the byte lengths of the first DataRow's values. */
  async function run(mode: 'object' | 'raw'): Promise<{ rows: unknown[]; lengths: number[] }> {
    const lengths: number[] = [];
    const trace = connection.messages$.subscribe((message) => {
      if (message.name === 'DataRow' && lengths.length === 0) {
        let at = message.start + 2;
        for (let i = 0; i < dataRowLength(message); i++) {
          const length = message.bytes.readInt32BE(at);
          lengths.push(length);
          at += 4 + Math.max(length, 0);
        }
      }
    });
    try {
      const rows = await lastValueFrom(connection.query(sql, [], { rowMode: mode }).pipe(toArray()));
      return { rows, lengths };
    } finally {
      trace.unsubscribe();
    }
  }

  it('runs text first, then binary for the built-in types, with the same rows', async () => {
    const first = await run('object');
    const second = await run('object');
    expect(second.rows).toEqual(first.rows);
    expect(first.rows).toEqual([
      { i: 12345678, t: 'x', f: 1.5, ts: new Date('2024-01-31T12:34:56.789Z'), a: [1, null], n: '1.25', z: null },
    ]);
    // '12345678' is 8 bytes of text and 4 of binary int4; numeric stays text.
    expect(first.lengths[0]).toBe(8);
    expect(second.lengths[0]).toBe(connection.types.resultFormatFor(TypeOid.int4) === 1 ? 4 : 8);
    expect(second.lengths[5]).toBe(4);
  });

  it('keeps raw rows in text on a cached statement', async () => {
    await run('object');
    const raw = await run('raw');
    expect((raw.rows[0] as RawRow).values).toEqual(['12345678', 'x', '1.5', '2024-01-31 12:34:56.789+00', '{1,NULL}', '1.25', null]);
    // And the statement's next object run is binary again.
    expect(await run('object')).toMatchObject({ rows: [{ i: 12345678, a: [1, null] }] });
  });

  it('switches a type to text when the user sets its decoder', async () => {
    const other = await firstValueFrom(connect(superuserConfig()));
    try {
      const query = () => lastValueFrom(other.query<Record<string, unknown>>('SELECT 7::int4 AS i, 2.5::float8 AS f'));
      await query();
      expect(await query()).toEqual({ i: 7, f: 2.5 });
      other.types.setDecoder(TypeOid.int4, (text) => `int4 ${text}`);
      expect(await query()).toEqual({ i: 'int4 7', f: 2.5 });
    } finally {
      await other.close();
    }
  });
});
