// Fuzzing the backend-message decoder (issue 10, "Test layers"): whatever a server or a
// middlebox sends — valid messages, unknown type bytes, lengths of 0 to 4 or of gigabytes,
// random bodies, valid messages with bytes overwritten — and however the stream is cut into
// chunks, the decoder
//   - emits the same messages and fails with the same error as for the stream in one chunk,
//   - fails only with a ProtocolError of its own checks (not an internal exception it wrapped),
//   - returns from every call (each call is synchronous, so a hang would stop this spec),
//   - never allocates a buffer larger than 64 KiB or twice what it has received.
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { ProtocolError } from '../../lib/errors';
import { BackendMessageDecoder, type BackendMessage, type BackendMessageDecoderOptions, type DataRow } from '../../lib/wire';
import * as b from '../helpers/backend-messages';

/** A DataRow as copies of its values' bytes: the same whatever buffer the row arrived in. */
interface RowValues {
  readonly name: 'DataRow';
  readonly values: (Buffer | null)[];
}

/** The message in a form two runs can be compared by. */
function comparable(message: BackendMessage): Exclude<BackendMessage, DataRow> | RowValues {
  if (message.name !== 'DataRow') return message;
  // The decoder has checked the layout: a count, then per value an int32 length and its bytes.
  const { bytes } = message;
  const values: (Buffer | null)[] = [];
  let at = message.start + 2;
  for (let i = 0; i < bytes.readUInt16BE(message.start); i++) {
    const length = bytes.readInt32BE(at);
    at += 4;
    values.push(length < 0 ? null : Buffer.from(bytes.subarray(at, at + length)));
    at += Math.max(length, 0);
  }
  expect(at).toBe(message.end);
  return { name: 'DataRow', values };
}

/** Everything that decoding a stream produced, in a form two runs can be compared by. */
interface Outcome {
  readonly messages: ReturnType<typeof comparable>[];
  /** The error's class and message, or undefined. */
  readonly error?: string;
  readonly bufferedBytes: number;
}

const firstFrameCapacity = 64 * 1024;

/**
 * Feeds the chunks to a new decoder, checking after each call that its buffer stays within
 * the bound and that it failed, if it did, with one of its own ProtocolErrors.
 */
function decodeChunks(chunks: readonly Buffer[], options: BackendMessageDecoderOptions): Outcome {
  const decoder = new BackendMessageDecoder(options);
  const messages: ReturnType<typeof comparable>[] = [];
  const emit = (message: BackendMessage): void => {
    messages.push(comparable(message));
  };
  for (const chunk of chunks) {
    try {
      decoder.decode(chunk, emit);
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolError);
      // A wrapped exception (a Buffer read out of range) has a cause: that is a bug of the
      // decoder's checks, not a verdict on the bytes.
      expect((error as Error).cause).toBeUndefined();
      expect((error as ProtocolError).code).toBe('08P01');
      return { messages, error: `${(error as Error).name}: ${(error as Error).message}`, bufferedBytes: decoder.bufferedBytes };
    }
    expect(decoder.bufferCapacity).toBeLessThanOrEqual(Math.max(firstFrameCapacity, 2 * decoder.bufferedBytes));
  }
  return { messages, bufferedBytes: decoder.bufferedBytes };
}

/** Expects two outcomes to be equal (jest's own deep equality is slow on 65,535-element arrays). */
function expectSameOutcome(actual: Outcome, expected: Outcome): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual).toEqual(expected);
}

/** Splits `bytes` at the given offsets (taken modulo its length, deduplicated, sorted). */
function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const offsets = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))]
    .filter((at) => at > 0 && at < bytes.length)
    .sort((x, y) => x - y);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const at of offsets) {
    // A copy of its own, as a socket's chunk is.
    chunks.push(Buffer.from(bytes.subarray(from, at)));
    from = at;
  }
  chunks.push(Buffer.from(bytes.subarray(from)));
  return chunks;
}

const text = fc.string({ unit: 'grapheme', maxLength: 10 });
const cleanText = text.map((value) => value.replace(/\0/g, ''));
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const uint32 = fc.integer({ min: 0, max: 0xffffffff });
const format = fc.constantFrom(0, 1);
const bytesOf = (maxLength: number) => fc.uint8Array({ maxLength });

/** Valid messages of every type, built from the PostgreSQL docs by the spec helpers. */
const validFrame: fc.Arbitrary<Buffer> = fc.oneof(
  fc.array(fc.option(text, { nil: null }), { maxLength: 5 }).map((fields) => b.dataRow(fields)),
  fc
    .array(
      fc.record({
        name: cleanText,
        tableId: uint32,
        columnId: fc.integer({ min: -32768, max: 32767 }),
        dataTypeId: uint32,
        dataTypeSize: fc.integer({ min: -32768, max: 32767 }),
        dataTypeModifier: int32,
        format,
      }),
      { maxLength: 4 },
    )
    .map((columns) => b.rowDescription(columns)),
  fc.array(uint32, { maxLength: 6 }).map((ids) => b.parameterDescription(ids)),
  bytesOf(40).map((data) => b.copyData(data)),
  cleanText.map((tag) => b.commandComplete(tag)),
  fc.constantFrom('I', 'T', 'E').map((status) => b.readyForQuery(status)),
  fc
    .dictionary(fc.constantFrom('S', 'V', 'C', 'M', 'D', 'H', 'P', 'W', 'F', 'L', 'R', 'X'), cleanText)
    .map((fields) => b.errorResponse(fields)),
  fc.dictionary(fc.constantFrom('S', 'C', 'M'), cleanText).map((fields) => b.noticeResponse(fields)),
  fc.tuple(int32, cleanText, cleanText).map(([pid, channel, payload]) => b.notificationResponse(pid, channel, payload)),
  fc.tuple(cleanText, cleanText).map(([name, value]) => b.parameterStatus(name, value)),
  fc.tuple(int32, int32).map(([pid, key]) => b.backendKeyData(pid, key)),
  fc.constantFrom(0, 2, 3, 6, 7, 9).map((code) => b.authenticationCode(code)),
  bytesOf(4)
    .filter((salt) => salt.length === 4)
    .map((salt) => b.authenticationMD5Password(salt)),
  bytesOf(12).map((data) => b.authenticationCode(8, data)),
  fc
    .array(
      cleanText.filter((name) => name !== ''),
      { maxLength: 3 },
    )
    .map((names) => b.authenticationSASL(names)),
  cleanText.map((data) => b.authenticationSASLContinue(data)),
  cleanText.map((data) => b.authenticationSASLFinal(data)),
  fc.constantFrom(
    b.parseComplete(),
    b.bindComplete(),
    b.closeComplete(),
    b.noData(),
    b.emptyQueryResponse(),
    b.portalSuspended(),
    b.copyDone(),
  ),
  fc.tuple(fc.array(format, { maxLength: 5 }), format).map(([formats, overall]) => b.copyInResponse(formats, overall)),
  fc.tuple(fc.array(format, { maxLength: 5 }), format).map(([formats, overall]) => b.copyOutResponse(formats, overall)),
  fc.tuple(fc.array(format, { maxLength: 5 }), format).map(([formats, overall]) => b.copyBothResponse(formats, overall)),
  fc.option(bytesOf(12), { nil: null }).map((result) => b.functionCallResponse(result)),
  fc.tuple(int32, fc.array(cleanText, { maxLength: 3 })).map(([minor, options]) => b.negotiateProtocolVersion(minor, options)),
);

// Every type byte the protocol defines for the backend, and some it does not.
const knownTypeBytes = 'R K 2 3 C d c G H W D I E V v n N A t S 1 s Z T'.split(' ').map((type) => type.charCodeAt(0));
const typeByte = fc.oneof(fc.constantFrom(...knownTypeBytes), fc.integer({ min: 0, max: 255 }));

/** A frame with any type byte and body, and a length that is right, off by a little, tiny or huge. */
const randomFrame: fc.Arbitrary<Buffer> = fc
  .tuple(
    typeByte,
    bytesOf(48),
    fc.oneof(
      { weight: 4, arbitrary: fc.constant('right' as const) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }) },
      { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }).map((delta) => ({ delta })) },
      { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0xffffffff }) },
    ),
  )
  .map(([type, body, length]) => {
    const declared =
      length === 'right' ? body.length + 4 : typeof length === 'number' ? length : Math.max(0, body.length + 4 + length.delta);
    return b.frame(type, body, declared);
  });

/** A valid message with some of its bytes (header included) overwritten. */
const mutatedFrame: fc.Arbitrary<Buffer> = fc
  .tuple(validFrame, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }))
  .map(([frame, edits]) => {
    const copy = Buffer.from(frame);
    for (const [at, value] of edits) copy[at % copy.length] = value;
    return copy;
  });

/** A valid message with the two bytes of its first count (or any 16-bit field) set high. */
const highCountFrame: fc.Arbitrary<Buffer> = fc
  .tuple(validFrame, fc.nat(), fc.integer({ min: 0x7fff, max: 0xffff }))
  .filter(([frame]) => frame.length >= 7)
  .map(([frame, at, value]) => {
    const copy = Buffer.from(frame);
    copy.writeUInt16BE(value, 5 + (at % (copy.length - 6)));
    return copy;
  });

/** A big-endian uint16. */
function uint16(value: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(value);
  return bytes;
}

/** Valid messages whose counts use all 16 bits (up to 65,535 parameters, values or columns). */
const highCountValidFrame: fc.Arbitrary<Buffer> = fc
  .tuple(fc.integer({ min: 0x7ff0, max: 0xffff }), fc.constantFrom('t', 'D', 'G', 'H', 'W', 'T'))
  .map(([count, type]) => {
    switch (type) {
      case 't':
        return b.frame(type, Buffer.concat([uint16(count), Buffer.alloc(4 * count, 0x17)]));
      case 'D':
        return b.frame(type, Buffer.concat([uint16(count), Buffer.alloc(4 * count, 0xff)]));
      case 'T': {
        const field = b.rowDescription(['c']).subarray(7);
        const body = Buffer.alloc(2 + count * field.length);
        body.writeUInt16BE(count);
        for (let i = 0; i < count; i++) field.copy(body, 2 + i * field.length);
        return b.frame(type, body);
      }
      default:
        return b.frame(type, Buffer.concat([Buffer.from([0]), uint16(count), Buffer.alloc(2 * count, 0)]));
    }
  });

const anyFrame = fc.oneof(
  { weight: 3, arbitrary: validFrame },
  { weight: 2, arbitrary: randomFrame },
  { weight: 2, arbitrary: mutatedFrame },
  { weight: 1, arbitrary: highCountFrame },
);

const decoderOptions: fc.Arbitrary<BackendMessageDecoderOptions> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.integer({ min: 4, max: 120 }).map((maxMessageSize) => ({ maxMessageSize })) },
  { weight: 1, arbitrary: fc.constant({ maxMessageSize: 0x7fffffff }) },
);

const cuts = fc.array(fc.nat(), { maxLength: 16 });

describe('BackendMessageDecoder under fuzzing', () => {
  it('decodes valid streams identically however they are cut, and holds nothing after them', () => {
    fc.assert(
      fc.property(fc.array(validFrame, { minLength: 1, maxLength: 20 }), cuts, (frames, at) => {
        const bytes = Buffer.concat(frames);
        const whole = decodeChunks([bytes], {});
        expect(whole.error).toBeUndefined();
        expect(whole.messages).toHaveLength(frames.length);
        expect(whole.bufferedBytes).toBe(0);
        expectSameOutcome(decodeChunks(splitAt(bytes, at), {}), whole);
        expectSameOutcome(
          decodeChunks(
            splitAt(
              bytes,
              Array.from({ length: bytes.length }, (_, i) => i),
            ),
            {},
          ),
          whole,
        );
      }),
      { numRuns: 200 },
    );
  });

  it('accepts every count up to 65,535, however the message is cut', () => {
    fc.assert(
      fc.property(highCountValidFrame, cuts, (frame, at) => {
        const bytes = Buffer.concat([frame, b.readyForQuery()]);
        const whole = decodeChunks([bytes], {});
        expect(whole.error).toBeUndefined();
        expect(whole.messages).toHaveLength(2);
        expectSameOutcome(decodeChunks(splitAt(bytes, at), {}), whole);
      }),
      { numRuns: 30 },
    );
  });

  it('fails only with its own ProtocolError on any bytes, the same error however they are cut', () => {
    fc.assert(
      fc.property(fc.array(anyFrame, { minLength: 1, maxLength: 12 }), cuts, decoderOptions, (frames, at, options) => {
        const bytes = Buffer.concat(frames);
        const whole = decodeChunks([bytes], options);
        expectSameOutcome(decodeChunks(splitAt(bytes, at), options), whole);
      }),
      { numRuns: 3000 },
    );
  });

  it('fails only with its own ProtocolError on raw random bytes, cut anywhere', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), cuts, decoderOptions, (random, at, options) => {
        const bytes = Buffer.from(random);
        const whole = decodeChunks([bytes], options);
        expectSameOutcome(decodeChunks(splitAt(bytes, at), options), whole);
      }),
      { numRuns: 1500 },
    );
  });

  it('never allocates a buffer larger than 64 KiB or twice what it has received, whatever lengths are declared', () => {
    const allocUnsafe = jest.spyOn(Buffer, 'allocUnsafe');
    try {
      fc.assert(
        fc.property(
          fc.array(anyFrame, { maxLength: 6 }),
          fc.integer({ min: 5, max: 0x7fffffff }),
          fc.array(fc.integer({ min: 1, max: 200_000 }), { minLength: 1, maxLength: 8 }),
          (frames, declared, sizes) => {
            // Valid and random frames, then a CopyData that declares up to 2 GiB and whose body
            // arrives in chunks of random sizes.
            const header = b.frame('d', [], declared).subarray(0, 5);
            const chunks = [Buffer.concat([...frames, header]), ...sizes.map((size) => Buffer.alloc(size, 0x61))];
            const decoder = new BackendMessageDecoder({ maxMessageSize: 0x7fffffff });
            let received = 0;
            for (const chunk of chunks) {
              received += chunk.length;
              allocUnsafe.mockClear();
              try {
                decoder.decode(chunk, () => undefined);
              } catch (error) {
                expect(error).toBeInstanceOf(ProtocolError);
                return;
              }
              for (const [requested] of allocUnsafe.mock.calls)
                expect(requested).toBeLessThanOrEqual(Math.max(firstFrameCapacity, 2 * received));
              expect(decoder.bufferCapacity).toBeLessThanOrEqual(Math.max(firstFrameCapacity, 2 * decoder.bufferedBytes));
            }
          },
        ),
        { numRuns: 200 },
      );
    } finally {
      allocUnsafe.mockRestore();
    }
  });
});
