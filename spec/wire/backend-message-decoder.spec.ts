import fc from 'fast-check';
import { Parser } from 'pg-protocol/dist/parser';
import { ProtocolError } from '../../lib/errors';
import {
  BackendMessageDecoder,
  dataRowLength,
  dataRowText,
  dataRowTexts,
  isAsynchronousMessage,
  isAuthenticationMessage,
  type BackendMessage,
  type BackendMessageDecoderOptions,
  type DataRow,
} from '../../lib/wire';
import * as b from '../helpers/backend-messages';

/** A DataRow as its values read as text, which specs can compare whatever buffer it arrived in. */
interface TextRow {
  readonly name: 'DataRow';
  readonly fields: (string | null)[];
}

/** A decoded message in a comparable form: DataRows as their text values. */
type Decoded = Exclude<BackendMessage, DataRow> | TextRow;

/** The message in a comparable form (see {@link Decoded}). */
function readable(message: BackendMessage): Decoded {
  return message.name === 'DataRow' ? { name: 'DataRow', fields: dataRowTexts(message) } : message;
}

interface Outcome {
  readonly messages: Decoded[];
  readonly error?: unknown;
}

/** Feeds the chunks to a new decoder; stops at the first error. */
function decodeChunks(chunks: readonly Buffer[], options?: BackendMessageDecoderOptions): Outcome {
  const decoder = new BackendMessageDecoder(options);
  const messages: Decoded[] = [];
  const emit = (message: BackendMessage): void => {
    messages.push(readable(message));
  };
  try {
    for (const chunk of chunks) decoder.decode(chunk, emit);
  } catch (error) {
    return { messages, error };
  }
  return { messages };
}

/** Splits `bytes` at the given offsets (sorted, deduplicated). */
function splitAt(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const cuts = [...new Set(offsets)].filter((at) => at > 0 && at < bytes.length).sort((x, y) => x - y);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const at of cuts) {
    chunks.push(bytes.subarray(from, at));
    from = at;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

/** Copies `bytes` into chunks of its own (so a spec can overwrite them), `size` bytes each. */
function chunksOf(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(Buffer.from(bytes.subarray(at, at + size)));
  return chunks;
}

const salt = Buffer.from([0x01, 0xfe, 0x00, 0x7f]);

/** One message of every type, as bytes and as the value it must decode to. */
const everyMessage: readonly (readonly [Buffer, Decoded])[] = [
  [
    b.negotiateProtocolVersion(0, ['_pq_.something']),
    { name: 'NegotiateProtocolVersion', newestMinorVersion: 0, unrecognizedOptions: ['_pq_.something'] },
  ],
  [b.authenticationOk(), { name: 'AuthenticationOk' }],
  [b.authenticationCode(2), { name: 'AuthenticationKerberosV5' }],
  [b.authenticationCode(3), { name: 'AuthenticationCleartextPassword' }],
  [b.authenticationMD5Password(salt), { name: 'AuthenticationMD5Password', salt }],
  [b.authenticationCode(6), { name: 'AuthenticationSCMCredential' }],
  [b.authenticationCode(7), { name: 'AuthenticationGSS' }],
  [b.authenticationCode(8, Buffer.from([0x67, 0, 0xff])), { name: 'AuthenticationGSSContinue', data: Buffer.from([0x67, 0, 0xff]) }],
  [b.authenticationCode(9), { name: 'AuthenticationSSPI' }],
  [
    b.authenticationSASL(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']),
    { name: 'AuthenticationSASL', mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'] },
  ],
  [b.authenticationSASLContinue('r=abc,s=c2FsdA==,i=4096'), { name: 'AuthenticationSASLContinue', data: 'r=abc,s=c2FsdA==,i=4096' }],
  [b.authenticationSASLFinal('v=c2lnbmF0dXJl'), { name: 'AuthenticationSASLFinal', data: 'v=c2lnbmF0dXJl' }],
  [b.parameterStatus('server_version', '16.4'), { name: 'ParameterStatus', parameterName: 'server_version', parameterValue: '16.4' }],
  [b.parameterStatus('application_name', ''), { name: 'ParameterStatus', parameterName: 'application_name', parameterValue: '' }],
  [b.backendKeyData(-2147483648, 2147483647), { name: 'BackendKeyData', processId: -2147483648, secretKey: 2147483647 }],
  [b.readyForQuery('I'), { name: 'ReadyForQuery', transactionStatus: 'I' }],
  [b.parseComplete(), { name: 'ParseComplete' }],
  [b.parameterDescription([23, 25, 4294967295]), { name: 'ParameterDescription', dataTypeIds: [23, 25, 4294967295] }],
  [b.bindComplete(), { name: 'BindComplete' }],
  [
    b.rowDescription([
      'a',
      { name: 'é b', tableId: 4000000000, columnId: 3, dataTypeId: 1043, dataTypeSize: -1, dataTypeModifier: 14, format: 0 },
    ]),
    {
      name: 'RowDescription',
      fields: [
        { name: 'a', tableId: 0, columnId: 0, dataTypeId: 25, dataTypeSize: -1, dataTypeModifier: -1, format: 0 },
        { name: 'é b', tableId: 4000000000, columnId: 3, dataTypeId: 1043, dataTypeSize: -1, dataTypeModifier: 14, format: 0 },
      ],
    },
  ],
  [b.dataRow(['1', null, '', 'snow ☃ and \0 NUL']), { name: 'DataRow', fields: ['1', null, '', 'snow ☃ and \0 NUL'] }],
  [b.dataRow([]), { name: 'DataRow', fields: [] }],
  [
    b.noticeResponse({ S: 'WARNING', V: 'WARNING', C: '01000', M: 'careful' }),
    { name: 'NoticeResponse', fields: { severity: 'WARNING', severityNonLocalized: 'WARNING', code: '01000', message: 'careful' } },
  ],
  [b.notificationResponse(77, 'jobs', '{"id":1}'), { name: 'NotificationResponse', processId: 77, channel: 'jobs', payload: '{"id":1}' }],
  [b.notificationResponse(-1, 'kanäle ☃', ''), { name: 'NotificationResponse', processId: -1, channel: 'kanäle ☃', payload: '' }],
  [b.notificationResponse(8, 'q', 'snow ☃ 𝄞'), { name: 'NotificationResponse', processId: 8, channel: 'q', payload: 'snow ☃ 𝄞' }],
  [b.commandComplete('SELECT 1'), { name: 'CommandComplete', tag: 'SELECT 1' }],
  [b.commandComplete('INSERT 0 12'), { name: 'CommandComplete', tag: 'INSERT 0 12' }],
  [b.readyForQuery('T'), { name: 'ReadyForQuery', transactionStatus: 'T' }],
  [b.readyForQuery('E'), { name: 'ReadyForQuery', transactionStatus: 'E' }],
  [b.noData(), { name: 'NoData' }],
  [b.emptyQueryResponse(), { name: 'EmptyQueryResponse' }],
  [b.portalSuspended(), { name: 'PortalSuspended' }],
  [b.closeComplete(), { name: 'CloseComplete' }],
  [b.copyInResponse([0, 0]), { name: 'CopyInResponse', binary: false, columnFormats: [0, 0] }],
  [b.copyOutResponse([1], 1), { name: 'CopyOutResponse', binary: true, columnFormats: [1] }],
  [b.copyBothResponse([], 0), { name: 'CopyBothResponse', binary: false, columnFormats: [] }],
  [b.copyData('1\tone\n'), { name: 'CopyData', chunk: Buffer.from('1\tone\n') }],
  [b.copyData(Buffer.alloc(0)), { name: 'CopyData', chunk: Buffer.alloc(0) }],
  [b.copyDone(), { name: 'CopyDone' }],
  [b.functionCallResponse(Buffer.from([1, 2, 3])), { name: 'FunctionCallResponse', result: Buffer.from([1, 2, 3]) }],
  [b.functionCallResponse(null), { name: 'FunctionCallResponse', result: null }],
  [
    // Every field code is kept, V included; the unknown code X is ignored.
    b.errorResponse({
      S: 'ERREUR',
      V: 'ERROR',
      C: '42601',
      M: 'syntax error',
      P: '8',
      F: 'scan.l',
      L: '1188',
      R: 'scanner_yyerror',
      X: 'unknown',
    }),
    {
      name: 'ErrorResponse',
      fields: {
        severity: 'ERREUR',
        severityNonLocalized: 'ERROR',
        code: '42601',
        message: 'syntax error',
        position: 8,
        file: 'scan.l',
        line: '1188',
        routine: 'scanner_yyerror',
      },
    },
  ],
  [b.readyForQuery('T'), { name: 'ReadyForQuery', transactionStatus: 'T' }],
  [b.readyForQuery('E'), { name: 'ReadyForQuery', transactionStatus: 'E' }],
];

const allBytes = Buffer.concat(everyMessage.map(([bytes]) => bytes));
const allMessages = everyMessage.map(([, message]) => message);

describe('BackendMessageDecoder', () => {
  it('decodes a stream of every message type to the union values', () => {
    const outcome = decodeChunks([allBytes]);
    expect(outcome.error).toBeUndefined();
    expect(outcome.messages).toEqual(allMessages);
  });

  it('decodes the same messages when the bytes are split at any single byte boundary', () => {
    for (let at = 1; at < allBytes.length; at++) {
      const outcome = decodeChunks(splitAt(allBytes, [at]));
      expect(outcome.error).toBeUndefined();
      expect(outcome.messages).toEqual(allMessages);
    }
  });

  it('decodes the same messages from 1-byte chunks', () => {
    const decoder = new BackendMessageDecoder();
    const messages: Decoded[] = [];
    for (const chunk of chunksOf(allBytes, 1)) {
      decoder.decode(chunk, (message) => messages.push(readable(message)));
      expect(decoder.bufferedBytes).toBeLessThan(allBytes.length);
    }
    expect(messages).toEqual(allMessages);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('decodes random sequences of messages identically however they are split (property)', () => {
    const sample = fc.constantFrom(...everyMessage);
    const text = fc.string({ unit: 'grapheme', maxLength: 12 });
    const generated = fc.oneof(
      sample,
      fc.array(fc.option(text, { nil: null }), { maxLength: 6 }).map((fields) => [b.dataRow(fields), { name: 'DataRow', fields }] as const),
      fc.uint8Array({ maxLength: 300 }).map((bytes) => [b.copyData(bytes), { name: 'CopyData', chunk: Buffer.from(bytes) }] as const),
      fc
        .tuple(text, text)
        .map(
          ([name, value]) =>
            [
              b.parameterStatus(name.replace(/\0/g, ''), value.replace(/\0/g, '')),
              { name: 'ParameterStatus', parameterName: name.replace(/\0/g, ''), parameterValue: value.replace(/\0/g, '') },
            ] as const,
        ),
    );
    fc.assert(
      fc.property(fc.array(generated, { minLength: 1, maxLength: 25 }), fc.array(fc.nat(), { maxLength: 12 }), (pairs, cuts) => {
        const bytes = Buffer.concat(pairs.map(([message]) => message));
        const outcome = decodeChunks(
          splitAt(
            bytes,
            cuts.map((cut) => cut % (bytes.length + 1)),
          ),
        );
        expect(outcome.error).toBeUndefined();
        expect(outcome.messages).toEqual(pairs.map(([, message]) => message));
      }),
    );
  });

  it("decodes every message itself, never through pg-protocol's Parser", () => {
    const parse = jest.spyOn(Parser.prototype, 'parse');
    try {
      const rows = Array.from({ length: 100 }, (_, i) => b.dataRow([String(i), i % 2 === 0 ? 'x' : null]));
      const bytes = Buffer.concat([b.rowDescription(['n', 'x']), ...rows, b.commandComplete('SELECT 100'), b.readyForQuery('I')]);
      const outcome = decodeChunks([bytes, allBytes]);
      expect(outcome.error).toBeUndefined();
      expect(outcome.messages).toHaveLength(103 + allMessages.length);
      expect(outcome.messages[2]).toEqual({ name: 'DataRow', fields: ['1', null] });
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });

  describe('DataRow values are byte ranges of the buffer they arrived in', () => {
    it('says where the row lies in the chunk, without copying it', () => {
      const chunk = Buffer.concat([b.commandComplete('SELECT 0'), b.dataRow(['ab', null, '', 'é'])]);
      const rows: DataRow[] = [];
      new BackendMessageDecoder().decode(chunk, (message) => {
        if (message.name === 'DataRow') rows.push(message);
      });
      const row = rows[0]!;
      expect(row.bytes).toBe(chunk);
      // After the CommandComplete (14 bytes) and the DataRow's header (5 bytes), to the end.
      expect([row.start, row.end]).toEqual([19, chunk.length]);
      expect(dataRowLength(row)).toBe(4);
      expect([0, 1, 2, 3, 4, -1, 1.5].map((i) => dataRowText(row, i))).toEqual(['ab', null, '', 'é', undefined, undefined, undefined]);
      expect(dataRowTexts(row)).toEqual(['ab', null, '', 'é']);
    });

    it('points into the assembled message when the row was split across chunks', () => {
      const row = b.dataRow(['split value', null]);
      const rows: DataRow[] = [];
      const decoder = new BackendMessageDecoder();
      for (const chunk of chunksOf(row, 4)) {
        decoder.decode(chunk, (message) => {
          if (message.name === 'DataRow') rows.push(message);
        });
      }
      expect(rows[0]!.bytes.equals(row)).toBe(true);
      expect(dataRowTexts(rows[0]!)).toEqual(['split value', null]);
    });
  });

  describe('counts are unsigned 16-bit integers (issue 10 item 2)', () => {
    const u16 = (value: number): Buffer => {
      const bytes = Buffer.alloc(2);
      bytes.writeUInt16BE(value);
      return bytes;
    };
    const field = (i: number): Buffer =>
      Buffer.concat([b.cstring(`c${i}`), b.int32(0), b.int16(0), b.int32(23), b.int16(4), b.int32(-1), b.int16(0)]);

    const cases: readonly (readonly [string, number, (count: number) => Buffer, (count: number) => Decoded])[] = [
      [
        'ParameterDescription',
        65535,
        (count) => b.frame('t', Buffer.concat([u16(count), ...Array.from({ length: count }, (_, i) => b.int32(i))])),
        (count) => ({ name: 'ParameterDescription', dataTypeIds: Array.from({ length: count }, (_, i) => i) }),
      ],
      [
        'RowDescription',
        32768,
        (count) => b.frame('T', Buffer.concat([u16(count), ...Array.from({ length: count }, (_, i) => field(i))])),
        (count) => ({
          name: 'RowDescription',
          fields: Array.from({ length: count }, (_, i) => ({
            name: `c${i}`,
            tableId: 0,
            columnId: 0,
            dataTypeId: 23,
            dataTypeSize: 4,
            dataTypeModifier: -1,
            format: 0 as const,
          })),
        }),
      ],
      [
        'DataRow',
        65535,
        (count) =>
          b.frame(
            'D',
            Buffer.concat([
              u16(count),
              ...Array.from({ length: count }, (_, i) => (i % 2 === 0 ? b.int32(-1) : Buffer.concat([b.int32(1), Buffer.from('x')]))),
            ]),
          ),
        (count) => ({ name: 'DataRow', fields: Array.from({ length: count }, (_, i) => (i % 2 === 0 ? null : 'x')) }),
      ],
      ...(['G', 'H', 'W'] as const).map(
        (type) =>
          [
            `${{ G: 'CopyInResponse', H: 'CopyOutResponse', W: 'CopyBothResponse' }[type]}`,
            65535,
            (count: number) =>
              b.frame(type, Buffer.concat([Buffer.from([1]), u16(count), ...Array.from({ length: count }, () => b.int16(1))])),
            (count: number) =>
              ({
                name: { G: 'CopyInResponse', H: 'CopyOutResponse', W: 'CopyBothResponse' }[type],
                binary: true,
                columnFormats: new Array(count).fill(1),
              }) as Decoded,
          ] as const,
      ),
    ];

    it.each(cases)('decodes a %s with a count of %d, whole and in 1000-byte chunks', (_, count, build, expected) => {
      const bytes = Buffer.concat([build(count), b.readyForQuery()]);
      for (const chunks of [[bytes], chunksOf(bytes, 1000)]) {
        const outcome = decodeChunks(chunks);
        expect(outcome.error).toBeUndefined();
        expect(outcome.messages).toEqual([expected(count), { name: 'ReadyForQuery', transactionStatus: 'I' }]);
      }
    });

    it('still rejects a count of 65535 with too few entries after it', () => {
      for (const type of ['t', 'T', 'D', 'G', 'H', 'W']) {
        const body = type === 't' || type === 'T' || type === 'D' ? u16(65535) : Buffer.concat([Buffer.from([0]), u16(65535)]);
        const outcome = decodeChunks([b.frame(type, Buffer.concat([body, b.int32(0)]))]);
        expect(outcome.error).toBeInstanceOf(ProtocolError);
        expect((outcome.error as Error).message).toMatch(/^malformed /);
      }
    });
  });

  describe('oversized messages', () => {
    it('fails as soon as the 5-byte header declares more than maxMessageSize, before the body arrives', () => {
      const decoder = new BackendMessageDecoder({ maxMessageSize: 100 });
      const header = b.frame('D', [], 101).subarray(0, 5);
      expect(() => decoder.decode(header, () => undefined)).toThrow(ProtocolError);
      // Also when the header itself arrives in pieces.
      const pieces = new BackendMessageDecoder({ maxMessageSize: 100 });
      pieces.decode(header.subarray(0, 3), () => undefined);
      expect(pieces.bufferedBytes).toBe(3);
      expect(() => pieces.decode(header.subarray(3), () => undefined)).toThrow(
        /declares a length of 101 bytes, more than maxMessageSize \(100\)/,
      );
    });

    it('accepts a message of exactly maxMessageSize', () => {
      const message = b.copyData(Buffer.alloc(96, 7));
      const outcome = decodeChunks(chunksOf(message, 7), { maxMessageSize: 100 });
      expect(outcome.error).toBeUndefined();
      expect(outcome.messages).toEqual([{ name: 'CopyData', chunk: Buffer.alloc(96, 7) }]);
    });

    // Seed T-F4 "R 40000004 ..., with no EOF → Message too long (message_length 1073741829)", and
    // T-F5 "D 40000004..." during a query: against the default 1 GiB limit.
    it.each(['R', 'D'])('rejects the seed %s 40000004 header against the default 1 GiB limit', (type) => {
      const header = Buffer.from(`${Buffer.from(type).toString('hex')}40000004000000`, 'hex');
      const outcome = decodeChunks([Buffer.concat([b.parseComplete(), header])]);
      expect(outcome.messages).toEqual([{ name: 'ParseComplete' }]);
      expect(outcome.error).toBeInstanceOf(ProtocolError);
      expect((outcome.error as ProtocolError).code).toBe('08P01');
      expect((outcome.error as Error).message).toMatch(/declares a length of 1073741828 bytes, more than maxMessageSize \(1073741824\)/);
    });

    it('rejects an invalid maxMessageSize with a RangeError', () => {
      for (const maxMessageSize of [3, 1.5, 2 ** 31, Number.NaN]) {
        expect(() => new BackendMessageDecoder({ maxMessageSize })).toThrow(RangeError);
      }
    });
  });

  // Issue 10 item 7: a declared length must not be an allocation.
  describe('the buffer of a message split across chunks', () => {
    const mib = 1024 * 1024;

    it('does not reserve the 1 GiB that a header declares, only room for what has arrived', () => {
      const decoder = new BackendMessageDecoder();
      const arrayBuffersBefore = process.memoryUsage().arrayBuffers;
      decoder.decode(Buffer.concat([b.frame('d', [], 0x3fffffff).subarray(0, 5), Buffer.alloc(100, 1)]), () => undefined);
      expect(decoder.bufferedBytes).toBe(105);
      expect(decoder.bufferCapacity).toBeLessThanOrEqual(64 * 1024);
      expect(process.memoryUsage().arrayBuffers - arrayBuffersBefore).toBeLessThan(16 * mib);
      // The same when the header itself arrives in pieces.
      const pieces = new BackendMessageDecoder();
      pieces.decode(Buffer.from([0x44, 0x3f]), () => undefined);
      pieces.decode(Buffer.from([0xff, 0xff, 0xff]), () => undefined);
      expect(pieces.bufferedBytes).toBe(5);
      expect(pieces.bufferCapacity).toBeLessThanOrEqual(64 * 1024);
    });

    it('grows by doubling at most: never more than twice what it holds, beyond a first 64 KiB', () => {
      const decoder = new BackendMessageDecoder();
      decoder.decode(b.frame('d', [], 0x3fffffff).subarray(0, 5), () => undefined);
      const chunk = Buffer.alloc(300 * 1024, 7);
      for (let i = 0; i < 40; i++) {
        decoder.decode(chunk.subarray(0, 1 + ((i * 7919) % chunk.length)), () => undefined);
        expect(decoder.bufferCapacity).toBeLessThanOrEqual(Math.max(64 * 1024, 2 * decoder.bufferedBytes));
        expect(decoder.bufferCapacity).toBeGreaterThanOrEqual(decoder.bufferedBytes - 5);
      }
    });

    it('assembles large messages from small chunks intact, and holds nothing after them', () => {
      const data = Buffer.alloc(3 * mib);
      for (let i = 0; i < data.length; i++) data[i] = (i * 31) % 251;
      const text = 'é☃'.repeat(100_000);
      const bytes = Buffer.concat([b.copyData(data), b.dataRow([text, null, 'x']), b.readyForQuery()]);
      for (const size of [1000, 65536, 1 + mib]) {
        const decoder = new BackendMessageDecoder();
        const messages: Decoded[] = [];
        for (const chunk of chunksOf(bytes, size)) decoder.decode(chunk, (message) => messages.push(readable(message)));
        // Compared by hand: jest's deep equality walks a 3 MB Buffer byte by byte, slowly.
        expect(messages.map((message) => message.name)).toEqual(['CopyData', 'DataRow', 'ReadyForQuery']);
        expect(messages[0]!.name === 'CopyData' && messages[0].chunk.equals(data)).toBe(true);
        expect(messages[1]!.name === 'DataRow' && messages[1].fields[0] === text).toBe(true);
        expect(messages[1]).toMatchObject({ fields: [expect.any(String), null, 'x'] });
        expect(decoder.bufferedBytes).toBe(0);
        expect(decoder.bufferCapacity).toBe(0);
      }
    });
  });

  describe('malformed frames', () => {
    // Seed T-F4 "R 00000003 → Nonsense message length in header".
    it.each([0, 1, 2, 3, 0xffffffff])('rejects a declared length of %d', (length) => {
      const outcome = decodeChunks([b.frame('R', [], length)]);
      expect(outcome.error).toBeInstanceOf(ProtocolError);
      expect(outcome.messages).toEqual([]);
    });

    // Seed T-F4 "x 00000004 → Unrecognised message type character x".
    it('rejects an unknown type byte and names it', () => {
      const outcome = decodeChunks([Buffer.concat([b.noData(), b.frame('x')])]);
      expect(outcome.messages).toEqual([{ name: 'NoData' }]);
      expect(outcome.error).toBeInstanceOf(ProtocolError);
      expect((outcome.error as Error).message).toBe("unknown backend message type 'x' (0x78)");
      expect((decodeChunks([b.frame(0x01)]).error as Error).message).toBe('unknown backend message type 0x01');
    });

    // Seed T-F5 "ParseComplete, BindComplete, T 00000006 0fff → Failed to parse RowDescription".
    it('rejects the seed RowDescription T 00000006 0fff, after the messages before it', () => {
      const bytes = Buffer.concat([b.parseComplete(), b.bindComplete(), Buffer.from('54000000060fff', 'hex'), b.readyForQuery()]);
      for (let at = 0; at < bytes.length; at++) {
        const outcome = decodeChunks(splitAt(bytes, [at]));
        expect(outcome.messages).toEqual([{ name: 'ParseComplete' }, { name: 'BindComplete' }]);
        expect(outcome.error).toBeInstanceOf(ProtocolError);
        expect((outcome.error as Error).message).toMatch(/^malformed RowDescription \('T' \(0x54\), 7 bytes\)/);
      }
    });

    // Seed T-F4 "R len8 code 0xFF → unrecognised type 255".
    it('rejects an unknown authentication code', () => {
      const outcome = decodeChunks([b.authenticationCode(255)]);
      expect(outcome.error).toBeInstanceOf(ProtocolError);
      expect((outcome.error as Error).message).toMatch(/unsupported authentication request code 255/);
    });

    const i16 = b.int16;
    const i32 = b.int32;
    const cs = b.cstring;
    const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts);
    const malformedBodies: readonly (readonly [string, Buffer])[] = [
      ['ParseComplete with a body', b.frame('1', [0])],
      ['CopyDone with a body', b.frame('c', [0])],
      ['ReadyForQuery with status X', b.frame('Z', Buffer.from('X'))],
      ['ReadyForQuery with no status', b.frame('Z')],
      ['BackendKeyData of 12 bytes (protocol 3.2 keys)', b.frame('K', cat(i32(1), i32(2), i32(3)))],
      ['CommandComplete without its NUL', b.frame('C', Buffer.from('SELECT 1'))],
      ['CommandComplete with bytes after its NUL', b.frame('C', cat(cs('SELECT 1'), Buffer.from('x')))],
      ['CommandComplete with a NUL inside its tag', b.frame('C', cat(cs('SELECT'), cs('1')))],
      ['ParameterStatus with one string', b.frame('S', cs('name'))],
      ['NotificationResponse without a payload', b.frame('A', cat(i32(1), cs('channel')))],
      ['ParameterDescription with a wrong count', b.frame('t', cat(i16(2), i32(23)))],
      ['ParameterDescription with a negative count', b.frame('t', i16(-1))],
      ['RowDescription with a bad format code', b.frame('T', cat(i16(1), cs('a'), i32(0), i16(0), i32(25), i16(-1), i32(-1), i16(2)))],
      ['RowDescription with trailing bytes', b.frame('T', cat(i16(0), Buffer.from([0])))],
      ['DataRow whose value runs past its end', b.frame('D', cat(i16(1), i32(10), Buffer.from('abc')))],
      ['DataRow with a value length of -2', b.frame('D', cat(i16(1), i32(-2)))],
      ['DataRow with fewer values than its count', b.frame('D', cat(i16(2), i32(1), Buffer.from('a')))],
      ['DataRow with trailing bytes', b.frame('D', cat(i16(0), Buffer.from([0])))],
      ['DataRow with a negative count', b.frame('D', i16(-1))],
      ['DataRow without a count', b.frame('D', [0])],
      ['MD5Password with a 3-byte salt', b.authenticationCode(5, Buffer.from([1, 2, 3]))],
      ['CleartextPassword with data', b.authenticationCode(3, Buffer.from([1]))],
      ['Authentication without a code', b.frame('R', [0, 0])],
      ['SASL without the empty terminator', b.authenticationCode(10, cs('SCRAM-SHA-256'))],
      ['SASL with bytes after the terminator', b.authenticationCode(10, cat(cs('SCRAM-SHA-256'), Buffer.from([0, 65])))],
      ['ErrorResponse without its terminator', b.frame('E', cat(Buffer.from('S'), cs('ERROR')))],
      ['NoticeResponse with a field running past its end', b.frame('N', Buffer.from('Mhello'))],
      ['CopyInResponse with a wrong column count', b.frame('G', cat(Buffer.from([0]), i16(2), i16(0)))],
      ['CopyOutResponse with format 2', b.frame('H', cat(Buffer.from([2]), i16(0)))],
      ['CopyBothResponse with a column format 5', b.frame('W', cat(Buffer.from([0]), i16(1), i16(5)))],
      ['FunctionCallResponse with a wrong length', b.frame('V', cat(i32(5), Buffer.from('abc')))],
      ['NegotiateProtocolVersion with a wrong count', b.frame('v', cat(i32(0), i32(2), cs('_pq_.a')))],
      ['NegotiateProtocolVersion too short', b.frame('v', i32(0))],
    ];

    it.each(malformedBodies)('rejects %s, whole or split at any byte', (_, bytes) => {
      const stream = Buffer.concat([b.bindComplete(), bytes, b.readyForQuery()]);
      for (let at = 0; at < stream.length; at++) {
        const outcome = decodeChunks(splitAt(stream, [at]));
        expect(outcome.messages).toEqual([{ name: 'BindComplete' }]);
        expect(outcome.error).toBeInstanceOf(ProtocolError);
        expect((outcome.error as Error).message).toMatch(/^malformed /);
      }
    });
  });

  describe('after an error', () => {
    it('throws the same ProtocolError on every later call', () => {
      const decoder = new BackendMessageDecoder();
      let first: unknown;
      try {
        decoder.decode(b.frame('x'), () => undefined);
      } catch (error) {
        first = error;
      }
      expect(first).toBeInstanceOf(ProtocolError);
      const emit = jest.fn();
      expect(() => decoder.decode(b.readyForQuery(), emit)).toThrow(first as Error);
      expect(() => decoder.decode(Buffer.alloc(0), emit)).toThrow(first as Error);
      expect(emit).not.toHaveBeenCalled();
      expect(decoder.bufferedBytes).toBe(0);
    });

    it('lets an exception from emit through unchanged and stops', () => {
      const decoder = new BackendMessageDecoder();
      const boom = new Error('consumer failed');
      const seen: string[] = [];
      const emit = (message: BackendMessage): void => {
        seen.push(message.name);
        if (message.name === 'BindComplete') throw boom;
      };
      const bytes = Buffer.concat([b.parseComplete(), b.bindComplete(), b.noData(), b.readyForQuery()]);
      expect(() => decoder.decode(bytes, emit)).toThrow(boom);
      expect(seen).toEqual(['ParseComplete', 'BindComplete']);
      let later: unknown;
      try {
        decoder.decode(b.readyForQuery(), emit);
      } catch (error) {
        later = error;
      }
      expect(later).toBeInstanceOf(Error);
      expect(later).not.toBeInstanceOf(ProtocolError);
      expect((later as Error).cause).toBe(boom);
    });
  });

  describe('internal failures', () => {
    it('turns an exception thrown while decoding a body into a ProtocolError with that cause', () => {
      const failure = new RangeError('The value of "offset" is out of range.');
      const toString = jest.spyOn(Buffer.prototype, 'utf8Slice').mockImplementation(() => {
        throw failure;
      });
      let outcome: Outcome;
      try {
        outcome = decodeChunks([b.parameterStatus('a', 'b')]);
      } finally {
        toString.mockRestore();
      }
      expect(outcome.error).toBeInstanceOf(ProtocolError);
      expect((outcome.error as Error).cause).toBe(failure);
      expect((outcome.error as Error).message).toMatch(/could not decode a backend message: The value of "offset"/);
    });
  });

  it('refuses to be called from inside emit', () => {
    const decoder = new BackendMessageDecoder();
    let inner: unknown;
    const outer = (): void =>
      decoder.decode(b.noData(), () => {
        try {
          decoder.decode(b.noData(), () => undefined);
        } catch (error) {
          inner = error;
          throw error;
        }
      });
    expect(outer).toThrow(/must not be called from inside emit/);
    expect(inner).toBeInstanceOf(Error);
  });

  describe('buffers handed out', () => {
    it('keeps CopyData chunks intact after the socket chunks are reused and more data arrives', () => {
      const decoder = new BackendMessageDecoder();
      const kept: Buffer[] = [];
      const emit = (message: BackendMessage): void => {
        if (message.name === 'CopyData') kept.push(message.chunk);
      };
      const first = b.copyData('first row\n');
      const second = b.copyData('second row, split across chunks\n');
      const third = b.copyData('third\n');
      // Chunk 1: all of `first` (read in place) and the start of `second`.
      const chunk1 = Buffer.from(Buffer.concat([first, second.subarray(0, 12)]));
      decoder.decode(chunk1, emit);
      expect(kept.map(String)).toEqual(['first row\n']);
      chunk1.fill(0xee); // the socket reuses its buffer
      const chunk2 = Buffer.from(Buffer.concat([second.subarray(12), third]));
      decoder.decode(chunk2, emit);
      chunk2.fill(0xdd);
      // Many more messages through the same decoder and Parser.
      for (let i = 0; i < 50; i++) {
        const chunk = Buffer.from(Buffer.concat([b.dataRow([String(i)]), b.copyData(`filler ${i}`)]));
        decoder.decode(chunk, () => undefined);
        chunk.fill(0xcc);
      }
      expect(kept.map(String)).toEqual(['first row\n', 'second row, split across chunks\n', 'third\n']);
    });

    it('copies the MD5 salt, GSSContinue data and FunctionCallResponse result out of the chunk', () => {
      const chunk = Buffer.from(
        Buffer.concat([
          b.authenticationMD5Password(salt),
          b.authenticationCode(8, Buffer.from('token')),
          b.functionCallResponse(Buffer.from('result')),
        ]),
      );
      const outcome = decodeChunks([chunk]);
      chunk.fill(0);
      expect(outcome.messages).toEqual([
        { name: 'AuthenticationMD5Password', salt },
        { name: 'AuthenticationGSSContinue', data: Buffer.from('token') },
        { name: 'FunctionCallResponse', result: Buffer.from('result') },
      ]);
    });

    it('reports the bytes of an incomplete message as bufferedBytes', () => {
      const decoder = new BackendMessageDecoder();
      const row = b.dataRow(['abc']);
      decoder.decode(row.subarray(0, 2), () => undefined);
      expect(decoder.bufferedBytes).toBe(2);
      decoder.decode(row.subarray(2, 9), () => undefined);
      expect(decoder.bufferedBytes).toBe(9);
      const emitted: Decoded[] = [];
      decoder.decode(Buffer.concat([row.subarray(9), b.readyForQuery().subarray(0, 1)]), (message) => emitted.push(readable(message)));
      expect(emitted).toEqual([{ name: 'DataRow', fields: ['abc'] }]);
      expect(decoder.bufferedBytes).toBe(1);
    });
  });

  describe('binary formats (never requested, but tolerated)', () => {
    it('decodes a binary RowDescription and DataRow without failing', () => {
      const outcome = decodeChunks([
        Buffer.concat([
          b.rowDescription([{ name: 'n', dataTypeId: 23, dataTypeSize: 4, format: 1 }]),
          b.dataRow([Buffer.from([0, 0, 0, 42])]),
        ]),
      ]);
      expect(outcome.error).toBeUndefined();
      expect(outcome.messages[0]).toMatchObject({ name: 'RowDescription', fields: [{ name: 'n', format: 1 }] });
      expect(outcome.messages[1]).toEqual({ name: 'DataRow', fields: ['\0\0\0*'] });
    });
  });
});

describe('CommandComplete', () => {
  it('reuses one frozen message while the tag repeats (a point query\'s "SELECT 1"), and makes a new one when it changes', () => {
    const { messages } = decodeChunks([
      Buffer.concat([
        b.commandComplete('SELECT 1'),
        b.commandComplete('SELECT 1'),
        b.commandComplete('SELECT 2'),
        b.commandComplete('SELECT 1'),
      ]),
    ]);
    expect(messages).toEqual(['SELECT 1', 'SELECT 1', 'SELECT 2', 'SELECT 1'].map((tag) => ({ name: 'CommandComplete', tag })));
    expect(messages[1]).toBe(messages[0]);
    expect(messages[2]).not.toBe(messages[1]);
    expect(Object.isFrozen(messages[0])).toBe(true);
  });

  it('keeps that message per decoder: two connections never share one', () => {
    const first = decodeChunks([b.commandComplete('SELECT 1')]).messages[0];
    const second = decodeChunks([b.commandComplete('SELECT 1')]).messages[0];
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
  });
});

describe('message guards', () => {
  it('tells authentication and asynchronous messages apart', () => {
    const messages = everyMessage.map(([, message]) => message).filter((message) => message.name !== 'DataRow') as BackendMessage[];
    expect(messages.filter(isAuthenticationMessage).map((message) => message.name)).toEqual([
      'AuthenticationOk',
      'AuthenticationKerberosV5',
      'AuthenticationCleartextPassword',
      'AuthenticationMD5Password',
      'AuthenticationSCMCredential',
      'AuthenticationGSS',
      'AuthenticationGSSContinue',
      'AuthenticationSSPI',
      'AuthenticationSASL',
      'AuthenticationSASLContinue',
      'AuthenticationSASLFinal',
    ]);
    expect(messages.filter(isAsynchronousMessage).map((message) => message.name)).toEqual([
      'ParameterStatus',
      'ParameterStatus',
      'NoticeResponse',
      'NotificationResponse',
      'NotificationResponse',
      'NotificationResponse',
    ]);
  });
});
