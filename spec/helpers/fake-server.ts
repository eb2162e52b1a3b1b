import { createServer, type Server, type Socket } from 'node:net';

/**
 * A scripted PostgreSQL server on 127.0.0.1 for what a real server cannot be made to do
 * (protocol violations, silence, GSS). Each accepted socket is handed to `onConnection`.
 */
export interface FakeServer {
  readonly port: number;
  /** Sockets accepted so far. */
  readonly sockets: Socket[];
  /** Resolves with the next accepted socket. */
  nextConnection(): Promise<Socket>;
  close(): Promise<void>;
}

/** Starts a fake server; `onConnection` scripts what it says. */
export async function startFakeServer(onConnection: (socket: Socket) => void = () => undefined): Promise<FakeServer> {
  const sockets: Socket[] = [];
  const waiting: ((socket: Socket) => void)[] = [];
  const server: Server = createServer((socket) => {
    socket.on('error', () => undefined);
    sockets.push(socket);
    waiting.shift()?.(socket);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake server has no TCP address');
  return {
    port: address.port,
    sockets,
    nextConnection: () => new Promise<Socket>((resolve) => waiting.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Reads one length-prefixed frame without a type byte (SSLRequest, StartupMessage,
 * CancelRequest) from a socket, resolving with its whole bytes.
 */
export function readUntypedFrame(socket: Socket): Promise<Buffer> {
  return readFrame(socket, 0);
}

/** Reads one typed frontend message (type byte + length + body). */
export function readTypedFrame(socket: Socket): Promise<Buffer> {
  return readFrame(socket, 1);
}

function readFrame(socket: Socket, typeBytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < typeBytes + 4) return;
      const length = typeBytes + buffered.readUInt32BE(typeBytes);
      if (buffered.length < length) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      const rest = buffered.subarray(length);
      if (rest.length > 0) socket.unshift(rest);
      resolve(buffered.subarray(0, length));
    };
    const onClose = () => reject(new Error('socket closed before a whole frame arrived'));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** Resolves when the socket has closed, with the milliseconds it took from the call. */
export function whenClosed(socket: Socket): Promise<number> {
  const started = Date.now();
  return new Promise<number>((resolve) => {
    if (socket.destroyed) resolve(0);
    socket.once('close', () => resolve(Date.now() - started));
    // A paused socket never sees the peer's FIN; read (and drop) to notice it.
    socket.resume();
  });
}
