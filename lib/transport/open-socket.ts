import { connect as netConnect, type Socket } from 'node:net';
import { Observable } from 'rxjs';
import { ConnectionError } from '../errors';
import { describeSocketAddress, type SocketAddress } from './socket-path';

/** The errors {@link openSocket} raised: the server could not be reached at that address. */
const unreachable = new WeakSet<Error>();

/**
 * True when `error` is {@link openSocket}'s failure to reach the address (refused, no such
 * socket file, unreachable): nothing was exchanged with a server, so the next address or host
 * may be tried (libpq's rule for host lists).
 *
 * @example
 * openSocket(address, options).pipe(catchError((e) => (isUnreachable(e) ? next$ : throwError(() => e))));
 */
export function isUnreachable(error: unknown): boolean {
  return error instanceof Error && unreachable.has(error);
}

/**
 * Opens a TCP or unix-domain socket; over TCP, turns keepalive on when `options.keepAlive`
 * says so, after `options.keepAliveIdle` idle milliseconds (default 60000; 0 = the OS's). Cold: connects on subscribe, emits the connected socket
 * once, then completes. Unsubscribing before that destroys the socket (the connection attempt
 * is aborted); after it, the socket belongs to the subscriber.
 *
 * Errors: ConnectionError `08001` when the connection cannot be made (refused, no such file,
 * unreachable), naming the address (or `options.description`) and the system error; see
 * {@link isUnreachable}.
 *
 * @example
 * openSocket({ kind: 'tcp', host: '127.0.0.1', port: 5432 }, { keepAlive: true }).subscribe(socket => ...)
 */
export function openSocket(
  address: SocketAddress,
  options: { readonly keepAlive: boolean; readonly keepAliveIdle?: number; readonly description?: string },
): Observable<Socket> {
  return new Observable<Socket>((subscriber) => {
    const socket = address.kind === 'unix' ? netConnect({ path: address.path }) : netConnect({ host: address.host, port: address.port });
    let handedOver = false;
    const onError = (error: Error) => {
      const failure = new ConnectionError(
        `could not connect to ${options.description ?? describeSocketAddress(address)}: ${error.message}`,
        {
          code: '08001',
          cause: error,
        },
      );
      unreachable.add(failure);
      subscriber.error(failure);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      if (address.kind === 'tcp') {
        socket.setNoDelay(true);
        // Node sets only the idle time (libpq's keepalives_idle); the probe interval and
        // count stay the OS's.
        if (options.keepAlive) socket.setKeepAlive(true, options.keepAliveIdle ?? 60_000);
      }
      handedOver = true;
      subscriber.next(socket);
      subscriber.complete();
    });
    return () => {
      if (!handedOver) {
        socket.off('error', onError);
        socket.on('error', () => undefined);
        socket.destroy();
      }
    };
  });
}
