import type { ObservableInput, Observer } from 'rxjs';
import { QueryShapeError, TimeoutError } from '../errors';
import type { BindParameter } from '../wire';
import {
  ExtendedQueryConversation,
  rowCountOf,
  startsWithCopy,
  toResultField,
  type ProtocolConnection,
  type QuerySink,
  type StatementCache,
} from '../protocol';
import type { DataRow, FieldDescription, FormatCode } from '../wire';
import { encodeParameters } from './encode-parameters';
import { guardPushback } from './guard-pushback';
import { LaunchedRequest } from './launched-request';
import type { CommandResult, QueryOptions } from './query-options';
import { rowModeOf, type RowBuilder, type RowBuilderCache, type RowMode } from './row-builder';

/** The parameters of a request that will never be retried (a COPY through a query). */
const noParameters: readonly BindParameter[] = [];

/**
 * One subscription to `query` or `execute`, from subscribe to its end, as one object: the
 * conversation's sink, its timeout, and the teardown RxJS calls on unsubscribe. (Tens of
 * thousands of pipelined requests are common: one object each rather than a dozen closures
 * is measurably less garbage.)
 *
 * The subscriber's callbacks (`onFields`, `onComplete`, pushback) and the type decoders fail
 * only this request when they throw; nothing of theirs reaches the connection's read loop.
 *
 * A cached statement that the server refuses as stale outside a transaction (see
 * QuerySink.retry) is run once more, in a new conversation that runs next — only when nothing
 * was pipelined behind the refused one (the retry would run after those, e.g. inside a
 * transaction they began); otherwise the error reaches the subscriber, and the statement,
 * dropped from the cache, is prepared again by the next request. The timeout covers both attempts; unsubscribing abandons the current one.
 */
abstract class ExtendedQueryRequest<T> extends LaunchedRequest implements QuerySink {
  /**
   * Where the request's values go: an RxJS Subscriber, or a Promise convenience's observer
   * (which unsubscribes the request when it errors, as a Subscriber's teardown does).
   */
  protected readonly subscriber: Observer<T>;
  #timer: NodeJS.Timeout | undefined;
  // What a retry needs (fields rather than an object: no allocation per request); #statements
  // is set once the first conversation is enqueued and cleared by the retry.
  #statements: StatementCache | undefined;
  #sql = '';
  #parameters: readonly BindParameter[] = noParameters;

  constructor(protocol: ProtocolConnection, subscriber: Observer<T>) {
    super(protocol);
    this.subscriber = subscriber;
  }

  /**
   * Builds the conversation and enqueues it. A bad option, parameter or SQL text errors the
   * subscriber and nothing is sent.
   */
  start(statements: StatementCache, sql: string, params: readonly unknown[], timeout: number | undefined): this {
    // Not through launch(): no closures per request on this hot path.
    let conversation: ExtendedQueryConversation;
    let parameters: readonly BindParameter[];
    try {
      if (timeout !== undefined && !(typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0)) {
        throw new RangeError('the timeout option must be a positive number of milliseconds');
      }
      parameters = encodeParameters(params);
      conversation = new ExtendedQueryConversation(sql, parameters, this, statements, startsWithCopy(sql));
    } catch (error) {
      this.settle();
      this.subscriber.error(error);
      return this;
    }
    if (!conversation.exclusive) {
      this.#statements = statements;
      this.#sql = sql;
      this.#parameters = parameters;
    }
    this.enqueue(conversation);
    if (timeout !== undefined && !this.finished) {
      this.#timer = setTimeout(() => {
        this.unsubscribe();
        this.subscriber.error(new TimeoutError(`query timed out after ${timeout} ms`, timeout));
      }, timeout);
    }
    return this;
  }

  override unsubscribe(): void {
    clearTimeout(this.#timer);
    super.unsubscribe();
  }

  abstract fields(fields: readonly FieldDescription[], formats?: readonly FormatCode[]): void;
  abstract row(row: DataRow): void;
  protected abstract completed(tag: string): void;

  complete(tag: string): void {
    this.#end();
    this.completed(tag);
  }

  retry(): boolean {
    const statements = this.#statements;
    if (statements === undefined || this.finished) return false;
    this.#statements = undefined;
    let conversation: ExtendedQueryConversation;
    try {
      conversation = new ExtendedQueryConversation(this.#sql, this.#parameters, this, statements);
    } catch {
      // The first attempt's error is the one to report.
      return false;
    }
    return this.enqueueNext(conversation);
  }

  error(error: Error): void {
    this.#end();
    this.subscriber.error(error);
  }

  /** Calls a subscriber's callback; what it throws becomes this request's error. */
  protected guarded(callback: () => void): boolean {
    try {
      callback();
      return true;
    } catch (error) {
      this.subscriber.error(error);
      return false;
    }
  }

  #end(): void {
    this.settle();
    clearTimeout(this.#timer);
  }
}

/** A `query` subscription: rows shaped by the row mode, `onFields` and `onComplete`. */
export class RowsRequest<T> extends ExtendedQueryRequest<T> {
  readonly pushback?: () => ObservableInput<unknown> | void;
  readonly #options: QueryOptions;
  readonly #rowBuilders: RowBuilderCache;
  readonly #mode: RowMode;
  #build: RowBuilder | undefined;

  /** Throws a TypeError for a pushback option that is not a function, or an unknown rowMode. */
  constructor(protocol: ProtocolConnection, subscriber: Observer<T>, rowBuilders: RowBuilderCache, options: QueryOptions) {
    super(protocol, subscriber);
    this.#options = options;
    this.#rowBuilders = rowBuilders;
    this.#mode = rowModeOf(options);
    if (options.pushback !== undefined) this.pushback = guardPushback(options.pushback, (error) => subscriber.error(error));
  }

  /**
   * Binary results where they give the same values (see TypeRegistry.resultFormatFor), except
   * in raw mode, whose values are the server's text.
   */
  resultFormats(fields: readonly FieldDescription[]): readonly FormatCode[] | undefined {
    return this.#mode === 'raw' ? undefined : this.#rowBuilders.resultFormatsFor(fields);
  }

  fields(fields: readonly FieldDescription[], formats?: readonly FormatCode[]): void {
    this.#build = this.#rowBuilders.builderFor(fields, this.#mode, formats);
    const onFields = this.#options.onFields;
    if (onFields !== undefined) this.guarded(() => onFields(fields.map(toResultField)));
  }

  row(dataRow: DataRow): void {
    let row: unknown;
    try {
      row = (this.#build as RowBuilder)(dataRow);
    } catch (error) {
      // A decoder that throws (a user's, or JSON.parse) fails this query, not the connection:
      // the error unsubscribes it, so the rest of its rows are discarded.
      this.subscriber.error(error);
      return;
    }
    this.subscriber.next(row as T);
  }

  protected completed(tag: string): void {
    const onComplete = this.#options.onComplete;
    if (onComplete !== undefined && !this.guarded(() => onComplete({ command: tag, rowCount: rowCountOf(tag) }))) return;
    this.subscriber.complete();
  }
}

/** An `execute` subscription: no rows expected; emits the CommandResult once. */
export class NoRowsRequest extends ExtendedQueryRequest<CommandResult> {
  readonly #sql: string;
  readonly #onComplete: ((result: CommandResult) => void) | undefined;
  #rows = 0;

  constructor(
    protocol: ProtocolConnection,
    subscriber: Observer<CommandResult>,
    sql: string,
    onComplete?: (result: CommandResult) => void,
  ) {
    super(protocol, subscriber);
    this.#sql = sql;
    this.#onComplete = onComplete;
  }

  fields(): void {
    // No rows are wanted; any that come are counted and reported as the error.
  }

  row(): void {
    this.#rows += 1;
  }

  protected completed(tag: string): void {
    if (this.#rows > 0) {
      this.subscriber.error(new QueryShapeError(`execute() expects no rows, but the statement returned ${this.#rows}`, this.#sql));
      return;
    }
    const result = { command: tag, rowCount: rowCountOf(tag) };
    const onComplete = this.#onComplete;
    if (onComplete !== undefined && !this.guarded(() => onComplete(result))) return;
    this.subscriber.next(result);
    this.subscriber.complete();
  }
}
