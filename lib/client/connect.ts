import { Observable, catchError, defer, from, of, switchMap, throwError, timeout } from 'rxjs';
import {
  resolveConnectionConfig,
  resolvePassword,
  sslPolicy,
  type ConnectionConfig,
  type ResolvedConnectionConfig,
} from '../config';
import { ConnectionError, PostgresError } from '../errors';
import { ProtocolConnection, StartupConversation } from '../protocol';
import {
  Transport,
  describeSocketAddress,
  isTlsHandshakeFailure,
  negotiateTls,
  openSocket,
  socketAddress,
  type NegotiatedSocket,
  type SocketAddress,
  type TlsRequest,
} from '../transport';
import { Connection } from './connection';
import { loadTlsMaterial, tlsRequestFor } from './tls-request';

/**
 * Opens a connection. Cold: nothing happens until subscribe; then it connects (TCP or unix
 * socket), negotiates TLS as `sslmode` says (libpq's rules, including `allow` and `prefer`
 * retrying the other way when the server rejects the first attempt), logs in, and emits the
 * {@link Connection} once the server is ready for queries, then completes.
 *
 * Unsubscribing before it emits aborts the attempt and destroys the socket (postgres_async's
 * `interrupt`); so does aborting `config.signal`. After it emits, the connection is the
 * subscriber's to close.
 *
 * Errors: ConfigError for invalid settings and for TLS files that are missing, unreadable or
 * not PEM (before any I/O; see `loadTlsMaterial` for the rule); ConnectionError `08001` when the
 * server cannot be reached, TLS fails, the attempt times out (`connectTimeout`) or is
 * aborted; AuthenticationError (class 28) when login is refused; ConnectionError with the
 * server's SQLSTATE for other login errors (e.g. `3D000`, no such database); ProtocolError
 * when the server breaks the protocol.
 *
 * @example
 * import { connect } from 'rxpg';
 * connect('postgres://app@localhost/app').subscribe(async (connection) => {
 *   console.log(connection.parameters.server_version);
 *   await connection.close();
 * });
 */
export function connect(config?: ConnectionConfig | string): Observable<Connection> {
  return defer(() => {
    const resolved = resolveConnectionConfig(config);
    let attempt$ = establish(resolved);
    if (resolved.connectTimeout > 0) {
      const limit = resolved.connectTimeout;
      attempt$ = attempt$.pipe(
        timeout({
          first: limit,
          with: () =>
            throwError(
              () => new ConnectionError(`connection attempt timed out after ${limit} ms`, { code: '08001' }),
            ),
        }),
      );
    }
    const connected$ = attempt$.pipe(switchMap((protocol) => of(new Connection(protocol, resolved))));
    return resolved.signal === undefined ? connected$ : abortable(connected$, resolved.signal);
  });
}

/**
 * The attempts libpq makes for the sslmode, each on a fresh socket. The TLS files are read
 * and checked once, before the first socket, whenever the sslmode may use TLS (see
 * `loadTlsMaterial`): a broken file is a ConfigError, never a reason to go on without it.
 */
function establish(config: ResolvedConnectionConfig): Observable<ProtocolConnection> {
  const policy = sslPolicy(config);
  if (policy.requestTls === 'never') return attempt(config, undefined);
  return from(loadTlsMaterial(config, policy)).pipe(
    switchMap((material) => {
      const tls = (required: boolean) => tlsRequestFor(config, policy, material, required);
      switch (policy.requestTls) {
        case 'always':
          return attempt(config, tls(true));
        case 'first': {
          // prefer: TLS if the server offers it; when TLS fails or the server rejects the login
          // over TLS (say, a hostnossl rule), libpq tries again in plaintext.
          let encrypted = false;
          return attempt(config, tls(false), (used) => (encrypted = used)).pipe(
            catchError((error: unknown) =>
              (encrypted && rejectedByServer(error)) || isTlsHandshakeFailure(error)
                ? attempt(config, undefined)
                : throwError(() => error),
            ),
          );
        }
        case 'after-plaintext-rejected':
        default:
          // allow: plaintext first; when the server rejects it (a hostssl rule), try TLS.
          return attempt(config, undefined).pipe(
            catchError((error: unknown) =>
              rejectedByServer(error) ? attempt(config, tls(true)) : throwError(() => error),
            ),
          );
      }
    }),
  );
}

/** One attempt: socket, SSLRequest and TLS when `request` is given, then the login conversation. */
function attempt(
  config: ResolvedConnectionConfig,
  request: TlsRequest | undefined,
  onNegotiated?: (encrypted: boolean) => void,
): Observable<ProtocolConnection> {
  const address = socketAddress(config.host, config.port);
  const description = describeSocketAddress(address);
  return openSocket(address, { keepAlive: config.keepAlive }).pipe(
    switchMap((socket): Observable<NegotiatedSocket> =>
      request === undefined ? of({ socket, encrypted: false }) : negotiateTls(socket, request),
    ),
    switchMap(({ socket, encrypted }) => {
      onNegotiated?.(encrypted);
      return login(new Transport(socket, { encrypted, description }), config, description, address);
    }),
  );
}

/** Runs the startup conversation on a fresh transport; emits the connection once it is ready. */
function login(
  transport: Transport,
  config: ResolvedConnectionConfig,
  description: string,
  cancelAddress: SocketAddress,
): Observable<ProtocolConnection> {
  return new Observable<ProtocolConnection>((subscriber) => {
    const connection = new ProtocolConnection(transport, {
      maxMessageSize: config.maxMessageSize,
      description,
      cancelAddress,
      cancelTimeout: config.cancelTimeout,
    });
    let ready = false;
    const parameters: Record<string, string> = {
      database: config.database,
      client_encoding: 'UTF8',
      DateStyle: 'ISO, MDY',
    };
    if (config.applicationName !== undefined) parameters.application_name = config.applicationName;
    if (config.options !== undefined) parameters.options = config.options;
    Object.assign(parameters, config.runtimeParameters);
    connection.enqueue(
      new StartupConversation(
        connection,
        { user: config.user, parameters, password: () => resolvePassword(config), gssKrbToken: config.gssKrbToken },
        {
          onReady: () => {
            ready = true;
            subscriber.next(connection);
            subscriber.complete();
          },
          onError: (error) => subscriber.error(error),
        },
      ),
    );
    return () => {
      if (!ready) connection.destroy(new ConnectionError('connection attempt aborted', { code: '08001' }));
    };
  });
}

/** Errors with a ConnectionError (cause: the signal's reason) when the signal aborts first. */
function abortable<T>(source: Observable<T>, signal: AbortSignal): Observable<T> {
  return new Observable<T>((subscriber) => {
    const abort = () =>
      subscriber.error(new ConnectionError('connection attempt aborted', { code: '08001', cause: signal.reason }));
    if (signal.aborted) {
      abort();
      return;
    }
    signal.addEventListener('abort', abort, { once: true });
    const subscription = source.subscribe(subscriber);
    return () => {
      signal.removeEventListener('abort', abort);
      subscription.unsubscribe();
    };
  });
}

/** The server itself refused the login (an ErrorResponse during startup). */
function rejectedByServer(error: unknown): boolean {
  return error instanceof ConnectionError && error.cause instanceof PostgresError;
}
