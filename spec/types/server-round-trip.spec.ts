// Round trips against the real server, through the simple query protocol (text values):
// - decoding: the server's own text output, fed through the registry's decoders;
// - encoding: encodeParameter's text, put into a string literal and cast to the type, which
//   runs the same input function as a Bind parameter of that type would, then read back.
// Bind itself (binary bytea parameters included) is exercised by the query specs.
import fc from 'fast-check';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { connect, type Connection } from '../../lib';
import { decodeInterval, encodeParameter, TypeOid, TypeRegistry, type Interval } from '../../lib/types';
import { superuserConfig } from '../helpers/test-servers';

let connection: Connection;
beforeAll(async () => {
  connection = await firstValueFrom(connect(superuserConfig()));
});
afterAll(() => connection.close());

const types = new TypeRegistry();

interface Decoded {
  readonly oids: number[];
  readonly values: unknown[];
}

/** Runs `sql` and decodes the first row of its last result set with `registry`. */
async function decodedRow(sql: string, registry: TypeRegistry = types): Promise<Decoded> {
  const results = await lastValueFrom(connection.simpleQuery(sql).pipe(toArray()));
  const last = results[results.length - 1]!;
  const row = last.rows[0]!;
  return {
    oids: last.fields.map((field) => field.dataTypeId),
    values: last.fields.map((field, i) => (row[i] === null ? null : registry.decoderFor(field.dataTypeId)(row[i]!))),
  };
}

async function textRow(sql: string): Promise<(string | null)[]> {
  const results = await lastValueFrom(connection.simpleQuery(sql).pipe(toArray()));
  return [...results[results.length - 1]!.rows[0]!];
}

/** Runs statements without caring for rows (SET, RESET, DDL). */
async function execute(sql: string): Promise<void> {
  await lastValueFrom(connection.simpleQuery(sql).pipe(toArray()));
}

/** A standard string literal (standard_conforming_strings is on: only quotes are doubled). */
function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** encodeParameter's text, as a literal. */
function encoded(value: unknown): string {
  const text = encodeParameter(value, 0);
  if (typeof text !== 'string') throw new Error('expected a text encoding');
  return literal(text);
}

const interval = (fields: Partial<Interval>): Interval => ({
  years: 0,
  months: 0,
  days: 0,
  hours: 0,
  minutes: 0,
  seconds: 0,
  milliseconds: 0,
  ...fields,
});

/** Text the server can store: no NUL, well-formed UTF-16 (a lone surrogate cannot be UTF-8). */
const storable = (text: string) => !text.includes('\u0000') && Buffer.from(text, 'utf8').toString('utf8') === text;

const nastyString = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom('"', '\\', "'", ',', '{', '}', ' ', '\t', '\n', 'NULL', 'null', '[', ']', '=', 'é', '😀', '\u00a0', '\\x'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    maxLength: 12,
  })
  .filter(storable);

describe('server settings the decoders rely on', () => {
  it('uses DateStyle ISO, IntervalStyle postgres, UTF8 and standard_conforming_strings', async () => {
    expect(await textRow('SHOW DateStyle')).toEqual(['ISO, MDY']);
    expect(await textRow('SHOW IntervalStyle')).toEqual(['postgres']);
    expect(await textRow('SHOW client_encoding')).toEqual(['UTF8']);
    expect(await textRow('SHOW standard_conforming_strings')).toEqual(['on']);
  });
});

describe('decoding the server output', () => {
  it('decodes the mixed example row', async () => {
    const { oids, values } = await decodedRow(
      `SELECT '{{1,NULL},{3,4}}'::int4[], 'infinity'::timestamptz, '-infinity'::timestamptz,
              12345678901234567890.123456789::numeric, '\\x00ff'::bytea, '{"a":[1,2]}'::jsonb,
              '1 year 2 mons -3 days 04:05:06.5'::interval, ARRAY['a"b', 'c\\d', NULL, 'NULL', '']::text[]`,
    );
    expect(oids).toEqual([
      TypeOid.int4Array,
      TypeOid.timestamptz,
      TypeOid.timestamptz,
      TypeOid.numeric,
      TypeOid.bytea,
      TypeOid.jsonb,
      TypeOid.interval,
      TypeOid.textArray,
    ]);
    expect(values).toEqual([
      [
        [1, null],
        [3, 4],
      ],
      new Date(8.64e15),
      new Date(-8.64e15),
      '12345678901234567890.123456789',
      Buffer.from([0x00, 0xff]),
      { a: [1, 2] },
      interval({ years: 1, months: 2, days: -3, hours: 4, minutes: 5, seconds: 6, milliseconds: 500 }),
      ['a"b', 'c\\d', null, 'NULL', ''],
    ]);
  });

  it('decodes numbers at their limits', async () => {
    const { values } = await decodedRow(
      `SELECT (-32768)::int2, 2147483647::int4, (-2147483648)::int4, 4294967295::oid,
              'NaN'::float8, 'Infinity'::float8, '-Infinity'::float4, '-0'::float8, 1.7976931348623157e308::float8,
              4.9e-324::float8, 0.1::float8, 1.1::float4, 9223372036854775807::int8, 'NaN'::numeric, '-Infinity'::numeric`,
    );
    expect(values.slice(0, 4)).toEqual([-32768, 2147483647, -2147483648, 4294967295]);
    expect(values[4]).toBeNaN();
    expect(values.slice(5, 7)).toEqual([Infinity, -Infinity]);
    expect(Object.is(values[7], -0)).toBe(true);
    expect(values.slice(8)).toEqual([Number.MAX_VALUE, 5e-324, 0.1, 1.1, '9223372036854775807', 'NaN', '-Infinity']);
  });

  it('decodes int8 as bigint with the bigint option', async () => {
    const { values } = await decodedRow(`SELECT (-9223372036854775808)::int8, ARRAY[1, NULL]::int8[]`, new TypeRegistry({ bigint: true }));
    expect(values).toEqual([-9223372036854775808n, [1n, null]]);
  });

  it('decodes booleans, strings and the types kept as text', async () => {
    const { values } = await decodedRow(
      `SELECT true, false, 'x'::char, 'ab'::char(4), 'name'::name, 'v'::varchar, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid,
              '<a/>'::xml, '2024-01-31'::date, 'infinity'::date, '0044-03-15 BC'::date, '04:05:06.789'::time, '04:05:06+05:30'::timetz, 12.5::money`,
    );
    expect(values).toEqual([
      true,
      false,
      'x',
      'ab  ',
      'name',
      'v',
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      '<a/>',
      '2024-01-31',
      'infinity',
      '0044-03-15 BC',
      '04:05:06.789',
      '04:05:06+05:30',
      '$12.50',
    ]);
  });

  it('decodes timestamptz in any session time zone: offsets with minutes and seconds, BC, far future', async () => {
    const { values } = await decodedRow(
      `SET TIME ZONE 'Europe/Amsterdam';
       SELECT '1900-01-01 00:00:00+00:19:32'::timestamptz, '2024-07-01 12:00:00.123456+02'::timestamptz,
              '2024-07-01 12:00:00.5+05:30'::timestamptz, '0044-03-15 12:00:00+00 BC'::timestamptz,
              '4713-01-01 00:00:00+00 BC'::timestamptz, '10000-01-01 00:00:00+00'::timestamptz,
              '2024-01-31 23:59:59.999999+00'::timestamptz`,
    );
    await execute('RESET TIME ZONE');
    expect(values.map((value) => (value as Date).getTime())).toEqual([
      Date.parse('1899-12-31T23:40:28Z'),
      Date.parse('2024-07-01T10:00:00.123Z'),
      Date.parse('2024-07-01T06:30:00.500Z'),
      Date.parse('-000043-03-15T12:00:00Z'),
      Date.parse('-004712-01-01T00:00:00Z'),
      Date.parse('+010000-01-01T00:00:00Z'),
      Date.parse('2024-01-31T23:59:59.999Z'),
    ]);
  });

  it('decodes timestamp (without time zone) as UTC wall-clock time', async () => {
    const { values } = await decodedRow(
      `SELECT '2024-03-31 02:30:00'::timestamp, '0044-03-15 12:00:00 BC'::timestamp, 'infinity'::timestamp, '-infinity'::timestamp`,
    );
    expect(values).toEqual([new Date('2024-03-31T02:30:00Z'), new Date('-000043-03-15T12:00:00Z'), new Date(8.64e15), new Date(-8.64e15)]);
  });

  describe('intervals in every IntervalStyle', () => {
    const samples = [
      '1 year 2 mons -3 days 04:05:06.5',
      '-1 years -2 mons +3 days -04:05:06.000123',
      '00:00:00',
      '-1 days +02:00:00',
      '100 hours',
      '-1.5 seconds',
      '1 year 6 mons',
      '-3 days',
      '7 days 00:00:00.000001',
    ].map((text) => `${literal(text)}::interval`);
    // The extremes, which the interval input rejects as one literal.
    samples.push(
      `make_interval(-178956970, -8, 0, -2147483648) + '-2562047788:00:54.775807'::interval`,
      `make_interval(178956970, 7, 0, 2147483647) + '2562047788:00:54.775807'::interval`,
    );
    const expected = [
      interval({ years: 1, months: 2, days: -3, hours: 4, minutes: 5, seconds: 6, milliseconds: 500 }),
      interval({ years: -1, months: -2, days: 3, hours: -4, minutes: -5, seconds: -6, milliseconds: -0.123 }),
      interval({}),
      interval({ days: -1, hours: 2 }),
      interval({ hours: 100 }),
      interval({ seconds: -1, milliseconds: -500 }),
      interval({ years: 1, months: 6 }),
      interval({ days: -3 }),
      interval({ days: 7, milliseconds: 0.001 }),
      interval({ years: -178956970, months: -8, days: -2147483648, hours: -2562047788, seconds: -54, milliseconds: -775.807 }),
      interval({ years: 178956970, months: 7, days: 2147483647, hours: 2562047788, seconds: 54, milliseconds: 775.807 }),
    ];
    // Stored once, read back under each IntervalStyle (input parsing depends on the style too).
    beforeAll(() => execute(`CREATE TEMP TABLE rxpg_intervals AS SELECT ${samples.map((sample, i) => `${sample} AS i${i}`).join(', ')}`));
    afterAll(() => execute('DROP TABLE rxpg_intervals'));
    const select = 'SELECT * FROM rxpg_intervals';

    it.each(['postgres', 'iso_8601', 'postgres_verbose'])('%s', async (style) => {
      const { values } = await decodedRow(`SET IntervalStyle = '${style}'; ${select}`);
      await execute('RESET IntervalStyle');
      expect(values).toEqual(expected);
    });

    it('sql_standard (same totals: it prints one sign per field group)', async () => {
      const texts = await textRow(`SET IntervalStyle = 'sql_standard'; ${select}`);
      await execute('RESET IntervalStyle');
      // sql_standard cannot print mixed signs inside the time part, so compare the intervals
      // by what the server makes of the decoded values.
      for (let i = 0; i < texts.length; i++) {
        const decoded = decodeInterval(texts[i]!);
        const [same] = await textRow(`SELECT i${i} = ${literal(toIso(decoded))}::interval FROM rxpg_intervals`);
        expect({ text: texts[i], same }).toEqual({ text: texts[i], same: 't' });
      }
    });
  });

  it('decodes bytea in the escape format too', async () => {
    const { values } = await decodedRow(`SET bytea_output = 'escape'; SELECT '\\x00ff5c41'::bytea, '{"\\\\x0a5c"}'::bytea[]`);
    await execute('RESET bytea_output');
    expect(values).toEqual([Buffer.from([0x00, 0xff, 0x5c, 0x41]), [Buffer.from([0x0a, 0x5c])]]);
  });

  it('decodes arrays of every built-in type, with NULLs, quotes and dimension decorations', async () => {
    const { values } = await decodedRow(
      `SELECT '[0:1]={1,2}'::int4[], '[1:1][3:4]={{1,2}}'::int2[], ARRAY[1.5, 'NaN', NULL]::float8[], ARRAY[true, NULL]::bool[],
              ARRAY['{"a": "x\\"y"}'::jsonb, 'null'::jsonb, NULL], ARRAY['[1]'::json], ARRAY['\\x00'::bytea, '\\x'::bytea],
              ARRAY['2024-01-31 12:00:00+00'::timestamptz, 'infinity', NULL], ARRAY['1 day'::interval, '-00:00:01'],
              ARRAY[1.5, NULL]::numeric[], ARRAY[' x ', 'a,b', '{}', '', 'NULL', NULL]::varchar[], '{}'::text[],
              ARRAY[ARRAY['a', NULL], ARRAY['"', '\\']]::text[], ARRAY['2024-01-31'::date], ARRAY['x'::char, ' '::char]`,
    );
    expect(values).toEqual([
      [1, 2],
      [[1, 2]],
      [1.5, NaN, null],
      [true, null],
      [{ a: 'x"y' }, null, null],
      [[1]],
      [Buffer.from([0]), Buffer.alloc(0)],
      [new Date('2024-01-31T12:00:00Z'), new Date(8.64e15), null],
      [interval({ days: 1 }), interval({ seconds: -1 })],
      ['1.5', null],
      [' x ', 'a,b', '{}', '', 'NULL', null],
      [],
      [
        ['a', null],
        ['"', '\\'],
      ],
      ['2024-01-31'],
      ['x', ' '],
    ]);
  });

  it('decodes arrays of a user type (an enum) once registered', async () => {
    await execute(`DROP TYPE IF EXISTS rxpg_types_mood; CREATE TYPE rxpg_types_mood AS ENUM ('happy', 'so so', 'NULL')`);
    try {
      const [oid, arrayOid] = (await textRow(`SELECT oid, typarray FROM pg_type WHERE typname = 'rxpg_types_mood'`)).map(Number);
      const registry = new TypeRegistry().setArrayDecoder(arrayOid!, oid!);
      const { values } = await decodedRow(
        `SELECT ARRAY['happy', 'so so', 'NULL', NULL]::rxpg_types_mood[], 'happy'::rxpg_types_mood`,
        registry,
      );
      expect(values).toEqual([['happy', 'so so', 'NULL', null], 'happy']);
    } finally {
      await execute('DROP TYPE rxpg_types_mood');
    }
  });
});

describe('encoded parameters, parsed by the server', () => {
  it('strings come back unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(nastyString, { minLength: 1, maxLength: 20 }), async (strings) => {
        expect(await textRow(`SELECT ${strings.map((text) => `${encoded(text)}::text`).join(', ')}`)).toEqual(strings);
      }),
      { numRuns: 50 },
    );
  });

  it('doubles come back as the same float8 (NaN, ±Infinity and -0 included)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.double(), { minLength: 1, maxLength: 20 }), async (numbers) => {
        const { values } = await decodedRow(`SELECT ${numbers.map((value) => `${encoded(value)}::float8`).join(', ')}`);
        values.forEach((value, i) => expect([i, value]).toEqual([i, numbers[i]]));
        values.forEach((value, i) => expect(Object.is(value, numbers[i])).toBe(true));
      }),
      { numRuns: 50 },
    );
  });

  it('integers and bigints come back as the same int4, int8 and numeric', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt(), async (int, big, huge) => {
        const { values } = await decodedRow(
          `SELECT ${encoded(int)}::int4, ${encoded(big)}::int8, ${encoded(huge)}::numeric`,
          new TypeRegistry({ bigint: true }),
        );
        expect(values).toEqual([int, big, String(huge)]);
      }),
      { numRuns: 50 },
    );
  });

  it('-0, NaN and the infinities are accepted where the type has them', async () => {
    expect(
      await textRow(`SELECT ${encoded(-0)}::int4, ${encoded(NaN)}::numeric, ${encoded(Infinity)}::numeric, ${encoded(-Infinity)}::float4`),
    ).toEqual(['0', 'NaN', 'Infinity', '-Infinity']);
  });

  it('booleans come back as themselves', async () => {
    expect((await decodedRow(`SELECT ${encoded(true)}::bool, ${encoded(false)}::bool`)).values).toEqual([true, false]);
  });

  it('Dates come back to the millisecond as timestamptz and timestamp (BC, 5-digit years, ±infinity)', async () => {
    const date = fc.oneof(
      fc.date({ min: new Date(Date.UTC(-4712, 0, 1)), max: new Date(8.64e15), noInvalidDate: true }),
      fc.date({ min: new Date(Date.UTC(-10, 0, 1)), max: new Date(Date.UTC(10, 0, 1)), noInvalidDate: true }),
      fc.constantFrom(new Date(8.64e15), new Date(-8.64e15), new Date(0)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(date, { minLength: 1, maxLength: 10 }), async (dates) => {
        const columns = dates.flatMap((value) => [`${encoded(value)}::timestamptz`, `${encoded(value)}::timestamp`]);
        const { values } = await decodedRow(`SET TIME ZONE 'America/St_Johns'; SELECT ${columns.join(', ')}`);
        expect(values.map((value) => (value as Date).getTime())).toEqual(dates.flatMap((value) => [value.getTime(), value.getTime()]));
      }),
      { numRuns: 50 },
    );
    await execute('RESET TIME ZONE');
  });

  it('a Date is read as its UTC date by a date column', async () => {
    expect(
      await textRow(`SELECT ${encoded(new Date('2024-01-31T23:30:00Z'))}::date, ${encoded(new Date('-000043-03-15T00:00:00Z'))}::date`),
    ).toEqual(['2024-01-31', '0044-03-15 BC']);
  });

  it('plain objects come back as the same JSON', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string(), fc.jsonValue()), async (object) => {
        const { values } = await decodedRow(`SELECT ${encoded(object)}::json, ${encoded(object)}::jsonb`);
        const expected = JSON.parse(JSON.stringify(object)) as unknown; // -0 becomes 0
        expect(values[0]).toEqual(expected);
        expect(values[1]).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });

  it('arrays of strings and nulls come back as the same text[] (1 and 2 dimensions)', async () => {
    const element = fc.option(nastyString, { freq: 5 });
    const matrix = fc
      .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }))
      .chain(([rows, columns]) =>
        fc.array(fc.array(element, { minLength: columns, maxLength: columns }), { minLength: rows, maxLength: rows }),
      );
    await fc.assert(
      fc.asyncProperty(fc.array(element, { maxLength: 10 }), matrix, async (list, grid) => {
        const { values } = await decodedRow(`SELECT ${encoded(list)}::text[], ${encoded(grid)}::text[], ${encoded(list)}::varchar[]`);
        expect(values).toEqual([list, grid, list]);
      }),
      { numRuns: 100 },
    );
  });

  it('arrays of numbers, booleans, bytes, Dates and JSON objects come back as the same arrays', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.double())),
        fc.array(fc.option(fc.boolean())),
        fc.array(fc.option(fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)))),
        fc.array(fc.option(fc.date({ min: new Date(Date.UTC(-4712, 0, 1)), max: new Date(8.64e15), noInvalidDate: true }))),
        fc.array(fc.option(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }))),
        async (doubles, booleans, buffers, dates, objects) => {
          const { values } = await decodedRow(
            `SELECT ${encoded(doubles)}::float8[], ${encoded(booleans)}::bool[], ${encoded(buffers)}::bytea[], ${encoded(dates)}::timestamptz[], ${encoded(objects)}::jsonb[]`,
          );
          expect(values[0]).toHaveLength(doubles.length);
          (values[0] as unknown[]).forEach((value, i) => expect(Object.is(value, doubles[i])).toBe(true));
          expect(values.slice(1)).toEqual([booleans, buffers, dates, JSON.parse(JSON.stringify(objects))]);
        },
      ),
      { numRuns: 50 },
    );
  });
});

/** ISO 8601 text of an interval (as formatInterval, spelled out here to check it independently). */
function toIso(value: Interval): string {
  const seconds = (value.seconds * 1_000_000 + Math.round(value.milliseconds * 1000)) / 1_000_000;
  return `P${value.years}Y${value.months}M${value.days}DT${value.hours}H${value.minutes}M${seconds.toFixed(6)}S`;
}
