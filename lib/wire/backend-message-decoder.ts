import { defaultMaxMessageSize } from '../config/connection-config';
import { DatabaseError } from 'pg-protocol';
import type { BackendMessage as ParserMessage } from 'pg-protocol/dist/messages';
import { Parser } from 'pg-protocol/dist/parser';
import { errorFieldsFromCodes, ProtocolError } from '../errors';
import type { AuthenticationMD5Password, BackendMessage, FieldDescription, FormatCode, ReadyForQuery } from './backend-message';

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

// The type bytes of protocol 3.0 (PostgreSQL docs, "Message Formats").
const knownTypes = new Uint8Array(256);
for (const type of 'R K 2 3 C d c G H W D I E V v n N A t S 1 s Z T'.split(' ')) knownTypes[type.charCodeAt(0)] = 1;

const enum Code {
  ParseComplete = 0x31, // '1'
  BindComplete = 0x32, // '2'
  CloseComplete = 0x33, // '3'
  NotificationResponse = 0x41, // 'A'
  CommandComplete = 0x43, // 'C'
  DataRow = 0x44, // 'D'
  ErrorResponse = 0x45, // 'E'
  CopyInResponse = 0x47, // 'G'
  CopyOutResponse = 0x48, // 'H'
  EmptyQueryResponse = 0x49, // 'I'
  BackendKeyData = 0x4b, // 'K'
  NoticeResponse = 0x4e, // 'N'
  Authentication = 0x52, // 'R'
  ParameterStatus = 0x53, // 'S'
  RowDescription = 0x54, // 'T'
  FunctionCallResponse = 0x56, // 'V'
  CopyBothResponse = 0x57, // 'W'
  ReadyForQuery = 0x5a, // 'Z'
  CopyDone = 0x63, // 'c'
  CopyData = 0x64, // 'd'
  NoData = 0x6e, // 'n'
  PortalSuspended = 0x73, // 's'
  ParameterDescription = 0x74, // 't'
  NegotiateProtocolVersion = 0x76, // 'v'
}

// The messages without a body are shared, frozen singletons.
const authenticationKerberosV5 = Object.freeze({ name: 'AuthenticationKerberosV5' } as const);
const authenticationSCMCredential = Object.freeze({ name: 'AuthenticationSCMCredential' } as const);
const authenticationGSS = Object.freeze({ name: 'AuthenticationGSS' } as const);
const authenticationSSPI = Object.freeze({ name: 'AuthenticationSSPI' } as const);
const authenticationOk = Object.freeze({ name: 'AuthenticationOk' } as const);
const authenticationCleartextPassword = Object.freeze({ name: 'AuthenticationCleartextPassword' } as const);
const parseComplete = Object.freeze({ name: 'ParseComplete' } as const);
const bindComplete = Object.freeze({ name: 'BindComplete' } as const);
const closeComplete = Object.freeze({ name: 'CloseComplete' } as const);
const noData = Object.freeze({ name: 'NoData' } as const);
const portalSuspended = Object.freeze({ name: 'PortalSuspended' } as const);
const copyDone = Object.freeze({ name: 'CopyDone' } as const);
const emptyQueryResponse = Object.freeze({ name: 'EmptyQueryResponse' } as const);
/** The bodiless messages the decoder delivers itself, by type byte. */
const bodilessMessages: Readonly<Partial<Record<number, BackendMessage>>> = {
  [Code.BindComplete]: bindComplete,
  [Code.ParseComplete]: parseComplete,
  [Code.CloseComplete]: closeComplete,
  [Code.NoData]: noData,
  [Code.PortalSuspended]: portalSuspended,
  [Code.CopyDone]: copyDone,
  [Code.EmptyQueryResponse]: emptyQueryResponse,
};
const readyForQuery: Readonly<Record<string, ReadyForQuery>> = {
  I: Object.freeze({ name: 'ReadyForQuery', transactionStatus: 'I' }),
  T: Object.freeze({ name: 'ReadyForQuery', transactionStatus: 'T' }),
  E: Object.freeze({ name: 'ReadyForQuery', transactionStatus: 'E' }),
};

/**
 * Turns the bytes a PostgreSQL server sends into {@link BackendMessage} values.
 *
 * Feed it the socket's chunks in order with {@link decode}; it calls `emit` synchronously once
 * per complete message, in order, and keeps the bytes of an incomplete message until the rest
 * arrives. How the bytes are split into chunks never changes what is emitted, errors included:
 * the messages before a bad one are emitted, then the error is thrown.
 *
 * It frames messages itself, in front of `pg-protocol`'s Parser, so that it can check every
 * header and body first: a length below 4, a length above `maxMessageSize` (checked as soon as
 * the 5-byte header is seen, before the body is buffered), an unknown type byte, or a body that
 * does not match its type (a count or a string running past the end of the message, trailing
 * bytes, a bad status or format code) is a {@link ProtocolError}. It decodes itself what the
 * Parser cannot or does badly: Authentication codes 2, 6, 7, 8 and 9, NegotiateProtocolVersion,
 * FunctionCallResponse, CopyData (to hand out a chunk of its own), ErrorResponse and
 * NoticeResponse (to keep every field, `V` included), and every message with a count —
 * RowDescription, ParameterDescription, DataRow and the three COPY responses — because the
 * protocol's counts are unsigned 16-bit integers (a statement may have 65,535 parameters) and
 * the Parser reads them as signed; and, to spare a Parser call and its message object on every
 * query, the bodiless completions, ReadyForQuery, CommandComplete and NotificationResponse.
 * What is left (ParameterStatus, BackendKeyData, the other Authentication requests) goes to the
 * Parser, one call per run of consecutive complete messages in a chunk.
 *
 * Buffers: complete messages inside a chunk are read in place, never copied; a message split
 * across chunks is assembled in a buffer of its own that grows as its bytes arrive (up to
 * 64 KiB at once, then at most doubling): a header that declares 1 GiB reserves nothing close
 * to it, and {@link bufferCapacity} never exceeds 64 KiB or twice {@link bufferedBytes}. No
 * message refers to a chunk after `decode` returns, so the caller may reuse chunks.
 *
 * Cost of a DataRow, the hot path: it is decoded here, not by the Parser, in one pass over its
 * field lengths — the fields array, one string per non-NULL value, and the `{ name, fields }`
 * object emitted. (Measured: the Parser's DataRowMessage and reader steps cost more.) Per run
 * of other messages in a chunk: one Buffer view and one Parser call. No closure is created per
 * message or per chunk.
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
  private readonly parser = new Parser();
  private readonly onParserMessage = (message: ParserMessage): void => this.fromParser(message);
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
   * by it. `chunk` is not kept and may be reused by the caller once this returns.
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
      this.decodeAssembledFrame(frame);
    }

    // Then the complete messages of this chunk, read in place. Consecutive messages for the
    // Parser form a run [runStart, offset) that is handed over in one call.
    let runStart = offset;
    while (offset + headerSize <= end) {
      const type = chunk[offset]!;
      const frameEnd = offset + 1 + this.checkHeaderIn(chunk, offset, runStart);
      if (frameEnd > end) break;
      const start = offset + headerSize;
      if (type === Code.DataRow) {
        this.parseRun(chunk, runStart, offset);
        const fields = decodeDataRow(chunk, start, frameEnd);
        if (fields === undefined) throw malformed(type, frameEnd - offset, 'its field lengths do not add up to its length');
        this.deliver({ name: 'DataRow', fields });
        runStart = frameEnd;
      } else {
        const problem = problemIn(type, chunk, start, frameEnd);
        if (problem !== undefined) {
          this.parseRun(chunk, runStart, offset);
          throw malformed(type, frameEnd - offset, problem);
        }
        if (isDecodedHere(type, chunk, start)) {
          this.parseRun(chunk, runStart, offset);
          this.decodeHere(type, chunk, start, frameEnd, false);
          runStart = frameEnd;
        }
      }
      offset = frameEnd;
    }
    this.parseRun(chunk, runStart, offset);

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

  /** Checks a header inside a chunk; on failure, first hands the pending run to the Parser. */
  private checkHeaderIn(chunk: Buffer, offset: number, runStart: number): number {
    const type = chunk[offset]!;
    const length = chunk[offset + 1]! * 0x1000000 + ((chunk[offset + 2]! << 16) | (chunk[offset + 3]! << 8) | chunk[offset + 4]!);
    if (knownTypes[type] === 1 && length >= 4 && length <= this.maxMessageSize) return length;
    this.parseRun(chunk, runStart, offset);
    return this.checkHeader(chunk, offset);
  }

  /** Returns the declared length of the header at `offset`, or throws the ProtocolError. */
  private checkHeader(bytes: Buffer, offset: number): number {
    const type = bytes[offset]!;
    const length = bytes.readUInt32BE(offset + 1);
    if (knownTypes[type] !== 1) {
      throw new ProtocolError(`unknown backend message type ${describeType(type)}`);
    }
    if (length < 4) {
      throw new ProtocolError(`backend message ${describeType(type)} declares a length of ${length}; the minimum is 4`);
    }
    if (length > this.maxMessageSize) {
      throw new ProtocolError(
        `backend message ${describeType(type)} declares a length of ${length} bytes, more than maxMessageSize (${this.maxMessageSize})`,
      );
    }
    return length;
  }

  /** Decodes a message assembled from several chunks (a buffer of its own, exactly its size). */
  private decodeAssembledFrame(frame: Buffer): void {
    const type = frame[0]!;
    const end = frame.length;
    if (type === Code.DataRow) {
      const fields = decodeDataRow(frame, headerSize, end);
      if (fields === undefined) throw malformed(type, end, 'its field lengths do not add up to its length');
      return this.deliver({ name: 'DataRow', fields });
    }
    const problem = problemIn(type, frame, headerSize, end);
    if (problem !== undefined) throw malformed(type, end, problem);
    if (isDecodedHere(type, frame, headerSize)) this.decodeHere(type, frame, headerSize, end, true);
    else this.parser.parse(frame, this.onParserMessage);
  }

  /** Hands the complete, checked messages in `chunk[start, end)` to the Parser in one call. */
  private parseRun(chunk: Buffer, start: number, end: number): void {
    if (start < end) this.parser.parse(chunk.subarray(start, end), this.onParserMessage);
  }

  /**
   * Decodes the checked body `bytes[start, end)` of a message the Parser does not handle well.
   * `owned` says that `bytes` is an assembled message of our own, so views into it may be
   * handed out; otherwise binary data is copied out of the caller's chunk.
   */
  private decodeHere(type: number, bytes: Buffer, start: number, end: number, owned: boolean): void {
    const bodiless = bodilessMessages[type];
    if (bodiless !== undefined) return this.deliver(bodiless);
    switch (type) {
      case Code.ReadyForQuery:
        return this.deliver(readyForQuery[String.fromCharCode(bytes[start]!)]!);
      case Code.CommandComplete:
        return this.deliver({ name: 'CommandComplete', tag: (bytes as unknown as Utf8Slicing).utf8Slice(start, end - 1) });
      case Code.NotificationResponse: {
        const channelEnd = bytes.indexOf(0, start + 4);
        const text = bytes as unknown as Utf8Slicing;
        return this.deliver({
          name: 'NotificationResponse',
          processId: bytes.readInt32BE(start),
          channel: text.utf8Slice(start + 4, channelEnd),
          payload: text.utf8Slice(channelEnd + 1, end - 1),
        });
      }
      case Code.CopyData:
        return this.deliver({ name: 'CopyData', chunk: take(bytes, start, end, owned) });
      case Code.ErrorResponse:
        return this.deliver({ name: 'ErrorResponse', fields: errorFieldsFromCodes(readFieldCodes(bytes, start, end)) });
      case Code.NoticeResponse:
        return this.deliver({ name: 'NoticeResponse', fields: errorFieldsFromCodes(readFieldCodes(bytes, start, end)) });
      case Code.CopyBothResponse:
      case Code.CopyInResponse:
      case Code.CopyOutResponse:
        return this.deliver({
          name: type === Code.CopyInResponse ? 'CopyInResponse' : type === Code.CopyOutResponse ? 'CopyOutResponse' : 'CopyBothResponse',
          binary: bytes[start] !== 0,
          columnFormats: readFormatCodes(bytes, start + 3, bytes.readUInt16BE(start + 1)),
        });
      case Code.RowDescription:
        return this.deliver({ name: 'RowDescription', fields: readFieldDescriptions(bytes, start) });
      case Code.ParameterDescription: {
        const count = bytes.readUInt16BE(start);
        const dataTypeIds = new Array<number>(count);
        for (let i = 0; i < count; i++) dataTypeIds[i] = bytes.readUInt32BE(start + 2 + 4 * i);
        return this.deliver({ name: 'ParameterDescription', dataTypeIds });
      }
      case Code.FunctionCallResponse: {
        const length = bytes.readInt32BE(start);
        return this.deliver({
          name: 'FunctionCallResponse',
          result: length === -1 ? null : take(bytes, start + 4, end, owned),
        });
      }
      case Code.NegotiateProtocolVersion: {
        const unrecognizedOptions: string[] = [];
        for (let at = start + 8; at < end;) {
          const nul = bytes.indexOf(0, at);
          unrecognizedOptions.push(bytes.toString('utf8', at, nul));
          at = nul + 1;
        }
        return this.deliver({ name: 'NegotiateProtocolVersion', newestMinorVersion: bytes.readInt32BE(start), unrecognizedOptions });
      }
      case Code.Authentication:
        switch (bytes.readInt32BE(start)) {
          case 2:
            return this.deliver(authenticationKerberosV5);
          case 6:
            return this.deliver(authenticationSCMCredential);
          case 7:
            return this.deliver(authenticationGSS);
          case 8:
            return this.deliver({ name: 'AuthenticationGSSContinue', data: take(bytes, start + 4, end, owned) });
          case 9:
            return this.deliver(authenticationSSPI);
        }
    }
    throw new ProtocolError(`internal error: no decoder for backend message ${describeType(type)}`);
  }

  /** Maps a message from pg-protocol's Parser (given only checked messages) to the union. */
  private fromParser(message: ParserMessage): void {
    switch (message.name) {
      case 'parameterStatus': {
        const status = message as unknown as ParserParameterStatus;
        return this.deliver({ name: 'ParameterStatus', parameterName: status.parameterName, parameterValue: status.parameterValue });
      }
      case 'backendKeyData': {
        const key = message as unknown as ParserBackendKeyData;
        return this.deliver({ name: 'BackendKeyData', processId: key.processID, secretKey: key.secretKey });
      }
      case 'authenticationOk':
        return this.deliver(authenticationOk);
      case 'authenticationCleartextPassword':
        return this.deliver(authenticationCleartextPassword);
      case 'authenticationMD5Password': {
        // The Parser's salt is a view into the chunk: copy it.
        const salt: AuthenticationMD5Password['salt'] = Buffer.from((message as unknown as ParserMD5Password).salt);
        return this.deliver({ name: 'AuthenticationMD5Password', salt });
      }
      case 'authenticationSASL':
        return this.deliver({ name: 'AuthenticationSASL', mechanisms: (message as unknown as ParserSASL).mechanisms });
      case 'authenticationSASLContinue':
        return this.deliver({ name: 'AuthenticationSASLContinue', data: (message as unknown as ParserSASL).data });
      case 'authenticationSASLFinal':
        return this.deliver({ name: 'AuthenticationSASLFinal', data: (message as unknown as ParserSASL).data });
    }
    // The Parser reports a type it does not know as a DatabaseError "received invalid response".
    const reason = message instanceof DatabaseError ? message.message : `unexpected message ${message.name}`;
    throw new ProtocolError(`pg-protocol could not decode a backend message: ${reason}`, { cause: message });
  }

  private deliver(message: BackendMessage): void {
    this.emitting = true;
    this.emit(message);
    this.emitting = false;
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
        : new ProtocolError(`pg-protocol could not decode a backend message: ${(error as Error | undefined)?.message ?? String(error)}`, {
            cause: error,
          });
    return this.failure;
  }
}

// The shapes of pg-protocol's Parser messages that we read (its own declarations are classes).
interface ParserParameterStatus {
  readonly parameterName: string;
  readonly parameterValue: string;
}
interface ParserBackendKeyData {
  readonly processID: number;
  readonly secretKey: number;
}
interface ParserMD5Password {
  readonly salt: Buffer;
}
interface ParserSASL {
  readonly mechanisms: string[];
  readonly data: string;
}

/**
 * The fields of a checked RowDescription body starting at `start`. The count is a uint16; the
 * table and type OIDs are uint32; the column number, type size and modifier are signed (a
 * system column's number and a variable-width type's size are negative).
 */
function readFieldDescriptions(bytes: Buffer, start: number): FieldDescription[] {
  const count = bytes.readUInt16BE(start);
  const fields = new Array<FieldDescription>(count);
  const text = bytes as unknown as Utf8Slicing;
  let at = start + 2;
  for (let i = 0; i < count; i++) {
    const nul = bytes.indexOf(0, at);
    const name = text.utf8Slice(at, nul);
    at = nul + 1;
    fields[i] = {
      name,
      tableId: bytes.readUInt32BE(at),
      columnId: bytes.readInt16BE(at + 4),
      dataTypeId: bytes.readUInt32BE(at + 6),
      dataTypeSize: bytes.readInt16BE(at + 10),
      dataTypeModifier: bytes.readInt32BE(at + 12),
      format: bytes.readInt16BE(at + 16) as FormatCode,
    };
    at += 18;
  }
  return fields;
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

/** The fields of a checked ErrorResponse or NoticeResponse body, by one-letter code. */
function readFieldCodes(bytes: Buffer, start: number, end: number): Record<string, string> {
  const codes: Record<string, string> = {};
  for (let at = start; at < end - 1;) {
    const nul = bytes.indexOf(0, at + 1);
    codes[String.fromCharCode(bytes[at]!)] = bytes.toString('utf8', at + 1, nul);
    at = nul + 1;
  }
  return codes;
}

function readFormatCodes(bytes: Buffer, start: number, count: number): FormatCode[] {
  const formats = new Array<FormatCode>(count);
  for (let i = 0; i < count; i++) formats[i] = bytes.readInt16BE(start + 2 * i) as FormatCode;
  return formats;
}

/** Whether the message is decoded here rather than by the Parser (its body is already checked). */
function isDecodedHere(type: number, bytes: Buffer, start: number): boolean {
  // The messages of every query: decoding them here spares a Parser call and its object per message.
  if (bodilessMessages[type] !== undefined) return true;
  switch (type) {
    case Code.ReadyForQuery:
    case Code.CommandComplete:
    case Code.NotificationResponse:
    case Code.CopyData:
    case Code.ErrorResponse:
    case Code.NoticeResponse:
    case Code.CopyBothResponse:
    case Code.FunctionCallResponse:
    case Code.NegotiateProtocolVersion:
    // The Parser reads their counts as signed: 32,768 parameters or more would be lost.
    case Code.RowDescription:
    case Code.ParameterDescription:
    case Code.CopyInResponse:
    case Code.CopyOutResponse:
      return true;
    case Code.Authentication: {
      const code = bytes.readInt32BE(start);
      return code === 2 || (code >= 6 && code <= 9);
    }
    default:
      return false;
  }
}

/**
 * Decodes the DataRow body `bytes[start, end)` — a count, then exactly that many values, each
 * an int32 length (-1 for NULL) and that many bytes of text — or returns undefined when the
 * lengths do not add up. DataRow is the hot path: it is decoded here in one pass rather than
 * by pg-protocol's Parser (which allocates a message object and a reader step per field).
 */
function decodeDataRow(bytes: Buffer, start: number, end: number): (string | null)[] | undefined {
  if (end - start < 2) return undefined;
  const count = (bytes[start]! << 8) | bytes[start + 1]!;
  // Every value takes at least its 4-byte length: a count the body cannot hold allocates nothing.
  if (start + 2 + 4 * count > end) return undefined;
  const fields = new Array<string | null>(count);
  const text = bytes as unknown as Utf8Slicing;
  let at = start + 2;
  for (let i = 0; i < count; i++) {
    if (at + 4 > end) return undefined;
    const length = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
    at += 4;
    if (length >= 0) {
      if (at + length > end) return undefined;
      fields[i] = text.utf8Slice(at, at + length);
      at += length;
    } else if (length === -1) {
      fields[i] = null;
    } else {
      return undefined;
    }
  }
  return at === end ? fields : undefined;
}

/** Node's Buffer has `utf8Slice`, the unchecked core of `toString('utf8', start, end)`. */
interface Utf8Slicing {
  utf8Slice(start: number, end: number): string;
}

/**
 * What is wrong with the body `bytes[start, end)` of a message of this type, or undefined if
 * it is well formed: every count, string and code must fit the body exactly, so that nothing
 * downstream (the Parser included) reads past the end of the message.
 */
function problemIn(type: number, bytes: Buffer, start: number, end: number): string | undefined {
  const size = end - start;
  switch (type) {
    case Code.ParseComplete:
    case Code.BindComplete:
    case Code.CloseComplete:
    case Code.NoData:
    case Code.PortalSuspended:
    case Code.CopyDone:
    case Code.EmptyQueryResponse:
      return size === 0 ? undefined : 'it should have no body';
    case Code.CopyData:
      return undefined;
    case Code.ReadyForQuery:
      if (size !== 1) return 'its body should be 1 byte';
      return isTransactionStatus(bytes[start]!) ? undefined : `unknown transaction status ${describeType(bytes[start]!)}`;
    case Code.CommandComplete:
      return bytes.indexOf(0, start) === end - 1 ? undefined : 'its tag is not one NUL-terminated string';
    case Code.BackendKeyData:
      return size === 8 ? undefined : 'its body should be 8 bytes';
    case Code.ParameterStatus:
      return cstringsEndAt(bytes, start, end, 2) ? undefined : 'it is not two NUL-terminated strings';
    case Code.NotificationResponse:
      return size >= 4 && cstringsEndAt(bytes, start + 4, end, 2) ? undefined : 'it is not a process ID and two NUL-terminated strings';
    case Code.ParameterDescription: {
      if (size < 2) return 'it has no parameter count';
      return size === 2 + 4 * bytes.readUInt16BE(start) ? undefined : 'its parameter count does not match its length';
    }
    case Code.RowDescription:
      return rowDescriptionProblem(bytes, start, end);
    case Code.CopyInResponse:
    case Code.CopyOutResponse:
    case Code.CopyBothResponse:
      return copyResponseProblem(bytes, start, end);
    case Code.ErrorResponse:
    case Code.NoticeResponse:
      return fieldListProblem(bytes, start, end);
    case Code.FunctionCallResponse: {
      if (size < 4) return 'it has no result length';
      const length = bytes.readInt32BE(start);
      return (length === -1 ? size === 4 : size === 4 + length) ? undefined : 'its result length does not match its length';
    }
    case Code.NegotiateProtocolVersion: {
      if (size < 8) return 'it has no version or option count';
      const count = bytes.readInt32BE(start + 4);
      return count >= 0 && cstringsEndAt(bytes, start + 8, end, count) ? undefined : 'its option count does not match its length';
    }
    case Code.Authentication:
      return authenticationProblem(bytes, start, end);
    default:
      return 'no decoder';
  }
}

function authenticationProblem(bytes: Buffer, start: number, end: number): string | undefined {
  const size = end - start;
  if (size < 4) return 'it has no authentication code';
  const code = bytes.readInt32BE(start);
  switch (code) {
    case 0:
    case 2:
    case 3:
    case 6:
    case 7:
    case 9:
      return size === 4 ? undefined : `authentication code ${code} should have no data`;
    case 5:
      return size === 8 ? undefined : 'its salt should be 4 bytes';
    case 8:
    case 11:
    case 12:
      return undefined;
    case 10: {
      // Non-empty mechanism names, each NUL-terminated, then an empty one.
      let at = start + 4;
      while (at < end && bytes[at] !== 0) {
        const nul = bytes.indexOf(0, at);
        if (nul < 0 || nul >= end) return 'a mechanism name runs past its end';
        at = nul + 1;
      }
      return at === end - 1 ? undefined : 'its mechanism list does not end with an empty name at its end';
    }
    default:
      return `unsupported authentication request code ${code}`;
  }
}

function rowDescriptionProblem(bytes: Buffer, start: number, end: number): string | undefined {
  if (end - start < 2) return 'it has no field count';
  const count = bytes.readUInt16BE(start);
  let at = start + 2;
  for (let i = 0; i < count; i++) {
    const nul = at < end ? bytes.indexOf(0, at) : -1;
    if (nul < 0 || nul >= end) return `field ${i + 1} of ${count} runs past its end`;
    at = nul + 1 + 18;
    if (at > end) return `field ${i + 1} of ${count} runs past its end`;
    const format = bytes.readInt16BE(at - 2);
    if (format !== 0 && format !== 1) return `field ${i + 1} has the unknown format code ${format}`;
  }
  return at === end ? undefined : `it has bytes after its ${count} fields`;
}

function copyResponseProblem(bytes: Buffer, start: number, end: number): string | undefined {
  if (end - start < 3) return 'it has no format or column count';
  if (bytes[start]! > 1) return `unknown overall format ${bytes[start]}`;
  const count = bytes.readUInt16BE(start + 1);
  if (end - start !== 3 + 2 * count) return 'its column count does not match its length';
  for (let i = 0; i < count; i++) {
    const format = bytes.readInt16BE(start + 3 + 2 * i);
    if (format !== 0 && format !== 1) return `column ${i + 1} has the unknown format code ${format}`;
  }
  return undefined;
}

function fieldListProblem(bytes: Buffer, start: number, end: number): string | undefined {
  let at = start;
  while (at < end && bytes[at] !== 0) {
    const nul = bytes.indexOf(0, at + 1);
    if (nul < 0 || nul >= end) return 'a field runs past its end';
    at = nul + 1;
  }
  return at === end - 1 ? undefined : 'its field list does not end with a NUL at its end';
}

/** Whether the byte is `I`, `T` or `E`. */
function isTransactionStatus(byte: number): boolean {
  return byte === 0x49 || byte === 0x54 || byte === 0x45;
}

/** Whether `bytes[start, end)` is exactly `count` NUL-terminated strings. */
function cstringsEndAt(bytes: Buffer, start: number, end: number, count: number): boolean {
  let at = start;
  for (let i = 0; i < count; i++) {
    if (at >= end) return false;
    const nul = bytes.indexOf(0, at);
    if (nul < 0 || nul >= end) return false;
    at = nul + 1;
  }
  return at === end;
}

function malformed(type: number, totalSize: number, problem: string): ProtocolError {
  return new ProtocolError(`malformed ${messageNames[type] ?? 'backend message'} (${describeType(type)}, ${totalSize} bytes): ${problem}`);
}

function describeType(byte: number): string {
  const hex = `0x${byte.toString(16).padStart(2, '0')}`;
  return byte >= 0x20 && byte < 0x7f ? `'${String.fromCharCode(byte)}' (${hex})` : hex;
}

const messageNames: Readonly<Record<number, string>> = {
  [Code.ParseComplete]: 'ParseComplete',
  [Code.BindComplete]: 'BindComplete',
  [Code.CloseComplete]: 'CloseComplete',
  [Code.NotificationResponse]: 'NotificationResponse',
  [Code.CommandComplete]: 'CommandComplete',
  [Code.DataRow]: 'DataRow',
  [Code.ErrorResponse]: 'ErrorResponse',
  [Code.CopyInResponse]: 'CopyInResponse',
  [Code.CopyOutResponse]: 'CopyOutResponse',
  [Code.EmptyQueryResponse]: 'EmptyQueryResponse',
  [Code.BackendKeyData]: 'BackendKeyData',
  [Code.NoticeResponse]: 'NoticeResponse',
  [Code.Authentication]: 'Authentication request',
  [Code.ParameterStatus]: 'ParameterStatus',
  [Code.RowDescription]: 'RowDescription',
  [Code.FunctionCallResponse]: 'FunctionCallResponse',
  [Code.CopyBothResponse]: 'CopyBothResponse',
  [Code.ReadyForQuery]: 'ReadyForQuery',
  [Code.CopyDone]: 'CopyDone',
  [Code.CopyData]: 'CopyData',
  [Code.NoData]: 'NoData',
  [Code.PortalSuspended]: 'PortalSuspended',
  [Code.ParameterDescription]: 'ParameterDescription',
  [Code.NegotiateProtocolVersion]: 'NegotiateProtocolVersion',
};
