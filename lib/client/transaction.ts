import { Observable, from, type ObservableInput, type Observer, type Subscriber, type Subscription } from 'rxjs';
import {
  AcquireTimeoutError,
  PostgresError,
  StatementCancelledError,
  TimeoutError,
  TransactionRolledBackError,
  TransactionStateError,
} from '../errors';
import type { ResultSet } from '../protocol';
import type { CopyTextRow } from '../types';
import type { QueryBatchOptions } from './batch-request';
import type { Connection } from './connection';
import type { CopyChunk } from './copy-source';
import { Queryable } from './queryable';
import type { CommandResult, Pushback, QueryOptions } from './query-options';
import type { TransactionGuard } from './transaction-guard';
import { beginStatementFor, hasTransactionModes, type TransactionOptions } from './transaction-options';

/**
 * Runs `work` inside a transaction on `connection` (see `Connection.transaction`, which
 * documents the behaviour). Cold: nothing is sent before subscribe.
 */
export function runTransaction<T>(
  connection: Connection,
  guard: TransactionGuard,
  work: (tx: Transaction) => ObservableInput<T>,
  options: TransactionOptions | undefined,
): Observable<T> {
  return new Observable<T>((subscriber) => {
    let begin: string;
    try {
      begin = beginStatementFor(options);
    } catch (error) {
      subscriber.error(error);
      return undefined;
    }
    if (typeof work !== 'function') {
      subscriber.error(new TypeError(`transaction work must be a function (tx) => ObservableInput, got ${typeof work}`));
      return undefined;
    }
    const refusal = guard.refusal(connection.transactionStatus);
    if (refusal !== undefined) {
      subscriber.error(new TransactionStateError(`cannot begin a transaction: ${refusal}; nothing was sent`, '25001'));
      return undefined;
    }
    guard.claim();
    const scope = new TransactionScope(undefined);
    const run = new TransactionRun(
      connection,
      scope,
      { begin, commit: 'COMMIT', rollback: 'ROLLBACK', savepoint: undefined },
      work,
      subscriber,
      guard,
    );
    run.start(Transaction.within(connection, scope));
    return () => run.leave();
  });
}

/**
 * The state of one transaction or savepoint: whether it has ended (its COMMIT, RELEASE or
 * ROLLBACK is queued, or its subscriber left), and why it may have failed: the first statement
 * error seen through it, or a statement of it abandoned while it ran.
 */
class TransactionScope {
  readonly parent: TransactionScope | undefined;
  /** The depth-first counter for savepoint names, shared by a whole transaction. */
  readonly #savepoints: { next: number };
  #ended = false;
  /** The first PostgresError of a request made through this scope's `tx`: why it failed. */
  failure: PostgresError | undefined;
  /**
   * The first request made through this scope's `tx` that was abandoned before it ended (its
   * subscriber left, or its timeout fired), when that came before any `failure`: rxpg cancels
   * such a statement on the server, which fails the transaction with an error nobody receives.
   */
  #abandoned: { readonly sql: string | undefined; readonly timeout: TimeoutError | undefined } | undefined;
  /** Savepoints of this scope that have not queued their RELEASE or ROLLBACK TO (or failed to begin) yet. */
  openChildren = 0;
  /**
   * A savepoint of this scope was still running when the scope's work completed and ended on
   * its own afterwards (not unsubscribed in the same step, as `take` does): it ran beside the
   * work, so the scope must not commit, however quickly it ended.
   */
  childOutlivedWork = false;

  constructor(parent: TransactionScope | undefined) {
    this.parent = parent;
    this.#savepoints = parent === undefined ? { next: 1 } : parent.#savepoints;
  }

  get ended(): boolean {
    return this.#ended || (this.parent?.ended ?? false);
  }

  end(): void {
    this.#ended = true;
  }

  nextSavepointName(): string {
    return `rxpg_sp_${this.#savepoints.next++}`;
  }

  record(error: unknown): void {
    if (this.failure === undefined && error instanceof PostgresError) this.failure = error;
  }

  /** A request of this scope was abandoned before it ended: by `timeout`, or by its subscriber leaving. */
  abandoned(sql: string | undefined, timeout: TimeoutError | undefined): void {
    if (this.failure === undefined && this.#abandoned === undefined) this.#abandoned = { sql, timeout };
  }

  /**
   * Why the scope's transaction failed, as far as rxpg saw it: a statement error, except that
   * a 25P02 after an abandoned statement only says that the transaction had failed already —
   * the abandoned statement, cancelled on the server, is the reason then. Undefined when
   * neither was seen (a statement run on the connection rather than through `tx`).
   */
  reason(): PostgresError | StatementCancelledError | undefined {
    const failure = this.failure;
    if (failure !== undefined && failure.code !== '25P02') return failure;
    const abandoned = this.#abandoned;
    if (abandoned === undefined) return failure;
    const timeout = abandoned.timeout;
    return new StatementCancelledError(
      `a statement of the transaction was cancelled while it ran (${abandonedBy(timeout)}): rxpg stopped it on the server (a CancelRequest, or for a batch a failing statement in place of its remaining sets), which aborts the transaction; that error was not delivered, since the statement no longer had a subscriber`,
      timeout === undefined ? { reason: 'unsubscribed', sql: abandoned.sql } : { reason: 'timeout', sql: abandoned.sql, cause: timeout },
    );
  }
}

function abandonedBy(timeout: TimeoutError | undefined): string {
  return timeout === undefined ? 'its subscriber unsubscribed' : `its timeout of ${timeout.timeout} ms fired`;
}

/** The statements that open and close one scope. */
interface Boundaries {
  readonly begin: string;
  readonly commit: string;
  readonly rollback: string;
  /** The savepoint's name; undefined for the transaction itself. */
  readonly savepoint: string | undefined;
}

/** What a BEGIN / COMMIT / ROLLBACK / SAVEPOINT statement reports back. */
interface ControlObserver {
  readonly result?: (result: ResultSet) => void;
  readonly complete: () => void;
  readonly error: (error: unknown) => void;
}

type Phase = 'begin' | 'work' | 'commit' | 'rollback' | 'ended';

/**
 * One subscription of a transaction or savepoint: BEGIN, the work, then COMMIT or ROLLBACK.
 * The BEGIN, COMMIT and ROLLBACK requests are never unsubscribed: each must reach the server
 * for the session to end up outside the scope, and what follows them on the connection is
 * queued behind them (FIFO), so nothing can run in a half-ended transaction.
 */
class TransactionRun<T> {
  readonly #connection: Connection;
  readonly #scope: TransactionScope;
  readonly #boundaries: Boundaries;
  readonly #work: (tx: Transaction) => ObservableInput<T>;
  readonly #subscriber: Subscriber<T>;
  /** The connection's guard, for the transaction itself (not for a savepoint). */
  readonly #guard: TransactionGuard | undefined;
  #phase: Phase = 'begin';
  #workSubscription: Subscription | undefined;
  /** The subscriber left while the work was being subscribed (it emitted synchronously). */
  #leftWhileSubscribingWork = false;
  #subscribingWork = false;
  /** Whether the parent scope no longer waits for this one (see `openChildren`). */
  #leftParent = false;
  /** The subscriber left (see TransactionScope.childOutlivedWork). */
  #unsubscribed = false;

  constructor(
    connection: Connection,
    scope: TransactionScope,
    boundaries: Boundaries,
    work: (tx: Transaction) => ObservableInput<T>,
    subscriber: Subscriber<T>,
    guard?: TransactionGuard,
  ) {
    this.#connection = connection;
    this.#scope = scope;
    this.#boundaries = boundaries;
    this.#work = work;
    this.#subscriber = subscriber;
    this.#guard = guard;
  }

  start(tx: Transaction): void {
    if (this.#scope.parent !== undefined) this.#scope.parent.openChildren++;
    this.#control(this.#boundaries.begin, {
      complete: () => {
        if (this.#phase !== 'begin') return;
        this.#phase = 'work';
        this.#runWork(tx);
      },
      error: (error) => {
        if (this.#phase !== 'begin') return;
        this.#guard?.release();
        this.#leaveParent();
        this.#finish();
        this.#subscriber.error(error);
      },
    });
  }

  /** The subscriber unsubscribed: stop the work first (its statements are abandoned), then roll back. */
  leave(): void {
    const phase = this.#phase;
    if (phase !== 'begin' && phase !== 'work') return; // COMMIT / ROLLBACK are on their way.
    this.#unsubscribed = true;
    this.#finish();
    if (phase === 'work') {
      if (this.#subscribingWork) {
        this.#leftWhileSubscribingWork = true;
        return;
      }
      this.#workSubscription?.unsubscribe();
    }
    this.#forgetRollback();
  }

  #runWork(tx: Transaction): void {
    let source: Observable<T>;
    try {
      source = from(this.#work(tx));
    } catch (error) {
      this.#workFailed(error);
      return;
    }
    this.#subscribingWork = true;
    const subscription = source.subscribe({
      next: (value) => this.#subscriber.next(value),
      error: (error: unknown) => this.#workFailed(error),
      complete: () => this.#workCompleted(),
    });
    this.#subscribingWork = false;
    if (this.#leftWhileSubscribingWork) {
      subscription.unsubscribe();
      this.#forgetRollback();
      return;
    }
    if (this.#phase === 'work') this.#workSubscription = subscription;
  }

  /** The work failed: roll back, then deliver its error (whatever the ROLLBACK's outcome). */
  #workFailed(error: unknown): void {
    if (this.#phase !== 'work') return;
    this.#phase = 'rollback';
    this.#scope.end();
    this.#afterChildren(() => this.#rollBack(error));
  }

  #rollBack(error: unknown): void {
    this.#ending(this.#boundaries.rollback, {
      complete: () => this.#fail(error),
      error: () => this.#fail(error),
    });
  }

  /** The work completed: COMMIT (or RELEASE the savepoint), and check that it did. */
  #workCompleted(): void {
    if (this.#phase !== 'work') return;
    this.#phase = 'commit';
    this.#scope.end();
    this.#afterChildren(() => {
      // A savepoint still open here runs outside the work's chain (a side subscription): its
      // statements would be committed and its own end would land after COMMIT. Refuse.
      if (this.#scope.openChildren > 0 || this.#scope.childOutlivedWork) {
        this.#rollBack(
          new TransactionStateError('the work completed while a savepoint of it was still open; the transaction was rolled back', '25000'),
        );
      } else {
        this.#commit();
      }
    });
  }

  /**
   * Runs `next` once the savepoints of this scope have queued their ROLLBACK TO. Operators such
   * as `take` complete their subscriber (here: the work's end) before they unsubscribe their
   * source (a savepoint in the work), so its ROLLBACK TO would be queued after our COMMIT, and
   * the savepoint's statements committed. The unsubscribe follows in the same synchronous step,
   * so a microtask later it has happened.
   */
  #afterChildren(next: () => void): void {
    if (this.#scope.openChildren === 0) next();
    else queueMicrotask(next);
  }

  #commit(): void {
    let tag: string | undefined;
    this.#ending(this.#boundaries.commit, {
      result: (result) => (tag = result.command),
      complete: () => {
        if (tag === 'ROLLBACK') {
          // COMMIT in a failed transaction "succeeds" with this tag: nothing was committed.
          const reason = this.#scope.reason();
          this.#fail(
            new TransactionRolledBackError(
              `COMMIT was answered with ROLLBACK: the transaction had failed${describeFailure(reason)}; nothing was committed`,
              { failure: reason },
            ),
          );
          return;
        }
        this.#finish();
        this.#subscriber.complete();
      },
      error: (error) => {
        const savepoint = this.#boundaries.savepoint;
        if (savepoint === undefined) {
          // A failed COMMIT (deferred constraint, serialization failure) has ended the transaction.
          this.#fail(error);
          return;
        }
        // A RELEASE that failed leaves the savepoint, and the transaction failed: roll back to it.
        const failedTransaction = error instanceof PostgresError && error.code === '25P02';
        const reason = failedTransaction ? this.#scope.reason() : undefined;
        const outcome = failedTransaction
          ? new TransactionRolledBackError(
              `savepoint ${savepoint} could not be released because the transaction had failed${describeFailure(reason)}; rolled back to the savepoint`,
              { failure: reason ?? error },
            )
          : error;
        this.#control(this.#boundaries.rollback, { complete: () => this.#fail(outcome), error: () => this.#fail(outcome) });
      },
    });
  }

  #fail(error: unknown): void {
    this.#finish();
    this.#subscriber.error(error);
  }

  #finish(): void {
    this.#phase = 'ended';
    this.#scope.end();
  }

  /** This savepoint's RELEASE or ROLLBACK TO is queued (or it never began): its parent may end. */
  #leaveParent(): void {
    if (this.#leftParent) return;
    this.#leftParent = true;
    const parent = this.#scope.parent;
    if (parent === undefined) return;
    parent.openChildren--;
    if (parent.ended && !this.#unsubscribed) parent.childOutlivedWork = true;
  }

  /** ROLLBACK for a subscriber that left: nobody waits for it, and its failure is the connection's. */
  #forgetRollback(): void {
    this.#ending(this.#boundaries.rollback, { complete: () => undefined, error: () => undefined });
  }

  /** Runs the COMMIT / ROLLBACK that ends the scope, telling the connection's guard. */
  #ending(sql: string, observer: ControlObserver): void {
    const answered = this.#guard?.ending();
    if (answered === undefined) {
      this.#control(sql, observer);
      this.#leaveParent();
      return;
    }
    this.#control(sql, {
      result: observer.result,
      complete: () => {
        answered();
        observer.complete();
      },
      error: (error) => {
        answered();
        observer.error(error);
      },
    });
  }

  /** Runs a BEGIN / COMMIT / ROLLBACK / SAVEPOINT statement; never unsubscribed (see the class). */
  #control(sql: string, observer: ControlObserver): void {
    this.#connection.simpleQuery(sql).subscribe({
      next: (result) => observer.result?.(result),
      complete: () => observer.complete(),
      error: (error: unknown) => observer.error(error),
    });
  }
}

function describeFailure(reason: PostgresError | StatementCancelledError | undefined): string {
  if (reason === undefined) return '';
  if (reason instanceof StatementCancelledError) {
    return `: a statement of it was cancelled while it ran (${abandonedBy(reason.cause as TimeoutError | undefined)})`;
  }
  return ` (${reason.code ?? 'no SQLSTATE'}: ${reason.message})`;
}

/**
 * What a transaction's work gets: the request methods of its connection, running inside the
 * transaction, and `transaction` for a nested savepoint. Each method is cold and behaves as the
 * Connection method of the same name (pipelining, cancellation, errors), with one addition:
 * once the transaction (or savepoint) has ended — its COMMIT, RELEASE or ROLLBACK is queued, or
 * its subscriber left — a request made through `tx` errors with a TransactionStateError (code
 * 25000) at subscribe and sends nothing, rather than running outside the transaction.
 *
 * Requests subscribed through `tx` before the work completes are queued before the COMMIT
 * (requests run FIFO), so a request still running when the work completes (e.g. one subscribed
 * on the side) finishes inside the transaction and its results still arrive; the COMMIT waits
 * for it on the server.
 *
 * A request unsubscribed while its statement runs (`takeUntil`, an aborted `signal`), or whose
 * `timeout` fires, is cancelled on the server, and a cancelled statement fails the transaction
 * as any failed statement does, even though its error goes nowhere: if the work goes on and
 * completes, the COMMIT errors with a TransactionRolledBackError whose `cause` is a
 * StatementCancelledError naming what abandoned it.
 *
 * @example
 * connection.transaction((tx) =>
 *   concat(
 *     tx.execute('UPDATE accounts SET balance = balance - $1 WHERE id = $2', [100, payer]),
 *     tx.execute('UPDATE accounts SET balance = balance + $1 WHERE id = $2', [100, payee]),
 *   ),
 * );
 */
export class Transaction extends Queryable {
  readonly #connection: Connection;
  readonly #scope: TransactionScope;

  /** @internal Made by `transaction(...)`, which is how users get a Transaction. */
  static within(connection: Connection, scope: TransactionScope): Transaction {
    return new Transaction(connection, scope);
  }

  // Private so that the published declarations (which drop internal members) do not offer a
  // public constructor that would fail at run time.
  private constructor(connection: Connection, scope: TransactionScope) {
    super();
    this.#connection = connection;
    this.#scope = scope;
  }

  /** True once this transaction or savepoint (or an enclosing one) has ended: requests then error. */
  get ended(): boolean {
    return this.#scope.ended;
  }

  /**
   * `query` in the transaction (see Queryable.query): the connection's, refused once the
   * transaction has ended.
   *
   * @internal
   */
  protected override runQuery(sql: string, params: readonly unknown[] | undefined, options: QueryOptions | undefined): Observable<unknown> {
    return this.#inside(sql, () => this.#connection.query(sql, params, options));
  }

  /** `Connection.execute`, inside the transaction. */
  override execute(
    sql: string,
    params?: readonly unknown[],
    options?: Omit<QueryOptions, 'rowMode' | 'onFields'>,
  ): Observable<CommandResult> {
    return this.#inside(sql, () => this.#connection.execute(sql, params, options));
  }

  /**
   * `Connection.queryBatch`, inside the transaction: with either `sync` mode the sets run in it
   * and commit with it; a failed set fails the transaction as any failed statement does.
   *
   * @example
   * tx.queryBatch('INSERT INTO lines (order_id, sku) VALUES ($1, $2)', lines.map((line) => [orderId, line.sku]));
   */
  queryBatch<T = Record<string, unknown>>(
    sql: string,
    parameterSets: Iterable<readonly unknown[]>,
    options?: QueryBatchOptions,
  ): Observable<T[]> {
    return this.#inside(sql, () => this.#connection.queryBatch<T>(sql, parameterSets, options));
  }

  /** `Connection.simpleQuery`, inside the transaction. */
  simpleQuery(sql: string): Observable<ResultSet> {
    return this.#inside(sql, () => this.#connection.simpleQuery(sql));
  }

  /** `Connection.copyIn`, inside the transaction. */
  copyIn(
    sql: string,
    source: ObservableInput<CopyChunk>,
    options?: { readonly params?: readonly unknown[]; readonly maxBufferedBytes?: number },
  ): Observable<CommandResult> {
    return this.#inside(sql, () => this.#connection.copyIn(sql, source, options));
  }

  /** `Connection.copyInRows`, inside the transaction. */
  copyInRows(
    target: { readonly table: string; readonly schema?: string; readonly columns: readonly string[] },
    rows: ObservableInput<readonly unknown[]>,
    options?: { readonly maxBufferedBytes?: number },
  ): Observable<CommandResult> {
    return this.#inside(undefined, () => this.#connection.copyInRows(target, rows, options));
  }

  /** `Connection.copyOut`, inside the transaction. */
  copyOut(sql: string, params?: readonly unknown[], options?: { readonly pushback?: Pushback }): Observable<Buffer> {
    return this.#inside(sql, () => this.#connection.copyOut(sql, params, options));
  }

  /** `Connection.copyOutRows`, inside the transaction. */
  copyOutRows(sql: string, params?: readonly unknown[], options?: { readonly pushback?: Pushback }): Observable<CopyTextRow> {
    return this.#inside(sql, () => this.#connection.copyOutRows(sql, params, options));
  }

  /** `Connection.notify`, inside the transaction: delivered when the transaction commits, never if it rolls back. */
  notify(channel: string, payload?: string): Observable<void> {
    return this.#inside(undefined, () => this.#connection.notify(channel, payload));
  }

  /**
   * Runs `work` inside a savepoint of this transaction, with the rules of
   * `Connection.transaction`: `SAVEPOINT rxpg_sp_N` on subscribe; the work's values passed
   * through; `RELEASE SAVEPOINT` when it completes; `ROLLBACK TO SAVEPOINT` then `RELEASE
   * SAVEPOINT` when it errors (the subscriber gets the work's error, and the enclosing
   * transaction goes on as before the savepoint) or when the subscriber unsubscribes (the
   * work is unsubscribed first). A savepoint that cannot be released because the transaction
   * had failed is rolled back to and errors with a TransactionRolledBackError. Cold, so
   * `retry` re-runs only the savepoint.
   *
   * Errors: as `Connection.transaction`; a TypeError when `options` sets an isolation level,
   * readOnly or deferrable (a savepoint cannot change them); a TransactionStateError when this
   * transaction has ended.
   *
   * @example
   * tx.transaction((inner) => inner.execute('INSERT INTO audit VALUES ($1)', [entry]))
   *   .pipe(catchError(() => EMPTY)); // an audit failure does not fail the transfer
   */
  transaction<T>(work: (tx: Transaction) => ObservableInput<T>, options?: TransactionOptions): Observable<T> {
    return new Observable<T>((subscriber) => {
      try {
        if (hasTransactionModes(options)) {
          throw new TypeError(
            'a nested transaction (a savepoint) cannot set isolation, readOnly or deferrable: set them on the outer transaction',
          );
        }
      } catch (error) {
        subscriber.error(error);
        return undefined;
      }
      if (typeof work !== 'function') {
        subscriber.error(new TypeError(`transaction work must be a function (tx) => ObservableInput, got ${typeof work}`));
        return undefined;
      }
      if (this.#scope.ended) {
        subscriber.error(endedError('a nested transaction'));
        return undefined;
      }
      const scope = new TransactionScope(this.#scope);
      const name = scope.nextSavepointName();
      const run = new TransactionRun(
        this.#connection,
        scope,
        {
          begin: `SAVEPOINT ${name}`,
          commit: `RELEASE SAVEPOINT ${name}`,
          rollback: `ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`,
          savepoint: name,
        },
        work,
        subscriber,
      );
      run.start(Transaction.within(this.#connection, scope));
      return () => run.leave();
    });
  }

  /**
   * `request()` subscribed while the scope is open; its statement errors, and its abandonment
   * before its end, are remembered (`sql` names it, undefined when its text is rxpg's own).
   */
  #inside<R>(sql: string | undefined, request: () => Observable<R>): Observable<R> {
    return new Observable<R>((subscriber) => {
      if (this.#scope.ended) {
        subscriber.error(endedError('a request'));
        return undefined;
      }
      const scoped = new ScopedRequest(this.#scope, sql, subscriber);
      scoped.subscription = request().subscribe(scoped);
      return scoped;
    });
  }
}

/**
 * One subscription to a request made through `tx` (one object rather than a closure each):
 * passes the request's events on, and tells the scope when a statement error ends it or when
 * it is abandoned before its end — its subscriber left, or its timeout fired — since rxpg then
 * cancels it on the server, which fails the transaction with an error that nobody receives.
 */
class ScopedRequest<R> implements Observer<R> {
  readonly #scope: TransactionScope;
  readonly #sql: string | undefined;
  readonly #subscriber: Subscriber<R>;
  subscription: Subscription | undefined;
  #ended = false;

  constructor(scope: TransactionScope, sql: string | undefined, subscriber: Subscriber<R>) {
    this.#scope = scope;
    this.#sql = sql;
    this.#subscriber = subscriber;
  }

  next(value: R): void {
    this.#subscriber.next(value);
  }

  error(error: unknown): void {
    this.#ended = true;
    // A request's timeout abandons it as an unsubscribe does (AcquireTimeoutError, a pool's, sends nothing).
    if (error instanceof TimeoutError && !(error instanceof AcquireTimeoutError)) this.#scope.abandoned(this.#sql, error);
    else this.#scope.record(error);
    this.#subscriber.error(error);
  }

  complete(): void {
    this.#ended = true;
    this.#subscriber.complete();
  }

  /** The teardown: the subscriber left; a request that had not ended is abandoned. */
  unsubscribe(): void {
    this.subscription?.unsubscribe();
    if (!this.#ended) {
      this.#ended = true;
      this.#scope.abandoned(this.#sql, undefined);
    }
  }
}

function endedError(what: string): TransactionStateError {
  return new TransactionStateError(
    `${what} was made through a transaction's tx after that transaction had ended; it would run outside of it, so nothing was sent`,
    '25000',
  );
}
