import type { Observable, Observer, Unsubscribable } from 'rxjs';
import { allValues, commandValue, firstValue, type PromiseExecuteOptions, type PromiseQueryOptions } from './promise-conveniences';
import type { ArrayQueryOptions, CommandResult, ObjectQueryOptions, QueryOptions, RawQueryOptions } from './query-options';
import type { QueryRow, RawRow } from './row-builder';

/**
 * What Connection, Pool and Transaction have in common: `query` and `execute` (each class runs
 * them its own way, see theirs), and the Promise conveniences `all`, `first` and `run` built on
 * them. Name it where any of the three will do.
 *
 * Users get its subclasses from `connect`, `createPool` and `transaction(...)`; it is not
 * meant to be extended.
 *
 * @example
 * import type { Queryable } from 'rxpg';
 *
 * async function activeUsers(db: Queryable): Promise<{ id: number }[]> {
 *   return db.all<{ id: number }>('SELECT id FROM users WHERE active');
 * }
 */
export abstract class Queryable {
  // Protected: only Connection, Pool and Transaction (with their own factories) extend it.
  protected constructor() {}

  /**
   * Runs one statement and emits its rows. Cold: nothing is written before subscribe, and each
   * subscription runs the statement again. The statement goes through the extended protocol
   * (Parse/Bind/Describe/Execute/Sync in one write), so `$1, $2, ...` parameters never become
   * part of the SQL text. Requests made while others are in flight are written at once
   * (pipelined), each with its own Sync: a failing statement fails only its own Observable.
   * On a pool each subscription acquires a connection (waiting in a fair queue), runs, and
   * releases it on complete, error or unsubscribe; in a transaction it runs inside it.
   *
   * Rows are objects keyed by column name with decoded values (see `types`), typed by `T`
   * (not checked against the result); with `rowMode: 'array'` arrays of decoded values, and
   * with `rowMode: 'raw'` postgres_async's {@link RawRow} (the other signatures). Parameters:
   * strings, `null`, numbers, bigint, booleans, Date, Buffer/Uint8Array (bytea), arrays, plain
   * objects (JSON); `undefined` is an error.
   *
   * Unsubscribing before the end: a request not written yet (or still waiting for a pooled
   * connection) is dropped; a running one has its remaining replies discarded up to its
   * ReadyForQuery (the connection stays usable) and is stopped on the server with a
   * CancelRequest when that cannot hit another request. The `timeout` option does the same and
   * errors with a TimeoutError. `pushback` and the `interop` bridges bound memory for slow
   * consumers.
   *
   * Errors: PostgresError for a failed statement (with the non-enumerable `sql` and the
   * parameter count, never the values); ParameterError for a parameter that cannot be sent;
   * RangeError for more than 65535 parameters, Error for a NUL byte in the SQL (nothing is
   * sent, the connection stays usable); QueryShapeError for COPY (use copyIn / copyOut);
   * TimeoutError; ConnectionError when the connection is closed or fails, linking the cause.
   * On a pool also AcquireTimeoutError (no connection within `acquireTimeout`),
   * PoolMisuseError (the statement left a transaction open; it ran, and the pool rolled it
   * back) and a ConnectionError once the pool has ended; in a transaction TransactionStateError
   * once it has ended.
   *
   * @example
   * db.query<{ id: number; name: string }>('SELECT id, name FROM users WHERE id = $1', [42])
   *   .subscribe((user) => console.log(user.name));
   */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: ObjectQueryOptions): Observable<T>;
  /**
   * `query` with `rowMode: 'array'`: each row is an array of decoded values in column order,
   * typed by `T` (an array or tuple type, not checked against the result). Otherwise as the
   * default `query`.
   *
   * @example
   * db.query<[number, string]>('SELECT id, name FROM users', [], { rowMode: 'array' })
   *   .subscribe(([id, name]) => console.log(id, name));
   */
  query<T extends readonly unknown[] = unknown[]>(
    sql: string,
    params: readonly unknown[] | undefined,
    options: ArrayQueryOptions,
  ): Observable<T>;
  /**
   * `query` with `rowMode: 'raw'`: each row is a {@link RawRow} (the column names, shared by
   * every row, and the text values as the server sent them; nothing is decoded). Otherwise as
   * the default `query`.
   *
   * @example
   * db.query('SELECT id, name FROM users', [], { rowMode: 'raw' })
   *   .subscribe(({ columnNames, values }) => console.log(columnNames, values));
   */
  query<T extends RawRow = RawRow>(sql: string, params: readonly unknown[] | undefined, options: RawQueryOptions): Observable<T>;
  /**
   * `query` with a row mode known only at run time (a {@link QueryOptions} value): each row
   * is a {@link QueryRow}. Otherwise as the default `query`.
   *
   * @example
   * const options: QueryOptions = { rowMode: wantArrays ? 'array' : 'object' };
   * db.query('SELECT id, name FROM users', [], options).subscribe((row) => console.log(row));
   */
  query(sql: string, params?: readonly unknown[], options?: QueryOptions): Observable<QueryRow>;
  query(sql: string, params?: readonly unknown[], options?: QueryOptions): Observable<unknown> {
    return this.runQuery(sql, params, options);
  }

  /**
   * How this connection, pool or transaction runs `query`: the one thing the three do
   * differently.
   *
   * @internal
   */
  protected abstract runQuery(sql: string, params: readonly unknown[] | undefined, options: QueryOptions | undefined): Observable<unknown>;

  /**
   * Runs one statement that returns no rows on this connection, pool or transaction and emits
   * its {@link CommandResult} once. Cold and cancellable; the subclass's `execute` says where
   * it runs and which errors it raises (a QueryShapeError when the statement returned rows).
   *
   * @example
   * db.execute('UPDATE accounts SET frozen = true WHERE id = $1', [7]).subscribe(({ rowCount }) => console.log(rowCount));
   */
  abstract execute(
    sql: string,
    params?: readonly unknown[],
    options?: Omit<QueryOptions, 'rowMode' | 'onFields'>,
  ): Observable<CommandResult>;

  /**
   * Runs a statement (`query`) on this connection, pool or transaction and resolves with all
   * its rows, as objects typed by `T`.
   *
   * Rejects with `query`'s errors (PostgresError, ParameterError, TimeoutError,
   * ConnectionError; on a pool also AcquireTimeoutError and PoolMisuseError; through a
   * transaction that has ended, TransactionStateError). With `signal`, aborting unsubscribes
   * (a statement not sent yet is never sent, a running one is cancelled) and rejects with the
   * signal's reason; an already aborted signal rejects at once and sends nothing.
   *
   * @example
   * const users = await db.all<{ id: number }>('SELECT id FROM users WHERE team = $1', ['core']);
   */
  all<T = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: PromiseQueryOptions<ObjectQueryOptions>,
  ): Promise<T[]>;
  /**
   * `all` with `rowMode: 'array'`: resolves with the rows as arrays of decoded values.
   *
   * @example
   * const pairs = await db.all<[number, string]>('SELECT id, name FROM users', [], { rowMode: 'array' });
   */
  all<T extends readonly unknown[] = unknown[]>(
    sql: string,
    params: readonly unknown[] | undefined,
    options: PromiseQueryOptions<ArrayQueryOptions>,
  ): Promise<T[]>;
  /**
   * `all` with `rowMode: 'raw'`: resolves with the rows as {@link RawRow}s.
   *
   * @example
   * const rows = await db.all('SELECT id, name FROM users', [], { rowMode: 'raw' });
   */
  all<T extends RawRow = RawRow>(
    sql: string,
    params: readonly unknown[] | undefined,
    options: PromiseQueryOptions<RawQueryOptions>,
  ): Promise<T[]>;
  /**
   * `all` with a row mode known only at run time: resolves with {@link QueryRow}s.
   *
   * @example
   * const rows = await db.all('SELECT id, name FROM users', [], options);
   */
  all(sql: string, params?: readonly unknown[], options?: PromiseQueryOptions): Promise<QueryRow[]>;
  all(sql: string, params?: readonly unknown[], options?: PromiseQueryOptions): Promise<unknown[]> {
    return allValues(this, sql, params, options);
  }

  /**
   * Runs a statement (`query`) on this connection, pool or transaction and resolves with its
   * first row, or undefined when it returned none. The statement runs to its end (it is not
   * cancelled after the first row; later rows are read and dropped), so its errors still
   * reject and a pooled connection goes straight back. Errors and `signal` as in `all`.
   *
   * @example
   * const user = await db.first<{ name: string }>('SELECT name FROM users WHERE id = $1', [7]);
   */
  first<T = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: PromiseQueryOptions<ObjectQueryOptions>,
  ): Promise<T | undefined>;
  /**
   * `first` with `rowMode: 'array'`: resolves with the first row as an array of decoded values.
   *
   * @example
   * const [count] = (await db.first<[bigint]>('SELECT count(*) FROM users', [], { rowMode: 'array' })) ?? [0n];
   */
  first<T extends readonly unknown[] = unknown[]>(
    sql: string,
    params: readonly unknown[] | undefined,
    options: PromiseQueryOptions<ArrayQueryOptions>,
  ): Promise<T | undefined>;
  /**
   * `first` with `rowMode: 'raw'`: resolves with the first row as a {@link RawRow}.
   *
   * @example
   * const row = await db.first('SELECT name FROM users WHERE id = $1', [7], { rowMode: 'raw' });
   */
  first<T extends RawRow = RawRow>(
    sql: string,
    params: readonly unknown[] | undefined,
    options: PromiseQueryOptions<RawQueryOptions>,
  ): Promise<T | undefined>;
  /**
   * `first` with a row mode known only at run time: resolves with a {@link QueryRow}.
   *
   * @example
   * const row = await db.first('SELECT name FROM users WHERE id = $1', [7], options);
   */
  first(sql: string, params?: readonly unknown[], options?: PromiseQueryOptions): Promise<QueryRow | undefined>;
  first(sql: string, params?: readonly unknown[], options?: PromiseQueryOptions): Promise<unknown> {
    return firstValue(this, sql, params, options);
  }

  /**
   * Runs a statement without rows (`execute`) on this connection, pool or transaction and
   * resolves with its {@link CommandResult}. Rejects with `execute`'s errors (a
   * QueryShapeError when it returned rows; otherwise as `all`). `signal` as in `all`.
   *
   * @example
   * const { rowCount } = await db.run('DELETE FROM sessions WHERE expires < now()');
   */
  run(sql: string, params?: readonly unknown[], options?: PromiseExecuteOptions): Promise<CommandResult> {
    return commandValue(this, sql, params, options);
  }

  /**
   * How `all` and `first` start their statement: a subscription to `query` with `observer`.
   * A Connection or Pool starts its request without the Observable around it (the same
   * request, fewer objects per point query).
   *
   * @internal
   */
  startRows(
    observer: Observer<unknown>,
    sql: string,
    params: readonly unknown[] | undefined,
    options: PromiseQueryOptions | undefined,
  ): Unsubscribable {
    return this.query(sql, params, options).subscribe(observer);
  }

  /**
   * How `run` starts its statement: a subscription to `execute` (see {@link startRows}).
   *
   * @internal
   */
  startCommand(
    observer: Observer<CommandResult>,
    sql: string,
    params: readonly unknown[] | undefined,
    options: PromiseExecuteOptions | undefined,
  ): Unsubscribable {
    return this.execute(sql, params, options).subscribe(observer);
  }
}
