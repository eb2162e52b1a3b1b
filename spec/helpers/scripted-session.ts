import type { Socket } from 'node:net';
import { firstValueFrom } from 'rxjs';
import { connect, type Connection } from '../../lib';
import { acceptLogin } from './backend-messages';
import { readUntypedFrame, startFakeServer, type FakeServer } from './fake-server';

/** The code of a CancelRequest, where a StartupMessage has its protocol version. */
const cancelRequestCode = 80877102;

/** A fake server's session whose replies are scripted per request, and a connection to it. */
export interface ScriptedSession {
  readonly server: FakeServer;
  readonly connection: Connection;
}

/**
 * Starts a fake server that logs in any client (trust), then answers each request — the
 * frontend messages up to a Sync (extended protocol) or a Query (simple protocol) — with the
 * next of `replies`, and connects to it (no TLS, statement cache as `statementCacheSize` says).
 * Requests beyond the script get no answer. A CancelRequest's connection is closed at once, as a
 * real server does (the request it cancels goes on by its script).
 *
 * @example
 * const { server, connection } = await startScriptedSession([Buffer.concat([parseComplete(), ...])]);
 */
export async function startScriptedSession(
  replies: readonly Buffer[],
  options: { readonly statementCacheSize?: number } = {},
): Promise<ScriptedSession> {
  const server = await startFakeServer((socket) => {
    readUntypedFrame(socket).then(
      (startup) => {
        // A CancelRequest on its own connection: a real server closes it without a reply.
        if (startup.readUInt32BE(4) === cancelRequestCode) {
          socket.end();
          return;
        }
        socket.write(acceptLogin());
        answer(socket, [...replies]);
      },
      () => undefined,
    );
  });
  const connection = await firstValueFrom(
    connect({
      host: '127.0.0.1',
      port: server.port,
      user: 'postgres',
      database: 'postgres',
      sslmode: 'disable',
      statementCacheSize: options.statementCacheSize,
    }),
  );
  return { server, connection };
}

/** Closes the session's connection and its server (for afterEach; undefined: nothing to close). */
export async function closeScriptedSession(session: ScriptedSession | undefined): Promise<void> {
  await session?.connection.close().catch(() => undefined);
  await session?.server.close();
}

/** Reads the session's frames with one listener (no chunk is missed between frames) and answers. */
function answer(socket: Socket, replies: Buffer[]): void {
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 5 && buffered.length >= 1 + buffered.readUInt32BE(1)) {
      const type = String.fromCharCode(buffered[0]!);
      buffered = buffered.subarray(1 + buffered.readUInt32BE(1));
      if ((type === 'S' || type === 'Q') && replies.length > 0) socket.write(replies.shift() as Buffer);
    }
  });
}
