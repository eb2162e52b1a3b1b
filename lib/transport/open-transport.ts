import { map, of, switchMap, type Observable } from 'rxjs';
import { negotiateTls, type NegotiatedSocket, type TlsRequest } from './negotiate-tls';
import { openSocket } from './open-socket';
import { SocketTransport } from './socket-transport';
import type { SocketAddress } from './socket-path';
import type { Transport } from './transport';

/** How {@link openTransport} opens one connection. */
export interface TransportOptions {
  /** TCP keepalive (libpq's `keepalives`), after `keepAliveIdle` idle milliseconds. */
  readonly keepAlive: boolean;
  readonly keepAliveIdle?: number;
  /** How errors name the server, e.g. `db.example.com:5432 (10.0.0.7)`. */
  readonly description: string;
  /** SSLRequest (or direct TLS) as asked; undefined: plaintext, no SSLRequest. */
  readonly tls?: TlsRequest;
}

/**
 * Opens the transport of one connection attempt: the socket ({@link openSocket}), then TLS
 * when `options.tls` asks for it ({@link negotiateTls}), wrapped as a {@link Transport}
 * (`encrypted` says whether TLS is in use: a server may refuse a TLS that is not required).
 * The one place where a connection's socket is made, so nothing above this layer touches one.
 *
 * Cold: connects on subscribe, emits the transport once, then completes. Unsubscribing before
 * that destroys the socket; after it, the transport belongs to the subscriber.
 *
 * Errors: those of {@link openSocket} (see `isUnreachable`) and of {@link negotiateTls} (see
 * `isTlsHandshakeFailure`).
 *
 * @example
 * openTransport({ kind: 'tcp', host: '127.0.0.1', port: 5432 }, { keepAlive: true, description: 'localhost:5432' })
 *   .subscribe((transport) => transport.chunks$.subscribe(...));
 */
export function openTransport(address: SocketAddress, options: TransportOptions): Observable<Transport> {
  const { description, tls } = options;
  return openSocket(address, { keepAlive: options.keepAlive, keepAliveIdle: options.keepAliveIdle, description }).pipe(
    switchMap((socket): Observable<NegotiatedSocket> => (tls === undefined ? of({ socket, encrypted: false }) : negotiateTls(socket, tls))),
    map(({ socket, encrypted }): Transport => new SocketTransport(socket, { encrypted, description })),
  );
}
