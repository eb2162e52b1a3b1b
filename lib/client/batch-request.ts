import type { ObservableInput, Subscriber } from 'rxjs';
import { BatchConversation, type BatchSink } from '../protocol/batch-conversation';
import type { StatementCache } from '../protocol/statement-cache';
import type { BindParameter, DataRow, FieldDescription, FormatCode } from '../wire';
import { encodeParameters } from './encode-parameters';
import { guardPushback } from './guard-pushback';
import { LaunchedRequest } from './launched-request';
import type { ProtocolConnection } from '../protocol';
import type { Pushback } from './query-options';
import { rowModeOf, type RowBuilder, type RowBuilderCache, type RowMode } from './row-builder';

/** Options of `queryBatch`. */
export interface QueryBatchOptions {
  /** `object` (default): rows keyed by column name; `array`: value arrays; `raw`: see RawRow. */
  readonly rowMode?: RowMode;
  /**
   * `once` (default): one Sync after the last set, so all sets run in one implicit transaction
   * and an error leaves nothing of the batch committed. `each`: a Sync after every set, so each
   * set commits on its own, as separate `query` calls would.
   */
  readonly sync?: 'each' | 'once';
  /**
   * Called after each socket chunk that brought rows; while what it returns (a Promise, an
   * Observable, ...) is pending, the socket is paused, so the server's replies stop and with
   * them the writing of further sets: memory stays bounded for a slow consumer. The `interop`
   * bridges pass it: `toAsyncIterable((pushback) => connection.queryBatch(sql, sets, { pushback }))`.
   */
  readonly pushback?: Pushback;
}

/**
 * One subscription to `queryBatch`, from subscribe to its end: pulls and encodes the parameter
 * sets as the conversation writes them, collects each set's rows into an array and emits it
 * when the set's statement completes. The teardown RxJS calls on unsubscribe (it abandons the
 * conversation and releases the source iterator).
 */
export class BatchRequest<T> extends LaunchedRequest implements BatchSink {
  readonly #subscriber: Subscriber<T[]>;
  readonly #rowBuilders: RowBuilderCache;
  readonly #mode: RowMode;
  #sets: Iterator<readonly unknown[]> | undefined;
  /** Sets taken from the source so far. */
  #pulled = 0;
  #build: RowBuilder | undefined;
  #rows: T[] = [];
  readonly pushback?: () => ObservableInput<unknown> | void;

  /** Throws a TypeError for an unknown rowMode or a pushback that is not a function. */
  constructor(protocol: ProtocolConnection, subscriber: Subscriber<T[]>, rowBuilders: RowBuilderCache, options: QueryBatchOptions) {
    super(protocol);
    this.#subscriber = subscriber;
    this.#rowBuilders = rowBuilders;
    this.#mode = rowModeOf(options);
    if (options.pushback !== undefined) this.pushback = guardPushback(options.pushback, (error) => subscriber.error(error));
  }

  /**
   * Builds the conversation and enqueues it. A bad option, SQL text or parameter source errors
   * the subscriber and nothing is sent.
   */
  start(statements: StatementCache, sql: string, parameterSets: Iterable<readonly unknown[]>, options: QueryBatchOptions): this {
    let conversation: BatchConversation;
    try {
      const sync: unknown = options.sync ?? 'once';
      if (sync !== 'each' && sync !== 'once') throw new TypeError(`the sync option must be 'each' or 'once'`);
      if (parameterSets == null || typeof (parameterSets as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function') {
        throw new TypeError('queryBatch needs an iterable (e.g. an array) of parameter arrays');
      }
      conversation = new BatchConversation(sql, this, { sync, statements });
      this.#sets = parameterSets[Symbol.iterator]();
    } catch (error) {
      this.settle();
      this.#subscriber.error(error);
      return this;
    }
    this.enqueue(conversation);
    return this;
  }

  nextSet(): readonly BindParameter[] | undefined {
    const sets = this.#sets;
    if (sets === undefined) return undefined;
    const next = sets.next();
    if (next.done === true) {
      this.#sets = undefined;
      return undefined;
    }
    const index = this.#pulled++;
    try {
      return encodeParameters(next.value);
    } catch (error) {
      // Which set (0-based), never its values.
      if (error instanceof Error) error.message = `parameter set ${index}: ${error.message}`;
      throw error;
    }
  }

  resultFormats(fields: readonly FieldDescription[]): readonly FormatCode[] | undefined {
    return this.#mode === 'raw' ? undefined : this.#rowBuilders.resultFormatsFor(fields);
  }

  fields(fields: readonly FieldDescription[], formats?: readonly FormatCode[]): void {
    this.#build = this.#rowBuilders.builderFor(fields, this.#mode, formats);
  }

  row(dataRow: DataRow): void {
    let row: unknown;
    try {
      row = (this.#build as RowBuilder)(dataRow);
    } catch (error) {
      // A decoder that throws fails this batch, not the connection (unsubscribing abandons it).
      this.#subscriber.error(error);
      return;
    }
    this.#rows.push(row as T);
  }

  setComplete(): void {
    const rows = this.#rows;
    this.#rows = [];
    this.#subscriber.next(rows);
  }

  complete(): void {
    this.settle();
    this.#subscriber.complete();
  }

  error(error: Error): void {
    this.settle();
    this.#release();
    this.#subscriber.error(error);
  }

  override unsubscribe(): void {
    super.unsubscribe();
    this.#release();
  }

  /** Lets a generator source run its `finally` when the batch stops before its end. */
  #release(): void {
    const sets = this.#sets;
    this.#sets = undefined;
    try {
      sets?.return?.();
    } catch {
      // The source's own cleanup failed; the batch has already ended.
    }
  }
}
