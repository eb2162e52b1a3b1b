import type { Socket } from 'node:net';
import { Observable } from 'rxjs';
import { cancelRequest } from '../wire';
import { openSocket } from './open-socket';
import type { SocketAddress } from './socket-path';

/**
 * Asks the server to cancel what a backend is running: opens a fresh socket, sends
 * CancelRequest (process ID and secret key from BackendKeyData), and completes when the server
 * has closed that socket — by then the postmaster has signalled the backend, so a caller that
 * waits for completion knows the cancel cannot land later on another statement.
 *
 * The request goes in plaintext, as libpq's PQcancel does; it carries no password, only the
 * one-time key of that session. Unsubscribing destroys the socket.
 *
 * Errors: ConnectionError `08001` when the socket cannot be opened.
 *
 * @example
 * sendCancelRequest({ kind: 'tcp', host: 'localhost', port: 5432 }, { processId, secretKey }).subscribe();
 */
export function sendCancelRequest(
  address: SocketAddress,
  key: { readonly processId: number; readonly secretKey: number },
): Observable<void> {
  return new Observable<void>((subscriber) => {
    let opened: Socket | undefined;
    const subscription = openSocket(address, { keepAlive: false }).subscribe({
      next: (socket) => {
        opened = socket;
        socket.on('error', () => undefined);
        socket.once('close', () => subscriber.complete());
        socket.resume();
        socket.end(cancelRequest(key.processId, key.secretKey));
      },
      error: (error: unknown) => subscriber.error(error),
    });
    return () => {
      subscription.unsubscribe();
      opened?.destroy();
    };
  });
}
