import {
  EMPTY,
  Observable,
  Subject,
  Subscription,
  catchError,
  concat,
  defer,
  from,
  ignoreElements,
  timeout,
  type ObservableInput,
  type Observer,
  type Unsubscribable,
} from 'rxjs';
import { resolveConnectionConfig, type ConnectionConfig } from '../config';
import { ConnectionError } from '../errors';
import { AcquireTimeoutError } from '../errors/acquire-timeout-error';
import { backoffDelay } from './backoff';
import type { Notification } from '../notifications/notification';
import { opensTransaction, type ResultSet } from '../protocol';
import type { CopyTextRow } from '../types';
import { AcquireQueue, type AcquireWaiter } from './acquire-queue';
import type { QueryBatchOptions } from './batch-request';
import { connect } from './connect';
import type { Connection } from './connection';
import type { CopyChunk } from './copy-source';
import { PoolListener, type PoolChannelEvent } from './pool-listener';
import { resolvePoolOptions, type PoolOptions, type ResolvedPoolOptions } from './pool-options';
import { describePoolStats, samePoolStats, type PoolStats } from './pool-stats';
import { ObservableLease, StatementLease, type LeaseHost } from './pool-lease';
import { PooledConnection } from './pooled-connection';
import type { PromiseExecuteOptions, PromiseQueryOptions } from './promise-conveniences';
import { Queryable } from './queryable';
import type { CommandResult, Pushback, QueryOptions } from './query-options';
import type { Transaction } from './transaction';
import { beginStatementFor, type TransactionOptions } from './transaction-options';

/** Options of {@link Pool.end}. */
export interface PoolEndOptions {
  /**
   * How long running work may go on before it is cancelled, in milliseconds (default 5000).
   * After it, each holder gets a ConnectionError and its requests are abandoned (a running
   * statement is cancelled on the server), and the connections are closed (bounded by a
   * further 2000 ms each).
   */
  readonly timeout?: number;
}

/** The default of {@link PoolEndOptions.timeout}. */
export const defaultEndTimeout = 5_000;
/** How long a returned connection may take to get back in sync (and ROLLBACK) before it is dropped. */
const restoreTimeout = 10_000;
/** How long a connection taken from work still running at the end of `end`'s timeout may take to close. */
const forcedCloseTimeout = 2_000;
/**
 * Milliseconds since a busy connection's work last moved (a statement ended, or it was lent)
 * within which more statements may be pipelined onto it. Short statements end well within it
 * even on a loaded machine; a statement still running after it is a slow one — once the
 * event loop has had a chance to read its reply (see Pool.#stallCheck).
 */
const packingWindow = 2;
/** What #sharedConnection returns when the only connections with room look stalled. */
const stalledConnection = Symbol('stalled');
/** How many statement texts #mayPipeline remembers before it starts over. */
const shareableTextsKept = 1000;
/** Texts longer than this are not remembered by #mayPipeline. */
const shareableTextMaxLength = 1024;

/**
 * Creates a pool of connections to one server. `config` is what `connect` takes (an object or
 * a connection string); it is checked now (ConfigError), but nothing connects until the first
 * request: connections are made lazily, up to `max`, and replaced when they fail or expire.
 * See {@link PoolOptions} for `max`, `min`, `idleTimeout`, `maxLifetime`, `acquireTimeout` and
 * `connectRetry`.
 *
 * Errors (thrown, no I/O): ConfigError for the connection settings; TypeError / RangeError for
 * pool options out of range.
 *
 * @example
 * const pool = createPool('postgres://app@db/app', { max: 20 });
 * pool.query<{ id: number }>('SELECT id FROM users WHERE team = $1', ['core']).subscribe(console.log);
 * await pool.end();
 */
export function createPool(config: ConnectionConfig | string, options: PoolOptions = {}): Pool {
  return Pool.create(config, options);
}

/**
 * A pool of connections with a Connection's request methods, each a cold Observable: a
 * subscription takes a connection (waiting in a first-come, first-served queue when all are
 * busy, for at most `acquireTimeout`), runs the request on it, and gives it back when the
 * request completes, errors or is unsubscribed. Pushback, `timeout` and cancellation behave
 * exactly as on a Connection, since the request runs on one. An unsubscribe while waiting
 * leaves the queue at once.
 *
 * A connection is never handed to the next user inside a transaction: a request that leaves
 * one open (`pool.query('BEGIN')`) errors with a PoolMisuseError and the pool rolls it back;
 * after an unsubscribe the pool waits until the connection is back in sync (and rolls back
 * whatever the abandoned request left open) before reusing it. A connection that failed is
 * dropped, never reused. For several statements on one connection use `withConnection`; for a
 * transaction, `transaction`.
 *
 * `await using pool = createPool(...)` ends it at scope exit.
 */
export class Pool extends Queryable implements AsyncDisposable {
  readonly #config: ConnectionConfig | string;
  readonly #options: ResolvedPoolOptions;
  /** Idle connections, the most recently returned last (reused first, so the others can be reaped). */
  readonly #idle: PooledConnection[] = [];
  readonly #busy = new Set<PooledConnection>();
  readonly #waiters = new AcquireQueue<PooledConnection>();
  readonly #connecting = new Set<Subscription>();
  readonly #closing = new Set<Promise<void>>();
  readonly #stats = new Subject<PoolStats>();
  #lastStats: PoolStats | undefined;
  #connectFailures = 0;
  #lastConnectError: unknown;
  #retryTimer: NodeJS.Timeout | undefined;
  /**
   * Pending while shareable waiters queued behind a connection whose work only looked stalled
   * wait for the verdict: see {@link #deferConnecting}.
   */
  #stallCheck: NodeJS.Timeout | undefined;
  /** Whether any request was made: `min` connections are kept only from then on. */
  #used = false;
  #dispatching = false;
  /** Whether a statement text may be pipelined (see #mayPipeline), for the texts seen lately. */
  readonly #shareableTexts = new Map<string, boolean>();
  /** What the leases of this pool's requests call back. */
  readonly #leaseHost: LeaseHost = {
    acquire: (waiter) => this.#acquire(waiter),
    release: (pooled, unsure) => this.#release(pooled, unsure),
  };
  #listener: PoolListener | undefined;
  #ended = false;
  #ending: Promise<void> | undefined;
  /** Called when the last busy connection is back, while `end` waits for running work. */
  #drained: (() => void) | undefined;

  /** @internal Made by `createPool`, which is how users get a Pool. */
  static create(config: ConnectionConfig | string, options: PoolOptions = {}): Pool {
    return new Pool(config, options);
  }

  // Private so that the published declarations (which drop internal members) do not offer a
  // public constructor.
  private constructor(config: ConnectionConfig | string, options: PoolOptions = {}) {
    super();
    resolveConnectionConfig(config);
    this.#options = resolvePoolOptions(options);
    this.#config = config;
  }

  /** The pool's counters now (see {@link PoolStats}). */
  get stats(): PoolStats {
    const idle = this.#idle.length;
    const busy = this.#busy.size;
    return { total: idle + busy, idle, busy, waiting: this.#waiters.size, connecting: this.#connecting.size, max: this.#options.max };
  }

  /**
   * The pool's counters as they change: a new subscriber gets the current value at once, then
   * each change (a connection taken, returned, opened or closed, a request queued or served).
   * Hot; completes when the pool has ended.
   *
   * @example
   * pool.stats$.pipe(throttleTime(1000)).subscribe((stats) => metrics.gauge('db.pool.busy', stats.busy));
   */
  get stats$(): Observable<PoolStats> {
    return new Observable<PoolStats>((subscriber) => {
      const current = this.stats;
      this.#lastStats = current;
      subscriber.next(current);
      return this.#stats.subscribe(subscriber);
    });
  }

  /**
   * `query` on the pool (see Queryable.query): a pooled connection's `query`, acquired on
   * subscribe and released at the end; a single statement may be pipelined (option `pipeline`).
   *
   * @internal
   */
  protected override runQuery(sql: string, params: readonly unknown[] = [], options: QueryOptions = {}): Observable<unknown> {
    // `options?`: null from plain JavaScript must reach connection.query's error at subscribe, not throw here.
    return this.#request((connection) => connection.query(sql, params, options), sql, this.#mayPipeline(sql, options?.pushback));
  }

  /**
   * `connection.execute` on a pooled connection (acquire, run, release as for {@link query}).
   *
   * @example
   * pool.execute('UPDATE users SET seen = now() WHERE id = $1', [42]).subscribe(({ rowCount }) => console.log(rowCount));
   */
  override execute(
    sql: string,
    params: readonly unknown[] = [],
    options: Omit<QueryOptions, 'rowMode' | 'onFields'> = {},
  ): Observable<CommandResult> {
    return this.#request((connection) => connection.execute(sql, params, options), sql, this.#mayPipeline(sql, undefined));
  }

  /**
   * `connection.simpleQuery` on a pooled connection. Text that leaves a transaction open
   * (`BEGIN; UPDATE ...` without COMMIT) errors with a PoolMisuseError after its results,
   * and the pool rolls it back.
   *
   * @example
   * pool.simpleQuery('SELECT 1 AS one; SELECT 2 AS two').subscribe((result) => console.log(result.rows));
   */
  simpleQuery(sql: string): Observable<ResultSet> {
    return this.#request((connection) => connection.simpleQuery(sql), sql);
  }

  /**
   * `connection.copyIn` on a pooled connection: the connection is held while the source is
   * read; an unsubscribe aborts the COPY (nothing committed) and returns the connection once
   * it is back in sync.
   *
   * @example
   * pool.copyIn('COPY people (id, name) FROM STDIN', ['1\tAda\n', '2\tGrace\n']).subscribe(({ rowCount }) => console.log(rowCount));
   */
  copyIn(
    sql: string,
    source: ObservableInput<CopyChunk>,
    options: { readonly params?: readonly unknown[]; readonly maxBufferedBytes?: number } = {},
  ): Observable<CommandResult> {
    return this.#request((connection) => connection.copyIn(sql, source, options), sql);
  }

  /**
   * `connection.copyInRows` on a pooled connection.
   *
   * @example
   * pool.copyInRows({ table: 'people', columns: ['id', 'name'] }, [[1, 'Ada'], [2, null]]).subscribe();
   */
  copyInRows(
    target: { readonly table: string; readonly schema?: string; readonly columns: readonly string[] },
    rows: ObservableInput<readonly unknown[]>,
    options: { readonly maxBufferedBytes?: number } = {},
  ): Observable<CommandResult> {
    return this.#request((connection) => connection.copyInRows(target, rows, options));
  }

  /**
   * `connection.copyOut` on a pooled connection; `pushback` pauses that connection's socket.
   *
   * @example
   * pool.copyOut('COPY people TO STDOUT (FORMAT csv)').subscribe((chunk) => response.write(chunk));
   */
  copyOut(sql: string, params: readonly unknown[] = [], options: { readonly pushback?: Pushback } = {}): Observable<Buffer> {
    return this.#request((connection) => connection.copyOut(sql, params, options), sql);
  }

  /**
   * `connection.copyOutRows` on a pooled connection.
   *
   * @example
   * pool.copyOutRows('COPY people TO STDOUT').subscribe(([id, name]) => console.log(id, name));
   */
  copyOutRows(sql: string, params: readonly unknown[] = [], options: { readonly pushback?: Pushback } = {}): Observable<CopyTextRow> {
    return this.#request((connection) => connection.copyOutRows(sql, params, options), sql);
  }

  /**
   * `connection.notify` (pg_notify) on a pooled connection.
   *
   * @example
   * await lastValueFrom(pool.notify('jobs', JSON.stringify({ id: 42 })));
   */
  notify(channel: string, payload = ''): Observable<void> {
    return this.#request((connection) => connection.notify(channel, payload));
  }

  /**
   * Holds one pooled connection for the whole life of `work(connection)`'s ObservableInput
   * and forwards its values: for several statements that must share a session (temporary
   * tables, `SET`, advisory locks, a cursor). The connection goes back when the work
   * completes, errors or is unsubscribed; requests it left running are abandoned and the pool
   * waits until the connection is back in sync before reusing it. Work that ends with a
   * transaction still open errors with a PoolMisuseError (the pool rolls it back); use
   * `transaction` for transactions. `SET` and other session settings stay with the connection:
   * reset what you change (or use `SET LOCAL` inside a transaction).
   *
   * Errors: whatever the work raises; AcquireTimeoutError; PoolMisuseError; ConnectionError
   * once the pool has ended, or when `end`'s timeout takes the connection away.
   *
   * @example
   * pool.withConnection((connection) =>
   *   concat(connection.execute('SET search_path TO tenant_7'), connection.query('SELECT * FROM orders'), connection.execute('RESET search_path')),
   * ).subscribe(console.log);
   */
  withConnection<T>(work: (connection: Connection) => ObservableInput<T>): Observable<T> {
    return defer(() => {
      // Refused before a connection is taken (or opened): no sync check to pay for bad input.
      if (typeof work !== 'function')
        throw new TypeError(`withConnection: work must be a function (connection) => ObservableInput, got ${typeof work}`);
      return this.#hold((connection) => from(work(connection)), true);
    });
  }

  /**
   * Runs `work` in a transaction on one pooled connection, held for the whole transaction:
   * `connection.transaction(work, options)` (BEGIN with `isolation` / `readOnly` /
   * `deferrable`, COMMIT when the work completes, ROLLBACK when it errors or is unsubscribed,
   * `tx.transaction(...)` for a SAVEPOINT, a COMMIT turned into ROLLBACK is a
   * TransactionRolledBackError). Cold: RxJS `retry` runs the whole transaction again, on
   * whichever connection is free then — the way to retry serialization failures (40001) and
   * deadlocks (40P01). The connection goes back once the COMMIT or ROLLBACK has completed
   * (after an unsubscribe, once the ROLLBACK has).
   *
   * Errors: those of `connection.transaction`; AcquireTimeoutError; ConnectionError once the
   * pool has ended.
   *
   * @example
   * pool.transaction((tx) =>
   *   concat(
   *     tx.execute('UPDATE accounts SET balance = balance - $1 WHERE id = $2', [100, 1]),
   *     tx.execute('UPDATE accounts SET balance = balance + $1 WHERE id = $2', [100, 2]),
   *   ), { isolation: 'serializable' },
   * ).pipe(retry({ count: 5, delay: (error) => (error.code === '40001' ? timer(10) : throwError(() => error)) }));
   */
  transaction<T>(work: (tx: Transaction) => ObservableInput<T>, options?: TransactionOptions): Observable<T> {
    return defer(() => {
      // Bad options or work are refused before a connection is taken (or opened).
      beginStatementFor(options);
      if (typeof work !== 'function')
        throw new TypeError(`transaction work must be a function (tx) => ObservableInput, got ${typeof work}`);
      // When the transaction completes or errors its COMMIT or ROLLBACK has ended, and nothing
      // of it can still run (tx refuses requests once it ends): no sync check is needed then.
      return this.#hold((connection) => connection.transaction(work, options), false);
    });
  }

  /**
   * `Connection.queryBatch` on one pooled connection, held for the whole batch (nothing is
   * pipelined with it): one statement for many parameter sets, one array of rows per set, in
   * order. Acquires on subscribe as `query` does; releases when the batch ends, errors or is
   * unsubscribed (the connection is back in sync, and anything left open rolled back, before
   * anyone else gets it).
   *
   * Errors: as `Connection.queryBatch` (ParameterError, PostgresError, ConnectionError), plus
   * `AcquireTimeoutError` and, once the pool has ended, a ConnectionError.
   *
   * @example
   * pool.queryBatch<{ id: number }>('INSERT INTO tags (name) VALUES ($1) RETURNING id', [['a'], ['b']])
   *   .subscribe((rows) => console.log(rows[0]?.id));
   */
  queryBatch<T = Record<string, unknown>>(
    sql: string,
    parameterSets: Iterable<readonly unknown[]>,
    options?: QueryBatchOptions,
  ): Observable<T[]> {
    return this.#request((connection) => connection.queryBatch<T>(sql, parameterSets, options), sql);
  }

  /**
   * The notifications on `channel`, from the pool's one listener connection (not counted
   * against `max`), made on the first channel subscription and shared by every channel.
   * LISTEN for a channel's first subscriber, UNLISTEN after its last; the listener reconnects
   * with backoff after a loss and LISTENs again (use {@link channelEvents} to know when, as
   * notifications sent meanwhile are lost). Completes when the pool ends.
   *
   * Errors: TypeError / RangeError for an invalid channel name; ConnectionError once the pool
   * has ended; the server's PostgresError when it refuses the LISTEN (a hot standby: 25006).
   *
   * @example
   * pool.notifications('jobs').subscribe(({ payload }) => console.log(payload));
   */
  notifications(channel: string): Observable<Notification> {
    return defer(() => this.#notificationListener().notifications(channel));
  }

  /**
   * As {@link notifications}, with the connection's events (see {@link PoolChannelEvent}):
   * `listening` once the channel is listened to, again with `reconnect: true` after every
   * reconnection (re-read the state the notifications stand for), and `disconnected`.
   *
   * @example
   * pool.channelEvents('cache').subscribe((event) => {
   *   if (event.type === 'listening' && event.reconnect) cache.clear();
   *   else if (event.type === 'notification') cache.delete(event.notification.payload);
   * });
   */
  channelEvents(channel: string): Observable<PoolChannelEvent> {
    return defer(() => this.#notificationListener().channelEvents(channel));
  }

  /**
   * Ends the pool: new requests, and the requests still waiting for a connection, fail at once
   * with a ConnectionError; idle connections and connection attempts are closed now; running
   * work may finish for up to `timeout` ms (default 5000), after which it errors with a
   * ConnectionError and its statements are cancelled; then every connection and the
   * notification listener are closed, and notification subscriptions and `stats$` complete.
   * Idempotent (later calls return the same promise) and never rejects.
   *
   * @example
   * process.on('SIGTERM', () => void pool.end({ timeout: 10_000 }));
   */
  end(options: PoolEndOptions = {}): Promise<void> {
    this.#ending ??= this.#shutdown(endTimeout(options?.timeout));
    return this.#ending;
  }

  /** Ends the pool at the end of an `await using` scope (see `end`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.end();
  }

  // ---- requests ----

  /** Runs one request on a pooled connection; `sql` names it in a PoolMisuseError. */
  #request<T>(run: (connection: Connection) => Observable<T>, sql?: string, shareable = false): Observable<T> {
    return this.#hold(run, false, sql, shareable);
  }

  /**
   * `all` / `first`'s request: a lease whose work is the connection's own request, with no
   * Observable around either (see Connection.startRows).
   *
   * @internal
   */
  override startRows(
    observer: Observer<unknown>,
    sql: string,
    params: readonly unknown[] | undefined,
    options: PromiseQueryOptions | undefined,
  ): Unsubscribable {
    return new StatementLease(this.#leaseHost, observer, false, sql, params, options, this.#mayPipeline(sql, options?.pushback)).start();
  }

  /**
   * `run`'s request, as {@link startRows}.
   *
   * @internal
   */
  override startCommand(
    observer: Observer<CommandResult>,
    sql: string,
    params: readonly unknown[] | undefined,
    options: PromiseExecuteOptions | undefined,
  ): Unsubscribable {
    return new StatementLease(
      this.#leaseHost,
      observer as Observer<unknown>,
      true,
      sql,
      params,
      options,
      this.#mayPipeline(sql, undefined),
    ).start();
  }

  /**
   * Whether a single statement may be pipelined on a connection busy with others (option
   * `pipeline`): not one that could open a transaction (the others would run inside it), nor a
   * stream with pushback (a paused socket would hold them up).
   */
  #mayPipeline(sql: string, pushback: Pushback | undefined): boolean {
    if (this.#options.pipeline <= 1 || pushback !== undefined || typeof sql !== 'string') return false;
    // Applications repeat their statements: the keyword scan runs once per text.
    // A long text (inline values) is scanned each time rather than kept: the scan reads only its start.
    if (sql.length > shareableTextMaxLength) return !opensTransaction(sql);
    let shareable = this.#shareableTexts.get(sql);
    if (shareable === undefined) {
      shareable = !opensTransaction(sql);
      if (this.#shareableTexts.size >= shareableTextsKept) this.#shareableTexts.clear();
      this.#shareableTexts.set(sql, shareable);
    }
    return shareable;
  }

  /**
   * Acquires, runs `run(connection)`, releases. `unsure`: the work may leave requests running
   * even when it completes (withConnection), so the connection is checked back into sync
   * before reuse; a single request has ended (its ReadyForQuery handled) when it completes or
   * errors, so only an unsubscribe needs that check.
   */
  #hold<T>(run: (connection: Connection) => Observable<T>, unsure: boolean, sql?: string, shareable = false): Observable<T> {
    return new Observable<T>((subscriber) => new ObservableLease(this.#leaseHost, subscriber, run, unsure, sql, shareable).start());
  }

  // ---- acquire and release ----

  /**
   * Gets a connection for `waiter`: an idle one at once when nobody is queued, else a place
   * at the back of the queue (bounded by `acquireTimeout`) and, if there is room, a new
   * connection attempt. Returns how to leave the queue.
   */
  #acquire(waiter: AcquireWaiter<PooledConnection>): () => void {
    if (this.#ended) {
      waiter.fail(this.#endedError());
      return noop;
    }
    this.#used = true;
    let stalled = false;
    if (this.#waiters.size === 0) {
      const shared = waiter.shareable === true ? this.#sharedConnection() : undefined;
      if (shared === stalledConnection) stalled = true;
      else if (shared !== undefined) {
        shared.leases += 1;
        waiter.grant(shared);
        return noop;
      }
      // Not even an idle connection before the stall check's verdict (see #deferConnecting).
      const pooled = stalled ? undefined : this.#takeIdle();
      if (pooled !== undefined) {
        this.#lend(pooled, waiter.shareable === true);
        this.#emitStats();
        waiter.grant(pooled);
        return noop;
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const queued: AcquireWaiter<PooledConnection> = {
      shareable: waiter.shareable,
      grant: (pooled) => {
        clearTimeout(timer);
        waiter.grant(pooled);
      },
      fail: (error) => {
        clearTimeout(timer);
        waiter.fail(error);
      },
    };
    this.#waiters.push(queued);
    const limit = this.#options.acquireTimeout;
    if (limit !== Infinity) {
      timer = setTimeout(() => {
        const state = this.stats;
        if (!this.#waiters.delete(queued)) return;
        this.#emitStats();
        const cause = this.#connectFailures > 0 ? this.#lastConnectError : undefined;
        // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a failure that is not an Error is shown as String shows it
        const failing = cause === undefined ? '' : `; connecting fails: ${cause instanceof Error ? cause.message : String(cause)}`;
        waiter.fail(
          new AcquireTimeoutError(
            `pool: no connection within acquireTimeout ${limit} ms (${describePoolStats(state)}${failing})`,
            limit,
            state,
            cause,
          ),
        );
      }, limit);
    }
    if (stalled) this.#deferConnecting();
    this.#fill();
    this.#emitStats();
    return () => {
      clearTimeout(timer);
      if (this.#waiters.delete(queued)) this.#emitStats();
    };
  }

  /**
   * A shareable statement found the connection it would be packed onto without progress for
   * longer than {@link packingWindow}. That is a slow statement on the server, or only this
   * process not having read the replies yet (a busy or cold event loop: a burst of requests,
   * garbage collection, compilation; a few milliseconds are common). The shareable waiters
   * neither take an idle connection nor get new ones until an event-loop turn after the
   * window, which reads what has arrived: work that moved takes them at its next release;
   * work that is still stuck leaves them the idle connections and gets connections opened
   * then. Moving them elsewhere for a stall of our own would split the load across
   * connections and may cost a connection attempt.
   */
  #deferConnecting(): void {
    if (this.#stallCheck !== undefined) return;
    this.#stallCheck = setTimeout(() => {
      // Timers run before the poll phase: the verdict waits for the next check phase.
      setImmediate(() => {
        this.#stallCheck = undefined;
        if (this.#ended) return;
        this.#judgeSlow();
        this.#dispatch();
        this.#fill();
        this.#emitStats();
      });
    }, packingWindow);
  }

  /**
   * The stall check's verdict: shared work that has still not moved, now that the replies
   * that had arrived were read, is slow on the server. Remembered until it moves, so that the
   * statements made meanwhile take another connection at once instead of each waiting for a
   * check of its own (a pool.first loop beside one long query would wait a check per call).
   */
  #judgeSlow(): void {
    const now = Date.now();
    for (const pooled of this.#busy) {
      if (pooled.shared && now - pooled.progressAt > packingWindow) pooled.judgedSlowAt = pooled.progressAt;
    }
  }

  /** The most recently used idle connection that is still usable; the unusable and expired ones met on the way are closed. */
  #takeIdle(): PooledConnection | undefined {
    for (;;) {
      const pooled = this.#idle.pop();
      if (pooled === undefined) return undefined;
      if (pooled.usable && !pooled.expired()) return pooled;
      // Dropped, not just closed: the pool refills and stats$ hears of it.
      this.#drop(pooled);
    }
  }

  #lend(pooled: PooledConnection, shareable: boolean): void {
    clearTimeout(pooled.idleTimer);
    pooled.idleTimer = undefined;
    pooled.state = 'busy';
    pooled.leases = 1;
    pooled.shared = shareable;
    pooled.progressAt = Date.now();
    this.#busy.add(pooled);
  }

  /**
   * A busy connection on which one more single statement may be pipelined (option
   * `pipeline`): the busiest one with room whose work moved within {@link packingWindow}.
   * Packing statements onto as few connections as the load needs is what makes pipelining
   * pay: the statements taken in one tick go out in one socket write and the server answers
   * them in one wake-up, where spreading them over idle connections costs a write, a read and
   * a backend wake-up each (point-pooled: about a third less client CPU per query and 1.6–2.4×
   * the throughput on 2 cores). A connection whose statement has been running longer is
   * left alone: the next statement takes an idle connection, a new one, or waits for the
   * first that is free, rather than queue behind it.
   */
  #sharedConnection(): PooledConnection | typeof stalledConnection | undefined {
    const limit = this.#options.pipeline;
    if (limit <= 1 || this.#busy.size === 0) return undefined;
    const now = Date.now();
    let best: PooledConnection | undefined;
    let stalled = false;
    for (const pooled of this.#busy) {
      if (pooled.state !== 'busy' || !pooled.shared || pooled.leases >= limit) continue;
      if (!pooled.usable || pooled.expired(now)) continue;
      if (now - pooled.progressAt > packingWindow) {
        // Judged slow by a stall check and not moved since: neither packed onto nor waited for.
        if (pooled.judgedSlowAt !== pooled.progressAt) stalled = true;
      } else if (best === undefined || pooled.leases > best.leases) best = pooled;
    }
    return best ?? (stalled ? stalledConnection : undefined);
  }

  /**
   * A user is done with `pooled`. A failed connection is dropped. One that may have requests
   * still in flight (`unsure`), or that is inside a transaction, is brought back to a clean
   * state first; otherwise it goes straight to the next waiter or the idle list.
   */
  #release(pooled: PooledConnection, leftUnsure: boolean): void {
    if (leftUnsure) pooled.unsure = true;
    pooled.leases -= 1;
    if (pooled.leases > 0) {
      // Still in use by pipelined statements; a waiting one may take the room.
      pooled.progressAt = Date.now();
      this.#dispatch();
      return;
    }
    const unsure = pooled.unsure;
    pooled.unsure = false;
    pooled.shared = false;
    if (!pooled.usable) {
      this.#drop(pooled);
      return;
    }
    if (!unsure && pooled.connection.transactionStatus === 'idle') {
      this.#putBack(pooled);
      return;
    }
    this.#restore(pooled, unsure);
  }

  /**
   * Waits for the requests still in flight on `pooled` (an empty query queued behind them
   * completes after they have ended: the protocol layer keeps it clear of any cancel for
   * them), then rolls back a transaction they left open. A connection that does not get there
   * within {@link restoreTimeout}, or fails, is dropped.
   */
  #restore(pooled: PooledConnection, unsure: boolean): void {
    pooled.state = 'returning';
    const connection = pooled.connection;
    const inSync = unsure
      ? connection.simpleQuery('').pipe(
          ignoreElements(),
          catchError(() => EMPTY),
        )
      : EMPTY;
    const rolledBack = defer(() =>
      connection.transactionStatus === 'idle' ? EMPTY : connection.simpleQuery('ROLLBACK').pipe(ignoreElements()),
    );
    pooled.restoring = concat(inSync, rolledBack)
      .pipe(timeout({ first: restoreTimeout, each: restoreTimeout }))
      .subscribe({
        complete: () => {
          pooled.restoring = undefined;
          if (pooled.usable && connection.transactionStatus === 'idle') this.#putBack(pooled);
          else this.#drop(pooled);
        },
        error: () => {
          pooled.restoring = undefined;
          this.#drop(pooled, 0);
        },
      });
  }

  /** A clean connection is back: to the next waiter, or idle; closed instead when expired or the pool is ending. */
  #putBack(pooled: PooledConnection): void {
    this.#busy.delete(pooled);
    if (this.#ended || pooled.expired()) {
      this.#close(pooled);
      this.#changed();
      return;
    }
    this.#makeIdle(pooled);
    this.#dispatch();
    this.#changed();
  }

  #makeIdle(pooled: PooledConnection): void {
    pooled.state = 'idle';
    this.#idle.push(pooled);
    const { idleTimeout } = this.#options;
    const delay = Math.min(idleTimeout, pooled.expiresAt - Date.now());
    if (delay !== Infinity) {
      pooled.idleTimer = setTimeout(() => this.#idleTimerFired(pooled), Math.max(0, delay));
      pooled.idleTimer.unref();
    }
  }

  /** Hands idle connections to waiters, in queue order. Re-entrant calls leave the work to the running loop. */
  #dispatch(): void {
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      for (;;) {
        const waiter = this.#waiters.peek();
        if (waiter === undefined) break;
        const shared = waiter.shareable === true ? this.#sharedConnection() : undefined;
        if (shared !== undefined && shared !== stalledConnection) {
          this.#waiters.shift();
          shared.leases += 1;
          waiter.grant(shared);
          continue;
        }
        if (shared === stalledConnection && this.#stallCheck !== undefined) break;
        const pooled = this.#takeIdle();
        if (pooled === undefined) break;
        this.#waiters.shift();
        this.#lend(pooled, waiter.shareable === true);
        waiter.grant(pooled);
      }
    } finally {
      this.#dispatching = false;
    }
  }

  /** An idle connection's timer: replaced when expired, closed when idle too long above `min`. */
  #idleTimerFired(pooled: PooledConnection): void {
    pooled.idleTimer = undefined;
    if (pooled.state !== 'idle') return;
    if (pooled.expired() || this.#idle.length + this.#busy.size > this.#minimum()) {
      this.#drop(pooled);
      return;
    }
    // Kept for `min`; it is still replaced when its lifetime ends.
    const untilExpiry = pooled.expiresAt - Date.now();
    if (untilExpiry !== Infinity) {
      pooled.idleTimer = setTimeout(() => this.#idleTimerFired(pooled), Math.max(0, untilExpiry));
      pooled.idleTimer.unref();
    }
  }

  /** Takes `pooled` out of the pool, closes it, and refills up to what is wanted. */
  #drop(pooled: PooledConnection, closeTimeout?: number): void {
    this.#busy.delete(pooled);
    const index = this.#idle.indexOf(pooled);
    if (index !== -1) this.#idle.splice(index, 1);
    this.#close(pooled, closeTimeout);
    this.#changed();
  }

  #close(pooled: PooledConnection, closeTimeout?: number): void {
    clearTimeout(pooled.idleTimer);
    pooled.idleTimer = undefined;
    pooled.watch?.unsubscribe();
    pooled.restoring?.unsubscribe();
    pooled.holders.drain();
    const closing = pooled.connection.close(closeTimeout === undefined ? {} : { timeout: closeTimeout });
    this.#closing.add(closing);
    void closing.then(() => this.#closing.delete(closing));
  }

  /** After the pool's connections changed: refill, tell `end` and `stats$`. */
  #changed(): void {
    this.#fill();
    if (this.#drained !== undefined && this.#busy.size === 0) this.#drained();
    this.#emitStats();
  }

  // ---- connecting ----

  #minimum(): number {
    return this.#used ? this.#options.min : 0;
  }

  /**
   * Starts connection attempts for the requests queued beyond the attempts in flight, and for
   * `min`, within `max`. After a failed attempt none starts until the backoff delay is over,
   * then one at a time until one succeeds.
   */
  #fill(): void {
    if (this.#ended || this.#retryTimer !== undefined) return;
    const open = this.#idle.length + this.#busy.size;
    const target = Math.min(this.#options.max, Math.max(this.#minimum(), this.#busy.size + this.#connectionsWanted()));
    let needed = target - open - this.#connecting.size;
    if (this.#connectFailures > 0) needed = Math.min(needed, 1 - this.#connecting.size);
    for (; needed > 0; needed--) this.#openConnection();
  }

  /** How many connections the waiters need: one each, but statements that may be pipelined share them. */
  #connectionsWanted(): number {
    const shareable = this.#waiters.shareableSize;
    const pipeline = this.#options.pipeline;
    if (pipeline <= 1 || shareable === 0) return this.#waiters.size;
    // Until the stall check's verdict, the shareable ones may yet be packed (#deferConnecting).
    const sharedWanted = this.#stallCheck === undefined ? Math.ceil(shareable / pipeline) : 0;
    return this.#waiters.size - shareable + sharedWanted;
  }

  #openConnection(): void {
    const attempt = new Subscription();
    this.#connecting.add(attempt);
    attempt.add(
      connect(this.#config).subscribe({
        next: (connection) => {
          this.#connecting.delete(attempt);
          this.#connectFailures = 0;
          this.#lastConnectError = undefined;
          this.#adopt(connection);
        },
        error: (error: unknown) => {
          this.#connecting.delete(attempt);
          this.#connectFailed(error);
        },
      }),
    );
  }

  /** A new connection joins the pool: to the first waiter, or idle. */
  #adopt(connection: Connection): void {
    const { maxLifetime } = this.#options;
    // Up to 10 % shorter, so that connections opened together are not all replaced together.
    const lifetime = maxLifetime === Infinity ? Infinity : maxLifetime * (1 - 0.1 * Math.random());
    const pooled = new PooledConnection(connection, Date.now() + lifetime);
    pooled.watch = connection.closed$.subscribe({
      // Dead while idle: dropped at once. In use: its user sees the error, and the release drops it.
      error: () => {
        if (pooled.state === 'idle') this.#drop(pooled);
      },
    });
    if (this.#ended) {
      this.#close(pooled);
      return;
    }
    this.#makeIdle(pooled);
    this.#dispatch();
    this.#changed();
  }

  /**
   * A connection attempt failed. The next one waits for a backoff delay. When the pool has no
   * connection at all and the failure will not go away by waiting (a wrong password, a
   * missing database, a bad setting), the queued requests fail at once with it; while the
   * server is down or starting they keep waiting (within `acquireTimeout`).
   */
  #connectFailed(error: unknown): void {
    this.#connectFailures += 1;
    this.#lastConnectError = error;
    if (this.#ended) return;
    if (this.#idle.length + this.#busy.size === 0 && !isTransient(error)) {
      for (const waiter of this.#waiters.drain()) waiter.fail(error);
    }
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(
      () => {
        this.#retryTimer = undefined;
        this.#fill();
        this.#emitStats();
      },
      backoffDelay(this.#connectFailures, this.#options.connectRetry),
    );
    this.#emitStats();
  }

  // ---- notifications, stats, end ----

  #notificationListener(): PoolListener {
    if (this.#ended) throw this.#endedError();
    this.#listener ??= new PoolListener(this.#config, this.#options.listener);
    return this.#listener;
  }

  #emitStats(): void {
    if (!this.#stats.observed) return;
    const stats = this.stats;
    const last = this.#lastStats;
    if (last !== undefined && samePoolStats(last, stats)) return;
    this.#lastStats = stats;
    this.#stats.next(stats);
  }

  #endedError(): ConnectionError {
    return new ConnectionError('pool: the pool has ended (pool.end() was called)', { code: '08003' });
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    try {
      this.#ended = true;
      const ended = this.#endedError();
      for (const waiter of this.#waiters.drain()) waiter.fail(ended);
      for (const attempt of this.#connecting) attempt.unsubscribe();
      this.#connecting.clear();
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
      clearTimeout(this.#stallCheck);
      this.#stallCheck = undefined;
      for (const pooled of this.#idle.splice(0)) this.#close(pooled);
      const listenerEnded = this.#listener?.end();
      this.#emitStats();
      if (this.#busy.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          this.#drained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#drained = undefined;
      }
      for (const pooled of [...this.#busy]) {
        const error = new ConnectionError(`pool: the pool ended and this work was still running after ${timeoutMs} ms; it was cancelled`, {
          code: '57014',
        });
        for (const holder of pooled.holders.drain()) holder.revoke(error);
        this.#drop(pooled, forcedCloseTimeout);
      }
      await listenerEnded;
      await Promise.all([...this.#closing]);
    } catch {
      // end() never rejects; every close above reports on its connection's closed$.
    } finally {
      this.#emitStats();
      this.#stats.complete();
    }
  }
}

function noop(): void {}

/** Connection failures that waiting can cure: the server unreachable or restarting, too many connections. */
function isTransient(error: unknown): boolean {
  if (!(error instanceof ConnectionError)) return false;
  const code = error.code;
  return code.startsWith('08') || code.startsWith('57P') || code.startsWith('53');
}

/**
 * The milliseconds `end` lets running work go on: `timeout` when it is a number from 0 on
 * (Infinity and anything above a timer's range as the largest timer, about 24.8 days; a
 * larger delay would make Node fire at once), the default otherwise (end never rejects).
 */
function endTimeout(timeout: unknown): number {
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) return defaultEndTimeout;
  return Math.min(timeout, 2 ** 31 - 1);
}
