import { encodeParameter, ParameterError } from '../../lib/types';

function parameterError(value: unknown, index = 0): ParameterError {
  try {
    encodeParameter(value, index);
  } catch (error) {
    expect(error).toBeInstanceOf(ParameterError);
    return error as ParameterError;
  }
  throw new Error('expected a ParameterError');
}

describe('encodeParameter: scalars', () => {
  it('sends null as NULL and strings as they are', () => {
    expect(encodeParameter(null, 0)).toBeNull();
    expect(encodeParameter('', 0)).toBe('');
    expect(encodeParameter('a\'b"c\\d', 0)).toBe('a\'b"c\\d');
  });

  it.each<[number, string]>([
    [0, '0'],
    [-0, '-0'],
    [42, '42'],
    [-1.5, '-1.5'],
    [0.1, '0.1'],
    [1e21, '1e+21'],
    [5e-324, '5e-324'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
  ])('number %p → %p', (value, text) => {
    expect(encodeParameter(value, 0)).toBe(text);
  });

  it('sends bigints as their digits and booleans as t/f', () => {
    expect(encodeParameter(-9223372036854775808n, 0)).toBe('-9223372036854775808');
    expect(encodeParameter(true, 0)).toBe('t');
    expect(encodeParameter(false, 0)).toBe('f');
  });

  it('sends Dates as ISO 8601 with an offset, BC and infinity included', () => {
    expect(encodeParameter(new Date('2024-01-31T07:04:56.789Z'), 0)).toBe('2024-01-31T07:04:56.789+00:00');
    expect(encodeParameter(new Date('-000043-03-15T12:00:00.000Z'), 0)).toBe('0044-03-15T12:00:00.000+00:00 BC');
    expect(encodeParameter(new Date(8.64e15), 0)).toBe('infinity');
    expect(encodeParameter(new Date(-8.64e15), 0)).toBe('-infinity');
  });

  it('passes Buffers and Uint8Arrays through (sent in binary format)', () => {
    const buffer = Buffer.from([0, 255]);
    const bytes = new Uint8Array([1, 2]);
    expect(encodeParameter(buffer, 0)).toBe(buffer);
    expect(encodeParameter(bytes, 0)).toBe(bytes);
  });
});

describe('encodeParameter: objects', () => {
  it('sends plain objects as JSON, with or without a prototype', () => {
    expect(encodeParameter({ a: [1, 'x'], b: null }, 0)).toBe('{"a":[1,"x"],"b":null}');
    const bare = Object.assign(Object.create(null) as object, { a: 1 });
    expect(encodeParameter(bare, 0)).toBe('{"a":1}');
    expect(encodeParameter(JSON.parse('{"__proto__": 1}'), 0)).toBe('{"__proto__":1}');
  });

  it('uses toPostgres() and encodes its result again', () => {
    expect(encodeParameter({ toPostgres: () => 'custom' }, 0)).toBe('custom');
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
      toPostgres(): string {
        return `(${this.x},${this.y})`;
      }
    }
    expect(encodeParameter(new Point(1, 2), 0)).toBe('(1,2)');
    expect(encodeParameter({ toPostgres: () => [1, null] }, 0)).toBe('{1,NULL}');
    expect(encodeParameter({ toPostgres: () => null }, 0)).toBeNull();
    expect(encodeParameter({ toPostgres: () => ({ toPostgres: () => 7 }) }, 0)).toBe('7');
  });

  it('uses toJSON(): a primitive result as itself, an object result as JSON', () => {
    class Decimal {
      constructor(readonly digits: string) {}
      toJSON(): string {
        return this.digits;
      }
    }
    class Settings {
      toJSON(): object {
        return { theme: 'dark' };
      }
    }
    expect(encodeParameter(new Decimal('1.50'), 0)).toBe('1.50');
    expect(encodeParameter(new Settings(), 0)).toBe('{"theme":"dark"}');
    expect(encodeParameter(new URL('https://example.com/a b'), 0)).toBe('https://example.com/a%20b');
  });

  it('rejects other class instances instead of sending {}', () => {
    class Plain {
      readonly a = 1;
    }
    for (const value of [new Map(), new Set(), Promise.resolve(1), new Plain(), /x/, new Error('x'), new Number(1)]) {
      const error = parameterError(value, 2);
      expect(error.position).toBe(3);
      expect(error.message).toMatch(/^parameter \$3: an? (Map|Set|Promise|Plain|RegExp|Error|Number) cannot be sent/);
    }
  });

  it('rejects typed arrays other than Uint8Array and ArrayBuffers, pointing at Buffer', () => {
    for (const value of [new Int32Array(2), new ArrayBuffer(2), new DataView(new ArrayBuffer(2)), new Uint16Array(1)]) {
      expect(parameterError(value).message).toMatch(/pass a Buffer or Uint8Array/);
    }
  });
});

describe('encodeParameter: arrays', () => {
  it.each<[unknown[], string]>([
    [[], '{}'],
    [[1, 2, 3], '{1,2,3}'],
    [[1.5, NaN, -Infinity, -0], '{1.5,NaN,-Infinity,-0}'],
    [[null, 'NULL', ''], '{NULL,"NULL",""}'],
    [['a"b', 'c\\d', 'a,b', ' x ', '{}'], '{"a\\"b","c\\\\d","a,b"," x ","{}"}'],
    [
      [
        [1, 2],
        [3, null],
      ],
      '{{1,2},{3,NULL}}',
    ],
    [[true, false], '{t,f}'],
    [[1n, -2n], '{1,-2}'],
    [[Buffer.from([0, 255]), new Uint8Array([16])], '{"\\\\x00ff","\\\\x10"}'],
    [
      [new Date('2024-01-31T00:00:00Z'), new Date('-000043-03-15T12:00:00.000Z')],
      '{"2024-01-31T00:00:00.000+00:00","0044-03-15T12:00:00.000+00:00 BC"}',
    ],
    [[{ a: 'x"y' }, null], '{"{\\"a\\":\\"x\\\\\\"y\\"}",NULL}'],
    [[{ toPostgres: () => 'p' }, { toPostgres: () => [1] }], '{"p",{1}}'],
    [[[[[[[1]]]]]], '{{{{{{1}}}}}}'],
  ])('%j → %s', (value, text) => {
    expect(encodeParameter(value, 0)).toBe(text);
  });

  it('encodes a Uint8Array view of part of a buffer by its own bytes', () => {
    const backing = new Uint8Array([1, 2, 3, 4]);
    expect(encodeParameter([backing.subarray(1, 3)], 0)).toBe('{"\\\\x0203"}');
  });

  it('rejects undefined elements and holes', () => {
    expect(parameterError([1, undefined], 1).message).toBe('parameter $2: an array element is undefined; use null for NULL');
    // eslint-disable-next-line no-sparse-arrays -- the hole is what this checks
    expect(parameterError([1, , 3]).message).toMatch(/undefined/);
  });

  it('rejects more than 6 dimensions and circular arrays', () => {
    expect(parameterError([[[[[[[1]]]]]]]).message).toMatch(/more than 6 levels/);
    const circular: unknown[] = [1];
    circular.push(circular);
    expect(parameterError(circular).message).toMatch(/more than 6 levels deep \(or circular\)/);
  });

  it('rejects symbols, functions and Invalid Dates inside arrays', () => {
    expect(parameterError([Symbol('s')]).message).toMatch(/a symbol/);
    expect(parameterError([() => 1]).message).toMatch(/a function/);
    expect(parameterError([new Date(NaN)]).message).toMatch(/Invalid Date/);
    expect(parameterError([new Map()]).message).toMatch(/a Map/);
  });
});

describe('encodeParameter: errors', () => {
  it('is a TypeError-derived ParameterError with the 1-based position and code 22023', () => {
    const error = parameterError(undefined, 0);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.name).toBe('ParameterError');
    expect(error.code).toBe('22023');
    expect(error.position).toBe(1);
    expect(error.message).toBe('parameter $1: undefined is not a value; pass null for NULL');
  });

  it.each<[string, unknown, RegExp]>([
    ['a symbol', Symbol('secret-symbol'), /^parameter \$1: a symbol cannot be sent/],
    ['a function', function secretFunction() {}, /^parameter \$1: a function cannot be sent/],
    ['an Invalid Date', new Date('nope'), /^parameter \$1: an Invalid Date cannot be sent/],
  ])('rejects %s', (_, value, message) => {
    expect(parameterError(value).message).toMatch(message);
  });

  it('wraps JSON failures (circular, BigInt) with the cause and never quotes the value', () => {
    const circular: Record<string, unknown> = { secret: 'hunter2' };
    circular['self'] = circular;
    const error = parameterError(circular);
    expect(error.message).toMatch(/^parameter \$1: a plain object cannot be encoded as JSON/);
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(parameterError({ n: 1n }).message).toMatch(/cannot be encoded as JSON/);
  });

  it('wraps what toPostgres() and toJSON() throw', () => {
    const thrown = new Error('boom');
    const fromToPostgres = parameterError({
      toPostgres() {
        throw thrown;
      },
    });
    expect(fromToPostgres.message).toBe('parameter $1: toPostgres() of an Object threw');
    expect(fromToPostgres.cause).toBe(thrown);
    class Broken {
      toJSON(): never {
        throw thrown;
      }
    }
    expect(parameterError(new Broken()).cause).toBe(thrown);
  });

  it('stops a toPostgres() that keeps returning objects', () => {
    const endless = { toPostgres: (): unknown => endless };
    expect(parameterError(endless).message).toMatch(/kept returning objects/);
  });

  it('rejects a toJSON() that returns undefined', () => {
    class Nothing {
      toJSON(): undefined {
        return undefined;
      }
    }
    expect(parameterError(new Nothing()).message).toMatch(/undefined/);
  });

  it('never puts a value into the message', () => {
    const secret = 'hunter2-secret';
    const values: unknown[] = [
      undefined,
      [secret, undefined],
      [secret, Symbol(secret)],
      { secret, big: 1n },
      new Map([[secret, secret]]),
      { toPostgres: () => Symbol(secret) },
    ];
    for (const value of values) expect(parameterError(value).message).not.toContain(secret);
  });
});
