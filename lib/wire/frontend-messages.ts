import { serialize } from 'pg-protocol';
import type { FormatCode } from './backend-message';

// Encoders of the messages a client sends, named as in the PostgreSQL docs ("Message
// Formats"). Each returns a Buffer holding exactly one message, ready to write; the caller may
// keep it. Bodiless messages (Sync, Flush, Terminate, CopyDone, an unnamed Describe/Execute)
// return shared Buffers: never modify a returned Buffer.
//
// Bad input (a NUL byte inside a string that the protocol NUL-terminates, a count or size the
// protocol cannot express) throws a plain Error (a RangeError for numbers) before anything is
// encoded; the callers map it to the error their operation reports.
//
// Size: the server refuses a message whose length field exceeds PQ_LARGE_MESSAGE_LIMIT
// (MaxAllocSize - 1 = 0x3ffffffe), i.e. a message of more than 1 GiB - 1 bytes with its type
// byte, by closing the connection. Every encoder checks this before it allocates or writes
// anything and throws a RangeError naming the message and its size (never a value), so that
// nothing is sent and the connection stays usable.
//
// pg-protocol's `serialize` is reused where its bytes are exactly right: SSLRequest,
// CancelRequest, Query, PasswordMessage, Describe, Close, Execute, Sync, Flush, CopyDone,
// CopyFail and Terminate. The rest is written here: its startup always adds client_encoding,
// its Parse prints warnings to the console, its Bind neither checks the parameter count nor
// lets Buffers be text, and it has no GSSENCRequest, GSSResponse or binary SASL messages.

const protocolVersion30 = 196608; // 3 << 16 | 0
const maxStartupMessageSize = 10000; // the server's MAX_STARTUP_PACKET_LENGTH
const maxInt32 = 0x7fffffff;

/**
 * The largest length field (which counts itself and the body, not the type byte) that the
 * server accepts in a message after startup: its PQ_LARGE_MESSAGE_LIMIT, MaxAllocSize - 1.
 * With its type byte such a message is 1 GiB - 1 bytes. Encoders refuse anything larger.
 */
export const maxFrontendMessageLength = 0x3ffffffe;

/**
 * SSLRequest: asks the server to switch to TLS. The server answers with the single byte `S`
 * (go ahead) or `N` (no).
 */
export function sslRequest(): Buffer {
  return serialize.requestSsl();
}

/**
 * GSSENCRequest: asks the server to switch to GSSAPI encryption. The server answers with the
 * single byte `G` or `N`.
 */
export function gssEncRequest(): Buffer {
  const bytes = Buffer.allocUnsafe(8);
  bytes.writeInt32BE(8, 0);
  bytes.writeInt32BE(80877104, 4);
  return bytes;
}

/**
 * CancelRequest, sent on a new connection in place of a StartupMessage, with the values of the
 * session's BackendKeyData.
 *
 * Errors: a RangeError if either number is not an int32.
 */
export function cancelRequest(processId: number, secretKey: number): Buffer {
  checkInt32(processId, 'processId');
  checkInt32(secretKey, 'secretKey');
  return serialize.cancel(processId, secretKey);
}

/**
 * StartupMessage for protocol 3.0 with the given parameters, in their property order: `user`
 * (required), `database`, `options` (see {@link encodeStartupOptions}), `replication`,
 * `_pq_.*` protocol options and any run-time parameter (`application_name`, `TimeZone`, ...).
 * Nothing is added: no `client_encoding` unless given.
 *
 * Errors: an Error if `user` is missing or empty, a name is empty, a name or value contains a
 * NUL byte or is not a string, or the message would exceed the server's 10000-byte limit.
 */
export function startupMessage(parameters: Readonly<Record<string, string>>): Buffer {
  if (typeof parameters.user !== 'string' || parameters.user === '') {
    throw new Error('the StartupMessage needs a non-empty user');
  }
  const names = Object.keys(parameters);
  let size = 4 + 4 + 1;
  for (const name of names) {
    const value: unknown = parameters[name];
    if (name === '') throw new Error('a StartupMessage parameter name must not be empty');
    if (name.includes('\0')) throw new Error(`the StartupMessage parameter name ${JSON.stringify(name)} contains a NUL byte`);
    if (typeof value !== 'string') throw new Error(`the StartupMessage parameter ${name} must be a string`);
    if (value.includes('\0')) throw new Error(`the value of the StartupMessage parameter ${name} contains a NUL byte`);
    size += Buffer.byteLength(name) + 1 + Buffer.byteLength(value) + 1;
  }
  if (size > maxStartupMessageSize) {
    throw new Error(`the StartupMessage would be ${size} bytes; the server accepts at most ${maxStartupMessageSize}`);
  }
  const bytes = Buffer.allocUnsafe(size);
  bytes.writeInt32BE(size, 0);
  bytes.writeInt32BE(protocolVersion30, 4);
  let at = 8;
  for (const name of names) {
    at = writeCString(bytes, at, name);
    at = writeCString(bytes, at, parameters[name]!);
  }
  bytes[at] = 0;
  return bytes;
}

/**
 * The value of the `options` startup parameter for a list of command-line arguments, escaped
 * as libpq does: each whitespace character and backslash inside an argument is preceded by a
 * backslash, and the arguments are joined by single spaces. The server splits the value back
 * into exactly these arguments.
 *
 * @example
 * encodeStartupOptions(['-c', "application_name='a b'"]) // "-c application_name='a\\ b'"
 *
 * Errors: an Error if an argument is empty or contains a NUL byte.
 */
export function encodeStartupOptions(args: readonly string[]): string {
  return args
    .map((arg) => {
      if (arg === '') throw new Error('an argument of the startup options must not be empty');
      if (arg.includes('\0')) throw new Error('an argument of the startup options contains a NUL byte');
      return arg.replace(/[ \t\n\v\f\r\\]/g, '\\$&');
    })
    .join(' ');
}

/**
 * PasswordMessage with a NUL-terminated password: the clear-text password, or the
 * `md5...` hash for MD5 authentication.
 *
 * Errors: an Error if the password contains a NUL byte; a RangeError if the message would
 * exceed 1 GiB - 1 bytes.
 */
export function passwordMessage(password: string): Buffer {
  checkNoNul(password, 'the password');
  checkTextMessage('PasswordMessage', password, 4 + 1);
  return serialize.password(password);
}

/**
 * GSSResponse (a PasswordMessage `p` whose body is raw bytes, with no terminator): a GSSAPI or
 * SSPI token, such as the seed's `gss_krb_token`. A string is sent as its UTF-8 bytes.
 *
 * Errors: a RangeError if the message would exceed 1 GiB - 1 bytes.
 */
export function gssResponse(data: Uint8Array | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const bytes = allocateMessage(0x70, body.length, 'GSSResponse');
  bytes.set(body, 5);
  return bytes;
}

/**
 * SASLInitialResponse: the chosen mechanism (e.g. `SCRAM-SHA-256`) and its initial response
 * (for SCRAM, the client-first-message). `null` sends no initial response (length -1).
 *
 * Errors: an Error if the mechanism name contains a NUL byte; a RangeError if the message
 * would exceed 1 GiB - 1 bytes.
 */
export function saslInitialResponse(mechanism: string, data: Uint8Array | null): Buffer {
  checkNoNul(mechanism, 'the SASL mechanism name');
  const bytes = allocateMessage(0x70, Buffer.byteLength(mechanism) + 1 + 4 + (data?.length ?? 0), 'SASLInitialResponse');
  const at = writeCString(bytes, 5, mechanism);
  bytes.writeInt32BE(data === null ? -1 : data.length, at);
  if (data !== null) bytes.set(data, at + 4);
  return bytes;
}

/**
 * SASLResponse: the mechanism's next message (for SCRAM, the client-final-message).
 *
 * Errors: a RangeError if the message would exceed 1 GiB - 1 bytes.
 */
export function saslResponse(data: Uint8Array): Buffer {
  const bytes = allocateMessage(0x70, data.length, 'SASLResponse');
  bytes.set(data, 5);
  return bytes;
}

/**
 * Query: runs `sql` with the simple query protocol (it may hold several statements).
 *
 * Errors: an Error if `sql` contains a NUL byte; a RangeError if the message would exceed
 * 1 GiB - 1 bytes.
 */
export function query(sql: string): Buffer {
  checkNoNul(sql, 'the query text');
  checkTextMessage('Query', sql, 4 + 1);
  return serialize.query(sql);
}

/** Options of {@link parse}. */
export interface ParseOptions {
  /** The prepared statement's name; '' (the default) is the unnamed statement. */
  readonly statement?: string;
  /**
   * Type OIDs of the parameters, in order; 0 or a missing entry lets the server infer the type.
   * Default: none.
   */
  readonly parameterTypeIds?: readonly number[];
}

/**
 * Parse: prepares `sql` (one statement, with `$1`, `$2`, ... placeholders) as a statement.
 *
 * Errors: an Error if `sql` or the name contains a NUL byte; a RangeError for more than 65535
 * type OIDs, an OID that is not a uint32, or a message that would exceed 1 GiB - 1 bytes.
 */
export function parse(sql: string, options: ParseOptions = {}): Buffer {
  const statement = options.statement ?? '';
  const types = options.parameterTypeIds ?? [];
  checkNoNul(sql, 'the query text');
  checkNoNul(statement, 'the statement name');
  checkParameterCount(types.length, 'parameter types');
  const statementSize = Buffer.byteLength(statement) + 1;
  const sqlSize = Buffer.byteLength(sql) + 1;
  const bytes = allocateMessage(0x50, statementSize + sqlSize + 2 + 4 * types.length, 'Parse');
  let at = writeCString(bytes, 5, statement);
  at = writeCString(bytes, at, sql);
  at = bytes.writeUInt16BE(types.length, at);
  for (const oid of types) at = bytes.writeUInt32BE(oid, at);
  return bytes;
}

/** A parameter value for {@link bind}. */
export type BindParameter = string | Uint8Array | null;

/** Options of {@link bind}. */
export interface BindOptions {
  /** The destination portal; '' (the default) is the unnamed portal. */
  readonly portal?: string;
  /** The source prepared statement; '' (the default) is the unnamed statement. */
  readonly statement?: string;
  /**
   * The format of each parameter, in order. Default: text (0) for strings and nulls, binary (1)
   * for Uint8Arrays. A Uint8Array given format 0 is sent as the text's UTF-8 bytes.
   */
  readonly parameterFormats?: readonly FormatCode[];
  /**
   * The result column formats: none (the default) means all text, one applies to every column,
   * otherwise one per column.
   */
  readonly resultFormats?: readonly FormatCode[];
}

/**
 * Bind: binds parameter values to a prepared statement, making a portal. Strings are sent as
 * their UTF-8 bytes, `null` as SQL NULL, Uint8Arrays as they are.
 *
 * Errors: an Error if a name contains a NUL byte; a RangeError for more than 65535 parameters
 * or format codes, for `parameterFormats` of another length than the parameters, or for a
 * message that would exceed 1 GiB - 1 bytes (the server's limit; the error says how large it
 * would be, never a value). A string's size is at least its length, so a message that is too
 * large by that count alone is refused without measuring the strings.
 */
export function bind(parameters: readonly BindParameter[], options: BindOptions = {}): Buffer {
  const portal = options.portal ?? '';
  const statement = options.statement ?? '';
  const resultFormats = options.resultFormats ?? [];
  checkNoNul(portal, 'the portal name');
  checkNoNul(statement, 'the statement name');
  checkParameterCount(parameters.length);
  checkParameterCount(resultFormats.length, 'result formats');
  const count = parameters.length;
  let formats = options.parameterFormats;
  if (formats !== undefined && formats.length !== count) {
    throw new RangeError(`bind has ${count} parameters but ${formats.length} parameter formats`);
  }
  if (formats === undefined && parameters.some((value) => value instanceof Uint8Array)) {
    formats = parameters.map((value) => (value instanceof Uint8Array ? 1 : 0));
  }
  const formatCount = formats?.length ?? 0;
  let size =
    Buffer.byteLength(portal) + 1 + Buffer.byteLength(statement) + 1 + 2 + 2 * formatCount + 2 + 4 * count + 2 + 2 * resultFormats.length;
  // A string's UTF-8 size is at least its length, so a message too large by that count alone
  // is refused before any string is measured (which would flatten one built by concatenation).
  let atLeast = 4 + size;
  for (let i = 0; i < count; i++) atLeast += parameters[i]?.length ?? 0;
  if (atLeast > maxFrontendMessageLength) {
    throw messageTooLarge('Bind', atLeast, parameters.some((value) => typeof value === 'string') ? 'at least ' : '');
  }
  // Strings are measured once here and written with their known size below.
  const sizes = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const value = parameters[i]!;
    const valueSize = value === null ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.length;
    sizes[i] = valueSize;
    size += valueSize;
  }
  const bytes = allocateMessage(0x42, size, 'Bind');
  let at = writeCString(bytes, 5, portal);
  at = writeCString(bytes, at, statement);
  at = bytes.writeUInt16BE(formatCount, at);
  for (let i = 0; i < formatCount; i++) at = bytes.writeUInt16BE(formats![i]!, at);
  at = bytes.writeUInt16BE(count, at);
  for (let i = 0; i < count; i++) {
    const value = parameters[i]!;
    if (value === null) {
      at = bytes.writeInt32BE(-1, at);
    } else {
      at = bytes.writeInt32BE(sizes[i]!, at);
      if (typeof value === 'string') bytes.write(value, at, sizes[i]!, 'utf8');
      else bytes.set(value, at);
      at += sizes[i]!;
    }
  }
  at = bytes.writeUInt16BE(resultFormats.length, at);
  for (const format of resultFormats) at = bytes.writeUInt16BE(format, at);
  return bytes;
}

/**
 * The most parameters one statement can take: Bind counts them (and Parse its type OIDs) in an
 * int16. The one definition of the limit, checked by {@link checkParameterCount}.
 */
export const maxParameterCount = 0xffff;

/**
 * Checks a statement's parameter count against the protocol's limit (65535): the one check of
 * it, used by the encoders here and by the client before it encodes any value.
 *
 * Errors: a RangeError for more than 65535 parameters.
 *
 * @example
 * checkParameterCount(params.length);
 */
export function checkParameterCount(count: number, what = 'parameters'): void {
  if (count > maxParameterCount) throw new RangeError(`${count} ${what} are more than the protocol allows (${maxParameterCount})`);
}

/** Strings up to this length are measured and written byte by byte (no native call). */
const shortString = 32;

/**
 * The Bind message of one prepared statement with everything but the parameter values encoded
 * once: the portal and statement names and the result format codes. A cached statement keeps
 * one, so a request's Bind is this template plus its values, written into one buffer together
 * with what follows it (Execute and Sync), with no options object, no format array and no
 * per-request measuring of the names.
 *
 * @example
 * const template = new BindTemplate({ statement: 'rxpg_1', resultFormats: [1, 0] });
 * channel.write(template.encode(['42', null], executeSync));
 */
export class BindTemplate {
  /** Type byte, a length placeholder, the portal and statement names (NUL-terminated). */
  readonly #head: Buffer;
  /** The result format count and codes. */
  readonly #tail: Buffer;
  readonly #options: BindOptions;

  /**
   * Errors: an Error if a name contains a NUL byte; a RangeError for more than 65535 result
   * format codes.
   *
   * @param options the portal ('' by default), the statement ('' by default) and the result
   *   formats: none (all text), one for every column, or one per column (parameterFormats is
   *   ignored: each encode derives it from its values).
   */
  constructor(options: Omit<BindOptions, 'parameterFormats'> = {}) {
    const portal = options.portal ?? '';
    const statement = options.statement ?? '';
    const resultFormats = options.resultFormats ?? [];
    checkNoNul(portal, 'the portal name');
    checkNoNul(statement, 'the statement name');
    checkParameterCount(resultFormats.length, 'result formats');
    this.#options = { portal, statement, resultFormats };
    const head = Buffer.allocUnsafe(5 + Buffer.byteLength(portal) + 1 + Buffer.byteLength(statement) + 1);
    head[0] = 0x42;
    writeCString(head, writeCString(head, 5, portal), statement);
    this.#head = head;
    const tail = Buffer.allocUnsafe(2 + 2 * resultFormats.length);
    let at = tail.writeUInt16BE(resultFormats.length, 0);
    for (const format of resultFormats) at = tail.writeUInt16BE(format, at);
    this.#tail = tail;
  }

  /**
   * The Bind message for `parameters` (strings as UTF-8 text, `null` as SQL NULL, Uint8Arrays
   * as binary), followed in the same buffer by `suffix` (e.g. Execute and Sync) if given.
   *
   * Errors: as {@link bind}: a RangeError for more than 65535 parameters or a message over
   * 1 GiB - 1 bytes (nothing is encoded).
   */
  encode(parameters: readonly BindParameter[], suffix?: Uint8Array): Buffer {
    const count = parameters.length;
    checkParameterCount(count);
    const head = this.#head;
    const tail = this.#tail;
    // As in bind: a string's UTF-8 size is at least its length, so a message too large by that
    // count alone is refused (by bind, which says how large) before any string is measured.
    let valueBytes = 0;
    let binary = false;
    for (let i = 0; i < count; i++) {
      const value = parameters[i]!;
      if (value === null) continue;
      valueBytes += value.length;
      if (typeof value !== 'string') binary = true;
    }
    const fixedSize = head.length + 2 + (binary ? 2 * count : 0) + 2 + 4 * count + tail.length;
    if (fixedSize - 1 + valueBytes > maxFrontendMessageLength) bind(parameters, this.#options);
    for (let i = 0; i < count; i++) {
      const value = parameters[i]!;
      if (typeof value === 'string' && !(value.length <= shortString && isAscii(value)))
        valueBytes += Buffer.byteLength(value) - value.length;
    }
    const bindSize = fixedSize + valueBytes;
    if (bindSize - 1 > maxFrontendMessageLength) bind(parameters, this.#options);
    const bytes = Buffer.allocUnsafe(bindSize + (suffix?.length ?? 0));
    head.copy(bytes, 0);
    writeInt32(bytes, 1, bindSize - 1);
    let at = head.length;
    if (binary) {
      at = writeInt16(bytes, at, count);
      for (let i = 0; i < count; i++) at = writeInt16(bytes, at, parameters[i] instanceof Uint8Array ? 1 : 0);
    } else {
      at = writeInt16(bytes, at, 0);
    }
    at = writeInt16(bytes, at, count);
    for (let i = 0; i < count; i++) {
      const value = parameters[i]!;
      if (value === null) {
        at = writeInt32(bytes, at, -1);
        continue;
      }
      let size: number;
      if (typeof value !== 'string') {
        bytes.set(value, at + 4);
        size = value.length;
      } else if (value.length <= shortString && isAscii(value)) {
        size = value.length;
        for (let j = 0; j < size; j++) bytes[at + 4 + j] = value.charCodeAt(j);
      } else {
        size = bytes.write(value, at + 4, 'utf8');
      }
      writeInt32(bytes, at, size);
      at += 4 + size;
    }
    at += tail.copy(bytes, at);
    if (suffix !== undefined) bytes.set(suffix, at);
    return bytes;
  }
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

function writeInt16(bytes: Buffer, at: number, value: number): number {
  bytes[at] = value >>> 8;
  bytes[at + 1] = value;
  return at + 2;
}

function writeInt32(bytes: Buffer, at: number, value: number): number {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
  return at + 4;
}

/**
 * Describe: asks for the description of a prepared statement (ParameterDescription, then
 * RowDescription or NoData) or of a portal (RowDescription or NoData).
 *
 * Errors: an Error if the name contains a NUL byte; a RangeError if the message would exceed
 * 1 GiB - 1 bytes.
 */
export function describe(target: 'statement' | 'portal', name = ''): Buffer {
  checkNoNul(name, `the ${target} name`);
  checkTextMessage('Describe', name, 4 + 1 + 1);
  return serialize.describe({ type: target === 'statement' ? 'S' : 'P', name });
}

/**
 * Execute: runs a portal. `maxRows` 0 (the default) returns every row; otherwise the server
 * stops after that many rows with PortalSuspended.
 *
 * Errors: an Error if the portal name contains a NUL byte; a RangeError if `maxRows` is not an
 * integer from 0 to 2^31 - 1 or the message would exceed 1 GiB - 1 bytes.
 */
export function execute(portal = '', maxRows = 0): Buffer {
  checkNoNul(portal, 'the portal name');
  checkTextMessage('Execute', portal, 4 + 1 + 4);
  if (!Number.isInteger(maxRows) || maxRows < 0 || maxRows > maxInt32) {
    throw new RangeError(`maxRows must be an integer from 0 to ${maxInt32}, not ${maxRows}`);
  }
  return serialize.execute({ portal, rows: maxRows });
}

/**
 * Close: closes a prepared statement or a portal. The server answers with CloseComplete,
 * even if there was nothing of that name.
 *
 * Errors: an Error if the name contains a NUL byte; a RangeError if the message would exceed
 * 1 GiB - 1 bytes.
 */
export function close(target: 'statement' | 'portal', name = ''): Buffer {
  checkNoNul(name, `the ${target} name`);
  checkTextMessage('Close', name, 4 + 1 + 1);
  return serialize.close({ type: target === 'statement' ? 'S' : 'P', name });
}

/** Sync: ends an extended-protocol request; the server answers with ReadyForQuery. */
export function sync(): Buffer {
  return serialize.sync();
}

/** Flush: asks the server to send what it has produced so far, without a ReadyForQuery. */
export function flush(): Buffer {
  return serialize.flush();
}

/**
 * CopyData: a piece of COPY FROM STDIN data (copied into the message).
 *
 * Errors: a RangeError if the message would exceed 1 GiB - 1 bytes.
 */
export function copyData(data: Uint8Array): Buffer {
  const bytes = allocateMessage(0x64, data.length, 'CopyData');
  bytes.set(data, 5);
  return bytes;
}

/**
 * The 5-byte header of a CopyData message carrying `length` bytes: written before the data
 * itself, it spares copying large COPY chunks into a new message buffer.
 *
 * Errors: a RangeError if the message would exceed 1 GiB - 1 bytes.
 */
export function copyDataHeader(length: number): Buffer {
  checkMessageLength('CopyData', 4 + length);
  const header = Buffer.allocUnsafe(5);
  header[0] = 0x64;
  header.writeInt32BE(4 + length, 1);
  return header;
}

/** CopyDone: the end of COPY FROM STDIN data. */
export function copyDone(): Buffer {
  return serialize.copyDone();
}

/**
 * CopyFail: aborts COPY FROM STDIN; the server fails the COPY with an error that quotes
 * `reason`, and nothing is copied.
 *
 * Errors: an Error if the reason contains a NUL byte; a RangeError if the message would exceed
 * 1 GiB - 1 bytes.
 */
export function copyFail(reason: string): Buffer {
  checkNoNul(reason, 'the CopyFail reason');
  checkTextMessage('CopyFail', reason, 4 + 1);
  return serialize.copyFail(reason);
}

/** Terminate: ends the session; the server closes the connection without answering. */
export function terminate(): Buffer {
  return serialize.end();
}

/**
 * A message with type byte `type`, its length, and room for a body of `bodySize` bytes at
 * offset 5. `name` names the message in the error for one the server would refuse.
 */
function allocateMessage(type: number, bodySize: number, name: string): Buffer {
  checkMessageLength(name, 4 + bodySize);
  const bytes = Buffer.allocUnsafe(5 + bodySize);
  bytes[0] = type;
  bytes.writeInt32BE(4 + bodySize, 1);
  return bytes;
}

/** Writes `text` and a NUL at `at`; returns the offset after the NUL. */
function writeCString(bytes: Buffer, at: number, text: string): number {
  at += bytes.write(text, at, 'utf8');
  bytes[at] = 0;
  return at + 1;
}

/**
 * Checks that text can travel in a protocol string (a C string: no NUL byte inside).
 *
 * Errors: an Error naming `what`, e.g. "the query text contains a NUL byte, ...".
 *
 * @example
 * checkNoNul(sql, 'the query text');
 */
export function checkNoNul(text: string, what: string): void {
  if (text.includes('\0')) throw new Error(`${what} contains a NUL byte, which the protocol cannot send`);
}

/**
 * Throws the RangeError for a message whose length field would be `length` when the server
 * would refuse it.
 */
function checkMessageLength(name: string, length: number): void {
  if (length > maxFrontendMessageLength) throw messageTooLarge(name, length, '');
}

/**
 * Checks the size of a message that carries `text` as UTF-8 plus `otherBytes` (its length
 * field, NUL terminators and fixed fields). Text short enough to fit at 3 bytes per UTF-16
 * code unit is not measured, so ordinary messages pay nothing.
 */
function checkTextMessage(name: string, text: string, otherBytes: number): void {
  if (otherBytes + 3 * text.length <= maxFrontendMessageLength) return;
  checkMessageLength(name, otherBytes + Buffer.byteLength(text));
}

/** The RangeError for a message of length field `length` (`bound` is '' or 'at least '). */
function messageTooLarge(name: string, length: number, bound: string): RangeError {
  return new RangeError(
    `the ${name} message would be ${bound}${length + 1} bytes; the server accepts at most ${maxFrontendMessageLength + 1} (1 GiB - 1), so it was not sent`,
  );
}

function checkInt32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < -0x80000000 || value > maxInt32) {
    throw new RangeError(`${what} must be an int32, not ${value}`);
  }
}
