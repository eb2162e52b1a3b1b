import type {} from '../types/buffer-slices';
import { defaultMaxMessageSize } from '../config/connection-config';
import { errorFieldsFromCodes, ProtocolError } from '../errors';
import type { BackendMessage, CommandComplete, DataRow, FieldDescription, FormatCode, ReadyForQuery } from './backend-message';

/** Options of a {@link BackendMessageDecoder}. */
export interface BackendMessageDecoderOptions {
  /**
   * The largest value accepted in a message's length field, which counts the length field
   * itself and the body but not the type byte. A message that declares more is a
   * ProtocolError as soon as its 5-byte header arrives, before any of its body is buffered.
   * An integer from 4 to 2^31 - 1; default {@link defaultMaxMessageSize} (1 GiB, the server's
   * own limit for a field or row).
   */
  readonly maxMessageSize?: number;
}

/** What receives each decoded message. */
export type BackendMessageSink = (message: BackendMessage) => void;

const headerSize = 5;
/**
 * The first buffer of a message split across chunks holds up to this much; a larger message
 * grows it as its bytes arrive, doubling at most, so that a declared length never reserves
 * memory that has not been received. Most split messages (rows) fit at once.
 */
const firstFrameCapacity = 64 * 1024;
const noBuffer = Buffer.alloc(0);
const ignore: BackendMessageSink = () => undefined;
const dataRowType = 0x44; // 'D'
const commandCompleteType = 0x43; // 'C'

/**
 * What a message's decode function returns: the message, or what is wrong with its body (a
 * phrase for the ProtocolError, e.g. `'its body should be 8 bytes'`).
 */
type Decoded = BackendMessage | string;

/**
 * How to read one backend message type. `decode` gets the body `bytes[start, end)` (its header
 * already checked) and checks it completely — every count, string and code must fit the body
 * exactly — before it builds anything from it. `owned` says that `bytes` is a buffer of the
 * decoder's own (a message assembled from several chunks), so views of it may be handed out;
 * otherwise binary data is copied out of the caller's chunk.
 */
interface MessageEntry {
  /** The type byte, as its character. */
  readonly type: string;
  /** What the type is called in errors. */
  readonly name: string;
  readonly decode: (bytes: Buffer, start: number, end: number, owned: boolean) => Decoded;
}

// The messages without a body are shared, frozen singletons.
const parseComplete = Object.freeze({ name: 'ParseComplete' } as const);
const bindComplete = Object.freeze({ name: 'BindComplete' } as const);
const closeComplete = Object.freeze({ name: 'CloseComplete' } as const);
const noData = Object.freeze({ name: 'NoData' } as const);
const portalSuspended = Object.freeze({ name: 'PortalSuspended' } as const);
const copyDone = Object.freeze({ name: 'CopyDone' } as const);
const emptyQueryResponse = Object.freeze({ name: 'EmptyQueryResponse' } as const);
/** The Authentication requests without data, by code. */
const bodilessAuthentications: Readonly<Record<number, BackendMessage>> = {
  0: Object.freeze({ name: 'AuthenticationOk' } as const),
  2: Object.freeze({ name: 'AuthenticationKerberosV5' } as const),
  3: Object.freeze({ name: 'AuthenticationCleartextPassword' } as const),
  6: Object.freeze({ name: 'AuthenticationSCMCredential' } as const),
  7: Object.freeze({ name: 'AuthenticationGSS' } as const),
  9: Object.freeze({ name: 'AuthenticationSSPI' } as const),
};
const readyForQuery: Readonly<Record<number, ReadyForQuery>> = {
  0x49: Object.freeze({ name: 'ReadyForQuery', transactionStatus: 'I' }),
  0x54: Object.freeze({ name: 'ReadyForQuery', transactionStatus: 'T' }),
  0x45: Object.freeze({ name: 'ReadyForQuery', transactionStatus: 'E' }),
};

/** A message without a body, always the same object. */
function bodiless(type: string, message: BackendMessage): MessageEntry {
  return { type, name: message.name, decode: (_, start, end) => (start === end ? message : 'it should have no body') };
}

/**
 * Every message a server sends in protocol 3.0 (PostgreSQL docs, "Message Formats"): one entry
 * per type byte, with the function that checks and decodes its body.
 */
const messageEntries: readonly MessageEntry[] = [
  { type: 'R', name: 'Authentication request', decode: decodeAuthentication },
  { type: 'K', name: 'BackendKeyData', decode: decodeBackendKeyData },
  bodiless('2', bindComplete),
  bodiless('3', closeComplete),
  { type: 'C', name: 'CommandComplete', decode: (bytes, start, end) => decodeCommandComplete(bytes, start, end) },
  { type: 'd', name: 'CopyData', decode: (bytes, start, end, owned) => ({ name: 'CopyData', chunk: take(bytes, start, end, owned) }) },
  bodiless('c', copyDone),
  { type: 'G', name: 'CopyInResponse', decode: (bytes, start, end) => decodeCopyResponse('CopyInResponse', bytes, start, end) },
  { type: 'H', name: 'CopyOutResponse', decode: (bytes, start, end) => decodeCopyResponse('CopyOutResponse', bytes, start, end) },
  { type: 'W', name: 'CopyBothResponse', decode: (bytes, start, end) => decodeCopyResponse('CopyBothResponse', bytes, start, end) },
  { type: 'D', name: 'DataRow', decode: decodeDataRow },
  bodiless('I', emptyQueryResponse),
  { type: 'E', name: 'ErrorResponse', decode: (bytes, start, end) => decodeErrorOrNotice('ErrorResponse', bytes, start, end) },
  { type: 'V', name: 'FunctionCallResponse', decode: decodeFunctionCallResponse },
  { type: 'v', name: 'NegotiateProtocolVersion', decode: decodeNegotiateProtocolVersion },
  bodiless('n', noData),
  { type: 'N', name: 'NoticeResponse', decode: (bytes, start, end) => decodeErrorOrNotice('NoticeResponse', bytes, start, end) },
  { type: 'A', name: 'NotificationResponse', decode: decodeNotificationResponse },
  { type: 't', name: 'ParameterDescription', decode: decodeParameterDescription },
  { type: 'S', name: 'ParameterStatus', decode: decodeParameterStatus },
  bodiless('1', parseComplete),
  bodiless('s', portalSuspended),
  { type: 'Z', name: 'ReadyForQuery', decode: decodeReadyForQuery },
  { type: 'T', name: 'RowDescription', decode: decodeRowDescription },
];

/** {@link messageEntries} by type byte; `undefined` for a byte no message has. */
const entryByType: readonly (MessageEntry | undefined)[] = (() => {
  const byType = new Array<MessageEntry | undefined>(256).fill(undefined);
  for (const entry of messageEntries) byType[entry.type.charCodeAt(0)] = entry;
  return byType;
})();

/**
 * Turns the bytes a PostgreSQL server sends into {@link BackendMessage} values.
 *
 * Feed it the socket's chunks in order with {@link decode}; it calls `emit` synchronously once
 * per complete message, in order, and keeps the bytes of an incomplete message until the rest
 * arrives. How the bytes are split into chunks never changes what is emitted, errors included:
 * the messages before a bad one are emitted, then the error is thrown.
 *
 * Every message type has one entry in a table (type byte, name, decode function), and every
 * body is decoded here, checked completely first: a length below 4, a length above
 * `maxMessageSize` (checked as soon as the 5-byte header is seen, before the body is
 * buffered), an unknown type byte, or a body that does not match its type (a count or a string
 * running past the end of the message, a DataRow whose value lengths do not add up, trailing
 * bytes, a bad status or format code) is a {@link ProtocolError}. Counts are read as the
 * protocol's unsigned 16-bit integers (a statement may have 65,535 parameters).
 *
 * Buffers: complete messages inside a chunk are read in place, never copied; a message split
 * across chunks is assembled in a buffer of its own that grows as its bytes arrive (up to
 * 64 KiB at once, then at most doubling): a header that declares 1 GiB reserves nothing close
 * to it, and {@link bufferCapacity} never exceeds 64 KiB or twice {@link bufferedBytes}.
 * CopyData chunks and the other binary payloads are the messages' own. A {@link DataRow} is
 * the exception, for speed: its `bytes` is the buffer it arrived in (the caller's chunk, or
 * the assembled message), so a caller that reuses its chunks must read the rows of a chunk
 * before it reuses it. (Node's sockets never reuse their chunks.)
 *
 * Cost of a DataRow, the hot path: one pass over its value lengths, which checks them, and
 * the message object; no value is decoded here and nothing else is allocated. No closure is
 * created per message or per chunk.
 *
 * Errors are final: after a ProtocolError every later call throws that same error. If `emit`
 * throws, its exception propagates unchanged and the decoder stops too (the rest of that chunk
 * is lost); later calls throw an Error whose `cause` is that exception.
 *
 * @example
 * const decoder = new BackendMessageDecoder({ maxMessageSize: 64 * 1024 * 1024 });
 * const emit = (message: BackendMessage) => handle(message);
 * socket.on('data', (chunk: Buffer) => decoder.decode(chunk, emit));
 *
 * @see decodeBackendMessages for the same as an RxJS operator.
 */
export class BackendMessageDecoder {
  private readonly maxMessageSize: number;
  private emit: BackendMessageSink = ignore;
  private emitting = false;
  private failure: Error | undefined = undefined;
  // An incomplete header: its first `headerLength` bytes are in `header`.
  private readonly header = Buffer.alloc(headerSize);
  private headerLength = 0;
  // An incomplete message whose header is known: `frameSize` bytes in all (type byte
  // included), of which the first `frameLength` are in `frame`, which has room for at least
  // these and at most all of them.
  private frame: Buffer = noBuffer;
  private frameLength = 0;
  private frameSize = 0;
  private lastCommandComplete: MadeCommandComplete | undefined;

  /**
   * @param options `maxMessageSize` (default 1 GiB).
   * Errors: a RangeError if `maxMessageSize` is not an integer from 4 to 2^31 - 1.
   */
  constructor(options: BackendMessageDecoderOptions = {}) {
    const maxMessageSize = options.maxMessageSize ?? defaultMaxMessageSize;
    if (!Number.isInteger(maxMessageSize) || maxMessageSize < 4 || maxMessageSize > 0x7fffffff) {
      throw new RangeError(`maxMessageSize must be an integer from 4 to 2147483647, not ${maxMessageSize}`);
    }
    this.maxMessageSize = maxMessageSize;
  }

  /** How many bytes of an incomplete message are held, waiting for the rest. */
  get bufferedBytes(): number {
    return this.headerLength + this.frameLength;
  }

  /**
   * How many bytes are reserved for the incomplete message (0 when there is none; its first
   * bytes, up to the 5 of a header, are kept in a fixed buffer not counted here).
   */
  get bufferCapacity(): number {
    return this.frame.length;
  }

  /**
   * Decodes the next chunk of bytes from the server, calling `emit` for each message completed
   * by it. Only the DataRows emitted refer to `chunk` (see the class): once they are read, the
   * caller may reuse it.
   *
   * Not re-entrant: `emit` must not call `decode` on the same decoder.
   *
   * Errors: a {@link ProtocolError} (SQLSTATE 08P01) for malformed, oversized or unknown
   * messages; whatever `emit` throws. Once it has thrown, every later call throws again.
   */
  decode(chunk: Buffer, emit: BackendMessageSink): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.emitting) throw new Error('BackendMessageDecoder.decode must not be called from inside emit');
    this.emit = emit;
    try {
      this.decodeChunk(chunk);
    } catch (error) {
      throw this.stop(error);
    } finally {
      this.emit = ignore;
    }
  }

  private decodeChunk(chunk: Buffer): void {
    const end = chunk.length;
    let offset = 0;

    // First finish the message left incomplete by the previous chunks.
    if (this.headerLength > 0) {
      const taken = Math.min(headerSize - this.headerLength, end);
      copyBytes(chunk, 0, taken, this.header, this.headerLength);
      this.headerLength += taken;
      offset = taken;
      if (this.headerLength < headerSize) return;
      this.headerLength = 0;
      this.startFrame(1 + this.checkHeader(this.header, 0), this.header, 0, headerSize);
    }
    if (this.frameLength > 0) {
      const held = Math.min(this.frameSize, this.frameLength + end - offset);
      if (held > this.frame.length) this.growFrame(held);
      const frame = this.frame;
      const taken = held - this.frameLength;
      copyBytes(chunk, offset, offset + taken, frame, this.frameLength);
      this.frameLength = held;
      offset += taken;
      if (held < this.frameSize) return;
      this.frame = noBuffer;
      this.frameLength = 0;
      this.frameSize = 0;
      this.decodeFrame(frame, 0, frame.length, true);
    }

    // Then the complete messages of this chunk, read in place.
    while (offset + headerSize <= end) {
      const frameEnd = offset + 1 + this.checkHeader(chunk, offset);
      if (frameEnd > end) break;
      this.decodeFrame(chunk, offset, frameEnd, false);
      offset = frameEnd;
    }

    // Keep what is left of an incomplete message.
    const rest = end - offset;
    if (rest === 0) return;
    if (rest < headerSize) {
      copyBytes(chunk, offset, end, this.header, 0);
      this.headerLength = rest;
    } else {
      // The header was checked by the loop above.
      this.startFrame(1 + chunk.readUInt32BE(offset + 1), chunk, offset, end);
    }
  }

  /** Decodes and emits the checked message `bytes[start, end)` (type byte included). */
  private decodeFrame(bytes: Buffer, start: number, end: number, owned: boolean): void {
    const type = bytes[start]!;
    // DataRow, the hot path, is called directly rather than through its table entry.
    const decoded =
      type === dataRowType
        ? decodeDataRow(bytes, start + headerSize, end)
        : type === commandCompleteType
          ? this.commandComplete(bytes, start + headerSize, end)
          : entryByType[type]!.decode(bytes, start + headerSize, end, owned);
    if (typeof decoded === 'string') throw malformed(type, end - start, decoded);
    this.emitting = true;
    this.emit(decoded);
    this.emitting = false;
  }

  /** A CommandComplete, the previous one again while the tag repeats (per decoder: nothing is shared between connections). */
  private commandComplete(bytes: Buffer, start: number, end: number): CommandComplete | string {
    const last = this.lastCommandComplete;
    const decoded = decodeCommandComplete(bytes, start, end, last);
    if (typeof decoded !== 'string' && decoded !== last?.message) {
      this.lastCommandComplete = { tag: Buffer.from(bytes.subarray(start, end - 1)), message: decoded };
    }
    return decoded;
  }

  /**
   * Keeps `bytes[start, end)`, the first bytes of an incomplete message of `size` bytes, in a
   * buffer with room for them or {@link firstFrameCapacity}, whichever is more, but never more
   * than the message.
   */
  private startFrame(size: number, bytes: Buffer, start: number, end: number): void {
    const held = end - start;
    this.frame = Buffer.allocUnsafe(Math.min(size, Math.max(firstFrameCapacity, held)));
    copyBytes(bytes, start, end, this.frame, 0);
    this.frameLength = held;
    this.frameSize = size;
  }

  /**
   * Moves the incomplete message to a buffer with room for `held` bytes: twice the current
   * one, or `held` if that is more, but never more than the message. So the buffer never
   * exceeds twice what has arrived, and a message is copied about twice in all however small
   * its chunks.
   */
  private growFrame(held: number): void {
    const frame = Buffer.allocUnsafe(Math.min(this.frameSize, Math.max(held, 2 * this.frame.length)));
    copyBytes(this.frame, 0, this.frameLength, frame, 0);
    this.frame = frame;
  }

  /** Returns the declared length of the header at `offset`, or throws the ProtocolError. */
  private checkHeader(bytes: Buffer, offset: number): number {
    const type = bytes[offset]!;
    const length = bytes[offset + 1]! * 0x1000000 + ((bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 8) | bytes[offset + 4]!);
    if (entryByType[type] !== undefined && length >= 4 && length <= this.maxMessageSize) return length;
    if (entryByType[type] === undefined) {
      throw new ProtocolError(`unknown backend message type ${describeType(type)}`);
    }
    if (length < 4) {
      throw new ProtocolError(`backend message ${describeType(type)} declares a length of ${length}; the minimum is 4`);
    }
    throw new ProtocolError(
      `backend message ${describeType(type)} declares a length of ${length} bytes, more than maxMessageSize (${this.maxMessageSize})`,
    );
  }

  /** Makes the decoder unusable after `error`; returns what `decode` throws. */
  private stop(error: unknown): unknown {
    this.header.fill(0);
    this.headerLength = 0;
    this.frame = noBuffer;
    this.frameLength = 0;
    this.frameSize = 0;
    if (this.emitting) {
      this.emitting = false;
      this.failure = new Error('BackendMessageDecoder stopped: emit threw while a chunk was being decoded', { cause: error });
      return error;
    }
    this.failure =
      error instanceof ProtocolError
        ? error
        : new ProtocolError(`could not decode a backend message: ${(error as Error | undefined)?.message ?? String(error)}`, {
            cause: error,
          });
    return this.failure;
  }
}

/**
 * DataRow: a uint16 count, then exactly that many values, each an int32 length (-1 for NULL)
 * and that many bytes. One pass checks the lengths; the message only says where the body lies
 * in the buffer, and the values stay bytes until the row builder decodes them.
 */
function decodeDataRow(bytes: Buffer, start: number, end: number): DataRow | string {
  if (end - start < 2) return 'its field lengths do not add up to its length';
  const count = (bytes[start]! << 8) | bytes[start + 1]!;
  let at = start + 2;
  for (let i = 0; i < count; i++) {
    if (at + 4 > end) return 'its field lengths do not add up to its length';
    const length = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
    at += 4;
    if (length >= 0) {
      if (at + length > end) return 'its field lengths do not add up to its length';
      at += length;
    } else if (length !== -1) {
      return 'its field lengths do not add up to its length';
    }
  }
  return at === end ? { name: 'DataRow', bytes, start, end } : 'its field lengths do not add up to its length';
}

function decodeAuthentication(bytes: Buffer, start: number, end: number, owned: boolean): Decoded {
  const size = end - start;
  if (size < 4) return 'it has no authentication code';
  const code = bytes.readInt32BE(start);
  const bodiless = bodilessAuthentications[code];
  if (bodiless !== undefined) return size === 4 ? bodiless : `authentication code ${code} should have no data`;
  switch (code) {
    case 5:
      return size === 8 ? { name: 'AuthenticationMD5Password', salt: take(bytes, start + 4, end, false) } : 'its salt should be 4 bytes';
    case 8:
      return { name: 'AuthenticationGSSContinue', data: take(bytes, start + 4, end, owned) };
    case 10: {
      // Non-empty mechanism names, each NUL-terminated, then an empty one.
      const mechanisms: string[] = [];
      let at = start + 4;
      while (at < end && bytes[at] !== 0) {
        const nul = bytes.indexOf(0, at);
        if (nul < 0 || nul >= end) return 'a mechanism name runs past its end';
        mechanisms.push(bytes.utf8Slice(at, nul));
        at = nul + 1;
      }
      return at === end - 1 ? { name: 'AuthenticationSASL', mechanisms } : 'its mechanism list does not end with an empty name at its end';
    }
    case 11:
      return { name: 'AuthenticationSASLContinue', data: bytes.utf8Slice(start + 4, end) };
    case 12:
      return { name: 'AuthenticationSASLFinal', data: bytes.utf8Slice(start + 4, end) };
    default:
      return `unsupported authentication request code ${code}`;
  }
}

function decodeBackendKeyData(bytes: Buffer, start: number, end: number): Decoded {
  if (end - start !== 8) return 'its body should be 8 bytes';
  return { name: 'BackendKeyData', processId: bytes.readInt32BE(start), secretKey: bytes.readInt32BE(start + 4) };
}

/** A CommandComplete and its tag's bytes, kept by a decoder to reuse while the tag repeats. */
interface MadeCommandComplete {
  readonly tag: Buffer;
  readonly message: CommandComplete;
}

/**
 * Decodes a CommandComplete; `last` (the decoder's previous one) is returned again when the tag
 * is the same: the tags of repeated statements repeat ("SELECT 1" for every point query), so
 * one frozen message serves them all instead of a string and an object per query.
 */
function decodeCommandComplete(bytes: Buffer, start: number, end: number, last?: MadeCommandComplete): CommandComplete | string {
  const tagEnd = end - 1;
  if (tagEnd < start || bytes[tagEnd] !== 0) return 'its tag is not one NUL-terminated string';
  let same = last !== undefined && last.tag.length === tagEnd - start;
  for (let at = start; at < tagEnd; at++) {
    const byte = bytes[at]!;
    if (byte === 0) return 'its tag is not one NUL-terminated string';
    if (same && last!.tag[at - start] !== byte) same = false;
  }
  if (same) return last!.message;
  return Object.freeze({ name: 'CommandComplete', tag: bytes.utf8Slice(start, tagEnd) });
}

function decodeReadyForQuery(bytes: Buffer, start: number, end: number): Decoded {
  if (end - start !== 1) return 'its body should be 1 byte';
  return readyForQuery[bytes[start]!] ?? `unknown transaction status ${describeType(bytes[start]!)}`;
}

function decodeCopyResponse(
  name: 'CopyInResponse' | 'CopyOutResponse' | 'CopyBothResponse',
  bytes: Buffer,
  start: number,
  end: number,
): Decoded {
  if (end - start < 3) return 'it has no format or column count';
  if (bytes[start]! > 1) return `unknown overall format ${bytes[start]}`;
  const count = bytes.readUInt16BE(start + 1);
  if (end - start !== 3 + 2 * count) return 'its column count does not match its length';
  const columnFormats = new Array<FormatCode>(count);
  for (let i = 0; i < count; i++) {
    const format = bytes.readInt16BE(start + 3 + 2 * i);
    if (format !== 0 && format !== 1) return `column ${i + 1} has the unknown format code ${format}`;
    columnFormats[i] = format;
  }
  return { name, binary: bytes[start] !== 0, columnFormats };
}

/** ErrorResponse and NoticeResponse: fields by one-letter code, each kept (`V` included). */
function decodeErrorOrNotice(name: 'ErrorResponse' | 'NoticeResponse', bytes: Buffer, start: number, end: number): Decoded {
  const codes: Record<string, string> = {};
  let at = start;
  while (at < end && bytes[at] !== 0) {
    const nul = bytes.indexOf(0, at + 1);
    if (nul < 0 || nul >= end) return 'a field runs past its end';
    codes[String.fromCharCode(bytes[at]!)] = bytes.utf8Slice(at + 1, nul);
    at = nul + 1;
  }
  if (at !== end - 1) return 'its field list does not end with a NUL at its end';
  return { name, fields: errorFieldsFromCodes(codes) };
}

function decodeFunctionCallResponse(bytes: Buffer, start: number, end: number, owned: boolean): Decoded {
  const size = end - start;
  if (size < 4) return 'it has no result length';
  const length = bytes.readInt32BE(start);
  if (!(length === -1 ? size === 4 : size === 4 + length)) return 'its result length does not match its length';
  return { name: 'FunctionCallResponse', result: length === -1 ? null : take(bytes, start + 4, end, owned) };
}

function decodeNegotiateProtocolVersion(bytes: Buffer, start: number, end: number): Decoded {
  if (end - start < 8) return 'it has no version or option count';
  const count = bytes.readInt32BE(start + 4);
  const unrecognizedOptions = count >= 0 ? readCStrings(bytes, start + 8, end, count) : undefined;
  if (unrecognizedOptions === undefined) return 'its option count does not match its length';
  return { name: 'NegotiateProtocolVersion', newestMinorVersion: bytes.readInt32BE(start), unrecognizedOptions };
}

function decodeNotificationResponse(bytes: Buffer, start: number, end: number): Decoded {
  const strings = end - start >= 4 ? readCStrings(bytes, start + 4, end, 2) : undefined;
  if (strings === undefined) return 'it is not a process ID and two NUL-terminated strings';
  return { name: 'NotificationResponse', processId: bytes.readInt32BE(start), channel: strings[0]!, payload: strings[1]! };
}

function decodeParameterDescription(bytes: Buffer, start: number, end: number): Decoded {
  if (end - start < 2) return 'it has no parameter count';
  const count = bytes.readUInt16BE(start);
  if (end - start !== 2 + 4 * count) return 'its parameter count does not match its length';
  const dataTypeIds = new Array<number>(count);
  for (let i = 0; i < count; i++) dataTypeIds[i] = bytes.readUInt32BE(start + 2 + 4 * i);
  return { name: 'ParameterDescription', dataTypeIds };
}

function decodeParameterStatus(bytes: Buffer, start: number, end: number): Decoded {
  const strings = readCStrings(bytes, start, end, 2);
  if (strings === undefined) return 'it is not two NUL-terminated strings';
  return { name: 'ParameterStatus', parameterName: strings[0]!, parameterValue: strings[1]! };
}

/**
 * RowDescription: a uint16 count of fields, each a name, then the table and type OIDs
 * (uint32), the column number, type size and modifier (signed: a system column's number and a
 * variable-width type's size are negative) and the format code.
 */
function decodeRowDescription(bytes: Buffer, start: number, end: number): Decoded {
  if (end - start < 2) return 'it has no field count';
  const count = bytes.readUInt16BE(start);
  const fields = new Array<FieldDescription>(count);
  let at = start + 2;
  for (let i = 0; i < count; i++) {
    const nul = at < end ? bytes.indexOf(0, at) : -1;
    if (nul < 0 || nul + 19 > end) return `field ${i + 1} of ${count} runs past its end`;
    const name = bytes.utf8Slice(at, nul);
    at = nul + 1;
    const format = bytes.readInt16BE(at + 16);
    if (format !== 0 && format !== 1) return `field ${i + 1} has the unknown format code ${format}`;
    fields[i] = {
      name,
      tableId: bytes.readUInt32BE(at),
      columnId: bytes.readInt16BE(at + 4),
      dataTypeId: bytes.readUInt32BE(at + 6),
      dataTypeSize: bytes.readInt16BE(at + 10),
      dataTypeModifier: bytes.readInt32BE(at + 12),
      format,
    };
    at += 18;
  }
  return at === end ? { name: 'RowDescription', fields } : `it has bytes after its ${count} fields`;
}

/** `bytes[start, end)` as exactly `count` NUL-terminated UTF-8 strings, or undefined. */
function readCStrings(bytes: Buffer, start: number, end: number, count: number): string[] | undefined {
  // Every string takes at least its NUL: a count the body cannot hold allocates nothing.
  if (count > end - start) return undefined;
  const strings = new Array<string>(count);
  let at = start;
  for (let i = 0; i < count; i++) {
    if (at >= end) return undefined;
    const nul = bytes.indexOf(0, at);
    if (nul < 0 || nul >= end) return undefined;
    strings[i] = bytes.utf8Slice(at, nul);
    at = nul + 1;
  }
  return at === end ? strings : undefined;
}

/** `bytes[start, end)` as a buffer the message may keep: a view if the bytes are ours, else a copy. */
function take(bytes: Buffer, start: number, end: number, owned: boolean): Buffer {
  if (owned) return bytes.subarray(start, end);
  const copy = Buffer.allocUnsafe(end - start);
  copyBytes(bytes, start, end, copy, 0);
  return copy;
}

/**
 * Copies `source[start, end)` to `target` at `at`. Buffer#copy costs a native call, which
 * dominates for the few bytes of a header or a short row's tail; a loop is faster there.
 */
function copyBytes(source: Buffer, start: number, end: number, target: Buffer, at: number): void {
  if (end - start > 64) {
    source.copy(target, at, start, end);
    return;
  }
  for (let i = start; i < end; i++) target[at++] = source[i]!;
}

function malformed(type: number, totalSize: number, problem: string): ProtocolError {
  return new ProtocolError(
    `malformed ${entryByType[type]?.name ?? 'backend message'} (${describeType(type)}, ${totalSize} bytes): ${problem}`,
  );
}

function describeType(byte: number): string {
  const hex = `0x${byte.toString(16).padStart(2, '0')}`;
  return byte >= 0x20 && byte < 0x7f ? `'${String.fromCharCode(byte)}' (${hex})` : hex;
}
