import { arrayElementOids, decodeText, TypeOid, TypeRegistry, type TextDecoder } from '../../lib/types';
import { builtinBinaryDecoders } from '../../lib/types/binary-decoders';

describe('TypeRegistry: built-in decoders', () => {
  const types = new TypeRegistry();
  const decode = (oid: number, text: string) => types.decoderFor(oid)(text);

  it('decodes numbers, booleans, JSON, bytea', () => {
    expect(decode(TypeOid.int2, '-32768')).toBe(-32768);
    expect(decode(TypeOid.int4, '2147483647')).toBe(2147483647);
    expect(decode(TypeOid.oid, '4294967295')).toBe(4294967295);
    expect(decode(TypeOid.float4, 'NaN')).toBeNaN();
    expect(decode(TypeOid.float8, '-Infinity')).toBe(-Infinity);
    expect(decode(TypeOid.bool, 't')).toBe(true);
    expect(decode(TypeOid.json, '{"a":1}')).toEqual({ a: 1 });
    expect(decode(TypeOid.jsonb, '[1, "x"]')).toEqual([1, 'x']);
    expect(decode(TypeOid.bytea, '\\x00ff')).toEqual(Buffer.from([0, 255]));
  });

  it('keeps int8 (by default), numeric and money as exact strings', () => {
    expect(decode(TypeOid.int8, '9223372036854775807')).toBe('9223372036854775807');
    expect(decode(TypeOid.numeric, '12345678901234567890.123456789')).toBe('12345678901234567890.123456789');
    expect(decode(TypeOid.numeric, 'NaN')).toBe('NaN');
    expect(decode(TypeOid.money, '$1,234.56')).toBe('$1,234.56');
  });

  it('decodes timestamps to Dates and intervals to objects', () => {
    expect(decode(TypeOid.timestamptz, '2024-01-31 12:00:00+01')).toEqual(new Date('2024-01-31T11:00:00Z'));
    expect(decode(TypeOid.timestamp, '2024-01-31 12:00:00')).toEqual(new Date('2024-01-31T12:00:00Z'));
    expect(decode(TypeOid.interval, '1 day')).toEqual({ years: 0, months: 0, days: 1, hours: 0, minutes: 0, seconds: 0, milliseconds: 0 });
  });

  it('keeps the string types, date and time as text', () => {
    for (const oid of [
      TypeOid.text,
      TypeOid.varchar,
      TypeOid.bpchar,
      TypeOid.char,
      TypeOid.name,
      TypeOid.uuid,
      TypeOid.xml,
      TypeOid.date,
      TypeOid.time,
      TypeOid.timetz,
    ]) {
      expect(types.decoderFor(oid)).toBe(decodeText);
    }
  });

  it('decodes unknown OIDs (enums, user types) as text', () => {
    expect(types.decoderFor(123456)).toBe(decodeText);
    expect(types.decoderFor(0)).toBe(decodeText);
  });

  it('decodes arrays of every built-in type with the element decoder', () => {
    expect(decode(TypeOid.int4Array, '{{1,NULL},{3,4}}')).toEqual([
      [1, null],
      [3, 4],
    ]);
    expect(decode(TypeOid.int8Array, '{1,NULL}')).toEqual(['1', null]);
    expect(decode(TypeOid.boolArray, '{t,f,NULL}')).toEqual([true, false, null]);
    expect(decode(TypeOid.textArray, '{"a\\"b",NULL,"NULL",""}')).toEqual(['a"b', null, 'NULL', '']);
    expect(decode(TypeOid.byteaArray, '{"\\\\x00ff"}')).toEqual([Buffer.from([0, 255])]);
    expect(decode(TypeOid.jsonbArray, '{"{\\"a\\": 1}"}')).toEqual([{ a: 1 }]);
    expect(decode(TypeOid.timestamptzArray, '{"2024-01-31 12:00:00+00",infinity}')).toEqual([
      new Date('2024-01-31T12:00:00Z'),
      new Date(8.64e15),
    ]);
    expect(decode(TypeOid.intervalArray, '{"1 day",NULL}')).toEqual([
      { years: 0, months: 0, days: 1, hours: 0, minutes: 0, seconds: 0, milliseconds: 0 },
      null,
    ]);
    expect(decode(TypeOid.float8Array, '{NaN,-Infinity,1.5}')).toEqual([NaN, -Infinity, 1.5]);
  });
});

describe('TypeRegistry: options', () => {
  it('decodes int8 and int8[] as bigint with { bigint: true }', () => {
    const types = new TypeRegistry({ bigint: true });
    expect(types.decoderFor(TypeOid.int8)('-9223372036854775808')).toBe(-9223372036854775808n);
    expect(types.decoderFor(TypeOid.int8Array)('{1,NULL}')).toEqual([1n, null]);
    expect(types.decoderFor(TypeOid.numeric)('1')).toBe('1');
  });

  it('applies overrides by OID, leaving the array type alone', () => {
    const types = new TypeRegistry({ overrides: { [TypeOid.timestamptz]: decodeText, [TypeOid.numeric]: Number } });
    expect(types.decoderFor(TypeOid.timestamptz)('2024-01-31 00:00:00+00')).toBe('2024-01-31 00:00:00+00');
    expect(types.decoderFor(TypeOid.numeric)('1.5')).toBe(1.5);
    expect(types.decoderFor(TypeOid.timestamptzArray)('{"2024-01-31 00:00:00+00"}')).toEqual([new Date('2024-01-31T00:00:00Z')]);
  });

  it('throws a TypeError for an override that is not a function or not keyed by an OID', () => {
    expect(() => new TypeRegistry({ overrides: { [TypeOid.int4]: 'nope' as unknown as TextDecoder } })).toThrow(TypeError);
    expect(() => new TypeRegistry({ overrides: { abc: decodeText } as unknown as Record<number, TextDecoder> })).toThrow(TypeError);
    expect(() => new TypeRegistry({ overrides: { [-1]: decodeText } })).toThrow(TypeError);
  });
});

describe('TypeRegistry: setDecoder and setArrayDecoder', () => {
  it('changes only the OID given, then the array when asked', () => {
    const types = new TypeRegistry();
    expect(types.setDecoder(TypeOid.numeric, Number)).toBe(types);
    expect(types.decoderFor(TypeOid.numeric)('1.5')).toBe(1.5);
    expect(types.decoderFor(TypeOid.numericArray)('{1.5}')).toEqual(['1.5']);
    expect(types.setArrayDecoder(TypeOid.numericArray, TypeOid.numeric)).toBe(types);
    expect(types.decoderFor(TypeOid.numericArray)('{1.5,NULL}')).toEqual([1.5, null]);
  });

  it('binds the element decoder set at the time of the call', () => {
    const types = new TypeRegistry();
    types.setArrayDecoder(TypeOid.int4Array, TypeOid.int4);
    types.setDecoder(TypeOid.int4, (text) => `#${text}`);
    expect(types.decoderFor(TypeOid.int4Array)('{1}')).toEqual([1]);
  });

  it('decodes arrays of a user type (an enum) and with another delimiter', () => {
    const moodOid = 90001;
    const moodArrayOid = 90002;
    const types = new TypeRegistry();
    expect(types.decoderFor(moodArrayOid)('{happy,sad}')).toBe('{happy,sad}');
    types.setArrayDecoder(moodArrayOid, moodOid);
    expect(types.decoderFor(moodArrayOid)('{happy,NULL,"so so"}')).toEqual(['happy', null, 'so so']);
    types.setArrayDecoder(1020, 603, { delimiter: ';' }); // box[]
    expect(types.decoderFor(1020)('{(1,1),(0,0);(2,2),(1,1)}')).toEqual(['(1,1),(0,0)', '(2,2),(1,1)']);
  });

  it('keeps registries independent', () => {
    const first = new TypeRegistry();
    const second = new TypeRegistry();
    first.setDecoder(TypeOid.int4, decodeText);
    expect(first.decoderFor(TypeOid.int4)('1')).toBe('1');
    expect(second.decoderFor(TypeOid.int4)('1')).toBe(1);
    expect(new TypeRegistry().decoderFor(TypeOid.int4)('1')).toBe(1);
  });

  it('throws TypeErrors for bad OIDs, decoders and delimiters', () => {
    const types = new TypeRegistry();
    for (const oid of [-1, 1.5, NaN, 2 ** 32]) expect(() => types.setDecoder(oid, decodeText)).toThrow(TypeError);
    expect(() => types.setDecoder(1, null as unknown as TextDecoder)).toThrow(TypeError);
    expect(() => types.setArrayDecoder(-1, 25)).toThrow(TypeError);
    expect(() => types.setArrayDecoder(1009, 25, { delimiter: '' })).toThrow(TypeError);
    expect(() => types.setArrayDecoder(1009, 25, { delimiter: ';;' })).toThrow(TypeError);
  });

  it('counts its changes in version, and a refused change is no change', () => {
    const types = new TypeRegistry({ overrides: { [TypeOid.numeric]: Number } });
    const start = types.version;
    types.setDecoder(TypeOid.int4, decodeText);
    expect(types.version).toBe(start + 1);
    types.setArrayDecoder(TypeOid.int4Array, TypeOid.int4);
    expect(types.version).toBe(start + 2);
    expect(() => types.setDecoder(TypeOid.int4, 'nope' as unknown as TextDecoder)).toThrow(TypeError);
    expect(() => types.setArrayDecoder(TypeOid.int4Array, TypeOid.int4, { delimiter: '' })).toThrow(TypeError);
    expect(types.version).toBe(start + 2);
    expect(types.decoderFor(TypeOid.int4)('7')).toBe('7');
  });
});

describe('TypeRegistry: decoders by (type OID, format)', () => {
  const builtinOids = Object.values(TypeOid).filter((oid) => typeof oid === 'number') as number[];
  const binary = builtinBinaryDecoders({});
  const at = (text: string): [Buffer, number, number] => {
    const bytes = Buffer.from(`##${text}##`);
    return [bytes, 2, bytes.length - 2];
  };

  it('asks for binary exactly for the built-in types with a binary decoder', () => {
    const types = new TypeRegistry();
    for (const oid of builtinOids) expect([oid, types.resultFormatFor(oid)]).toEqual([oid, binary.has(oid) ? 1 : 0]);
    expect(types.resultFormatFor(999_999)).toBe(0);
  });

  it('gives the built-in binary decoder for format 1, and a copy of the bytes for a type without one', () => {
    const types = new TypeRegistry();
    for (const oid of binary.keys()) expect(typeof types.valueDecoderFor(oid, 1)).toBe('function');
    expect(types.valueDecoderFor(TypeOid.int4, 1)).toBe(binary.get(TypeOid.int4));
    expect(types.valueDecoderFor(TypeOid.int4, 1)(Buffer.from([0xff, 0xff, 0xff, 0xfe]), 0, 4)).toBe(-2);
    const bytes = Buffer.from([1, 2, 3, 4]);
    const copy = types.valueDecoderFor(TypeOid.numeric, 1)(bytes, 1, 3);
    bytes.fill(0);
    expect(copy).toEqual(Buffer.from([2, 3]));
  });

  it('decodes text-format bytes to the text decoder’s value, for every built-in OID', () => {
    const types = new TypeRegistry();
    const samples: Record<number, string> = {
      [TypeOid.int2]: '-32768',
      [TypeOid.int4]: '2147483647',
      [TypeOid.float8]: '-12.375',
      [TypeOid.bool]: 't',
      [TypeOid.json]: '{"a":[1]}',
      [TypeOid.jsonb]: '[1, "x"]',
      [TypeOid.int8]: '-9223372036854775808',
      [TypeOid.timestamptz]: '2024-01-31 12:34:56.789+05:30',
      [TypeOid.timestamp]: '2024-01-31 12:34:56.789',
      [TypeOid.int4Array]: '{1,NULL,-3}',
      [TypeOid.interval]: '1 day 02:00:00',
      [TypeOid.bytea]: '\\x00ff',
    };
    for (const oid of builtinOids) {
      const text = samples[oid] ?? (arrayElementOids.has(oid) ? '{NULL}' : 'plain text ☃');
      expect([oid, types.valueDecoderFor(oid, 0)(...at(text))]).toEqual([oid, types.decoderFor(oid)(text)]);
    }
  });

  it('makes a type text when the user sets its decoder (overrides, setDecoder, setArrayDecoder), and the user decoder gets the text', () => {
    const fromOverrides = new TypeRegistry({ overrides: { [TypeOid.int4]: (text) => `int4:${text}` } });
    expect(fromOverrides.resultFormatFor(TypeOid.int4)).toBe(0);
    expect(fromOverrides.valueDecoderFor(TypeOid.int4, 0)(...at('42'))).toBe('int4:42');
    // The array type keeps its built-in decoders, binary included.
    expect(fromOverrides.resultFormatFor(TypeOid.int4Array)).toBe(binary.has(TypeOid.int4Array) ? 1 : 0);

    const types = new TypeRegistry();
    const version = types.version;
    const before = types.valueDecoderFor(TypeOid.float8, 0);
    types.setDecoder(TypeOid.float8, (text) => `float8:${text}`);
    expect(types.version).toBeGreaterThan(version);
    expect(types.resultFormatFor(TypeOid.float8)).toBe(0);
    expect(types.valueDecoderFor(TypeOid.float8, 0)).not.toBe(before);
    expect(types.valueDecoderFor(TypeOid.float8, 0)(...at('1.5'))).toBe('float8:1.5');

    types.setArrayDecoder(TypeOid.int4Array, TypeOid.int4);
    expect(types.resultFormatFor(TypeOid.int4Array)).toBe(0);
    expect(types.resultFormatFor(TypeOid.int4)).toBe(binary.has(TypeOid.int4) ? 1 : 0);

    // hasUserDecoder says whose decoder it is (a user's error is not wrapped by the row builder).
    expect(fromOverrides.hasUserDecoder(TypeOid.int4)).toBe(true);
    expect(fromOverrides.hasUserDecoder(TypeOid.int4Array)).toBe(false);
    expect([TypeOid.float8, TypeOid.int4Array, TypeOid.int4].map((oid) => types.hasUserDecoder(oid))).toEqual([true, true, false]);
    expect(new TypeRegistry().hasUserDecoder(TypeOid.json)).toBe(false);
  });

  it('gives the same decoder for the same type until a decoder changes', () => {
    const types = new TypeRegistry();
    expect(types.valueDecoderFor(TypeOid.uuid, 0)).toBe(types.valueDecoderFor(TypeOid.uuid, 0));
    const json = types.valueDecoderFor(TypeOid.json, 0);
    expect(types.valueDecoderFor(TypeOid.json, 0)).toBe(json);
  });

  it('decodes int8 by the bigint option in both formats', () => {
    const types = new TypeRegistry({ bigint: true });
    expect(types.valueDecoderFor(TypeOid.int8, 0)(...at('9223372036854775807'))).toBe(9223372036854775807n);
    const decoder = builtinBinaryDecoders({ bigint: true }).get(TypeOid.int8);
    if (decoder !== undefined) expect(types.valueDecoderFor(TypeOid.int8, 1)).toBe(decoder);
  });
});
