// The socket wrapper under the protocol: coalesced writes, pause/resume, drain, and how the
// socket's end and errors surface. A local TCP pair stands in for the server (no PostgreSQL
// behaviour is involved).
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { ConnectionError } from '../../lib';
import { SocketTransport, describeSocketAddress, socketAddress } from '../../lib/transport';

let server: Server;
let serverSide: Promise<Socket>;
let client: Socket;

beforeEach(async () => {
  let accept: (socket: Socket) => void = () => undefined;
  serverSide = new Promise((resolve) => (accept = resolve));
  server = createServer((socket) => accept(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  client = netConnect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve) => client.once('connect', resolve));
});

afterEach(async () => {
  client.destroy();
  (await serverSide).destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('SocketTransport', () => {
  it('coalesces the writes of one tick into one socket write', async () => {
    const transport = new SocketTransport(client, { encrypted: false, description: 'test' });
    const write = jest.spyOn(client, 'write');
    transport.write(Buffer.from('a'));
    transport.write(Buffer.from('bc'));
    transport.write(Buffer.from('def'));
    expect(write).not.toHaveBeenCalled();
    await nextTick();
    expect(write).toHaveBeenCalledTimes(1);
    const peer = await serverSide;
    const received = await new Promise<Buffer>((resolve) => peer.once('data', resolve));
    expect(received.toString()).toBe('abcdef');
  });

  it('joins thousands of small writes into a few socket writes and passes large ones as they are, in order', async () => {
    const transport = new SocketTransport(client, { encrypted: false, description: 'test' });
    const write = jest.spyOn(client, 'write');
    const pieces: Buffer[] = [];
    for (let i = 0; i < 20_000; i++) {
      pieces.push(Buffer.from(`${i};`));
      if (i % 5000 === 0) pieces.push(Buffer.alloc(40_000, i % 256));
    }
    for (const piece of pieces) transport.write(piece);
    await nextTick();
    // 4 large pieces as they are, the ~130 KB of small ones joined in groups of at most 64 KiB.
    expect(write.mock.calls.length).toBeLessThan(15);
    const written = write.mock.calls.map(([bytes]) => bytes as Uint8Array);
    expect(written.filter((bytes) => bytes.length === 40_000)).toHaveLength(4);
    expect(written.every((bytes) => bytes.length <= 64 * 1024 || bytes.length === 40_000)).toBe(true);
    const expected = Buffer.concat(pieces);
    const peer = await serverSide;
    const received: Buffer[] = [];
    let length = 0;
    await new Promise<void>((resolve) => {
      peer.on('data', (chunk: Buffer) => {
        received.push(chunk);
        length += chunk.length;
        if (length >= expected.length) resolve();
      });
    });
    expect(Buffer.concat(received).equals(expected)).toBe(true);
  });

  it("sends a tick's writes at once when they reach 64 KiB (the server starts on them while the tick goes on), the rest at its end", async () => {
    const transport = new SocketTransport(client, { encrypted: false, description: 'test' });
    const write = jest.spyOn(client, 'write');
    for (let i = 0; i < 3000; i++) transport.write(Buffer.alloc(30, i % 256));
    const duringTick = write.mock.calls.reduce((bytes, [chunk]) => bytes + (chunk as Uint8Array).length, 0);
    expect(duringTick).toBeGreaterThanOrEqual(64 * 1024);
    expect(duringTick).toBeLessThan(90_000);
    await nextTick();
    expect(write.mock.calls.reduce((bytes, [chunk]) => bytes + (chunk as Uint8Array).length, 0)).toBe(90_000);
  });

  it('releases a written buffer once it is copied or handed to the kernel, never when torn down first', async () => {
    const transport = new SocketTransport(client, { encrypted: false, description: 'test' });
    const released: string[] = [];
    transport.write(Buffer.from('one'), () => released.push('one'));
    transport.write(Buffer.from('two'), () => released.push('two'));
    transport.flush();
    // Joined into one buffer: both are free at once.
    expect(released).toEqual(['one', 'two']);
    transport.write(Buffer.alloc(70_000, 1), () => released.push('large'));
    transport.flush();
    // Written as it is: free once the socket has handed it to the kernel.
    expect(released).toEqual(['one', 'two']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(released).toEqual(['one', 'two', 'large']);
    transport.write(Buffer.from('dropped'), () => released.push('dropped'));
    transport.destroy();
    await nextTick();
    expect(released).not.toContain('dropped');
  });

  it('reads nothing before chunks$ is subscribed, then delivers what the peer sent', async () => {
    const transport = new SocketTransport(client, { encrypted: false, description: 'test' });
    (await serverSide).write('early');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await firstValueFrom(transport.chunks$)).toString()).toBe('early');
  });

  it('stops reading when the last subscriber of chunks$ leaves: what the peer sends next goes to the next subscriber', async () => {
    const transport = new SocketTransport(client, { encrypted: false, description: 'test' });
    const peer = await serverSide;
    const first: string[] = [];
    const subscription = transport.chunks$.subscribe((chunk) => first.push(chunk.toString()));
    peer.write('one');
    await new Promise((resolve) => setTimeout(resolve, 20));
    subscription.unsubscribe();
    expect(client.isPaused()).toBe(true);
    peer.write('two');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(first).toEqual(['one']);
    expect((await firstValueFrom(transport.chunks$)).toString()).toBe('two');
  });

  it('pauses and resumes reading, nesting', async () => {
    const transport = new SocketTransport(client, { encrypted: false, description: 'test' });
    const chunks: string[] = [];
    transport.chunks$.subscribe((chunk) => chunks.push(chunk.toString()));
    transport.pause();
    transport.pause();
    (await serverSide).write('while paused');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(chunks).toEqual([]);
    transport.resume();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(chunks).toEqual([]);
    expect(transport.paused).toBe(true);
    transport.resume();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(chunks).toEqual(['while paused']);
  });

  it('completes chunks$ on EOF, and drained() emits at once when there is room', async () => {
    const transport = new SocketTransport(client, { encrypted: false, description: 'test' });
    await firstValueFrom(transport.drained());
    const all = lastValueFrom(transport.chunks$.pipe(toArray()));
    (await serverSide).end('bye');
    expect((await all).map(String)).toEqual(['bye']);
  });

  it('errors chunks$ with a ConnectionError when the socket fails', async () => {
    const transport = new SocketTransport(client, { encrypted: false, description: 'test peer' });
    const failed = lastValueFrom(transport.chunks$).catch((error: unknown) => error);
    client.destroy(new Error('boom'));
    const error = (await failed) as ConnectionError;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toContain('test peer');
    expect((error.cause as Error).message).toBe('boom');
  });

  it('end() flushes pending writes before FIN; writes after it are refused', async () => {
    const transport = new SocketTransport(client, { encrypted: false, description: 'test' });
    transport.write(Buffer.from('last words'));
    transport.end();
    expect(transport.write(Buffer.from('too late'))).toBe(false);
    const peer = await serverSide;
    const received: Buffer[] = [];
    peer.on('data', (chunk: Buffer) => received.push(chunk));
    await new Promise((resolve) => peer.once('end', resolve));
    expect(Buffer.concat(received).toString()).toBe('last words');
  });
});

describe('socketAddress', () => {
  it('maps a directory host to the unix socket file and anything else to TCP', () => {
    expect(socketAddress('/var/run/postgresql/', 5433)).toEqual({ kind: 'unix', path: '/var/run/postgresql/.s.PGSQL.5433' });
    expect(socketAddress('db.example.com', 5432)).toEqual({ kind: 'tcp', host: 'db.example.com', port: 5432 });
    expect(describeSocketAddress(socketAddress('/tmp', 1))).toBe('unix socket /tmp/.s.PGSQL.1');
  });
});
