import type {} from '../types/buffer-slices';
import type { ErrorFields } from '../errors';

/**
 * A format code as the protocol sends it: 0 for text, 1 for binary. rxpg asks for binary
 * results only for the columns of cached statements whose types have a built-in binary
 * decoder; a server may report binary formats elsewhere too (e.g. `COPY ... (FORMAT binary)`).
 */
export type FormatCode = 0 | 1;

/** The authentication succeeded (`R`, code 0). */
export interface AuthenticationOk {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'AuthenticationOk';
}

/** The server asks for Kerberos V5 authentication (`R`, code 2), which no supported server uses any more. */
export interface AuthenticationKerberosV5 {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'AuthenticationKerberosV5';
}

/** The server asks for the password in clear text (`R`, code 3). */
export interface AuthenticationCleartextPassword {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'AuthenticationCleartextPassword';
}

/** The server asks for an MD5-hashed password (`R`, code 5). */
export interface AuthenticationMD5Password {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'AuthenticationMD5Password';
  /** The 4-byte salt: a buffer of its own, safe to keep. */
  readonly salt: Buffer;
}

/** The server asks for an SCM credential message (`R`, code 6). */
export interface AuthenticationSCMCredential {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'AuthenticationSCMCredential';
}

/** The server asks for GSSAPI authentication (`R`, code 7). */
export interface AuthenticationGSS {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'AuthenticationGSS';
}

/** A step of a GSSAPI or SSPI exchange (`R`, code 8). */
export interface AuthenticationGSSContinue {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'AuthenticationGSSContinue';
  /** The GSSAPI or SSPI data: a buffer of its own, safe to keep. */
  readonly data: Buffer;
}

/** The server asks for SSPI authentication (`R`, code 9). */
export interface AuthenticationSSPI {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'AuthenticationSSPI';
}

/** The server asks for SASL authentication and lists its mechanisms (`R`, code 10). */
export interface AuthenticationSASL {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'AuthenticationSASL';
  /** The mechanisms, in the server's order of preference (e.g. `SCRAM-SHA-256`). */
  readonly mechanisms: string[];
}

/** A SASL challenge (`R`, code 11). */
export interface AuthenticationSASLContinue {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'AuthenticationSASLContinue';
  /** The mechanism's data, decoded as UTF-8 (SCRAM messages are ASCII). */
  readonly data: string;
}

/** The SASL outcome with the server's final data (`R`, code 12). */
export interface AuthenticationSASLFinal {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'AuthenticationSASLFinal';
  /** The mechanism's additional data, decoded as UTF-8 (for SCRAM, the server signature). */
  readonly data: string;
}

/** The key needed to send a CancelRequest for this session (`K`). */
export interface BackendKeyData {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'BackendKeyData';
  /** The backend's process ID; any int32 (poolers such as PgBouncer send random values). */
  readonly processId: number;
  /** The secret key; any int32. */
  readonly secretKey: number;
}

/** A Bind succeeded (`2`). */
export interface BindComplete {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'BindComplete';
}

/** A Close succeeded (`3`). */
export interface CloseComplete {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'CloseComplete';
}

/** A statement finished (`C`). */
export interface CommandComplete {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'CommandComplete';
  /** The command tag, e.g. `SELECT 3`, `INSERT 0 1`, `CREATE TABLE`. */
  readonly tag: string;
}

/** A piece of COPY data (`d`). */
export interface CopyData {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'CopyData';
  /** The data: a buffer of its own, never a view into a socket chunk, safe to keep. */
  readonly chunk: Buffer;
}

/** The end of a COPY OUT stream (`c`). */
export interface CopyDone {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'CopyDone';
}

/** The server is ready for COPY FROM STDIN data (`G`). */
export interface CopyInResponse {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'CopyInResponse';
  /** True for the binary COPY format, false for text or CSV. */
  readonly binary: boolean;
  /** One format code per column (all 0 unless `binary`). */
  readonly columnFormats: FormatCode[];
}

/** The server is about to send COPY TO STDOUT data (`H`). */
export interface CopyOutResponse {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'CopyOutResponse';
  /** True for the binary COPY format, false for text or CSV. */
  readonly binary: boolean;
  /** One format code per column (all 0 unless `binary`). */
  readonly columnFormats: FormatCode[];
}

/** A COPY in both directions begins (`W`; streaming replication only). */
export interface CopyBothResponse {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'CopyBothResponse';
  /** True for the binary COPY format. */
  readonly binary: boolean;
  /** One format code per column. */
  readonly columnFormats: FormatCode[];
}

/**
 * One row of a result (`D`), its values left as the bytes the server sent: nothing is decoded
 * (no string, no array is made) until the row builder — or {@link dataRowText} — reads a value.
 *
 * `bytes[start, end)` is the message's body, in the buffer it arrived in (usually a whole
 * socket chunk shared with the messages around it): a 16-bit value count, then for each value
 * a 32-bit length (-1 for SQL NULL) and that many bytes — UTF-8 text in the text format, the
 * type's binary representation in the binary format. The decoder has checked that the lengths
 * add up. Read the values while the message is handled; keeping the message keeps that whole
 * buffer alive (copy the values you keep, e.g. with {@link dataRowTexts}).
 *
 * @example
 * if (message.name === 'DataRow') console.log(dataRowTexts(message)); // ['1', null, 'two']
 */
export interface DataRow {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'DataRow';
  /** The buffer that holds the row (and often other messages too): read it, never write it. */
  readonly bytes: Buffer;
  /** Where the row's body (its value count) starts in `bytes`. */
  readonly start: number;
  /** Where the row's body ends in `bytes` (exclusive). */
  readonly end: number;
}

/**
 * The number of values in a {@link DataRow}.
 *
 * Errors: none.
 *
 * @example
 * dataRowLength(row) === fields.length
 */
export function dataRowLength(row: DataRow): number {
  return row.bytes.readUInt16BE(row.start);
}

/**
 * Value `index` of a {@link DataRow} as text (its bytes decoded as UTF-8), `null` for SQL NULL;
 * `undefined` when the row has no such value. Meant for text-format values; a binary value
 * gives a lossy UTF-8 reading of its bytes.
 *
 * Errors: none.
 *
 * @example
 * dataRowText(row, 0); // '42'
 */
export function dataRowText(row: DataRow, index: number): string | null | undefined {
  const { bytes } = row;
  if (!Number.isInteger(index) || index < 0 || index >= dataRowLength(row)) return undefined;
  let at = row.start + 2;
  for (let i = 0; i < index; i++) at += 4 + Math.max(0, bytes.readInt32BE(at));
  const length = bytes.readInt32BE(at);
  return length < 0 ? null : bytes.toString('utf8', at + 4, at + 4 + length);
}

/**
 * Every value of a {@link DataRow} as text (as {@link dataRowText}), `null` for SQL NULL: the
 * row as the server printed it, in strings of their own.
 *
 * Errors: none.
 *
 * @example
 * dataRowTexts(row); // ['1', null, 'two']
 */
export function dataRowTexts(row: DataRow): (string | null)[] {
  const { bytes } = row;
  let at = row.start;
  const count = (bytes[at]! << 8) | bytes[at + 1]!;
  at += 2;
  const texts = new Array<string | null>(count);
  for (let i = 0; i < count; i++) {
    const length = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
    at += 4;
    if (length < 0) {
      texts[i] = null;
    } else {
      texts[i] = bytes.utf8Slice(at, at + length);
      at += length;
    }
  }
  return texts;
}

/** The query string was empty (`I`). */
export interface EmptyQueryResponse {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'EmptyQueryResponse';
}

/** The server reports an error (`E`). */
export interface ErrorResponse {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'ErrorResponse';
  /** Every field the server sent, including the non-localized severity (`V`). */
  readonly fields: ErrorFields;
}

/** The result of a FunctionCall (`V`). */
export interface FunctionCallResponse {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'FunctionCallResponse';
  /** The function's result (a buffer of its own), or `null` for SQL NULL. */
  readonly result: Buffer | null;
}

/**
 * The server does not support the requested minor protocol version or some `_pq_.` startup
 * options (`v`). It is sent, if at all, before any Authentication message.
 */
export interface NegotiateProtocolVersion {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'NegotiateProtocolVersion';
  /** The newest minor protocol version the server supports for the requested major version. */
  readonly newestMinorVersion: number;
  /** The `_pq_.` options the server did not recognize. */
  readonly unrecognizedOptions: string[];
}

/** The statement or portal described returns no rows (`n`). */
export interface NoData {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'NoData';
}

/** The server reports a warning or other notice (`N`). */
export interface NoticeResponse {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'NoticeResponse';
  /** Every field the server sent, including the non-localized severity (`V`). */
  readonly fields: ErrorFields;
}

/** A NOTIFY on a channel this session listens to (`A`). */
export interface NotificationResponse {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'NotificationResponse';
  /** The process ID of the notifying backend. */
  readonly processId: number;
  /** The channel name exactly as the server reports it. */
  readonly channel: string;
  /** The payload text; `''` when the NOTIFY had none. */
  readonly payload: string;
}

/** The parameter types of a described statement (`t`). */
export interface ParameterDescription {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'ParameterDescription';
  /** One type OID per parameter. */
  readonly dataTypeIds: number[];
}

/** A run-time parameter's current value (`S`), at startup and whenever a reported one changes. */
export interface ParameterStatus {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'ParameterStatus';
  /** The parameter's name, e.g. `TimeZone`. */
  readonly parameterName: string;
  /** Its current value, as text. */
  readonly parameterValue: string;
}

/** A Parse succeeded (`1`). */
export interface ParseComplete {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'ParseComplete';
}

/** An Execute stopped at its row limit; the portal can be executed again (`s`). */
export interface PortalSuspended {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'PortalSuspended';
}

/**
 * The server is ready for a new query cycle (`Z`). The transaction status is `I` (idle),
 * `T` (in a transaction block) or `E` (in a failed transaction block).
 */
export interface ReadyForQuery {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'ReadyForQuery';
  /** `I` idle, `T` in a transaction block, `E` in a failed transaction block. */
  readonly transactionStatus: 'I' | 'T' | 'E';
}

/** The description of one result column, inside a {@link RowDescription}. */
export interface FieldDescription {
  /** The column name (not unique: `SELECT 1 AS a, 2 AS a` has two `a`). */
  readonly name: string;
  /** The OID of the table the column comes from, or 0. */
  readonly tableId: number;
  /** The column's attribute number in that table, or 0. */
  readonly columnId: number;
  /** The OID of the column's data type. */
  readonly dataTypeId: number;
  /** The type's size (`pg_type.typlen`); negative for variable-width types. */
  readonly dataTypeSize: number;
  /** The type modifier (`pg_attribute.atttypmod`), e.g. a varchar's length + 4, or -1. */
  readonly dataTypeModifier: number;
  /** The format of the values in the DataRows that follow. */
  readonly format: FormatCode;
}

/** The columns of the rows that follow (`T`). */
export interface RowDescription {
  /** The message's discriminant, as {@link BackendMessage} is narrowed by. */
  readonly name: 'RowDescription';
  /** One description per column, in order. */
  readonly fields: FieldDescription[];
}

/**
 * Every message a PostgreSQL server sends in protocol 3.0, named as in the PostgreSQL docs
 * ("Message Formats"). TypeScript narrows it by `name`.
 *
 * Nothing in a message refers to the socket's buffers except a {@link DataRow}'s `bytes`:
 * every other Buffer is the message's own.
 *
 * @example
 * if (message.name === 'CommandComplete') use(message.tag);
 */
export type BackendMessage =
  | AuthenticationOk
  | AuthenticationKerberosV5
  | AuthenticationCleartextPassword
  | AuthenticationMD5Password
  | AuthenticationSCMCredential
  | AuthenticationGSS
  | AuthenticationGSSContinue
  | AuthenticationSSPI
  | AuthenticationSASL
  | AuthenticationSASLContinue
  | AuthenticationSASLFinal
  | BackendKeyData
  | BindComplete
  | CloseComplete
  | CommandComplete
  | CopyData
  | CopyDone
  | CopyInResponse
  | CopyOutResponse
  | CopyBothResponse
  | DataRow
  | EmptyQueryResponse
  | ErrorResponse
  | FunctionCallResponse
  | NegotiateProtocolVersion
  | NoData
  | NoticeResponse
  | NotificationResponse
  | ParameterDescription
  | ParameterStatus
  | ParseComplete
  | PortalSuspended
  | ReadyForQuery
  | RowDescription;

/** The `name` of every backend message. */
export type BackendMessageName = BackendMessage['name'];

/** The message type with the given name, e.g. `BackendMessageOf<'DataRow'>`. */
export type BackendMessageOf<Name extends BackendMessageName> = Extract<
  BackendMessage,
  {
    /** The name to match. */
    readonly name: Name;
  }
>;

/** The Authentication* messages (type byte `R`). */
export type AuthenticationMessage = Extract<
  BackendMessage,
  {
    /** Every name that starts with `Authentication`. */
    readonly name: `Authentication${string}`;
  }
>;

/**
 * The messages a server may send at any time, outside any request/response cycle
 * (PostgreSQL docs, "Asynchronous Operations").
 */
export type AsynchronousMessage = NoticeResponse | NotificationResponse | ParameterStatus;

/** Whether the message is one of the Authentication* requests (type byte `R`). */
export function isAuthenticationMessage(message: BackendMessage): message is AuthenticationMessage {
  return message.name.startsWith('Authentication');
}

/** Whether the message may arrive at any time: NoticeResponse, NotificationResponse, ParameterStatus. */
export function isAsynchronousMessage(message: BackendMessage): message is AsynchronousMessage {
  const { name } = message;
  return name === 'NoticeResponse' || name === 'NotificationResponse' || name === 'ParameterStatus';
}
