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
 * As libpq does, our side stays open until the server closes it: a peer may read a FIN that
 * arrives before it acted on the request as the client giving up (PgBouncer 1.18 then drops
 * the cancel, or aborts altogether). Once the server's end arrives the socket is destroyed.
 * This waits as long as the server keeps the socket open; whoever needs a bound applies it
 * (unsubscribing destroys the socket).
 *
 * The request goes in plaintext, as libpq's PQcancel does; it carries no password, only the
 * one-time key of that session.
 *
 * Errors: ConnectionError `08001` when the socket cannot be opened. A socket error after that
 * (e.g. ECONNRESET) completes, like a close: the server has read the request or never will.
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
        // The server's FIN (or an error) ends the exchange; nothing it sends is of interest.
        socket.once('end', () => socket.destroy());
        socket.once('close', () => subscriber.complete());
        socket.on('data', () => undefined);
        socket.write(cancelRequest(key.processId, key.secretKey));
      },
      error: (error: unknown) => subscriber.error(error),
    });
    return () => {
      subscription.unsubscribe();
      opened?.destroy();
    };
  });
}
