// Builders of the exact bytes a PostgreSQL server sends, for unit specs and for fake servers in
// integration specs. Each returns one complete message (type byte, int32 length, body) as a
// new Buffer; concatenate them with Buffer.concat. They are written from the PostgreSQL docs
// ("Message Formats") and share no code with lib/wire, so that a spec compares two independent
// readings of the protocol.

/** A field of a RowDescription, for {@link rowDescription}; only `name` is required. */
export interface ColumnSpec {
  readonly name: string;
  /** Default 0 (not a table column). */
  readonly tableId?: number;
  /** Default 0. */
  readonly columnId?: number;
  /** Default 25 (text). */
  readonly dataTypeId?: number;
  /** Default -1 (variable width). */
  readonly dataTypeSize?: number;
  /** Default -1. */
  readonly dataTypeModifier?: number;
  /** Default 0 (text). */
  readonly format?: number;
}

/**
 * Any message: `type` (one character or a byte value), then the length, then `body`.
 * `declaredLength` overrides the length field, for malformed frames.
 */
export function frame(type: string | number, body: Uint8Array | readonly number[] = [], declaredLength?: number): Buffer {
  const bodyBytes = Buffer.from(body instanceof Uint8Array ? body : Uint8Array.from(body));
  const header = Buffer.alloc(5);
  header[0] = typeof type === 'number' ? type : type.charCodeAt(0);
  header.writeUInt32BE(declaredLength ?? bodyBytes.length + 4, 1);
  return Buffer.concat([header, bodyBytes]);
}

/** Big-endian int16 bytes. */
export function int16(value: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeInt16BE(value);
  return bytes;
}

/** Big-endian int32 bytes (accepts the uint32 range too, for OIDs). */
export function int32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  if (value > 0x7fffffff) bytes.writeUInt32BE(value);
  else bytes.writeInt32BE(value);
  return bytes;
}

/** A NUL-terminated UTF-8 string. */
export function cstring(text: string): Buffer {
  return Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from([0])]);
}

const body = (...parts: Uint8Array[]): Buffer => Buffer.concat(parts);

/** AuthenticationOk (`R`, code 0). */
export function authenticationOk(): Buffer {
  return authenticationCode(0);
}

/** AuthenticationMD5Password (`R`, code 5) with a 4-byte salt. */
export function authenticationMD5Password(salt: Uint8Array): Buffer {
  return authenticationCode(5, salt);
}

/**
 * An Authentication message with any code and data: 2 KerberosV5, 3 CleartextPassword,
 * 6 SCMCredential, 7 GSS, 8 GSSContinue (data), 9 SSPI, or anything invalid.
 */
export function authenticationCode(code: number, extra: Uint8Array = Buffer.alloc(0)): Buffer {
  return frame('R', body(int32(code), extra));
}

/** AuthenticationSASL (`R`, code 10) listing mechanisms. */
export function authenticationSASL(mechanisms: readonly string[]): Buffer {
  return authenticationCode(10, body(...mechanisms.map(cstring), Buffer.from([0])));
}

/** AuthenticationSASLContinue (`R`, code 11). */
export function authenticationSASLContinue(data: string): Buffer {
  return authenticationCode(11, Buffer.from(data, 'utf8'));
}

/** AuthenticationSASLFinal (`R`, code 12). */
export function authenticationSASLFinal(data: string): Buffer {
  return authenticationCode(12, Buffer.from(data, 'utf8'));
}

/** BackendKeyData (`K`). */
export function backendKeyData(processId: number, secretKey: number): Buffer {
  return frame('K', body(int32(processId), int32(secretKey)));
}

/** ParameterStatus (`S`). */
export function parameterStatus(name: string, value: string): Buffer {
  return frame('S', body(cstring(name), cstring(value)));
}

/** ReadyForQuery (`Z`). */
export function readyForQuery(status: 'I' | 'T' | 'E' = 'I'): Buffer {
  return frame('Z', Buffer.from(status, 'latin1'));
}

function fieldList(fields: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [];
  for (const [code, value] of Object.entries(fields)) parts.push(Buffer.from(code, 'latin1'), cstring(value));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** ErrorResponse (`E`) with fields by one-letter code, in the given order, e.g. `{ S: 'ERROR', C: '42601', M: '...' }`. */
export function errorResponse(fields: Readonly<Record<string, string>>): Buffer {
  return frame('E', fieldList(fields));
}

/** NoticeResponse (`N`), fields as for {@link errorResponse}. */
export function noticeResponse(fields: Readonly<Record<string, string>>): Buffer {
  return frame('N', fieldList(fields));
}

/** NotificationResponse (`A`). */
export function notificationResponse(processId: number, channel: string, payload: string): Buffer {
  return frame('A', body(int32(processId), cstring(channel), cstring(payload)));
}

/** RowDescription (`T`); a string is a text column of that name. */
export function rowDescription(columns: readonly (string | ColumnSpec)[]): Buffer {
  const parts: Buffer[] = [int16(columns.length)];
  for (const column of columns) {
    const spec: ColumnSpec = typeof column === 'string' ? { name: column } : column;
    parts.push(
      cstring(spec.name),
      int32(spec.tableId ?? 0),
      int16(spec.columnId ?? 0),
      int32(spec.dataTypeId ?? 25),
      int16(spec.dataTypeSize ?? -1),
      int32(spec.dataTypeModifier ?? -1),
      int16(spec.format ?? 0),
    );
  }
  return frame('T', Buffer.concat(parts));
}

/** DataRow (`D`); strings are sent as UTF-8, null as SQL NULL. */
export function dataRow(values: readonly (string | Uint8Array | null)[]): Buffer {
  const parts: Buffer[] = [int16(values.length)];
  for (const value of values) {
    if (value === null) {
      parts.push(int32(-1));
    } else {
      const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
      parts.push(int32(bytes.length), bytes);
    }
  }
  return frame('D', Buffer.concat(parts));
}

/** CommandComplete (`C`). */
export function commandComplete(tag: string): Buffer {
  return frame('C', cstring(tag));
}

/** ParameterDescription (`t`). */
export function parameterDescription(dataTypeIds: readonly number[]): Buffer {
  return frame('t', body(int16(dataTypeIds.length), ...dataTypeIds.map(int32)));
}

/** ParseComplete (`1`). */
export function parseComplete(): Buffer {
  return frame('1');
}

/** BindComplete (`2`). */
export function bindComplete(): Buffer {
  return frame('2');
}

/** CloseComplete (`3`). */
export function closeComplete(): Buffer {
  return frame('3');
}

/** NoData (`n`). */
export function noData(): Buffer {
  return frame('n');
}

/** EmptyQueryResponse (`I`). */
export function emptyQueryResponse(): Buffer {
  return frame('I');
}

/** PortalSuspended (`s`). */
export function portalSuspended(): Buffer {
  return frame('s');
}

function copyResponse(type: string, columnFormats: readonly number[], format: number): Buffer {
  return frame(type, body(Buffer.from([format]), int16(columnFormats.length), ...columnFormats.map(int16)));
}

/** CopyInResponse (`G`): overall `format` 0 (text) or 1 (binary), one format per column. */
export function copyInResponse(columnFormats: readonly number[] = [], format = 0): Buffer {
  return copyResponse('G', columnFormats, format);
}

/** CopyOutResponse (`H`), as {@link copyInResponse}. */
export function copyOutResponse(columnFormats: readonly number[] = [], format = 0): Buffer {
  return copyResponse('H', columnFormats, format);
}

/** CopyBothResponse (`W`), as {@link copyInResponse}. */
export function copyBothResponse(columnFormats: readonly number[] = [], format = 0): Buffer {
  return copyResponse('W', columnFormats, format);
}

/** CopyData (`d`); a string is sent as UTF-8. */
export function copyData(data: Uint8Array | string): Buffer {
  return frame('d', typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
}

/** CopyDone (`c`). */
export function copyDone(): Buffer {
  return frame('c');
}

/** FunctionCallResponse (`V`); null is SQL NULL. */
export function functionCallResponse(result: Uint8Array | null): Buffer {
  return frame('V', result === null ? int32(-1) : body(int32(result.length), result));
}

/** NegotiateProtocolVersion (`v`). */
export function negotiateProtocolVersion(newestMinorVersion: number, unrecognizedOptions: readonly string[] = []): Buffer {
  return frame('v', body(int32(newestMinorVersion), int32(unrecognizedOptions.length), ...unrecognizedOptions.map(cstring)));
}

/** What {@link acceptLogin} sends. */
export interface AcceptLoginOptions {
  readonly processId?: number;
  readonly secretKey?: number;
  /** ParameterStatus messages; default a few that a real server reports. */
  readonly parameters?: Readonly<Record<string, string>>;
}

/**
 * What a server sends after a StartupMessage under trust authentication: AuthenticationOk,
 * ParameterStatus for each parameter, BackendKeyData, ReadyForQuery (idle).
 */
export function acceptLogin(options: AcceptLoginOptions = {}): Buffer {
  const parameters = options.parameters ?? {
    server_version: '16.0',
    server_encoding: 'UTF8',
    client_encoding: 'UTF8',
    DateStyle: 'ISO, MDY',
    integer_datetimes: 'on',
    standard_conforming_strings: 'on',
    TimeZone: 'UTC',
  };
  return Buffer.concat([
    authenticationOk(),
    ...Object.entries(parameters).map(([name, value]) => parameterStatus(name, value)),
    backendKeyData(options.processId ?? 4242, options.secretKey ?? 0x5eed),
    readyForQuery('I'),
  ]);
}

/**
 * A server's whole reply to a one-row, one-column SELECT with an unnamed statement (extended
 * protocol): ParseComplete, BindComplete, RowDescription, DataRow, CommandComplete `SELECT 1`,
 * ReadyForQuery (idle).
 *
 * @example
 * transport.push(selectOneRowReply('v', '42'));
 */
export function selectOneRowReply(column = 'n', value = '1'): Buffer {
  return Buffer.concat([
    parseComplete(),
    bindComplete(),
    rowDescription([column]),
    dataRow([value]),
    commandComplete('SELECT 1'),
    readyForQuery('I'),
  ]);
}
