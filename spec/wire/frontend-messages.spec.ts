import {
  bind,
  cancelRequest,
  close,
  copyData,
  copyDataHeader,
  copyDone,
  copyFail,
  describe as describeMessage,
  encodeStartupOptions,
  execute,
  flush,
  gssEncRequest,
  gssResponse,
  maxFrontendMessageLength,
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
import { BindTemplate, checkParameterCount } from '../../lib/wire/frontend-messages';

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

    it('a BindTemplate encodes the same bytes as bind, with the suffix in the same buffer', () => {
      const long = 'x'.repeat(40);
      const parameterSets: (string | Uint8Array | null)[][] = [
        [],
        ['1', null, 'é'],
        ['42'],
        [Buffer.from([1, 2]), 'a', null],
        [long, `${long}é`, '😀', '\ud800', ''],
        [new Uint8Array(0), null],
      ];
      const suffix = Buffer.concat([execute(), sync()]);
      for (const resultFormats of [[], [1], [0, 1, 1]] as (0 | 1)[][]) {
        const template = new BindTemplate({ statement: 'rxpg_1', resultFormats });
        const portalTemplate = new BindTemplate({ portal: 'p', statement: 's' });
        for (const parameters of parameterSets) {
          const expected = bind(parameters, { statement: 'rxpg_1', resultFormats });
          expect(template.encode(parameters)).toEqual(expected);
          expect(template.encode(parameters, suffix)).toEqual(Buffer.concat([expected, suffix]));
          expect(portalTemplate.encode(parameters)).toEqual(bind(parameters, { portal: 'p', statement: 's' }));
        }
      }
      expect(() => new BindTemplate({ statement: 'a\0' })).toThrow(/NUL/);
      expect(() => new BindTemplate().encode(new Array<string>(65536).fill('1'))).toThrow(
        /65536 parameters are more than the protocol allows \(65535\)/,
      );
    });

    it('checkParameterCount is the one check of the 65535-parameter limit', () => {
      expect(() => checkParameterCount(65535)).not.toThrow();
      expect(() => checkParameterCount(65536)).toThrow(new RangeError('65536 parameters are more than the protocol allows (65535)'));
      expect(() => checkParameterCount(70000, 'parameter types')).toThrow(/70000 parameter types/);
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

// Issue 10 item 6: the server closes the connection on a message over PQ_LARGE_MESSAGE_LIMIT
// (a length field over 0x3ffffffe: more than 1 GiB - 1 bytes with the type byte). The
// encoders refuse it before allocating anything.
describe('the 1 GiB message limit', () => {
  const limit = 'the server accepts at most 1073741823 \\(1 GiB - 1\\)';

  it("is the server's PQ_LARGE_MESSAGE_LIMIT, checked exactly at its edge", () => {
    expect(maxFrontendMessageLength).toBe(0x3ffffffe);
    // A CopyData header costs nothing to build, whatever length it announces.
    expect(copyDataHeader(0x3ffffffe - 4)).toEqual(bytes('64 3ffffffe'));
    expect(() => copyDataHeader(0x3ffffffe - 3)).toThrow(new RegExp(`^the CopyData message would be 1073741824 bytes; ${limit}`));
  });

  it('refuses a Bind of three 360 MB strings without measuring them, and names no value', () => {
    // Built by doubling, these strings are ropes: measuring them would copy 1 GB.
    const value = 'x'.repeat(360_000_000);
    const heapBefore = process.memoryUsage().heapUsed;
    let error: unknown;
    try {
      bind([value, value, value]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(new RegExp(`^the Bind message would be at least 1080000\\d\\d\\d bytes; ${limit}`));
    expect((error as Error).message).not.toMatch(/xxx/);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(100 * 1024 * 1024);
  });

  it('refuses a Bind whose strings are over the limit only in UTF-8, with its exact size', () => {
    // 270 million two-byte characters, twice: 540 million code units but 1,080,000,000 bytes.
    const value = '\u00e9'.repeat(270_000_000);
    expect(() => bind([value, value])).toThrow(new RegExp(`^the Bind message would be 1080000021 bytes; ${limit}`));
    expect(() => new BindTemplate().encode([value, value])).toThrow(new RegExp(`^the Bind message would be 1080000021 bytes; ${limit}`));
  });

  it('refuses a Bind, CopyData, GSSResponse or SASL message of large byte arrays', () => {
    // Never written, so never backed by memory.
    const large = new Uint8Array(600_000_000);
    expect(() => bind([large, large])).toThrow(new RegExp(`^the Bind message would be 1200000025 bytes; ${limit}`));
    expect(() => bind([large, large], { parameterFormats: [0, 0] })).toThrow(/^the Bind message would be 1200000025 bytes/);
    expect(() => new BindTemplate().encode([large, large])).toThrow(/^the Bind message would be 1200000025 bytes/);
    const huge = new Uint8Array(0x40000000);
    expect(() => copyData(huge)).toThrow(new RegExp(`^the CopyData message would be 1073741829 bytes; ${limit}`));
    expect(() => gssResponse(huge)).toThrow(/^the GSSResponse message would be 1073741829 bytes/);
    expect(() => saslResponse(huge)).toThrow(/^the SASLResponse message would be 1073741829 bytes/);
    expect(() => saslInitialResponse('SCRAM-SHA-256', huge)).toThrow(/^the SASLInitialResponse message would be 1073741847 bytes/);
  });

  it('refuses Query, Parse and CopyFail text over the limit', () => {
    // 358 million characters of three bytes each: 1,074,000,000 bytes of UTF-8.
    const text = '\u0939'.repeat(358_000_000);
    expect(() => query(text)).toThrow(new RegExp(`^the Query message would be 1074000006 bytes; ${limit}`));
    expect(() => parse(text)).toThrow(/^the Parse message would be 1074000009 bytes/);
    expect(() => copyFail(text)).toThrow(/^the CopyFail message would be 1074000006 bytes/);
  });
});
