import type { ObservableInput } from 'rxjs';
import { PostgresError, ProtocolError, QueryShapeError, type ConnectionError } from '../errors';
import { bind, copyFail, describe, execute, parse, sync, type BackendMessage, type BindParameter, type FieldDescription } from '../wire';
import { deliveringPushback, type Conversation, type ConversationChannel } from './conversation';
import type { CachedStatement, StatementCache } from './statement-cache';

/**
 * How a request uses the statement cache: `unnamed` (no cache); `leader` parses and describes
 * the named statement for everyone after it; `follower` binds the named statement whose Parse
 * is still in flight, and describes the portal; `cached` binds a ready statement: no Parse,
 * no Describe, the columns come from the cache.
 */
type StatementUse = 'unnamed' | 'leader' | 'follower' | 'cached';

/** Execute (unnamed portal, all rows) and Sync: the same bytes for every request. */
const executeSync = Buffer.concat([execute(), sync()]);
/** Describe (unnamed portal), Execute and Sync. */
const describeExecuteSync = Buffer.concat([describe('portal'), execute(), sync()]);

/** The columns of a statement without rows (NoData), shared so its row builders are too. */
const noFields: readonly FieldDescription[] = Object.freeze([]);

/** SQLSTATEs after which a cached statement is no longer usable. */
const staleStatementCodes = new Set(['26000', '0A000']);

/** Receives what an extended-protocol query produces, in order. */
export interface QuerySink {
  /** The columns (RowDescription), or none (NoData); always before the first row. */
  fields(fields: readonly FieldDescription[]): void;
  /** One DataRow's text values (`null` for NULL). The array is the sink's to keep. */
  row(values: (string | null)[]): void;
  /** The statement finished: its CommandComplete tag (`''` for an empty query). */
  complete(tag: string): void;
  /** A PostgresError for the statement, or a QueryShapeError for COPY through a query. */
  error(error: Error): void;
  /** postgres_async's pushback: while what it returns is pending, the socket is paused. */
  pushback?(): ObservableInput<unknown> | void;
}

/**
 * One statement through the extended query protocol: Parse (unnamed statement), Bind
 * (unnamed portal; Uint8Array parameters as binary, others as text), Describe (portal),
 * Execute (all rows), Sync — one write, its own Sync, so a failure never poisons the
 * requests pipelined behind it.
 *
 * Errors reach the sink at ReadyForQuery, when the connection is back in sync. COPY through
 * a query is refused as postgres_async does: CopyInResponse is answered with CopyFail and a
 * Sync (the server ignores the Sync sent during COPY IN), CopyOut data is discarded.
 */
export class ExtendedQueryConversation implements Conversation {
  readonly exclusive: boolean;
  readonly #sql: string;
  /** The frontend messages, written one after the other (the transport joins a tick's writes). */
  readonly #frames: readonly Buffer[];
  readonly #parameterCount: number;
  readonly #sink: QuerySink;
  readonly #statements: StatementCache | undefined;
  readonly #use: StatementUse;
  /** The cache entry of a leader, follower or cached use. */
  readonly #entry: CachedStatement | undefined;
  #tag = '';
  #parsed = false;
  #error: Error | undefined;
  #detached = false;
  #ended = false;

  /**
   * Throws (synchronously, before anything is written) when the SQL contains a NUL byte or
   * there are more parameters than the protocol allows; callers turn that into an error
   * notification.
   */
  constructor(
    sql: string,
    parameters: readonly BindParameter[],
    sink: QuerySink,
    options: { readonly exclusive?: boolean; readonly statements?: StatementCache } = {},
  ) {
    this.#sql = sql;
    this.#sink = sink;
    this.#parameterCount = parameters.length;
    this.exclusive = options.exclusive === true;
    const statements = options.exclusive === true ? undefined : options.statements;
    this.#statements = statements;
    const ready = statements?.lookup(sql);
    const preparing = ready === undefined ? statements?.preparing(sql) : undefined;
    if (ready !== undefined) {
      this.#use = 'cached';
      this.#entry = ready;
      this.#frames = [bind(parameters, { statement: ready.name }), executeSync];
    } else if (preparing !== undefined) {
      this.#use = 'follower';
      this.#entry = preparing;
      this.#frames = [bind(parameters, { statement: preparing.name }), describeExecuteSync];
    } else {
      // Build the unnamed form first: it validates the SQL and the parameters before anything is registered.
      const unnamed = [parse(sql), bind(parameters), describeExecuteSync];
      const entry = statements?.prepare(sql);
      this.#entry = entry;
      if (entry === undefined) {
        this.#use = 'unnamed';
        this.#frames = unnamed;
      } else {
        this.#use = 'leader';
        this.#frames = [parse(sql, { statement: entry.name }), bind(parameters, { statement: entry.name }), describeExecuteSync];
      }
    }
  }

  start(channel: ConversationChannel): void {
    const closes = this.#statements?.takeCloses();
    if (closes !== undefined) for (const close of closes) channel.write(close);
    for (const frame of this.#frames) channel.write(frame);
  }

  detach(): void {
    this.#detached = true;
  }

  pushback(): ObservableInput<unknown> | void {
    return deliveringPushback(this.#sink, !this.#detached && !this.#ended);
  }

  handle(message: BackendMessage, channel: ConversationChannel): boolean {
    switch (message.name) {
      case 'DataRow':
        if (!this.#detached) this.#sink.row(message.fields);
        return false;
      case 'ParseComplete':
        this.#parsed = true;
        return false;
      case 'CloseComplete':
        return false;
      case 'BindComplete':
        if (this.#use === 'cached' && !this.#detached) this.#sink.fields(this.#entry?.fields ?? []);
        return false;
      case 'RowDescription':
        if (this.#entry !== undefined && this.#use !== 'cached') this.#entry.fields = message.fields;
        if (!this.#detached) this.#sink.fields(message.fields);
        return false;
      case 'NoData':
        if (this.#entry !== undefined && this.#use !== 'cached') this.#entry.fields = noFields;
        if (!this.#detached) this.#sink.fields(noFields);
        return false;
      case 'CommandComplete':
        this.#tag = message.tag;
        if (message.tag === 'DISCARD ALL' || message.tag === 'DEALLOCATE ALL') this.#statements?.clear();
        return false;
      case 'EmptyQueryResponse':
        this.#tag = '';
        return false;
      case 'ErrorResponse':
        this.#error ??= this.#statementError(new PostgresError(message.fields, { sql: this.#sql, parameterCount: this.#parameterCount }));
        return false;
      case 'CopyInResponse':
        this.#error ??= new QueryShapeError('COPY FROM STDIN cannot run through query(); use copyIn()', this.#sql);
        channel.write(Buffer.concat([copyFail('COPY FROM STDIN is not supported by query()'), sync()]));
        return false;
      case 'CopyOutResponse':
        this.#error ??= new QueryShapeError('COPY TO STDOUT cannot run through query(); use copyOut()', this.#sql);
        return false;
      case 'CopyData':
      case 'CopyDone':
        return false;
      case 'ReadyForQuery':
        this.#ended = true;
        if (!this.#detached) {
          if (this.#error !== undefined) this.#sink.error(this.#error);
          else this.#sink.complete(this.#tag);
        }
        return true;
      default:
        channel.failConnection(new ProtocolError(`unexpected ${message.name} in reply to an extended query`));
        return false;
    }
  }

  /**
   * Keeps the statement cache true to the server: a statement whose Parse failed, or that the
   * server no longer has or can no longer use (after DDL), is forgotten. Requests pipelined
   * behind a failed Parse report the leader's error rather than "statement does not exist".
   */
  #statementError(error: PostgresError): Error {
    const entry = this.#entry;
    if (entry === undefined || this.#statements === undefined) return error;
    if (this.#use === 'leader' && !this.#parsed) {
      entry.failure = error;
      this.#statements.forget(this.#sql, entry);
      return error;
    }
    if (error.code !== undefined && staleStatementCodes.has(error.code)) {
      this.#statements.forget(this.#sql, entry);
      if (this.#use === 'follower' && entry.failure !== undefined) return entry.failure;
    }
    return error;
  }

  fail(error: ConnectionError): void {
    if (this.#ended) return;
    this.#ended = true;
    // A FATAL ErrorResponse ends the connection without ReadyForQuery: report the server's
    // error for this statement rather than the connection loss it caused.
    if (!this.#detached) this.#sink.error(this.#error ?? error);
  }
}

/**
 * Whether SQL text is a COPY statement: its first keyword, after whitespace and comments, is
 * COPY. Such a statement runs exclusively (see Conversation.exclusive).
 */
export function startsWithCopy(sql: string): boolean {
  // The common case, decided by the first character: a letter other than c, e.g. SELECT.
  const first = sql.charCodeAt(0) | 0x20;
  if (first >= 0x61 && first <= 0x7a && first !== 0x63) return false;
  let i = 0;
  const n = sql.length;
  for (;;) {
    while (i < n && /\s/.test(sql[i])) i++;
    if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      if (end < 0) return false;
      i = end + 1;
      continue;
    }
    if (sql.startsWith('/*', i)) {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else i++;
      }
      continue;
    }
    break;
  }
  return /^copy\b/i.test(sql.slice(i, i + 5));
}
