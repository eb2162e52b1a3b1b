import type { ObservableInput } from 'rxjs';
import { PostgresError, ProtocolError, QueryShapeError } from '../errors';
import { bind, checkNoNul, copyFail, describe, execute, parse, sync, type BackendMessage, type BindParameter, type FieldDescription } from '../wire';
import { deliveringPushback, type Conversation, type ConversationChannel } from './conversation';
import type { CachedStatement, StatementCache } from './statement-cache';

/**
 * How a request uses the statement cache, decided when it is written: `unnamed` (no cache)
 * parses the unnamed statement and describes the portal; `leader` parses the named statement
 * and describes it (before Bind, so its columns are known even if its own Bind fails) for
 * everyone after it; `named` binds a statement that is prepared or whose Parse is in flight
 * ahead of it: no Parse, no Describe, the columns come from the cache (the leader's
 * RowDescription has arrived by the time this request's BindComplete does).
 */
type StatementUse = 'unnamed' | 'leader' | 'named';

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
 * One statement through the extended query protocol, in one write with its own Sync, so a
 * failure never poisons the requests pipelined behind it: Parse, Describe, Bind (unnamed
 * portal; Uint8Array parameters as binary, others as text), Execute (all rows), Sync — or,
 * for a statement the connection has prepared, only Bind, Execute and Sync.
 *
 * The cache use is decided when the request is written, not when it is made: a request held
 * back (behind a COPY or a cancel) and dropped before it was written never leaves a statement
 * registered that the server does not have.
 *
 * Errors reach the sink at ReadyForQuery, when the connection is back in sync. COPY through
 * a query is refused as postgres_async does: CopyInResponse is answered with CopyFail and a
 * Sync (the server ignores the Sync sent during COPY IN), CopyOut data is discarded.
 */
export class ExtendedQueryConversation implements Conversation {
  readonly exclusive: boolean;
  readonly #sql: string;
  readonly #parameters: readonly BindParameter[];
  readonly #sink: QuerySink;
  readonly #statements: StatementCache | undefined;
  #use: StatementUse = 'unnamed';
  /** The cache entry of a leader or named use. */
  #entry: CachedStatement | undefined;
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
    checkNoNul(sql, 'the query text');
    if (parameters.length > 0xffff) throw new RangeError(`${parameters.length} parameters are more than the protocol allows (65535)`);
    this.#sql = sql;
    this.#parameters = parameters;
    this.#sink = sink;
    this.exclusive = options.exclusive === true;
    this.#statements = options.exclusive === true ? undefined : options.statements;
  }

  start(channel: ConversationChannel): void {
    const statements = this.#statements;
    let frames: Uint8Array[];
    try {
      frames = this.#frames(statements);
    } catch (error) {
      // A message the protocol cannot carry (over 1 GiB): nothing of it is sent; the Sync
      // brings a ReadyForQuery, where the error is reported.
      this.#error = error as Error;
      channel.write(sync());
      return;
    }
    // Statements evicted so far (by this request too) are closed with this write.
    if (statements !== undefined) for (const close of statements.takeCloses()) channel.write(close);
    for (const frame of frames) channel.write(frame);
  }

  #frames(statements: StatementCache | undefined): Uint8Array[] {
    const sql = this.#sql;
    const entry = statements?.use(sql);
    if (entry !== undefined) {
      this.#use = 'named';
      this.#entry = entry;
      return [bind(this.#parameters, { statement: entry.name }), executeSync];
    }
    const leader = statements?.prepare(sql);
    if (statements === undefined || leader === undefined) return [parse(sql), bind(this.#parameters), describeExecuteSync];
    try {
      const frames = [
        parse(sql, { statement: leader.name }),
        describe('statement', leader.name),
        bind(this.#parameters, { statement: leader.name }),
        executeSync,
      ];
      this.#use = 'leader';
      this.#entry = leader;
      return frames;
    } catch (error) {
      statements.forget(sql, leader);
      throw error;
    }
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
      case 'ParameterDescription':
      case 'CloseComplete':
        return false;
      case 'BindComplete':
        if (this.#use === 'named' && !this.#detached) this.#sink.fields(this.#entry?.fields ?? noFields);
        return false;
      case 'RowDescription':
        if (this.#use === 'leader' && this.#entry !== undefined) this.#entry.fields = message.fields;
        if (!this.#detached) this.#sink.fields(message.fields);
        return false;
      case 'NoData':
        if (this.#use === 'leader' && this.#entry !== undefined) this.#entry.fields = noFields;
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
        this.#error ??= this.#statementError(new PostgresError(message.fields, { sql: this.#sql, parameterCount: this.#parameters.length }));
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
      if (entry.failure !== undefined) return entry.failure;
    }
    return error;
  }

  fail(error: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    // Even after this statement's own ErrorResponse: the connection is gone, and that is what
    // the caller must handle (a server's FATAL is the ConnectionError's cause).
    if (!this.#detached) this.#sink.error(error);
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
