// The cancel socket's shutdown order, which a real server does not reveal: the client sends
// CancelRequest and keeps its side open until the server closes (as libpq does); PgBouncer
// 1.18 took an early FIN for a client that gave up and aborted.
import type { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { ConnectionError } from '../../lib';
import { sendCancelRequest } from '../../lib/transport';
import { cancelRequest } from '../../lib/wire';
import { readUntypedFrame, startFakeServer, type FakeServer } from '../helpers/fake-server';
import { Recorder } from '../helpers/recorder';

let server: FakeServer;
const recorders: Recorder<void>[] = [];

beforeEach(async () => {
  server = await startFakeServer();
});

afterEach(async () => {
  for (const recorder of recorders.splice(0)) recorder.unsubscribe();
  await server.close();
});

function send(port = server.port): Recorder<void> {
  const recorder = new Recorder(sendCancelRequest({ kind: 'tcp', host: '127.0.0.1', port }, { processId: 4242, secretKey: -7 }));
  recorders.push(recorder);
  return recorder;
}

/** Resolves true when the peer half-closes (FIN) within `ms`, false otherwise. */
function endsWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('end', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('sendCancelRequest', () => {
  it('sends CancelRequest, keeps its side open, and completes once the server closes', async () => {
    const accepted = server.nextConnection();
    const cancel = send();
    const socket = await accepted;
    expect(await readUntypedFrame(socket)).toEqual(cancelRequest(4242, -7));
    expect(await endsWithin(socket, 200)).toBe(false);
    expect(cancel.ending).toBeUndefined();

    socket.end();
    expect(await cancel.ended(1000)).toEqual({ kind: 'complete' });
    // Our side closes after the server's: the server sees the close, not a FIN before its own.
    await new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
  });

  it('completes when the server resets the socket instead of closing it', async () => {
    const accepted = server.nextConnection();
    const cancel = send();
    const socket = await accepted;
    await readUntypedFrame(socket);
    socket.resetAndDestroy();
    expect(await cancel.ended(1000)).toEqual({ kind: 'complete' });
  });

  it('waits as long as the server keeps the socket open; unsubscribing closes it', async () => {
    const accepted = server.nextConnection();
    const cancel = send();
    const socket = await accepted;
    await readUntypedFrame(socket);
    await delay(300);
    expect(cancel.ending).toBeUndefined();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.resume();
    cancel.unsubscribe();
    await closed;
  });

  it('errors with a ConnectionError 08001 when the socket cannot be opened', async () => {
    const port = server.port;
    await server.close();
    const error = await send(port).error(1000);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('08001');
  });
});
