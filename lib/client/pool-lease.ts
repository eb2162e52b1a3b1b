import type { Observable, Observer, Unsubscribable } from 'rxjs';
import { PostgresError } from '../errors';
import { PoolMisuseError } from '../errors/pool-misuse-error';
import type { AcquireWaiter } from './acquire-queue';
import type { Connection } from './connection';
import type { Holder, PooledConnection } from './pooled-connection';
import type { PromiseExecuteOptions, PromiseQueryOptions } from './promise-conveniences';

/** What a lease needs from its pool. */
export interface LeaseHost {
  /** Grants a connection to `waiter` now or later (see Pool); returns how to leave the queue. */
  acquire(waiter: AcquireWaiter<PooledConnection>): () => void;
  /** The lease is done with `pooled`; `unsure`: requests it started may still be running. */
  release(pooled: PooledConnection, unsure: boolean): void;
}

/**
 * One subscription to a pooled request or a held connection, from acquire to release, as one
 * object: the acquire queue's waiter, the observer of the work run on the connection, what the
 * pool calls to take the connection away when it ends (`revoke`), and the teardown RxJS calls
 * on unsubscribe. (A pool serves tens of thousands of point queries a second: one object each
 * rather than a dozen closures is measurably less garbage.) Its subclasses say what the work
 * is: an Observable made from the connection ({@link ObservableLease}), or one statement's
 * request ({@link StatementLease}).
 *
 * Released when the work completes or errors, and when the subscriber leaves (then `unsure`:
 * the pool brings the connection back in sync before anyone else gets it). A work that
 * completes and leaves its connection inside a transaction errors with a PoolMisuseError (the
 * pool rolls the transaction back).
 *
 * @example
 * new Observable<T>((subscriber) => new ObservableLease(host, subscriber, (c) => c.query(sql), false, sql, true).start());
 */
export abstract class PoolLease<T> implements AcquireWaiter<PooledConnection>, Observer<T>, Unsubscribable, Holder {
  /** Whether the work is a single statement that may share its connection (option `pipeline`). */
  readonly shareable: boolean;
  readonly #host: LeaseHost;
  readonly #subscriber: Observer<T>;
  readonly #unsure: boolean;
  /** The request's SQL text, when it is one statement: it names it in a PoolMisuseError. */
  protected readonly sql: string | undefined;
  #held: PooledConnection | undefined;
  #work: Unsubscribable | undefined;
  #leave: (() => void) | undefined;
  /** Its place in the connection's HolderList while it holds the connection. */
  previousHolder: Holder | undefined;
  nextHolder: Holder | undefined;

  /**
   * `unsure`: the work may leave requests running even when it completes (withConnection);
   * `sql` names the request in a PoolMisuseError.
   */
  protected constructor(host: LeaseHost, subscriber: Observer<T>, unsure: boolean, sql: string | undefined, shareable: boolean) {
    this.#host = host;
    this.#subscriber = subscriber;
    this.#unsure = unsure;
    this.sql = sql;
    this.shareable = shareable;
  }

  /** Starts the work on the connection granted, with the lease as its observer. */
  protected abstract startWork(connection: Connection): Unsubscribable;

  /** Joins the pool's acquire queue (or takes a connection at once); returns the lease as the teardown. */
  start(): this {
    this.#leave = this.#host.acquire(this);
    return this;
  }

  /** The pool grants `pooled`: run the work on it. */
  grant(pooled: PooledConnection): void {
    this.#held = pooled;
    pooled.holders.add(this);
    try {
      this.#work = this.startWork(pooled.connection);
    } catch (error) {
      this.#release(false);
      this.#subscriber.error(error);
    }
  }

  /** No connection for this waiter (acquireTimeout, the pool ended). */
  fail(error: unknown): void {
    this.#subscriber.error(error);
  }

  /** The pool takes the connection away (it ended with this work still running). */
  revoke(error: unknown): void {
    this.#work?.unsubscribe();
    this.#release(true);
    this.#subscriber.error(error);
  }

  /** A value of the work. */
  next(value: T): void {
    this.#subscriber.next(value);
  }

  /**
   * The work failed. An error can come before the request's ReadyForQuery (a TimeoutError
   * abandons a request still running, perhaps a BEGIN): the connection is brought back in
   * sync, and what it left open rolled back, before anyone else gets it. A PostgresError is
   * delivered at its request's ReadyForQuery (the protocol's rule for every request kind, and
   * a transaction's after its ROLLBACK): the connection is in sync, and goes straight back
   * unless that left a transaction open (then only the ROLLBACK runs).
   */
  error(error: unknown): void {
    this.#release(!(error instanceof PostgresError));
    this.#subscriber.error(error);
  }

  /** The work completed: released, and a transaction it left open is a PoolMisuseError. */
  complete(): void {
    const status = this.#held?.connection.transactionStatus ?? 'idle';
    this.#release(false);
    if (status === 'idle') this.#subscriber.complete();
    else this.#subscriber.error(misuseError(status, this.#unsure, this.sql));
  }

  /** The subscriber left: out of the queue, or the work abandoned and the connection released. */
  unsubscribe(): void {
    this.#leave?.();
    this.#work?.unsubscribe();
    this.#release(true);
  }

  #release(abandoned: boolean): void {
    const pooled = this.#held;
    if (pooled === undefined) return;
    this.#held = undefined;
    pooled.holders.delete(this);
    this.#host.release(pooled, abandoned || this.#unsure);
  }
}

function misuseError(status: string, unsure: boolean, sql: string | undefined): PoolMisuseError {
  const what = unsure ? 'the work of pool.withConnection' : 'a pooled request';
  return new PoolMisuseError(
    `${what} left its connection inside an open transaction (${status}); the pool rolled it back. ` +
      'Use pool.transaction(work) for a transaction, or pool.withConnection(work) and end it there.',
    sql,
  );
}

/** A lease whose work is an Observable made from the connection (query, COPY, withConnection, transaction). */
export class ObservableLease<T> extends PoolLease<T> {
  readonly #makeWork: (connection: Connection) => Observable<T>;

  constructor(
    host: LeaseHost,
    subscriber: Observer<T>,
    makeWork: (connection: Connection) => Observable<T>,
    unsure: boolean,
    sql: string | undefined,
    shareable: boolean,
  ) {
    super(host, subscriber, unsure, sql, shareable);
    this.#makeWork = makeWork;
  }

  protected startWork(connection: Connection): Unsubscribable {
    return this.#makeWork(connection).subscribe(this);
  }
}

/**
 * A lease whose work is one statement's request (`all`, `first`, `run`), started on the
 * connection without an Observable around it (see Queryable.startRows).
 */
export class StatementLease extends PoolLease<unknown> {
  readonly #command: boolean;
  readonly #params: readonly unknown[] | undefined;
  readonly #options: PromiseQueryOptions | PromiseExecuteOptions | undefined;

  /** `command`: `execute`'s request (CommandResult), otherwise `query`'s (rows). */
  constructor(
    host: LeaseHost,
    subscriber: Observer<unknown>,
    command: boolean,
    sql: string,
    params: readonly unknown[] | undefined,
    options: PromiseQueryOptions | PromiseExecuteOptions | undefined,
    shareable: boolean,
  ) {
    super(host, subscriber, false, sql, shareable);
    this.#command = command;
    this.#params = params;
    this.#options = options;
  }

  protected startWork(connection: Connection): Unsubscribable {
    return this.#command
      ? connection.startCommand(this, this.sql as string, this.#params, this.#options)
      : connection.startRows(this, this.sql as string, this.#params, this.#options);
  }
}
