import { Observable, defer, from, type ObservableInput, type Observer, type Unsubscribable } from 'rxjs';
import type { ResolvedConnectionConfig } from '../config';
import { CopyAbortedError, PostgresError, type ConnectionError, type ErrorFields } from '../errors';
import {
  CopyInConversation,
  CopyOutConversation,
  SimpleQueryConversation,
  StatementCache,
  rowCountOf,
  type Conversation,
  type ConnectionState,
  type Notification,
  type ParameterChange,
  type ProtocolConnection,
  type ResultSet,
  type TransactionStatus,
} from '../protocol';
import { NotificationChannels, type ChannelEvent } from '../notifications/notification-channels';
import { notify } from '../notifications/notify';
import { CopyTextEncoder, CopyTextParser, TypeRegistry, encodeCopyTextRowsAsync, quoteIdentifier, type CopyTextRow } from '../types';
import type { BackendMessage } from '../wire';
import { copySourceFrom, isPullSource, type CopyChunk } from './copy-source';
import { guardPushback } from './guard-pushback';
import type { CommandResult, Pushback, QueryOptions } from './query-options';
import { encodeParameters } from './encode-parameters';
import { NoRowsRequest, RowsRequest } from './extended-query-request';
import { BatchRequest, type QueryBatchOptions } from './batch-request';
import { LaunchedRequest } from './launched-request';
import { RowBuilderCache } from './row-builder';
import { Queryable } from './queryable';
import { runTransaction, type Transaction } from './transaction';
import { TransactionGuard } from './transaction-guard';
import type { TransactionOptions } from './transaction-options';

/**
 * An open connection to PostgreSQL, as emitted by `connect`. Requests made on it are cold
 * Observables; the connection itself exposes hot streams of what the server says on its own
 * (notices, parameter changes, every message) and how it ends (`closed$`).
 *
 * `await using connection = await firstValueFrom(connect(...))` closes it at scope exit.
 */
export class Connection extends Queryable implements AsyncDisposable {
  readonly #protocol: ProtocolConnection;
  readonly #config: ResolvedConnectionConfig;
  readonly #statements: StatementCache;
  readonly #rowBuilders: RowBuilderCache;
  #channels: NotificationChannels | undefined;
  readonly #transactions = new TransactionGuard();

  /**
   * How this connection decodes column values, by type OID. Per connection: overriding a
   * decoder here (`connection.types.setDecoder(oid, fn)`) affects no other connection.
   */
  readonly types: TypeRegistry;

  /** @internal Made by `connect`, which is how users get a Connection. */
  static open(protocol: ProtocolConnection, config: ResolvedConnectionConfig): Connection {
    return new Connection(protocol, config);
  }

  // Private so that the published declarations (which drop internal members) do not offer a
  // public constructor that would fail at run time.
  private constructor(protocol: ProtocolConnection, config: ResolvedConnectionConfig) {
    super();
    this.#protocol = protocol;
    this.#config = config;
    this.types = new TypeRegistry({ bigint: config.bigint });
    this.#rowBuilders = new RowBuilderCache(this.types);
    this.#statements = new StatementCache(config.statementCacheSize);
  }

  /** `open`, `closing`, `closed` (gracefully) or `failed`. */
  get state(): Exclude<ConnectionState, 'connecting'> {
    const state = this.#protocol.state;
    return state === 'connecting' ? 'open' : state;
  }

  /**
   * The session's transaction state from the server's latest ReadyForQuery: `idle`,
   * `in transaction` (after BEGIN) or `failed transaction` (a statement failed inside the
   * transaction; everything but ROLLBACK fails with 25P02). While requests are in flight it
   * describes the session after the last one that ended.
   */
  get transactionStatus(): TransactionStatus {
    return this.#protocol.transactionStatus;
  }

  /** The backend's process ID (from BackendKeyData), as `pg_backend_pid()` reports it. */
  get processId(): number | undefined {
    return this.#protocol.backendKey?.processId;
  }

  /** The settings this connection was made with (the password is not enumerable). */
  get config(): ResolvedConnectionConfig {
    return this.#config;
  }

  /** The error that ended the connection, once it has failed. */
  get failure(): ConnectionError | undefined {
    return this.#protocol.failure;
  }

  /**
   * The runtime parameters the server reported (ParameterStatus): `server_version`,
   * `TimeZone`, `client_encoding`, `application_name`, ... A fresh snapshot on every read.
   */
  get parameters(): Readonly<Record<string, string>> {
    const snapshot = Object.create(null) as Record<string, string>;
    for (const [name, value] of this.#protocol.parameters) snapshot[name] = value;
    return Object.freeze(snapshot);
  }

  /**
   * Each ParameterStatus the server sends after startup (e.g. after `SET TimeZone`). Hot;
   * completes when the connection ends.
   */
  get parameterChanges$(): Observable<ParameterChange> {
    return this.#protocol.parameterChanges$;
  }

  /**
   * NoticeResponse messages (warnings, `RAISE NOTICE`) with all their fields. Hot; nothing is
   * printed when nobody subscribes. Completes when the connection ends.
   */
  get notices$(): Observable<ErrorFields> {
    return this.#protocol.notices$;
  }

  /** @internal Every NotificationResponse; per-channel subscriptions are built on it. */
  get notificationMessages$(): Observable<Notification> {
    return this.#protocol.notifications$;
  }

  /**
   * Every decoded backend message, for tracing and debugging. Hot; completes when the
   * connection ends.
   */
  get messages$(): Observable<BackendMessage> {
    return this.#protocol.messages$;
  }

  /**
   * Completes when the connection is closed gracefully (`close`), errors with a
   * ConnectionError when the server or the network ends it (e.g. `pg_terminate_backend`:
   * the cause is the server's FATAL error, SQLSTATE 57P01). Replays the outcome to late
   * subscribers.
   */
  get closed$(): Observable<void> {
    return this.#protocol.closed$;
  }

  /**
   * `query` on this connection (see Queryable.query): one RowsRequest per subscription.
   *
   * @internal
   */
  protected override runQuery(
    sql: string,
    params: readonly unknown[] = noParameters,
    options: QueryOptions = noQueryOptions,
  ): Observable<unknown> {
    return new Observable<unknown>((subscriber) =>
      new RowsRequest(this.#protocol, subscriber, this.#rowBuilders, options).start(this.#statements, sql, params, options.timeout),
    );
  }

  /**
   * Runs one statement that returns no rows (postgres_async's query_expect_no_data) and emits
   * its {@link CommandResult} once. `execute('')` is a cheap round trip (a heartbeat).
   * Cold, pipelined and cancellable like `query`.
   *
   * Errors: as `query`, plus a QueryShapeError when the statement returned rows — it still
   * ran (and may have changed data), as in postgres_async.
   *
   * @example
   * connection.execute('UPDATE accounts SET frozen = true WHERE id = $1', [7])
   *   .subscribe(({ rowCount }) => console.log(`${rowCount} frozen`));
   */
  override execute(
    sql: string,
    params: readonly unknown[] = [],
    options: Omit<QueryOptions, 'rowMode' | 'onFields'> = {},
  ): Observable<CommandResult> {
    return new Observable<CommandResult>((subscriber) =>
      new NoRowsRequest(this.#protocol, subscriber, sql, options.onComplete).start(this.#statements, sql, params, options.timeout),
    );
  }

  /**
   * `all` / `first`'s request: `query`'s, started without an Observable around it.
   *
   * @internal
   */
  override startRows(
    observer: Observer<unknown>,
    sql: string,
    params: readonly unknown[] = noParameters,
    options: QueryOptions = noQueryOptions,
  ): Unsubscribable {
    return new RowsRequest(this.#protocol, observer, this.#rowBuilders, options).start(this.#statements, sql, params, options.timeout);
  }

  /**
   * `run`'s request: `execute`'s, started without an Observable around it.
   *
   * @internal
   */
  override startCommand(
    observer: Observer<CommandResult>,
    sql: string,
    params: readonly unknown[] = noParameters,
    options: Omit<QueryOptions, 'rowMode' | 'onFields'> = noQueryOptions,
  ): Unsubscribable {
    return new NoRowsRequest(this.#protocol, observer, sql, options.onComplete).start(this.#statements, sql, params, options.timeout);
  }

  /**
   * Runs one statement for many parameter sets, pipelined, under one Observable: Parse once
   * (or nothing, when the connection has prepared the statement), then Bind/Execute per set
   * from the statement's Bind template. Emits one array of rows per set, in the sets' order,
   * as each set's statement completes (an empty array for a set without rows), then completes.
   * Rows are shaped by `rowMode` as in `query`; parameters are encoded as in `query`.
   *
   * `sync`: `'once'` (the default) ends the sets with one Sync, so they run in one implicit
   * transaction: an error leaves nothing of the batch committed — the default because an error
   * notification then means "the batch did not happen", with no prefix to find and repair.
   * (Arrays emitted before the error describe work that was rolled back.) `'each'` ends every
   * set with its own Sync, so each commits on its own as separate `query` calls would.
   * Inside a transaction both modes run in it, and an error fails it.
   *
   * Cold: each subscription runs the batch again, iterating `parameterSets` anew (an array
   * replays, a generator does not). Bounded: sets are taken from `parameterSets` and encoded as
   * they are written, in rounds of about 64 KiB of encoded sets, and a round is written only
   * while fewer than eight rounds (about 512 KiB) await the server's replies and the socket
   * has room, so a lazy iterable of millions of sets runs in constant memory. A slow
   * (asynchronous) consumer bounds it with `pushback`, as for `query` (or through the
   * `interop` bridges): while it is pending the socket is paused, the replies stop, and so does
   * the writing. The batch holds the connection meanwhile: requests made behind it are written
   * after it ends.
   *
   * Failures, each ending the Observable with that error once the connection is back in sync:
   * - a set that cannot be encoded (ParameterError, TypeError for a set that is not an array)
   *   or whose parameter count differs from the statement's or the first set's (ParameterError;
   *   the message names the 0-based set): when found among the first 64 KiB nothing is sent;
   *   later, no further set is written, and with `'once'` nothing is committed, with `'each'`
   *   the sets written before it ran (their results are discarded);
   * - a PostgresError in set k: no further set is written; with `'once'` nothing is committed;
   *   with `'each'` sets 0..k-1 were committed and emitted, and the sets already written after
   *   k (at most eight rounds) still run on the server, their results discarded;
   * - unsubscribing stops the writing at once: with `'once'`, while sets remain to be written,
   *   the batch is ended by a failing Execute, so nothing is committed (once all are written,
   *   it is cancelled as `query` is); with `'each'` the sets already written run on (a
   *   CancelRequest may stop the one running, as for `query`);
   * - a lost or closed connection: ConnectionError.
   *
   * @example
   * connection
   *   .queryBatch<{ id: number }>('INSERT INTO items (name) VALUES ($1) RETURNING id', [['a'], ['b'], ['c']])
   *   .subscribe((rows) => console.log(rows[0]?.id)); // one emission per set, in order
   */
  queryBatch<T = Record<string, unknown>>(
    sql: string,
    parameterSets: Iterable<readonly unknown[]>,
    options: QueryBatchOptions = {},
  ): Observable<T[]> {
    return new Observable<T[]>((subscriber) =>
      new BatchRequest<T>(this.#protocol, subscriber, this.#rowBuilders, options ?? {}).start(
        this.#statements,
        sql,
        parameterSets,
        options ?? {},
      ),
    );
  }

  /**
   * Runs `work` in a transaction: `BEGIN` (with `options`: `isolation` 'read committed' |
   * 'repeatable read' | 'serializable', `readOnly`, `deferrable`) on subscribe; once the server
   * has answered it, `work(tx)` is called and its values are passed through as they come; when
   * it completes, `COMMIT`, then completion. `tx` has this connection's request methods (and
   * `all` / `first` / `run`), running inside the transaction, and `tx.transaction(...)` nests
   * a SAVEPOINT with the same rules. Cold: each subscription is a new transaction, so RxJS
   * `retry` re-runs the whole of it.
   *
   * - The work errors: `ROLLBACK`, then the subscriber gets the work's own error (also when
   *   the ROLLBACK fails, which happens only when the connection is lost: see `failure`).
   * - The subscriber unsubscribes: the work is unsubscribed first (its running statements are
   *   abandoned and cancelled; the ROLLBACK is written only once that cancel can no longer hit
   *   it), then `ROLLBACK` is sent without waiting for it. Requests made on the connection
   *   afterwards run after the ROLLBACK (FIFO), although `transactionStatus` reads
   *   `in transaction` until its reply arrives.
   * - COMMIT answered with the tag `ROLLBACK` (a statement had failed, and the work went on
   *   without it) is a TransactionRolledBackError, never a success. A failed COMMIT (a
   *   deferred constraint, a serialization failure) is the server's PostgresError.
   * - Serialization failures and deadlocks arrive with their SQLSTATE as `code` (40001,
   *   40P01), as a PostgresError or as the TransactionRolledBackError of a COMMIT after one.
   *
   * BEGIN, COMMIT and ROLLBACK always reach the server: unsubscribing while they run does not
   * cancel them. A request subscribed through `tx` before the work completes runs before the
   * COMMIT (FIFO), even when the work's Observable completed without waiting for it.
   *
   * Requests made directly on the connection while a transaction runs are inside it: a
   * connection shared by independent callers needs a pool.
   *
   * Errors (before anything is sent): TypeError for invalid `options` (an unknown key, an
   * isolation level not in the list, a non-boolean flag) or a `work` that is not a function;
   * TransactionStateError (code 25001) when the connection is already in a transaction
   * (`transactionStatus` is not `idle`, or another `transaction(...)` of it has not ended).
   * Then: the work's error; TransactionRolledBackError; the server's PostgresError;
   * ConnectionError.
   *
   * @example
   * connection.transaction((tx) =>
   *   concat(
   *     tx.execute('UPDATE accounts SET balance = balance - $1 WHERE id = $2', [100, 1]),
   *     tx.execute('UPDATE accounts SET balance = balance + $1 WHERE id = $2', [100, 2]),
   *   ), { isolation: 'serializable' },
   * ).pipe(retry({ count: 3, delay: (error) => (error.code === '40001' ? timer(10) : throwError(() => error)) }));
   */
  transaction<T>(work: (tx: Transaction) => ObservableInput<T>, options?: TransactionOptions): Observable<T> {
    return runTransaction(this, this.#transactions, work, options);
  }

  /** The request of one subscription: `create` makes its conversation (see LaunchedRequest). */
  #launch(target: { error(error: unknown): void }, create: (request: LaunchedRequest) => Conversation): LaunchedRequest {
    return new LaunchedRequest(this.#protocol).launch((error) => target.error(error), create);
  }

  /**
   * Runs `COPY ... FROM STDIN` (text, csv or binary format, any options) and feeds it from
   * `source`: any ObservableInput
   * of string or Uint8Array chunks — an Observable, an array, an AsyncIterable, a Node
   * Readable. Chunks need not align with rows. Emits the {@link CommandResult} (the row count
   * the server reports) once, then completes.
   *
   * As postgres_async's feed_data: a value is Data, the source's own pace is Wait, an error
   * or an unsubscribe is Abort (CopyFail: nothing is committed), completion is Finished
   * (CopyDone). Pull sources (AsyncIterable, Readable, Iterable) are read only while the
   * socket accepts writes, so memory stays bounded for any size. Push sources (Observables)
   * are written as they emit; if more than `maxBufferedBytes` (default 64 MiB) pile up in the
   * socket the copy is aborted with an error — use a pull source for large data. A server
   * error during the copy (bad data, a constraint) unsubscribes the source at once.
   *
   * Cold; the COPY runs alone on the connection (later requests wait for it). `params` are
   * bound as postgres_async does, but PostgreSQL refuses parameters in COPY itself (an
   * error, and the connection stays usable).
   *
   * Errors: PostgresError from the server (e.g. 22P02 for bad data); CopyAbortedError when the
   * source failed (its error is the `cause`); QueryShapeError when the statement is not a
   * COPY FROM STDIN (it may have run); ConnectionError.
   *
   * @example
   * async function* lines() { for (let i = 0; i < 1e6; i++) yield `${i}\tname ${i}\n`; }
   * connection.copyIn('COPY people (id, name) FROM STDIN', lines()).subscribe(({ rowCount }) => console.log(rowCount));
   */
  copyIn(
    sql: string,
    source: ObservableInput<CopyChunk>,
    options: { readonly params?: readonly unknown[]; readonly maxBufferedBytes?: number } = {},
  ): Observable<CommandResult> {
    return new Observable<CommandResult>((subscriber) =>
      this.#launch(
        subscriber,
        (request) =>
          new CopyInConversation(sql, encodeParameters(options.params ?? []), copySourceFrom(source, options.maxBufferedBytes), {
            complete: (tag) => {
              request.settle();
              subscriber.next({ command: tag, rowCount: rowCountOf(tag) });
              subscriber.complete();
            },
            error: (error, sourceFailure) => {
              request.settle();
              subscriber.error(
                sourceFailure === undefined
                  ? error
                  : new CopyAbortedError('COPY aborted: its source failed; nothing was committed', {
                      cause: sourceFailure.cause,
                      serverError: error instanceof PostgresError ? error : undefined,
                    }),
              );
            },
          }),
      ),
    );
  }

  /**
   * Runs `COPY ... TO STDOUT` and emits the data as Buffers, chunk by chunk as the server
   * sends them (rows in text or csv format, or the binary format's bytes). `pushback` pauses
   * the socket while it is pending, as for `query`, so `toAsyncIterable` / `toReadable` bound
   * memory for a slow consumer.
   *
   * Cold. Unsubscribing stops the server's COPY (CancelRequest where that is safe, and the
   * rest of the data discarded up to ReadyForQuery); the connection stays usable.
   *
   * Errors: PostgresError; QueryShapeError when the statement is not a COPY TO STDOUT;
   * ConnectionError.
   *
   * @example
   * connection.copyOut('COPY people TO STDOUT (FORMAT csv)').subscribe((chunk) => process.stdout.write(chunk));
   */
  copyOut(sql: string, params: readonly unknown[] = [], options: { readonly pushback?: Pushback } = {}): Observable<Buffer> {
    return new Observable<Buffer>((subscriber) =>
      this.#launch(
        subscriber,
        (request) =>
          new CopyOutConversation(sql, encodeParameters(params), {
            begin: () => undefined,
            chunk: (bytes) => subscriber.next(bytes),
            complete: () => {
              request.settle();
              subscriber.complete();
            },
            error: (error) => {
              request.settle();
              subscriber.error(error);
            },
            pushback: guardPushback(options.pushback, (error) => subscriber.error(error)),
          }),
      ),
    );
  }

  /**
   * COPYs rows into a table (postgres_async's copy_in_rows): each row is an array of values in
   * `columns` order, encoded in COPY text format as query parameters are (strings, null →
   * `\N`, numbers, bigint, booleans, Date, Buffer, arrays, objects as JSON), with tabs,
   * newlines, carriage returns and backslashes escaped. Unlike postgres_async, the table,
   * schema and column names are quoted by rxpg: pass them as they are named (any case, dots,
   * quotes, spaces), nothing can be injected. Rows are batched into chunks of about 64 KiB.
   *
   * Backpressure and failure as in `copyIn` (an AsyncIterable or Iterable of rows is read at
   * the socket's pace). A value that cannot be encoded aborts the COPY (CopyAbortedError
   * whose cause names the row and column, never the value).
   *
   * @example
   * connection.copyInRows({ table: 'people', columns: ['id', 'name'] }, [[1, 'Ada'], [2, null]]).subscribe();
   */
  copyInRows(
    target: { readonly table: string; readonly schema?: string; readonly columns: readonly string[] },
    rows: ObservableInput<readonly unknown[]>,
    options: { readonly maxBufferedBytes?: number } = {},
  ): Observable<CommandResult> {
    return defer(() => {
      const table = `${target.schema === undefined ? '' : `${quoteIdentifier(target.schema)}.`}${quoteIdentifier(target.table)}`;
      const columns = target.columns.length === 0 ? '' : ` (${target.columns.map(quoteIdentifier).join(', ')})`;
      return this.copyIn(`COPY ${table}${columns} FROM STDIN`, copyTextChunks(rows), options);
    });
  }

  /**
   * `copyOut` for the COPY text format, parsed back into rows: arrays of field text, `null`
   * for NULL (no type decoding). Chunks are split into rows whatever their boundaries.
   * Cold, cancellable and with pushback, as `copyOut`.
   *
   * Errors: as `copyOut`; a SyntaxError when the data is not COPY text (e.g. csv or binary).
   *
   * @example
   * connection.copyOutRows('COPY people TO STDOUT').subscribe(([id, name]) => console.log(id, name));
   */
  copyOutRows(sql: string, params: readonly unknown[] = [], options: { readonly pushback?: Pushback } = {}): Observable<CopyTextRow> {
    return new Observable<CopyTextRow>((subscriber) => {
      const parser = new CopyTextParser();
      return this.copyOut(sql, params, options).subscribe({
        next: (chunk) => {
          for (const row of parser.push(chunk)) subscriber.next(row);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          try {
            parser.end();
          } catch (error) {
            subscriber.error(error);
            return;
          }
          subscriber.complete();
        },
      });
    });
  }

  /**
   * Runs SQL text through the simple query protocol: several statements may be separated by
   * semicolons (`BEGIN; ...; COMMIT`); no parameters. Emits one {@link ResultSet} per
   * statement (text values, no decoding), then completes. Each result set is held in memory
   * until its statement completes: for large results use `query`, which streams rows.
   *
   * Cold: the Query is written on subscribe. Unsubscribing before the end stops the emissions;
   * the server's remaining replies are read and dropped, so the connection stays usable.
   *
   * Errors: PostgresError when a statement fails (the server skips the statements after it;
   * inside an explicit transaction that transaction is aborted); ConnectionError when the
   * connection is closed or fails; a QueryShapeError for COPY, which needs copyIn / copyOut.
   *
   * @example
   * connection.simpleQuery('SELECT 1 AS one; SELECT 2 AS two').subscribe(r => console.log(r.rows));
   */
  simpleQuery(sql: string): Observable<ResultSet> {
    return new Observable<ResultSet>((subscriber) =>
      this.#launch(
        subscriber,
        (request) =>
          new SimpleQueryConversation(
            sql,
            {
              resultSet: (result) => {
                // The server dropped every prepared statement: so does the cache.
                if (result.command === 'DISCARD ALL' || result.command === 'DEALLOCATE ALL') this.#statements.clear();
                subscriber.next(result);
              },
              error: (error) => {
                request.settle();
                subscriber.error(error);
              },
              complete: () => {
                request.settle();
                subscriber.complete();
              },
            },
            { exclusive: /\bcopy\b/i.test(sql) },
          ),
      ),
    );
  }

  /**
   * The notifications sent to `channel` (NOTIFY / pg_notify): a hot Observable backed by one
   * Subject per channel. The first subscriber makes the connection `LISTEN` (the channel name
   * is quoted by rxpg, so any name works); the last unsubscribe makes it `UNLISTEN`. Every
   * subscriber sees each notification once; nothing is replayed. Notifications that arrive
   * while a query streams are still delivered.
   *
   * Caveats (PostgreSQL's): a LISTEN inside a transaction that rolls back has no effect; a
   * notification is delivered only when the sender commits, and only between this session's
   * own transactions; while this connection's socket is paused by a query's pushback,
   * notifications wait too — listen on a dedicated connection (or use `listen`, which also
   * reconnects).
   *
   * Errors: the LISTEN's PostgresError (nothing stays registered); the connection's
   * ConnectionError when it fails. A graceful close completes the Observable.
   *
   * @example
   * connection.notifications('jobs').subscribe(({ payload }) => console.log(payload));
   */
  notifications(channel: string): Observable<Notification> {
    return this.#notificationChannels().channel(channel);
  }

  /**
   * As {@link notifications}, but first emits `{ type: 'listening' }` once LISTEN has
   * completed, so the caller knows from when on notifications are caught; then
   * `{ type: 'notification', notification }` for each.
   */
  channelEvents(channel: string): Observable<ChannelEvent> {
    return this.#notificationChannels().channelEvents(channel);
  }

  /**
   * Sends a notification with `pg_notify($1, $2)` — never SQL built from the payload. Cold;
   * emits once when the server has run it, then completes.
   *
   * Errors: TypeError / RangeError for an invalid channel name; PostgresError for a payload of
   * 8000 bytes or more; ConnectionError when the connection is unusable.
   *
   * @example
   * await lastValueFrom(connection.notify('jobs', JSON.stringify({ id: 42 })));
   */
  notify(channel: string, payload = ''): Observable<void> {
    return notify(this, channel, payload);
  }

  #notificationChannels(): NotificationChannels {
    this.#channels ??= new NotificationChannels(this);
    return this.#channels;
  }

  /**
   * Closes the connection gracefully: the requests already made are written, then Terminate,
   * and the promise resolves when the server has ended the connection. Idempotent (later calls
   * return the same promise). Bounded by `timeout` milliseconds (default 5000), after which the
   * socket is destroyed. Requests that a COPY or a cancel still holds back fail with a
   * ConnectionError.
   *
   * Never rejects, in any state: `finally { connection.close() }` without `await` cannot
   * crash the process with an unhandled rejection. Whether the end was graceful is on
   * `closed$` (completes, or errors with the ConnectionError) and `failure`.
   *
   * @example
   * await connection.close();
   */
  close(options: { readonly timeout?: number } = {}): Promise<void> {
    return this.#protocol.close(options);
  }

  /** Closes the connection at the end of an `await using` scope (see `close`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** The defaults of `query`, shared rather than allocated per call (point queries are a hot path). */
const noParameters: readonly unknown[] = Object.freeze([]);
const noQueryOptions: QueryOptions = Object.freeze({});

/** COPY text chunks from rows: pulled lazily from iterables, pushed from Observables. */
function copyTextChunks(rows: ObservableInput<readonly unknown[]>): ObservableInput<string> {
  if (isPullSource(rows)) return encodeCopyTextRowsAsync(rows);
  return new Observable<string>((subscriber) => {
    const encoder = new CopyTextEncoder();
    return from(rows).subscribe({
      next: (row) => {
        let chunk: string | undefined;
        try {
          chunk = encoder.push(row);
        } catch (error) {
          subscriber.error(error);
          return;
        }
        if (chunk !== undefined) subscriber.next(chunk);
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => {
        const chunk = encoder.flush();
        if (chunk !== undefined) subscriber.next(chunk);
        subscriber.complete();
      },
    });
  });
}
