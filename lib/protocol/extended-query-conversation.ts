import type { ObservableInput } from 'rxjs';
import { PostgresError, ProtocolError, QueryShapeError, type ErrorFields } from '../errors';
import type { ParameterError } from '../types';
import {
  bind,
  checkNoNul,
  copyFail,
  describe,
  execute,
  parse,
  sync,
  dataRowLength,
  type BackendMessage,
  type BindParameter,
  type DataRow,
  type FieldDescription,
  type FormatCode,
} from '../wire';
import { bindParameterCountError, parameterCountError } from './parameter-count-error';
import { deliveringPushback, type Conversation, type ConversationChannel } from './conversation';
import {
  bindTemplateOf,
  cachedStatementErrorFields,
  isStaleStatementCode,
  setResultFormats,
  type CachedStatement,
  type StatementCache,
} from './statement-cache';
import { hasPlannedColumns } from './statement-keywords';

/**
 * How a request uses the statement cache, decided when it is written: `unnamed` (no cache)
 * parses the unnamed statement and describes the portal; `leader` parses the named statement
 * and describes it (before Bind, so its columns are known even if its own Bind fails) for
 * everyone after it; `named` binds a statement that is prepared or whose Parse is in flight
 * ahead of it: no Parse, no Describe, the columns come from the cache (the leader's
 * RowDescription has arrived by the time this request's BindComplete does) — except for a
 * statement whose columns the server does not fix (see CachedStatement.describesPortal),
 * whose portal is described on every execution.
 */
type StatementUse = 'unnamed' | 'leader' | 'named';

/** Execute (unnamed portal, all rows) and Sync: the same bytes for every request. */
const executeSync = Buffer.concat([execute(), sync()]);
/** Describe (unnamed portal), Execute and Sync. */
const describeExecuteSync = Buffer.concat([describe('portal'), execute(), sync()]);

/** The columns of a statement without rows (NoData), shared so its row builders are too. */
const noFields: readonly FieldDescription[] = Object.freeze([]);

/** Receives what an extended-protocol query produces, in order. */
export interface QuerySink {
  /**
   * The columns (RowDescription), or none (NoData); always before the first row. `formats`
   * are the result formats the Bind asked for (see {@link resultFormats}); undefined when it
   * asked for text, or when the RowDescription describes the portal (its fields' `format`).
   */
  fields(fields: readonly FieldDescription[], formats?: readonly FormatCode[]): void;
  /**
   * One DataRow, its values still bytes (in the formats given to {@link fields}); it is read
   * during this call, not kept.
   */
  row(row: DataRow): void;
  /**
   * The result formats to ask for a cached statement whose columns are known before its Bind
   * (as the protocol has them: none, one for all, or one per column), or undefined for text.
   * A sink without this method does not read values (any format will do).
   */
  resultFormats?(fields: readonly FieldDescription[]): readonly FormatCode[] | undefined;
  /** The statement finished: its CommandComplete tag (`''` for an empty query). */
  complete(tag: string): void;
  /**
   * A PostgresError for the statement, a ParameterError for a wrong number of parameters, or
   * a QueryShapeError for COPY through a query.
   */
  error(error: Error): void;
  /**
   * The statement was a cached one that the server could no longer use (dropped by SQL the
   * cache did not see, or changed by DDL), refused before anything of it was delivered, with
   * the connection outside a transaction. The sink may run the query again in a new
   * conversation (the cache prepares the statement afresh): it returns true when it does, and
   * this conversation then reports nothing more; otherwise `error` follows.
   */
  retry?(): boolean;
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
 * Errors reach the sink at ReadyForQuery, when the connection is back in sync. A cached
 * statement the server refuses as stale (26000, 0A000) is forgotten; outside a transaction the
 * sink is offered a retry (QuerySink.retry) instead of the error. A DataRow whose field count
 * is not that of the execution's RowDescription fails the connection (a ProtocolError): rows
 * are never built with columns they do not match. COPY through a query is refused as postgres_async does: CopyInResponse is answered with CopyFail and a
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
  /** BindComplete has arrived: a RowDescription now describes the portal, not the statement. */
  #bound = false;
  /** The result formats the Bind asked for; undefined for text. */
  #formats: readonly FormatCode[] | undefined;
  /** The column count of this execution's description; -1 before it is known. */
  #columnCount = -1;
  #error: Error | undefined;
  /** The error is the server refusing a stale cached statement at Bind. */
  #stale = false;
  #detached = false;
  #ended = false;

  /**
   * Throws (synchronously, before anything is written) when the SQL contains a NUL byte or
   * the statement cache knows that the
   * statement takes a different number of parameters (a ParameterError); callers turn that
   * into an error notification.
   */
  constructor(
    sql: string,
    parameters: readonly BindParameter[],
    sink: QuerySink,
    /** The connection's statement cache; none for the unnamed statement every time. */
    statements: StatementCache | undefined,
    /** Nothing is pipelined with it (a COPY through a query), and it uses no cache. */
    exclusive = false,
  ) {
    checkNoNul(sql, 'the query text');
    this.#sql = sql;
    this.#parameters = parameters;
    this.#sink = sink;
    this.exclusive = exclusive;
    this.#statements = exclusive ? undefined : statements;
    const parameterCount = this.#statements?.parameterCountOf(sql);
    if (parameterCount !== undefined && parameterCount !== parameters.length) throw parameterCountError(parameterCount, parameters.length);
  }

  start(channel: ConversationChannel): void {
    const statements = this.#statements;
    const entry = statements?.use(this.#sql);
    if (entry !== undefined) {
      // The hot path: a prepared statement's Bind from its template, with Execute and Sync in
      // the same buffer (one allocation, one write). It may throw as the frames below.
      this.#use = 'named';
      this.#entry = entry;
      const request = this.#namedBind(entry, entry.describesPortal ? describeExecuteSync : executeSync);
      const closes = statements!.takeCloses();
      for (let i = 0; i < closes.length; i++) channel.write(closes[i]!);
      channel.write(request);
      return;
    }
    // A message the protocol cannot carry (over 1 GiB) throws here: the protocol connection's
    // start rule fails this request without sending anything or queueing it (no Sync round trip).
    const frames = this.#frames(statements);
    // Statements evicted so far (by this request too) are closed with this write.
    if (statements !== undefined) for (const close of statements.takeCloses()) channel.write(close);
    for (const frame of frames) channel.write(frame);
  }

  /**
   * The Bind (followed by `suffix`) of a prepared statement, with binary results where the sink
   * wants them, which it can say only for a statement whose columns are known before Bind;
   * everything else is text (raw rows, a statement whose leader's Describe is in flight, one
   * whose portal is described on every execution).
   */
  #namedBind(entry: CachedStatement, suffix: Buffer): Buffer {
    const sink = this.#sink;
    if (sink.resultFormats === undefined) {
      this.#formats = entry.resultFormats;
      return bindTemplateOf(entry).encode(this.#parameters, suffix);
    }
    const fields = entry.fields;
    const formats = fields !== undefined && !entry.describesPortal ? sink.resultFormats(fields) : undefined;
    if (formats !== undefined) {
      if (entry.resultFormats !== formats) setResultFormats(entry, formats);
    } else if (entry.resultFormats.length > 0) {
      // Text for this request only; the statement's template stays binary for the others.
      return Buffer.concat([bind(this.#parameters, { statement: entry.name }), suffix]);
    }
    this.#formats = formats;
    return bindTemplateOf(entry).encode(this.#parameters, suffix);
  }

  #frames(statements: StatementCache | undefined): Uint8Array[] {
    const sql = this.#sql;
    const leader = statements?.prepare(sql);
    if (statements === undefined || leader === undefined) return [parse(sql), bind(this.#parameters), describeExecuteSync];
    try {
      leader.describesPortal = !hasPlannedColumns(sql);
      const frames = [
        parse(sql, { statement: leader.name }),
        describe('statement', leader.name),
        bind(this.#parameters, { statement: leader.name }),
        leader.describesPortal ? describeExecuteSync : executeSync,
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
        if (dataRowLength(message) !== this.#columnCount) {
          channel.failConnection(fieldCountMismatch(dataRowLength(message), this.#columnCount));
          return false;
        }
        if (!this.#detached) this.#sink.row(message);
        return false;
      case 'ParseComplete':
        this.#parsed = true;
        return false;
      case 'ParameterDescription':
        if (this.#use === 'leader' && this.#entry !== undefined) this.#entry.parameterCount = message.dataTypeIds.length;
        return false;
      case 'CloseComplete':
        return false;
      case 'BindComplete':
        this.#bound = true;
        if (this.#use === 'named' && this.#entry !== undefined && !this.#entry.describesPortal)
          this.#described(this.#entry.fields ?? noFields);
        return false;
      case 'RowDescription':
        this.#described(message.fields);
        return false;
      case 'NoData':
        this.#described(noFields);
        return false;
      case 'CommandComplete':
        this.#tag = message.tag;
        if (message.tag === 'DISCARD ALL' || message.tag === 'DEALLOCATE ALL') this.#statements?.clear();
        return false;
      case 'EmptyQueryResponse':
        this.#tag = '';
        return false;
      case 'ErrorResponse':
        this.#error ??=
          this.#parameterCountError(message.fields) ??
          this.#statementError(
            new PostgresError(this.#publicFields(message.fields), { sql: this.#sql, parameterCount: this.#parameters.length }),
          );
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
        if (!this.#parsed && !this.#bound && this.#error === undefined) {
          // Every reply to Parse/Bind/Execute/Sync has ParseComplete, BindComplete or an error
          // before its ReadyForQuery: this one belongs to no request we know of.
          channel.failConnection(new ProtocolError('ReadyForQuery before any reply to an extended query'));
          return false;
        }
        this.#ended = true;
        if (!this.#detached) {
          const error = this.#error;
          if (error === undefined) this.#sink.complete(this.#tag);
          // Inside a transaction the stale statement's error has aborted it: nothing to retry.
          else if (!(this.#stale && message.transactionStatus === 'I' && this.#sink.retry?.() === true)) this.#sink.error(error);
        }
        return true;
      default:
        channel.failConnection(new ProtocolError(`unexpected ${message.name} in reply to an extended query`));
        return false;
    }
  }

  /**
   * The columns of this execution: a leader's statement Describe (before Bind) is kept on the
   * cache entry, and is this execution's description unless the portal is described too.
   */
  #described(fields: readonly FieldDescription[]): void {
    const entry = this.#entry;
    if (!this.#bound && this.#use === 'leader' && entry !== undefined) {
      entry.fields = fields;
      if (entry.describesPortal) return;
    }
    this.#columnCount = fields.length;
    if (!this.#detached) this.#sink.fields(fields, this.#formats);
  }

  /**
   * A wrong parameter count, which the server reports at Bind as a protocol violation (08P01)
   * that names the internal statement, as a ParameterError that says what the caller did;
   * undefined for any other error.
   */
  #parameterCountError(fields: ErrorFields): ParameterError | undefined {
    // The unnamed statement is not described: then the count is read from the message.
    return this.#bound ? undefined : bindParameterCountError(fields, this.#parameters.length, this.#entry?.parameterCount);
  }

  /**
   * The server's fields; for a cached statement bound without its Parse, without the internal
   * statement's name (see cachedStatementErrorFields).
   */
  #publicFields(fields: ErrorFields): ErrorFields {
    return this.#use === 'named' ? cachedStatementErrorFields(fields) : fields;
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
    if (isStaleStatementCode(error.code)) {
      this.#statements.forget(this.#sql, entry);
      if (entry.failure !== undefined) return entry.failure;
      // Refused at Bind (an EXECUTE of a missing statement fails later, at Execute): nothing
      // of this execution has been delivered, so running it again is invisible.
      this.#stale = this.#use === 'named' && !this.#bound;
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

function fieldCountMismatch(values: number, columns: number): ProtocolError {
  return new ProtocolError(
    columns < 0
      ? `DataRow with ${values} values before any RowDescription in reply to an extended query`
      : `DataRow with ${values} values for a RowDescription of ${columns} columns`,
  );
}
