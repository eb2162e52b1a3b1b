import { decodeBigInt, decodeBool, decodeFloat, decodeInteger, decodeJson, decodeText } from '../../lib/types';

describe('decodeText', () => {
  it('returns the text unchanged', () => {
    for (const text of ['', 'abc', ' padded ', 'NULL', '12345678901234567890.123456789', '😀']) expect(decodeText(text)).toBe(text);
  });
});

describe('decodeInteger (int2, int4, oid)', () => {
  it.each([
    ['0', 0],
    ['42', 42],
    ['-32768', -32768],
    ['2147483647', 2147483647],
    ['-2147483648', -2147483648],
    ['4294967295', 4294967295],
  ])('%s → %p', (text, expected) => {
    expect(decodeInteger(text)).toBe(expected);
  });
});

describe('decodeFloat (float4, float8)', () => {
  it.each([
    ['1.5', 1.5],
    ['-0', -0],
    ['1e-07', 1e-7],
    ['1.7976931348623157e+308', Number.MAX_VALUE],
    ['5e-324', 5e-324],
    ['0.1', 0.1],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
  ])('%s → %p', (text, expected) => {
    expect(Object.is(decodeFloat(text), expected)).toBe(true);
  });

  it("reads 'NaN'", () => {
    expect(decodeFloat('NaN')).toBeNaN();
  });
});

describe('decodeBigInt (int8 with the bigint option)', () => {
  it('keeps every digit', () => {
    expect(decodeBigInt('9223372036854775807')).toBe(9223372036854775807n);
    expect(decodeBigInt('-9223372036854775808')).toBe(-9223372036854775808n);
    expect(decodeBigInt('0')).toBe(0n);
  });

  it('throws a SyntaxError for text that is not an integer', () => {
    expect(() => decodeBigInt('1.5')).toThrow(SyntaxError);
  });
});

describe('decodeBool', () => {
  it("reads 't' and 'f'", () => {
    expect(decodeBool('t')).toBe(true);
    expect(decodeBool('f')).toBe(false);
  });
});

describe('decodeJson (json, jsonb)', () => {
  it('parses objects, arrays, scalars', () => {
    expect(decodeJson('{"a": [1, 2], "b": null}')).toEqual({ a: [1, 2], b: null });
    expect(decodeJson('"text"')).toBe('text');
    expect(decodeJson('1.5')).toBe(1.5);
    expect(decodeJson('null')).toBeNull();
  });

  it('makes __proto__ an own property, never a prototype', () => {
    const value = decodeJson('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(value, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('throws a SyntaxError for invalid JSON', () => {
    expect(() => decodeJson('{')).toThrow(SyntaxError);
  });
});
