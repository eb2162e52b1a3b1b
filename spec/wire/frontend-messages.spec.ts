import {
  bind,
  cancelRequest,
  close,
  copyData,
  copyDone,
  copyFail,
  describe as describeMessage,
  encodeStartupOptions,
  execute,
  flush,
  gssEncRequest,
  gssResponse,
  parse,
  passwordMessage,
  query,
  saslInitialResponse,
  saslResponse,
  sslRequest,
  startupMessage,
  sync,
  terminate,
} from '../../lib/wire';

/** Bytes from a readable notation: hex groups, and 'quoted' ASCII text. */
function bytes(...parts: (string | number[])[]): Buffer {
  return Buffer.concat(
    parts.map((part) => {
      if (Array.isArray(part)) return Buffer.from(part);
      if (part.startsWith("'")) return Buffer.from(part.slice(1, -1), 'utf8');
      return Buffer.from(part.replace(/\s+/g, ''), 'hex');
    }),
  );
}

describe('frontend messages', () => {
  it('encodes the requests sent without a type byte', () => {
    expect(sslRequest()).toEqual(bytes('00000008 04d2162f'));
    expect(gssEncRequest()).toEqual(bytes('00000008 04d21630'));
    expect(cancelRequest(1234, -1)).toEqual(bytes('00000010 04d2162e 000004d2 ffffffff'));
    expect(cancelRequest(-2147483648, 2147483647)).toEqual(bytes('00000010 04d2162e 80000000 7fffffff'));
    expect(() => cancelRequest(2 ** 31, 0)).toThrow(RangeError);
    expect(() => cancelRequest(1.5, 0)).toThrow(RangeError);
  });

  describe('startupMessage', () => {
    it('writes protocol 3.0 and the parameters in their order, adding nothing', () => {
      expect(startupMessage({ user: 'u', database: 'd' })).toEqual(
        bytes('0000001b 00030000', "'user'", '00', "'u'", '00', "'database'", '00', "'d'", '00', '00'),
      );
    });

    it('rejects what the server would reject, with a plain Error', () => {
      expect(() => startupMessage({ database: 'd' })).toThrow(/non-empty user/);
      expect(() => startupMessage({ user: '' })).toThrow(/non-empty user/);
      expect(() => startupMessage({ user: 'u', '': 'x' })).toThrow(/must not be empty/);
      expect(() => startupMessage({ user: 'u', 'a\0b': 'x' })).toThrow(/NUL/);
      expect(() => startupMessage({ user: 'u\0' })).toThrow(/NUL/);
      expect(() => startupMessage({ user: 'u', options: 1 as unknown as string })).toThrow(/must be a string/);
      const error = (() => {
        try {
          startupMessage({ user: 'u', options: 'x'.repeat(10000) });
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(Error);
      expect(Object.getPrototypeOf(error)).toBe(Error.prototype);
      expect((error as Error).message).toMatch(/at most 10000/);
    });

    it('accepts exactly 10000 bytes', () => {
      // 8 header bytes, "user\0u\0" (7), "options\0" (8), the value and its NUL, the final NUL.
      const value = 'x'.repeat(10000 - 8 - 7 - 8 - 1 - 1);
      expect(startupMessage({ user: 'u', options: value })).toHaveLength(10000);
      expect(() => startupMessage({ user: 'u', options: value + 'x' })).toThrow(Error);
    });

    it('counts UTF-8 bytes, not characters', () => {
      const message = startupMessage({ user: 'üser' });
      expect(message.readInt32BE(0)).toBe(message.length);
      expect(message).toEqual(bytes('00000014 00030000', "'user'", '00', "'üser'", '00', '00'));
    });
  });

  describe('encodeStartupOptions', () => {
    it('escapes whitespace and backslashes and joins with spaces', () => {
      expect(encodeStartupOptions(['-c', 'search_path=a b'])).toBe('-c search_path=a\\ b');
      expect(encodeStartupOptions(['tab\there', 'back\\slash'])).toBe('tab\\\there back\\\\slash');
      expect(encodeStartupOptions([])).toBe('');
    });

    it('rejects empty arguments and NUL bytes', () => {
      expect(() => encodeStartupOptions(['-c', ''])).toThrow(/empty/);
      expect(() => encodeStartupOptions(['a\0'])).toThrow(/NUL/);
    });
  });

  it('encodes PasswordMessage, GSSResponse and the SASL messages', () => {
    expect(passwordMessage('secret')).toEqual(bytes('70 0000000b', "'secret'", '00'));
    expect(passwordMessage('')).toEqual(bytes('70 00000005 00'));
    expect(() => passwordMessage('a\0b')).toThrow(/NUL/);
    expect(gssResponse(Buffer.from([0, 1, 2]))).toEqual(bytes('70 00000007 000102'));
    expect(gssResponse('tok')).toEqual(bytes('70 00000007', "'tok'"));
    expect(saslInitialResponse('SCRAM-SHA-256', Buffer.from('n,,n=,r=abc'))).toEqual(
      bytes('70 00000021', "'SCRAM-SHA-256'", '00 0000000b', "'n,,n=,r=abc'"),
    );
    expect(saslInitialResponse('X', null)).toEqual(bytes('70 0000000a 5800 ffffffff'));
    expect(saslResponse(Buffer.from('c=biws,r=abc,p=xyz'))).toEqual(bytes('70 00000016', "'c=biws,r=abc,p=xyz'"));
  });

  it('encodes Query and rejects NUL bytes in it', () => {
    expect(query('SELECT 1')).toEqual(bytes('51 0000000d', "'SELECT 1'", '00'));
    expect(query('')).toEqual(bytes('51 00000005 00'));
    expect(() => query('SELECT 1\0')).toThrow(/NUL/);
  });

  describe('extended query messages', () => {
    it('encodes Parse with a name and parameter types', () => {
      expect(parse('SELECT $1')).toEqual(bytes('50 00000011 00', "'SELECT $1'", '00 0000'));
      expect(parse('SELECT $1', { statement: 's1', parameterTypeIds: [23, 4294967295] })).toEqual(
        bytes('50 0000001b', "'s1'", '00', "'SELECT $1'", '00 0002 00000017 ffffffff'),
      );
      expect(() => parse('x\0')).toThrow(/NUL/);
      expect(() => parse('x', { statement: 'a\0' })).toThrow(/NUL/);
      expect(() => parse('x', { parameterTypeIds: new Array<number>(65536).fill(0) })).toThrow(RangeError);
    });

    it('encodes Bind: text by default, binary for Uint8Arrays, NULL as -1', () => {
      expect(bind(['1', null, 'é'])).toEqual(bytes('42 0000001b 00 00 0000 0003 00000001 31 ffffffff 00000002 c3a9 0000'));
      expect(bind([Buffer.from([1, 2]), 'a'], { portal: 'p', statement: 's', resultFormats: [1] })).toEqual(
        bytes('42 0000001f', "'p'", '00', "'s'", '00 0002 0001 0000 0002 00000002 0102 00000001 61 0001 0001'),
      );
      expect(bind([Buffer.from('text')], { parameterFormats: [0] })).toEqual(
        bytes('42 00000016 00 00 0001 0000 0001 00000004', "'text'", '0000'),
      );
      expect(bind([])).toEqual(bytes('42 0000000c 00 00 0000 0000 0000'));
    });

    it('rejects more than 65535 parameters and mismatched formats', () => {
      expect(bind(new Array<string>(65535).fill('1')).readUInt16BE(9)).toBe(65535);
      expect(() => bind(new Array<string>(65536).fill('1'))).toThrow(/65536 parameters are more than the protocol allows/);
      expect(() => bind(['1'], { parameterFormats: [] })).toThrow(RangeError);
      expect(() => bind([], { portal: '\0' })).toThrow(/NUL/);
    });

    it('encodes Describe, Execute, Close, Sync and Flush', () => {
      expect(describeMessage('portal')).toEqual(bytes('44 00000006 50 00'));
      expect(describeMessage('statement', 's1')).toEqual(bytes('44 00000008 53', "'s1'", '00'));
      expect(execute()).toEqual(bytes('45 00000009 00 00000000'));
      expect(execute('p', 100)).toEqual(bytes('45 0000000a', "'p'", '00 00000064'));
      expect(execute('', 2147483647)).toEqual(bytes('45 00000009 00 7fffffff'));
      expect(() => execute('', 2 ** 31)).toThrow(RangeError);
      expect(() => execute('', -1)).toThrow(RangeError);
      expect(close('statement', 's1')).toEqual(bytes('43 00000008 53', "'s1'", '00'));
      expect(close('portal')).toEqual(bytes('43 00000006 50 00'));
      expect(() => close('portal', 'a\0')).toThrow(/NUL/);
      expect(sync()).toEqual(bytes('53 00000004'));
      expect(flush()).toEqual(bytes('48 00000004'));
    });
  });

  it('encodes the COPY messages and Terminate', () => {
    const data = Buffer.from('1\tone\n');
    const message = copyData(data);
    expect(message).toEqual(bytes('64 0000000a', "'1\tone\n'"));
    data.fill(0);
    expect(message.subarray(5).toString()).toBe('1\tone\n');
    expect(copyData(Buffer.alloc(0))).toEqual(bytes('64 00000004'));
    expect(copyDone()).toEqual(bytes('63 00000004'));
    expect(copyFail('stopped')).toEqual(bytes('66 0000000c', "'stopped'", '00'));
    expect(() => copyFail('a\0')).toThrow(/NUL/);
    expect(terminate()).toEqual(bytes('58 00000004'));
  });
});
