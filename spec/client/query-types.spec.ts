// Round trips through real Bind parameters and decoded result columns, for every built-in type
// the registry decodes (issue 3, "Types" and "Parameters").
import fc from 'fast-check';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { connect, ParameterError, type Connection } from '../../lib';
import { errorOf } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';

let connection: Connection;
let bigintConnection: Connection;
beforeAll(async () => {
  connection = await firstValueFrom(connect(superuserConfig()));
  bigintConnection = await firstValueFrom(connect({ ...superuserConfig(), bigint: true }));
});
afterAll(async () => {
  await Promise.all([connection.close(), bigintConnection.close()]);
});

const one = async (sql: string, params: unknown[] = [], c: Connection = connection) =>
  lastValueFrom(c.query<unknown[]>(sql, params, { rowMode: 'array' }));

describe('decoded result types', () => {
  it.each<[string, unknown]>([
    ['SELECT 32767::int2', 32767],
    ['SELECT (-2147483648)::int4', -2147483648],
    ['SELECT 9223372036854775807::int8', '9223372036854775807'],
    ['SELECT 1.5::float4', 1.5],
    ["SELECT 'NaN'::float8", NaN],
    ["SELECT '-Infinity'::float8", -Infinity],
    ['SELECT 123456789012345678901234567890.123456789::numeric', '123456789012345678901234567890.123456789'],
    ['SELECT true', true],
    ['SELECT false', false],
    ['SELECT \'{"a":[1,2,{"b":null}]}\'::jsonb', { a: [1, 2, { b: null }] }],
    ['SELECT \'[1,"x"]\'::json', [1, 'x']],
    ["SELECT '\\x00ff10'::bytea", Buffer.from([0, 255, 16])],
    ["SELECT '2024-02-29 12:34:56.789+00'::timestamptz", new Date('2024-02-29T12:34:56.789Z')],
    ["SELECT '2024-02-29 12:34:56.789'::timestamp", new Date('2024-02-29T12:34:56.789Z')],
    ["SELECT 'infinity'::timestamptz", new Date(8.64e15)],
    ["SELECT '-infinity'::timestamptz", new Date(-8.64e15)],
    ["SELECT '2024-02-29'::date", '2024-02-29'],
    [
      "SELECT '1 year 2 mons 3 days 04:05:06.5'::interval",
      { years: 1, months: 2, days: 3, hours: 4, minutes: 5, seconds: 6, milliseconds: 500 },
    ],
    [
      "SELECT '{{1,NULL},{3,4}}'::int4[]",
      [
        [1, null],
        [3, 4],
      ],
    ],
    ["SELECT ARRAY['a\"b', 'c\\d', NULL, 'NULL', '', 'x,y {z}']::text[]", ['a"b', 'c\\d', null, 'NULL', '', 'x,y {z}']],
    ["SELECT ARRAY['infinity'::timestamptz, NULL]", [new Date(8.64e15), null]],
    ["SELECT ARRAY[1.5, 'NaN']::float8[]", [1.5, NaN]],
    ['SELECT ARRAY[\'{"a":1}\'::jsonb]', [{ a: 1 }]],
    ["SELECT ARRAY['\\x01'::bytea]", [Buffer.from([1])]],
    ["SELECT '{}'::int4[]", []],
    ["SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid", 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  ])('%s', async (sql, expected) => {
    expect(await one(sql)).toEqual([expected]);
  });

  it('decodes int8 as bigint when the connection asks for it', async () => {
    expect(await one('SELECT 9223372036854775807::int8', [], bigintConnection)).toEqual([9223372036854775807n]);
  });

  it('lets a connection override a decoder without touching another connection', async () => {
    connection.types.setDecoder(23, (text) => `int:${text}`);
    try {
      expect(await one('SELECT 7::int4')).toEqual(['int:7']);
      expect(await one('SELECT 7::int4', [], bigintConnection)).toEqual([7]);
    } finally {
      connection.types.setDecoder(23, Number);
    }
  });
});

describe('parameters through Bind', () => {
  it.each<[string, unknown[], unknown]>([
    ['SELECT $1::int4', [42], 42],
    ['SELECT $1::int8', [9007199254740993n], '9007199254740993'],
    ['SELECT $1::numeric', ['1e400'], '1' + '0'.repeat(400)],
    ['SELECT $1::float8', [-0.5], -0.5],
    ['SELECT $1::float8', [Infinity], Infinity],
    ['SELECT $1::bool', [true], true],
    ['SELECT $1::timestamptz', [new Date('1999-12-31T23:59:59.999Z')], new Date('1999-12-31T23:59:59.999Z')],
    ['SELECT $1::bytea', [Buffer.from([0, 1, 2, 255])], Buffer.from([0, 1, 2, 255])],
    ['SELECT $1::jsonb', [{ nested: { list: [1, 'two', null] } }], { nested: { list: [1, 'two', null] } }],
    ['SELECT $1::text[]', [['a"b', null, 'NULL', '', 'back\\slash']], ['a"b', null, 'NULL', '', 'back\\slash']],
    [
      'SELECT $1::int4[]',
      [
        [
          [1, 2],
          [3, null],
        ],
      ],
      [
        [1, 2],
        [3, null],
      ],
    ],
    ['SELECT $1::text', [null], null],
  ])('%s with %p', async (sql, params, expected) => {
    expect(await one(sql, params)).toEqual([expected]);
  });

  it('rejects values that cannot be sent, naming the position but not the value', async () => {
    const error = await errorOf(one('SELECT $1::text, $2::text', ['fine', Symbol('secret-symbol')]));
    expect(error).toBeInstanceOf(ParameterError);
    expect(error.message).toContain('$2');
    expect(error.message).not.toContain('secret-symbol');
  });

  it('any string survives a round trip (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\0')),
        async (text) => {
          expect(await one('SELECT $1::text', [text])).toEqual([text]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('any nested text array with NULLs survives a round trip (property)', async () => {
    const element = fc.oneof(
      fc.constant(null),
      fc.string({ unit: 'grapheme-ascii' }).filter((s) => !s.includes('\0')),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(element, { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 5 }), async (matrix) => {
        expect(await one('SELECT $1::text[]', [matrix])).toEqual([matrix]);
      }),
      { numRuns: 200 },
    );
  });

  it('any finite double and safe integer survive a round trip (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ noNaN: true }), fc.integer(), async (double, integer) => {
        const [d, i] = (await one('SELECT $1::float8, $2::int4', [double, integer])) as [number, number];
        expect(Object.is(d, double) || (d === 0 && double === 0)).toBe(true);
        expect(i).toBe(integer);
      }),
      { numRuns: 200 },
    );
  });
});
