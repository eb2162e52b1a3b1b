import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { Observable, catchError, defer, from, map, of, switchMap, throwError, timeout, toArray } from 'rxjs';
import {
  isUnixSocketHost,
  resolveConnectionConfig,
  resolvePassword,
  sslPolicy,
  type ConnectionConfig,
  type HostEntry,
  type ResolvedConnectionConfig,
  type TargetSessionAttrs,
} from '../config';
import { configForHost, shuffled } from '../config/host-list';
import { ipAddressVersion } from '../config/ip-address';
import { ConnectionError, PostgresError } from '../errors';
import { ConnectionAttemptsError, type ConnectionAttempt } from '../errors/connection-attempts-error';
import { ProtocolConnection, StartupConversation } from '../protocol';
import {
  describeSocketAddress,
  isTlsHandshakeFailure,
  isUnreachable,
  openTransport,
  socketAddress,
  type SocketAddress,
  type TlsRequest,
  type Transport,
} from '../transport';
import { Connection } from './connection';
import { loadTlsMaterial, tlsRequestFor, type TlsMaterial } from './tls-request';

/**
 * Opens a connection. Cold: nothing happens until subscribe; then it connects (TCP or unix
 * socket), negotiates TLS as `sslmode` says (libpq's rules, including `allow` and `prefer`
 * retrying the other way when the server rejects the first attempt), logs in, and emits the
 * {@link Connection} once the server is ready for queries, then completes.
 *
 * Several hosts (`host: ['db1', 'db2']`, `postgres://db1:5432,db2:5433/app`) are tried as
 * libpq tries them: in order (shuffled with `loadBalanceHosts: 'random'`), each host name's
 * addresses in turn, `connectTimeout` per address. An address that cannot be reached or times
 * out moves on to the next one; so does a server that does not match `targetSessionAttrs`
 * (closed with a Terminate first; see {@link TargetSessionAttrs}). Any other failure once a
 * server answered (a refused login, a TLS failure) ends the whole attempt, as in libpq.
 * `prefer-standby` makes a second pass over every host, accepting any server, when the first
 * finds no standby. The Connection's `config.host` / `config.port` name the server it reached.
 *
 * Unsubscribing before it emits aborts the attempt and destroys the socket (postgres_async's
 * `interrupt`); so does aborting `config.signal`. After it emits, the connection is the
 * subscriber's to close.
 *
 * Errors: ConfigError for invalid settings and for TLS files that are missing, unreadable or
 * not PEM (before any I/O; see `loadTlsMaterial` for the rule); ConnectionError `08001` when the
 * server cannot be reached, TLS fails, the attempt times out (`connectTimeout`), the server
 * does not match `targetSessionAttrs`, or the attempt is aborted; ConnectionAttemptsError (a
 * ConnectionError `08001` naming every attempt and its cause) when several attempts were made
 * and none succeeded; AuthenticationError (class 28) when login is refused; ConnectionError
 * with the server's SQLSTATE for other login errors (e.g. `3D000`, no such database);
 * ProtocolError when the server breaks the protocol.
 *
 * @example
 * import { connect } from 'rxpg';
 * connect('postgres://app@db1,db2/app?target_session_attrs=read-write').subscribe(async (connection) => {
 *   console.log(connection.config.host, connection.parameters.server_version);
 *   await connection.close();
 * });
 */
export function connect(config?: ConnectionConfig | string): Observable<Connection> {
  return defer(() => {
    const resolved = resolveConnectionConfig(config);
    // The TLS files are read and checked once, before any I/O of the attempts (DNS included),
    // whenever some host may use TLS: a broken file is a ConfigError, never a reason to go on.
    const tlsConfig = resolved.hosts.map((entry) => configForHost(resolved, entry)).find((c) => sslPolicy(c).requestTls !== 'never');
    const material$: Observable<TlsMaterial | undefined> =
      tlsConfig === undefined ? of(undefined) : from(loadTlsMaterial(tlsConfig, sslPolicy(tlsConfig)));
    const connected$ = material$.pipe(switchMap((material) => connectToSuitableHost(resolved, material)));
    return resolved.signal === undefined ? connected$ : abortable(connected$, resolved.signal);
  });
}

/** What one attempt at one address came to, when it did not fail the whole connect. */
type AttemptOutcome =
  { readonly kind: 'connected'; readonly connection: Connection } | { readonly kind: 'next-address' | 'next-host'; readonly error: Error };

/** One address of a host: where the socket goes, and how the attempt is described. */
interface HostAddress {
  readonly socket: SocketAddress;
  /** The IP address or socket path, for ConnectionAttempt.address. */
  readonly address: string;
  readonly description: string;
}

/**
 * libpq's walk over the host list: hosts in order (or shuffled), each host's addresses in turn,
 * a second pass accepting any server for `prefer-standby`; every failed attempt is kept for the
 * final error.
 */
function connectToSuitableHost(config: ResolvedConnectionConfig, material: TlsMaterial | undefined): Observable<Connection> {
  const random = config.loadBalanceHosts === 'random';
  const hosts = random ? shuffled(config.hosts) : config.hosts;
  const attempts: ConnectionAttempt[] = [];
  const wanted = config.targetSessionAttrs;

  const tryHost = (index: number, target: TargetSessionAttrs): Observable<Connection> => {
    if (index >= hosts.length) {
      if (target === 'prefer-standby') return tryHost(0, 'any');
      return throwError(() => (attempts.length === 1 ? attempts[0]!.error : new ConnectionAttemptsError(attempts)));
    }
    const entry = hosts[index]!;
    const next = () => tryHost(index + 1, target);
    let addresses$ = from(hostAddresses(entry));
    if (config.connectTimeout > 0) {
      // A resolver that never answers must not outlast connectTimeout either.
      const limit = config.connectTimeout;
      addresses$ = addresses$.pipe(
        timeout({
          first: limit,
          with: () =>
            throwError(
              () =>
                new ConnectionError(`could not translate host name "${entry.host}" to an address within ${limit} ms`, { code: '08001' }),
            ),
        }),
      );
    }
    return addresses$.pipe(
      catchError((error: unknown) => {
        attempts.push({ host: entry.host, port: entry.port, address: undefined, error: asError(error) });
        return of([]);
      }),
      switchMap((addresses) => tryAddress(entry, random ? shuffled(addresses) : addresses, 0, target, next)),
    );
  };

  const tryAddress = (
    entry: HostEntry,
    addresses: readonly HostAddress[],
    index: number,
    target: TargetSessionAttrs,
    nextHost: () => Observable<Connection>,
  ): Observable<Connection> => {
    if (index >= addresses.length) return nextHost();
    const address = addresses[index]!;
    return attemptAddress(configForHost(config, entry), address, target, material).pipe(
      switchMap((outcome) => {
        if (outcome.kind === 'connected') return of(outcome.connection);
        attempts.push({ host: entry.host, port: entry.port, address: address.address, error: outcome.error });
        return outcome.kind === 'next-address' ? tryAddress(entry, addresses, index + 1, target, nextHost) : nextHost();
      }),
    );
  };

  return tryHost(0, wanted);
}

/**
 * The addresses to try for one host: its socket path, its `hostaddr`, or every address its
 * name resolves to (in the resolver's order).
 */
async function hostAddresses(entry: HostEntry): Promise<HostAddress[]> {
  const named = (address: string) => (address === entry.host ? `${entry.host}:${entry.port}` : `${entry.host}:${entry.port} (${address})`);
  if (entry.hostaddr !== undefined) {
    return [
      { socket: { kind: 'tcp', host: entry.hostaddr, port: entry.port }, address: entry.hostaddr, description: named(entry.hostaddr) },
    ];
  }
  if (isUnixSocketHost(entry.host)) {
    const socket = socketAddress(entry.host, entry.port);
    const path = socket.kind === 'unix' ? socket.path : entry.host;
    return [{ socket, address: path, description: describeSocketAddress(socket) }];
  }
  if (ipAddressVersion(entry.host) !== 0) {
    return [{ socket: { kind: 'tcp', host: entry.host, port: entry.port }, address: entry.host, description: named(entry.host) }];
  }
  let found: LookupAddress[];
  try {
    found = await lookup(entry.host, { all: true, verbatim: true });
  } catch (error) {
    throw new ConnectionError(`could not translate host name "${entry.host}" to an address: ${(error as Error).message}`, {
      code: '08001',
      cause: error,
    });
  }
  return found.map(({ address }) => ({
    socket: { kind: 'tcp', host: address, port: entry.port },
    address,
    description: named(address),
  }));
}

/**
 * One attempt at one address, bounded by `connectTimeout` (libpq restarts its timer for each
 * address): connect, TLS and login as the sslmode says, then check the server against
 * `target`. An unreachable address or a timeout moves on to the next address; a server that
 * does not match, to the next host (after a graceful Terminate); anything else fails the
 * whole connect. Unsubscribing closes whatever was opened.
 */
function attemptAddress(
  config: ResolvedConnectionConfig,
  address: HostAddress,
  target: TargetSessionAttrs,
  material: TlsMaterial | undefined,
): Observable<AttemptOutcome> {
  return new Observable<AttemptOutcome>((subscriber) => {
    let connection: Connection | undefined;
    let handedOver = false;
    let checked$ = establish(config, address, material).pipe(
      switchMap((protocol) => {
        connection = Connection.open(protocol, config);
        return sessionMismatch(connection, target);
      }),
    );
    const limit = config.connectTimeout;
    if (limit > 0) {
      checked$ = checked$.pipe(
        timeout({
          first: limit,
          with: () => {
            const error = new ConnectionError(`connection attempt to ${address.description} timed out after ${limit} ms`, {
              code: '08001',
            });
            timedOut.add(error);
            return throwError(() => error);
          },
        }),
      );
    }
    const subscription = checked$.subscribe({
      next: (mismatch) => {
        const opened = connection!;
        if (mismatch === undefined) {
          handedOver = true;
          subscriber.next({ kind: 'connected', connection: opened });
        } else {
          void opened.close();
          subscriber.next({ kind: 'next-host', error: mismatch });
        }
        subscriber.complete();
      },
      error: (error: unknown) => {
        void connection?.close();
        if (isUnreachable(error) || timedOut.has(error as Error)) {
          subscriber.next({ kind: 'next-address', error: error as Error });
          subscriber.complete();
        } else {
          subscriber.error(error);
        }
      },
    });
    return () => {
      subscription.unsubscribe();
      if (connection !== undefined && !handedOver) void connection.close();
    };
  });
}

/** The timeouts {@link attemptAddress} raised (the next address is tried after them). */
const timedOut = new WeakSet<Error>();

/**
 * Checks a fresh connection against `target_session_attrs` as libpq does, from the
 * `in_hot_standby` and `default_transaction_read_only` that servers since PostgreSQL 14 report
 * at startup, or else by asking (`SHOW transaction_read_only`, `SELECT pg_is_in_recovery()`).
 * Emits undefined when the server matches, or the ConnectionError that says why not (a query
 * that fails counts as not matching). A lost connection fails the Observable.
 */
function sessionMismatch(connection: Connection, target: TargetSessionAttrs): Observable<ConnectionError | undefined> {
  const where = `${connection.config.host}:${connection.config.port}`;
  const mismatch = (why: string) => new ConnectionError(`server at ${where} rejected: ${why}`, { code: '08001' });
  const ask = (sql: string, read: (value: string | null | undefined) => boolean): Observable<boolean | ConnectionError> =>
    connection.simpleQuery(sql).pipe(
      toArray(),
      map((results) => read(results[0]?.rows[0]?.[0])),
      catchError((error: unknown) =>
        error instanceof PostgresError ? of(mismatch(`"${sql}" failed: ${error.message}`)) : throwError(() => error),
      ),
    );
  const { default_transaction_read_only: readOnlyDefault, in_hot_standby: hotStandby, server_version: version } = connection.parameters;
  switch (target) {
    case 'any':
      return of(undefined);
    case 'read-write':
    case 'read-only': {
      const readOnly$: Observable<boolean | ConnectionError> =
        readOnlyDefault === undefined || hotStandby === undefined
          ? ask('SHOW transaction_read_only', (value) => value?.startsWith('on') === true)
          : of(readOnlyDefault === 'on' || hotStandby === 'on');
      return readOnly$.pipe(
        map((readOnly) => {
          if (readOnly instanceof ConnectionError) return readOnly;
          if (target === 'read-write' && readOnly) return mismatch('session is read-only');
          if (target === 'read-only' && !readOnly) return mismatch('session is not read-only');
          return undefined;
        }),
      );
    }
    case 'primary':
    case 'standby':
    case 'prefer-standby':
    default: {
      // Servers before 9.0 have no standby mode (nor pg_is_in_recovery).
      const ancient = version !== undefined && Number.parseInt(version, 10) < 9;
      const standby$: Observable<boolean | ConnectionError> =
        hotStandby !== undefined || ancient
          ? of(hotStandby === 'on')
          : ask('SELECT pg_catalog.pg_is_in_recovery()', (value) => value?.startsWith('t') === true);
      return standby$.pipe(
        map((standby) => {
          if (standby instanceof ConnectionError) return standby;
          if (target === 'primary' && standby) return mismatch('server is in hot standby mode');
          if (target !== 'primary' && !standby) return mismatch('server is not in hot standby mode');
          return undefined;
        }),
      );
    }
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * The attempts libpq makes for the sslmode, each on a fresh socket, with the TLS files that
 * `connect` read once (see `loadTlsMaterial`).
 */
function establish(
  config: ResolvedConnectionConfig,
  address: HostAddress,
  material: TlsMaterial | undefined,
): Observable<ProtocolConnection> {
  const policy = sslPolicy(config);
  const attempt = (request: TlsRequest | undefined, onNegotiated?: (encrypted: boolean) => void) =>
    attemptOnce(config, address, request, onNegotiated);
  if (policy.requestTls === 'never') return attempt(undefined);
  // `connect` loads the material whenever some host may use TLS, so this host's is there.
  if (material === undefined) return throwError(() => new Error('rxpg: TLS material was not loaded before the attempt'));
  return of(material).pipe(
    switchMap((material) => {
      // sslnegotiation=direct is refused with any sslmode that allows plaintext (config layer), so
      // it only meets the required requests of require / verify-ca / verify-full here.
      const direct = config.sslnegotiation === 'direct';
      const tls = (required: boolean): TlsRequest => ({ ...tlsRequestFor(config, policy, material, required), direct });
      switch (policy.requestTls) {
        case 'always':
          return attempt(tls(true));
        case 'first': {
          // prefer: TLS if the server offers it; when TLS fails or the server rejects the login
          // over TLS (say, a hostnossl rule), libpq tries again in plaintext.
          let encrypted = false;
          return attempt(tls(false), (used) => (encrypted = used)).pipe(
            catchError((error: unknown) =>
              (encrypted && rejectedByServer(error)) || isTlsHandshakeFailure(error) ? attempt(undefined) : throwError(() => error),
            ),
          );
        }
        case 'after-plaintext-rejected':
        default:
          // allow: plaintext first; when the server rejects it (a hostssl rule), try TLS.
          return attempt(undefined).pipe(
            catchError((error: unknown) => (rejectedByServer(error) ? attempt(tls(true)) : throwError(() => error))),
          );
      }
    }),
  );
}

/** One attempt: socket, SSLRequest and TLS when `request` is given, then the login conversation. */
function attemptOnce(
  config: ResolvedConnectionConfig,
  address: HostAddress,
  request: TlsRequest | undefined,
  onNegotiated?: (encrypted: boolean) => void,
): Observable<ProtocolConnection> {
  const { description } = address;
  return openTransport(address.socket, {
    keepAlive: config.keepAlive,
    keepAliveIdle: config.keepAliveIdle,
    description,
    tls: request,
  }).pipe(
    switchMap((transport) => {
      onNegotiated?.(transport.encrypted);
      return login(transport, config, description, address.socket);
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
        {
          user: config.user,
          parameters,
          password: () => resolvePassword(config),
          gssKrbToken: config.gssKrbToken,
          channelBinding: config.channelBinding,
          requireAuth: config.requireAuth,
        },
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
    const abort = () => subscriber.error(new ConnectionError('connection attempt aborted', { code: '08001', cause: signal.reason }));
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
