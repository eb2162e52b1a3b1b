// The binary decoders give exactly what the text decoders give, proven against the real server:
// each query selects a value (its text through the simple protocol, with its type OID) and the
// type's send function of it (the binary form a Bind asking for binary results would get, as
// bytea). The text goes through `new TypeRegistry(...).decoderFor(oid)`, the bytes through
// `builtinBinaryDecoders(...).get(oid)`, framed by junk bytes so that a decoder reading outside
// its range would show.
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { connect, type Connection } from '../../lib';
import { builtinBinaryDecoders, type BinaryDecoder } from '../../lib/types/binary-decoders';
import { decodeBytea } from '../../lib/types/bytea';
import { arrayElementOids, TypeOid } from '../../lib/types/oids';
import * as b from '../helpers/backend-messages';
import { TypeRegistry } from '../../lib/types/type-registry';
import { superuserConfig } from '../helpers/test-servers';
import { sameValue, showValue } from '../helpers/same-value';

let connection: Connection;
beforeAll(async () => {
  connection = await firstValueFrom(connect(superuserConfig()));
});
afterAll(() => connection.close());

async function simple(sql: string) {
  const results = await lastValueFrom(connection.simpleQuery(sql).pipe(toArray()));
  return results[results.length - 1]!;
}

/** The bytes of `binary` at offset 3 of a buffer with junk around them. */
function framed(binary: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0x7f, 0x80]), binary, Buffer.from([0xff, 0xff, 0xff, 0x7f, 0x01])]);
}

interface Compared {
  /** How many non-null values were compared. */
  readonly count: number;
  /** One line per value whose decodings differ. */
  readonly mismatches: string[];
}

/**
 * Selects `v` and `send(v)` for every row of `source` (a query of one column `v`) and compares
 * the text decoding of `v` with the binary decoding of `send(v)`, with and without `bigint`.
 */
async function compare(send: string, source: string): Promise<Compared> {
  const result = await simple(`SELECT v, ${send}(v) FROM (${source}) AS t(v)`);
  const oid = result.fields[0]!.dataTypeId;
  const mismatches: string[] = [];
  let count = 0;
  for (const bigint of [false, true]) {
    const text = new TypeRegistry({ bigint }).decoderFor(oid);
    const binary: BinaryDecoder | undefined = builtinBinaryDecoders({ bigint }).get(oid);
    if (binary === undefined) throw new Error(`no binary decoder for OID ${oid}`);
    for (const row of result.rows) {
      const value = row[0];
      const sent = row[1];
      if (value === null || value === undefined || sent === null || sent === undefined) continue;
      const bytes = decodeBytea(sent);
      const fromText = text(value);
      const fromBinary = binary(framed(bytes), 3, 3 + bytes.length);
      if (!sameValue(fromText, fromBinary))
        mismatches.push(`${value} (bigint ${bigint}): text ${showValue(fromText)}, binary ${showValue(fromBinary)}`);
      count += 1;
    }
  }
  return { count, mismatches };
}

/** A VALUES list of typed literals, as a one-column source. */
function values(type: string, literals: readonly string[]): string {
  return `VALUES ${literals.map((literal) => `(${literal === 'NULL' ? 'NULL' : `'${literal.replace(/'/g, "''")}'`}::${type})`).join(', ')}`;
}

/** The scalar edge values as rows, then as one array of them all with NULLs, then as 2-D arrays. */
async function expectRoundTrips(type: string, send: string, literals: readonly string[]): Promise<void> {
  const scalars = await compare(send, values(type, literals));
  expect(scalars.mismatches).toEqual([]);
  expect(scalars.count).toBe(2 * literals.filter((literal) => literal !== 'NULL').length);

  const source = values(type, [...literals, 'NULL']);
  const arrays = await compare(
    'array_send',
    `SELECT array_agg(v) FROM (${source}) AS s(v)
     UNION ALL SELECT array_agg(v) FILTER (WHERE v IS NULL) FROM (${source}) AS s(v)
     UNION ALL SELECT ARRAY[]::${type}[]
     UNION ALL SELECT ARRAY[ARRAY[v, NULL], ARRAY[NULL, v]] FROM (${source}) AS s(v)
     UNION ALL SELECT ('[0:1]=' || ARRAY[v, NULL]::text)::${type}[] FROM (${source}) AS s(v)`,
  );
  expect(arrays.mismatches).toEqual([]);
  expect(arrays.count).toBeGreaterThan(2 * literals.length);
}

describe('builtinBinaryDecoders', () => {
  it('has a decoder for the built-in types with a binary form worth reading, and their arrays', () => {
    const oids = [...builtinBinaryDecoders({}).keys()].sort((a, b) => a - b);
    const scalars = [
      'bool',
      'bytea',
      'int2',
      'int4',
      'oid',
      'int8',
      'float4',
      'float8',
      'timestamp',
      'timestamptz',
      'date',
      'uuid',
    ] as const;
    const arrays = scalars.map((name) => TypeOid[`${name}Array`]);
    expect(oids).toEqual([...scalars.map((name) => TypeOid[name]), ...arrays].sort((a, b) => a - b));
  });

  it('makes a new map each time, int8 as a string or a bigint as asked', () => {
    const eight = Buffer.from('000000000000002a', 'hex');
    expect(builtinBinaryDecoders({}).get(TypeOid.int8)!(eight, 0, 8)).toBe('42');
    expect(builtinBinaryDecoders({ bigint: false }).get(TypeOid.int8)!(eight, 0, 8)).toBe('42');
    expect(builtinBinaryDecoders({ bigint: true }).get(TypeOid.int8)!(eight, 0, 8)).toBe(42n);
    expect(builtinBinaryDecoders({})).not.toBe(builtinBinaryDecoders({}));
  });
});

describe('binary decoders against the text decoders, on the server', () => {
  it('int2', () => expectRoundTrips('int2', 'int2send', ['-32768', '-32767', '-256', '-1', '0', '1', '255', '256', '32767']));

  it('int4', () =>
    expectRoundTrips('int4', 'int4send', ['-2147483648', '-2147483647', '-65536', '-1', '0', '1', '65535', '65536', '2147483647']));

  it('int8, as strings and as bigints', () =>
    expectRoundTrips('int8', 'int8send', [
      '-9223372036854775808',
      '-9223372036854775807',
      '-9007199254740993',
      '-9007199254740992',
      '-9007199254740991',
      '-4294967297',
      '-4294967296',
      '-4294967295',
      '-2147483649',
      '-1',
      '0',
      '1',
      '2147483648',
      '4294967295',
      '4294967296',
      '9007199254740991',
      '9007199254740992',
      '9007199254740993',
      '1000000000000000000',
      '9223372036854775807',
    ]));

  it('oid', () => expectRoundTrips('oid', 'oidsend', ['0', '1', '2147483647', '2147483648', '4294967295']));

  it('float4: the shortest decimal the server prints, not the float widened to a double', async () => {
    await expectRoundTrips('float4', 'float4send', [
      'NaN',
      'Infinity',
      '-Infinity',
      '0',
      '-0',
      '1',
      '-1',
      '1.1',
      '-1.1',
      '0.1',
      '0.3',
      '0.33333334',
      '3.1415927',
      '1e-45', // the smallest denormal
      '-1e-45',
      '5.877472e-39', // a denormal
      '1.1754942e-38', // the largest denormal
      '1.1754944e-38', // the smallest normal
      '3.4028235e38', // the largest
      '-3.4028235e38',
      '16777216',
      '16777217', // rounds to 16777216
      '16777218',
      '123456.79',
      '1e10',
      '1.0000001',
      '0.99999994',
      '7.038531e-26',
      '9.0071993e15',
      '7.038531e-26', // the double of this text lies on a float4 midpoint: fround of it rounds twice
      '0.000244140625', // 2^-12, halfway between two 8-digit decimals: the even one
      '34790552', // 34790550 is the float4's lower midpoint, which the server never prints
      '813749632',
    ]);
    const decode = builtinBinaryDecoders({}).get(TypeOid.float4)!;
    const bytes = Buffer.alloc(4);
    bytes.writeFloatBE(1.1);
    expect(bytes.readFloatBE(0)).toBe(1.100000023841858);
    expect(decode(bytes, 0, 4)).toBe(1.1);
  });

  it('float4: every power of two and thousands of spread values read the same', async () => {
    // Powers of two have an asymmetric range of decimals that read back as them.
    const powers = await compare(
      'float4send',
      `SELECT (sign * power(2::float8, k))::float4 FROM generate_series(-149, 127) AS k, (VALUES (1), (-1)) AS s(sign)`,
    );
    expect(powers.mismatches).toEqual([]);
    expect(powers.count).toBe(2 * 2 * 277);
    const spread = await compare(
      'float4send',
      `SELECT (CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END * exp(ln(10::float8) * (random() * 83 - 45)))::float4
       FROM (SELECT setseed(0.42)) AS seeded, generate_series(1, 6000) AS i`,
    );
    expect(spread.mismatches).toEqual([]);
    // Any bit pattern: 9 digits read back exactly (strtof rounds once, as the server does).
    let state = 0x2545f491;
    const patterns = Buffer.alloc(4);
    const literals: string[] = [];
    while (literals.length < 8000) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      patterns.writeInt32BE(state | 0);
      const float = patterns.readFloatBE(0);
      if (Number.isFinite(float)) literals.push(float.toPrecision(9));
    }
    const anyBits = await compare('float4send', values('float4', literals));
    expect(anyBits.mismatches).toEqual([]);
    expect(anyBits.count).toBe(16000);
    const neighbours = await compare(
      'float4send',
      `SELECT (v * (1 + d * 1.2e-7))::float4 FROM generate_series(-30, 30) AS e, generate_series(-3, 3) AS d,
       LATERAL (SELECT power(10::float8, e)) AS p(v)`,
    );
    expect(neighbours.mismatches).toEqual([]);
  });

  it('float8', async () => {
    await expectRoundTrips('float8', 'float8send', [
      'NaN',
      'Infinity',
      '-Infinity',
      '0',
      '-0',
      '1.1',
      '0.1',
      '0.30000000000000004',
      '-1.5',
      '5e-324',
      '2.225073858507201e-308',
      '2.2250738585072014e-308',
      '1.7976931348623157e308',
      '9007199254740993',
      '3.141592653589793',
    ]);
    const spread = await compare(
      'float8send',
      `SELECT exp(ln(10::float8) * (random() * 600 - 300)) FROM (SELECT setseed(0.7)) AS seeded, generate_series(1, 3000)`,
    );
    expect(spread.mismatches).toEqual([]);
  });

  it('bool', () => expectRoundTrips('bool', 'boolsend', ['true', 'false']));

  const timestamps = [
    '4713-11-24 00:00:00 BC', // the smallest
    '4713-11-24 00:00:00.000001 BC',
    '0044-03-15 12:00:00 BC',
    '0001-12-31 23:59:59.999999 BC',
    '0001-01-01 00:00:00',
    '1582-10-15 00:00:00',
    '1900-01-01 00:00:00',
    '1969-12-31 23:59:59.999999',
    '1969-12-31 23:59:59.9995',
    '1970-01-01 00:00:00',
    '1970-01-01 00:00:00.000001',
    '1999-12-31 23:59:59.999999',
    '1999-12-31 23:59:59.000001',
    '2000-01-01 00:00:00', // the binary epoch
    '2000-01-01 00:00:00.000001',
    '2000-01-01 00:00:00.000999',
    '2000-01-01 00:00:00.001',
    '2000-01-01 00:00:00.999999',
    '2024-02-29 12:34:56.789123',
    '2038-01-19 03:14:08',
    '9999-12-31 23:59:59.999999',
    '275760-09-12 23:59:59.999999',
    '275760-09-13 00:00:00', // the largest Date
    '275760-09-13 00:00:00.001', // beyond it: an Invalid Date
    '294276-12-31 23:59:59.999999', // the largest
    'infinity',
    '-infinity',
  ];

  it('timestamp: Dates, microseconds cut towards the past, ±infinity, BC, the far range', async () => {
    await expectRoundTrips('timestamp', 'timestamp_send', timestamps);
    const decode = builtinBinaryDecoders({}).get(TypeOid.timestamp)!;
    const beforeEpoch = Buffer.alloc(8);
    beforeEpoch.writeBigInt64BE(-1n); // 1999-12-31 23:59:59.999999
    expect((decode(beforeEpoch, 0, 8) as Date).toISOString()).toBe('1999-12-31T23:59:59.999Z');
    const tooFar = Buffer.alloc(8);
    tooFar.writeBigInt64BE(9223371331200000000n - 1n); // 294276-12-31 23:59:59.999999
    expect((decode(tooFar, 0, 8) as Date).getTime()).toBeNaN();
  });

  it('timestamptz in UTC and in zones with odd offsets (local mean time with seconds before 1900)', async () => {
    const zoned = timestamps.map((text) =>
      text.endsWith('infinity') ? text : text.endsWith(' BC') ? text.replace(' BC', '+00 BC') : `${text}+00`,
    );
    try {
      for (const zone of ['UTC', 'America/New_York', 'Asia/Kolkata', 'Europe/Amsterdam', 'Pacific/Chatham', 'America/St_Johns']) {
        await simple(`SET TimeZone = '${zone}'`);
        await expectRoundTrips(
          'timestamptz',
          'timestamptz_send',
          zoned.filter((text) => !text.startsWith('294276') && !text.startsWith('4713')),
        );
      }
      await simple(`SET TimeZone = 'UTC'`);
      await expectRoundTrips('timestamptz', 'timestamptz_send', ['4713-11-24 00:00:00+00 BC', '294276-12-31 23:59:59.999999+00']);
    } finally {
      await simple('RESET TimeZone');
    }
  });

  it('date: ISO strings, BC years, years past 9999, ±infinity', async () => {
    await expectRoundTrips('date', 'date_send', [
      '4713-11-24 BC', // the smallest
      '4713-01-01 BC',
      '0044-03-15 BC',
      '0005-02-29 BC', // astronomical year -4, a leap year
      '0001-02-29 BC', // year 0, a leap year
      '0001-12-31 BC',
      '0001-01-01',
      '0009-09-09',
      '0099-12-31',
      '0100-03-01',
      '0999-12-31',
      '1582-10-15',
      '1900-02-28',
      '1900-03-01',
      '1969-12-31',
      '1970-01-01',
      '1999-12-31',
      '2000-01-01', // the binary epoch
      '2000-02-29',
      '2000-03-01',
      '2024-01-31',
      '2100-03-01',
      '9999-12-31',
      '10000-01-01',
      '5874897-12-31', // the largest
      'infinity',
      '-infinity',
    ]);
    const everyFewDays = await compare(
      'date_send',
      `SELECT date '4713-11-24 BC' + i FROM generate_series(0, 2147483647 - 2451545 - 2451545, 211111) AS i
       UNION ALL SELECT date '1890-01-01' + i FROM generate_series(0, 365 * 230, 7) AS i`,
    );
    expect(everyFewDays.mismatches).toEqual([]);
    expect(everyFewDays.count).toBeGreaterThan(30000);
  });

  it('uuid: lowercase with hyphens', async () => {
    await expectRoundTrips('uuid', 'uuid_send', [
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
      '{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}',
      '01234567-89ab-cdef-0123-456789abcdef',
    ]);
    const random = await compare('uuid_send', `SELECT md5(i::text)::uuid FROM generate_series(1, 500) AS i`);
    expect(random.mismatches).toEqual([]);
  });

  it('bytea: empty, every byte value, a large value', async () => {
    await expectRoundTrips('bytea', 'byteasend', ['', '\\x00', '\\xff', '\\x5c78', 'NULL']);
    const result = await compare(
      'byteasend',
      `SELECT string_agg(set_byte('\\x00'::bytea, 0, i), ''::bytea ORDER BY i) FROM generate_series(0, 255) AS i
       UNION ALL SELECT decode(repeat('00ff5c', 40000), 'hex')`,
    );
    expect(result.mismatches).toEqual([]);
    expect(result.count).toBe(4);
  });

  it('bytea is a copy: changing the received bytes does not change the value', () => {
    const decode = builtinBinaryDecoders({}).get(TypeOid.bytea)!;
    const received = Buffer.from([9, 1, 2, 3, 9]);
    const value = decode(received, 1, 4) as Buffer;
    received.fill(0);
    expect(value).toEqual(Buffer.from([1, 2, 3]));
    expect(decode(received, 2, 2)).toEqual(Buffer.alloc(0));
  });

  it('arrays: empty, NULLs, several dimensions, lower bounds other than 1', async () => {
    const int4 = await compare(
      'array_send',
      `VALUES ('{}'::int4[]), ('{NULL}'), ('{NULL,NULL}'), ('[0:1]={1,2}'), ('[-5:-3]={1,NULL,3}'), ('{{1,2},{3,NULL}}'),
       ('[0:1][5:7]={{1,2,3},{4,5,6}}'), ('{{{1}},{{2}}}'), ('{{{{{{-2147483648}}}}}}'), ('{{1},{2},{3}}'), ((SELECT array_agg(i) FROM generate_series(1, 10000) AS i))`,
    );
    expect(int4.mismatches).toEqual([]);
    expect(int4.count).toBe(22);
    const others = [
      ['int2', '{{1,-32768},{NULL,32767}}'],
      ['int8', '[2:3]={-9223372036854775808,9223372036854775807}'],
      ['oid', '{{4294967295},{0}}'],
      ['float4', '{{1.1,NaN},{-0,-Infinity}}'],
      ['float8', '{{0.1,NULL},{5e-324,Infinity}}'],
      ['bool', '{{t,f},{NULL,t}}'],
      ['timestamp', '{{"2000-01-01 00:00:00.000001","0044-03-15 12:00:00 BC"},{infinity,-infinity}}'],
      ['timestamptz', '{{"2000-01-01 00:00:00.000001+00","0044-03-15 12:00:00+00 BC"},{infinity,NULL}}'],
      ['date', '{{2000-01-01,"0044-03-15 BC"},{infinity,-infinity}}'],
      ['uuid', '{{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}}'],
      ['bytea', '{{"\\\\x","\\\\x00ff"},{NULL,"\\\\x5c"}}'],
    ];
    for (const [type, literal] of others) {
      const result = await compare('array_send', `VALUES ('${literal}'::${type}[]), ('{}'::${type}[])`);
      expect(result.mismatches).toEqual([]);
      expect(result.count).toBe(4);
    }
  });
});

describe('binary decoders given malformed bytes (never sent by the server)', () => {
  const decoders = builtinBinaryDecoders({});
  const decode =
    (oid: number, bytes: Buffer, start = 0, end = bytes.length) =>
    () =>
      decoders.get(oid)!(bytes, start, end);

  const fixedSizes = [
    [TypeOid.bool, 'bool', 1],
    [TypeOid.int2, 'int2', 2],
    [TypeOid.int4, 'int4', 4],
    [TypeOid.oid, 'oid', 4],
    [TypeOid.int8, 'int8', 8],
    [TypeOid.float4, 'float4', 4],
    [TypeOid.float8, 'float8', 8],
    [TypeOid.timestamp, 'timestamp', 8],
    [TypeOid.timestamptz, 'timestamptz', 8],
    [TypeOid.date, 'date', 4],
    [TypeOid.uuid, 'uuid', 16],
  ] as const;

  it.each(fixedSizes)('refuse a type %i (%s) value of another length than %i bytes, naming the type and lengths', (oid, name, size) => {
    const bytes = Buffer.alloc(32, 1);
    for (const length of [0, size - 1, size + 1]) {
      expect(decode(oid, bytes, 2, 2 + length)).toThrow(new RangeError(`${name} binary value of ${length} bytes, expected ${size}`));
    }
    expect(decode(oid, bytes, 2, 2 + size)).not.toThrow();
    // With bigint too (a decoder of its own for int8).
    if (oid === TypeOid.int8) {
      expect(() => builtinBinaryDecoders({ bigint: true }).get(oid)!(bytes, 2, 2 + 3)).toThrow('int8 binary value of 3 bytes, expected 8');
    }
  });

  it.each(fixedSizes)('refuse an array of type %i (%s) whose element is not %i bytes long', (oid, name, size) => {
    const arrayOid = [...arrayElementOids].find(([, element]) => element === oid)![0];
    // One dimension of one element of size + 1 bytes, then the same with size - 1 bytes.
    for (const length of [size + 1, size - 1]) {
      const array = Buffer.concat([b.int32(1), b.int32(0), b.int32(oid), b.int32(1), b.int32(1), b.int32(length), Buffer.alloc(length, 7)]);
      expect(decode(arrayOid, framed(array), 3, 3 + array.length)).toThrow(
        new RangeError(`${name} binary value of ${length} bytes, expected ${size}`),
      );
    }
    const good = Buffer.concat([b.int32(1), b.int32(0), b.int32(oid), b.int32(1), b.int32(1), b.int32(size), Buffer.alloc(size, 0)]);
    expect(decode(arrayOid, framed(good), 3, 3 + good.length)()).toHaveLength(1);
  });

  /** '{1,2}'::int4[] in array_send's format. */
  const oneTwo = Buffer.from(
    '00000001' + '00000000' + '00000017' + '00000002' + '00000001' + '00000004' + '00000001' + '00000004' + '00000002',
    'hex',
  );

  it('read a well-formed array inside a larger buffer', () => {
    expect(decode(TypeOid.int4Array, framed(oneTwo), 3, 3 + oneTwo.length)()).toEqual([1, 2]);
  });

  it('refuse a truncated array instead of reading the bytes that follow it', () => {
    const inside = framed(oneTwo);
    for (let cut = 1; cut < oneTwo.length; cut++) {
      expect(decode(TypeOid.int4Array, inside, 3, 3 + oneTwo.length - cut)).toThrow(RangeError);
    }
    expect(decode(TypeOid.int4Array, inside, 3, 3 + oneTwo.length - 1)).toThrow('int4[] binary value whose elements run past its end');
    expect(decode(TypeOid.int4Array, inside, 3, 3 + 11)).toThrow('int4[] binary value of 11 bytes, shorter than the 12-byte array header');
    expect(decode(TypeOid.int4Array, inside, 3, 3 + 16)).toThrow(
      'int4[] binary value of 16 bytes, shorter than the header of its 1 dimensions (20 bytes)',
    );
  });

  it('refuse an array with bytes left over, a negative length, or impossible dimensions, saying which', () => {
    expect(decode(TypeOid.int4Array, Buffer.concat([oneTwo, Buffer.alloc(1)]))).toThrow(
      'int4[] binary value with 1 bytes after its last element',
    );
    const negativeLength = Buffer.from(oneTwo);
    negativeLength.writeInt32BE(-2, 20);
    expect(decode(TypeOid.int4Array, negativeLength)).toThrow('int4[] binary value with an element of length -2');
    const negativeSize = Buffer.from(oneTwo);
    negativeSize.writeInt32BE(-1, 12);
    expect(decode(TypeOid.int4Array, negativeSize)).toThrow('int4[] binary value whose dimension 1 has a negative size');
    const hugeSize = Buffer.from(oneTwo);
    hugeSize.writeInt32BE(0x7fffffff, 12); // refused before allocating an array of that size
    expect(decode(TypeOid.int4Array, hugeSize)).toThrow(
      'int4[] binary value of 2147483647 elements in 16 bytes, fewer than their 4-byte lengths need',
    );
    const hugeDimensions = Buffer.concat([
      b.int32(2),
      b.int32(0),
      b.int32(23),
      b.int32(0x7fffffff),
      b.int32(1),
      b.int32(0x7fffffff),
      b.int32(1),
    ]);
    expect(decode(TypeOid.int4Array, hugeDimensions)).toThrow(
      'int4[] binary value of 4611686014132420609 elements in 0 bytes, fewer than their 4-byte lengths need',
    );
    for (const dimensions of [7, -1]) {
      const wrongDimensions = Buffer.from(oneTwo);
      wrongDimensions.writeInt32BE(dimensions, 0);
      expect(decode(TypeOid.int4Array, wrongDimensions)).toThrow(`int4[] binary value of ${dimensions} dimensions, expected 0 to 6`);
    }
    const elementTooLong = Buffer.from(oneTwo);
    elementTooLong.writeInt32BE(13, 20);
    expect(decode(TypeOid.int4Array, framed(elementTooLong), 3, 3 + elementTooLong.length)).toThrow(
      'int4[] binary value whose elements run past its end',
    );
    // The first element claims 8 bytes: both elements' bytes, read as one int4 of 8 bytes.
    const swallowsNext = Buffer.from(oneTwo);
    swallowsNext.writeInt32BE(8, 20);
    swallowsNext.writeInt32BE(1, 12);
    expect(decode(TypeOid.int4Array, swallowsNext)).toThrow('int4 binary value of 8 bytes, expected 4');
    expect(decode(TypeOid.int4Array, Buffer.alloc(11))).toThrow(RangeError);
    expect(decode(TypeOid.bytea, Buffer.alloc(4), 3, 2)).toThrow(RangeError);
    expect(decode(TypeOid.bytea, Buffer.alloc(4), 2, 6)).toThrow("bytea binary value of 4 bytes past its message's end");
  });

  it('refuse an empty array (no dimensions, or a size of 0) with bytes after its header', () => {
    const empty = Buffer.from('000000000000000000000017', 'hex');
    expect(decode(TypeOid.int4Array, Buffer.concat([empty, b.int32(1)]))).toThrow(
      'int4[] binary value of 0 dimensions with 4 bytes after its header',
    );
    const zeroSize = Buffer.concat([b.int32(1), b.int32(0), b.int32(23), b.int32(0), b.int32(1)]);
    expect(decode(TypeOid.int4Array, zeroSize)()).toEqual([]);
    expect(decode(TypeOid.int4Array, Buffer.concat([zeroSize, b.int32(1)]))).toThrow(
      'int4[] binary value of 0 elements with 4 bytes after its header',
    );
  });

  it('never put the bytes of the value in the message', () => {
    const secret = Buffer.from('7365637265742121', 'hex'); // 'secret!!' as an int4 of 8 bytes
    const message = (() => {
      try {
        decoders.get(TypeOid.int4)!(secret, 0, secret.length);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toBe('int4 binary value of 8 bytes, expected 4');
  });

  it('decode an empty array from its 12-byte header', () => {
    expect(decode(TypeOid.int4Array, Buffer.from('000000000000000000000017', 'hex'))()).toEqual([]);
  });
});
