import { connect as netConnect, type Socket } from 'node:net';
import { Observable } from 'rxjs';
import { ConnectionError } from '../errors';
import { describeSocketAddress, type SocketAddress } from './socket-path';

/**
 * Opens a TCP or unix-domain socket. Cold: connects on subscribe, emits the connected socket
 * once, then completes. Unsubscribing before that destroys the socket (the connection attempt
 * is aborted); after it, the socket belongs to the subscriber.
 *
 * Errors: ConnectionError `08001` when the connection cannot be made (refused, no such file,
 * unreachable), naming the address and the system error.
 *
 * @example
 * openSocket({ kind: 'tcp', host: '127.0.0.1', port: 5432 }, { keepAlive: true }).subscribe(socket => ...)
 */
export function openSocket(address: SocketAddress, options: { readonly keepAlive: boolean }): Observable<Socket> {
  return new Observable<Socket>((subscriber) => {
    const socket =
      address.kind === 'unix' ? netConnect({ path: address.path }) : netConnect({ host: address.host, port: address.port });
    let handedOver = false;
    const onError = (error: Error) => {
      subscriber.error(
        new ConnectionError(`could not connect to ${describeSocketAddress(address)}: ${error.message}`, {
          code: '08001',
          cause: error,
        }),
      );
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      if (address.kind === 'tcp') {
        socket.setNoDelay(true);
        if (options.keepAlive) socket.setKeepAlive(true, 60_000);
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
