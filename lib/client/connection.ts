import { Observable } from 'rxjs';
import type { ResolvedConnectionConfig } from '../config';
import type { ConnectionError, ErrorFields } from '../errors';
import {
  SimpleQueryConversation,
  type ConnectionState,
  type Notification,
  type ParameterChange,
  type ProtocolConnection,
  type ResultSet,
} from '../protocol';
import type { BackendMessage } from '../wire';

/**
 * An open connection to PostgreSQL, as emitted by `connect`. Requests made on it are cold
 * Observables; the connection itself exposes hot streams of what the server says on its own
 * (notices, parameter changes, every message) and how it ends (`closed$`).
 *
 * `await using connection = await firstValueFrom(connect(...))` closes it at scope exit.
 */
export class Connection implements AsyncDisposable {
  readonly #protocol: ProtocolConnection;
  readonly #config: ResolvedConnectionConfig;

  /** @internal Use `connect`. */
  constructor(protocol: ProtocolConnection, config: ResolvedConnectionConfig) {
    this.#protocol = protocol;
    this.#config = config;
  }

  /** `open`, `closing`, `closed` (gracefully) or `failed`. */
  get state(): Exclude<ConnectionState, 'connecting'> {
    const state = this.#protocol.state;
    return state === 'connecting' ? 'open' : state;
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
    const snapshot: Record<string, string> = Object.create(null);
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
   * Runs SQL text through the simple query protocol: several statements may be separated by
   * semicolons (`BEGIN; ...; COMMIT`); no parameters. Emits one {@link ResultSet} per
   * statement (text values, no decoding), then completes.
   *
   * Cold: the Query is written on subscribe. Unsubscribing before the end stops the emissions;
   * the server's remaining replies are read and dropped, so the connection stays usable.
   *
   * Errors: PostgresError when a statement fails (the server skips the statements after it;
   * inside an explicit transaction that transaction is aborted); ConnectionError when the
   * connection is closed or fails; an Error for COPY, which needs copyIn / copyOut.
   *
   * @example
   * connection.simpleQuery('SELECT 1 AS one; SELECT 2 AS two').subscribe(r => console.log(r.rows));
   */
  simpleQuery(sql: string): Observable<ResultSet> {
    return new Observable<ResultSet>((subscriber) => {
      const conversation = new SimpleQueryConversation(sql, {
        resultSet: (result) => subscriber.next(result),
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      this.#protocol.enqueue(conversation);
      return () => conversation.detach();
    });
  }

  /**
   * Closes the connection gracefully: Terminate is sent after the requests already written,
   * and the promise resolves when the server has ended the connection. Idempotent (later calls
   * return the same promise). Bounded by `timeout` milliseconds (default 5000), after which the
   * socket is destroyed and the promise rejects with a ConnectionError. On a connection that
   * has already failed it rejects with the error that ended it.
   *
   * @example
   * await connection.close();
   */
  close(options: { readonly timeout?: number } = {}): Promise<void> {
    return this.#protocol.close(options);
  }

  /** Closes the connection at the end of an `await using` scope; a failed connection is not an error here. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close().catch(() => undefined);
  }
}
