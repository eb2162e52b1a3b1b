// What a real server cannot be made to do, against a scripted one. Seed cases ported here
// (reference/postgres_async.md §3.4): T-C1..T-C4 (interrupt while connecting, while logging in,
// during SSL negotiation), T-C8 an unsupported auth method, T-F3..T-F4 (good and malformed
// login replies), T-F6 (EOF while idle), T-SSL1..T-SSL3, T-SSL5..T-SSL6.
import type { Socket } from 'node:net';
import { Subscription, firstValueFrom, lastValueFrom } from 'rxjs';
import { AuthenticationError, ConnectionError, ProtocolError, connect, type ConnectionConfig, type SslMode } from '../../lib';
import { authenticationCode, authenticationOk, backendKeyData, frame, readyForQuery } from '../helpers/backend-messages';
import { errorOf } from '../helpers/connections';
import { testServers } from '../helpers/test-servers';
import { readTypedFrame, readUntypedFrame, startFakeServer, whenClosed, type FakeServer } from '../helpers/fake-server';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const acceptLogin = Buffer.concat([authenticationOk(), backendKeyData(4242, 99), readyForQuery('I')]);

function fakeConfig(port: number, extra: Partial<ConnectionConfig> = {}): ConnectionConfig {
  return { host: '127.0.0.1', port, user: 'postgres', database: 'postgres', sslmode: 'disable', ...extra };
}

/** A server that reads the StartupMessage, then writes `reply` (and optionally ends). */
async function replyingServer(reply: Buffer, options: { end?: boolean } = {}): Promise<FakeServer> {
  return startFakeServer((socket) => {
    readUntypedFrame(socket).then(
      () => {
        if (options.end === true) socket.end(reply);
        else socket.write(reply);
      },
      () => undefined,
    );
  });
}

describe('interrupting a connection attempt', () => {
  it('unsubscribing while the server is silent destroys the socket within 50 ms (T-C2)', async () => {
    server = await startFakeServer();
    const accepted = server.nextConnection();
    const subscription = connect(fakeConfig(server.port)).subscribe({ error: () => undefined });
    const socket = await accepted;
    await readUntypedFrame(socket);
    const closed = whenClosed(socket);
    subscription.unsubscribe();
    expect(await closed).toBeLessThan(50);
  });

  it('unsubscribing during SSL negotiation destroys the socket (T-C4)', async () => {
    server = await startFakeServer();
    const accepted = server.nextConnection();
    const subscription = connect(fakeConfig(server.port, { sslmode: 'prefer' })).subscribe({ error: () => undefined });
    const socket = await accepted;
    const request = await readUntypedFrame(socket);
    expect(request.readUInt32BE(4)).toBe(80877103);
    const closed = whenClosed(socket);
    subscription.unsubscribe();
    expect(await closed).toBeLessThan(50);
  });

  it('unsubscribing at once opens nothing that stays open (T-C1, T-C3)', async () => {
    server = await startFakeServer();
    const subscription = new Subscription();
    subscription.add(connect(fakeConfig(server.port)).subscribe({ error: () => undefined }));
    subscription.unsubscribe();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.sockets.every((socket) => socket.destroyed || socket.readableEnded)).toBe(true);
  });

  it('an AbortSignal aborts the attempt with a ConnectionError and destroys the socket', async () => {
    server = await startFakeServer();
    const accepted = server.nextConnection();
    const controller = new AbortController();
    const result = errorOf(firstValueFrom(connect(fakeConfig(server.port, { signal: controller.signal }))));
    const socket = await accepted;
    await readUntypedFrame(socket);
    const closed = whenClosed(socket);
    controller.abort();
    const error = await result;
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('08001');
    expect(await closed).toBeLessThan(50);
  });

  it('connectTimeout fails a silent server with a ConnectionError and closes the socket', async () => {
    server = await startFakeServer();
    const accepted = server.nextConnection();
    const started = Date.now();
    const error = await errorOf(firstValueFrom(connect(fakeConfig(server.port, { connectTimeout: 200 }))));
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toContain('timed out');
    const socket = await accepted;
    await whenClosed(socket);
  });
});

describe('login replies', () => {
  it('AuthenticationOk + BackendKeyData + ReadyForQuery connects (T-F3)', async () => {
    server = await replyingServer(acceptLogin);
    const connection = await firstValueFrom(connect(fakeConfig(server.port)));
    expect(connection.processId).toBe(4242);
    connection.close().catch(() => undefined);
  });

  it('sends the StartupMessage with user, database and our runtime parameters', async () => {
    server = await startFakeServer();
    const accepted = server.nextConnection();
    const pending = errorOf(firstValueFrom(connect(fakeConfig(server.port, { connectTimeout: 300 }))));
    const startup = await readUntypedFrame(await accepted);
    expect(startup.readUInt32BE(4)).toBe(196608);
    const pairs = startup.subarray(8, -1).toString('utf8').split('\0').slice(0, -1);
    const parameters = Object.fromEntries(pairs.flatMap((_, i) => (i % 2 === 0 ? [[pairs[i], pairs[i + 1]]] : [])));
    expect(parameters).toMatchObject({ user: 'postgres', database: 'postgres', client_encoding: 'UTF8' });
    await pending;
  });

  it.each<[string, Buffer, new (...args: never[]) => Error]>([
    ['a length below 4', Buffer.from([0x52, 0, 0, 0, 3]), ProtocolError],
    ['an unknown auth code', authenticationCode(255), ProtocolError],
    ['an unknown message type', frame('x', Buffer.alloc(0)), ProtocolError],
    ['PortalSuspended during login', frame('s', Buffer.alloc(0)), ProtocolError],
    ['SCMCredential auth (T-C8)', authenticationCode(6), AuthenticationError],
    ['SSPI auth', authenticationCode(9), AuthenticationError],
    ['ReadyForQuery in a transaction', Buffer.concat([authenticationOk(), readyForQuery('T')]), ProtocolError],
  ])('%s fails the login (T-F4)', async (_label, reply, errorClass) => {
    server = await replyingServer(reply);
    const error = await errorOf(firstValueFrom(connect(fakeConfig(server.port))));
    expect(error).toBeInstanceOf(errorClass);
  });

  it('a declared length over the maximum fails at once, without waiting for the body (T-F4)', async () => {
    server = await replyingServer(Buffer.from([0x52, 0x40, 0x00, 0x00, 0x04]));
    const error = await errorOf(firstValueFrom(connect(fakeConfig(server.port))));
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('08P01');
  });

  it('EOF inside a message is a ConnectionError (T-F4)', async () => {
    server = await replyingServer(Buffer.from([0x52, 0x00, 0x00, 0x00, 0x05]), { end: true });
    const error = await errorOf(firstValueFrom(connect(fakeConfig(server.port))));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toContain('unfinished message');
  });

  it('sends the gssKrbToken when asked for GSS, and a GSSContinue fails with an AuthenticationError', async () => {
    const token = Buffer.from([1, 2, 3, 0, 4]);
    let received: Buffer | undefined;
    server = await startFakeServer((socket: Socket) => {
      void (async () => {
        await readUntypedFrame(socket);
        socket.write(authenticationCode(7));
        received = await readTypedFrame(socket);
        socket.write(authenticationCode(8, Buffer.from('more')));
      })().catch(() => undefined);
    });
    const error = await errorOf(firstValueFrom(connect(fakeConfig(server.port, { gssKrbToken: token }))));
    expect(received).toEqual(Buffer.concat([Buffer.from('p'), Buffer.from([0, 0, 0, 9]), token]));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toContain('GSSContinue');
  });

  it('GSS without a token fails with an AuthenticationError', async () => {
    server = await replyingServer(authenticationCode(7));
    const error = await errorOf(firstValueFrom(connect(fakeConfig(server.port))));
    expect(error).toBeInstanceOf(AuthenticationError);
  });
});

describe('after login', () => {
  it('EOF while idle errors closed$ (T-F6)', async () => {
    let serverSocket: Socket | undefined;
    server = await startFakeServer((socket) => {
      serverSocket = socket;
      readUntypedFrame(socket).then(
        () => socket.write(acceptLogin),
        () => undefined,
      );
    });
    const connection = await firstValueFrom(connect(fakeConfig(server.port)));
    let settled = false;
    const closed = errorOf(lastValueFrom(connection.closed$, { defaultValue: undefined })).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    serverSocket?.end();
    const error = await closed;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toContain('closed the connection unexpectedly');
  });

  it('an unsolicited message while idle is a ProtocolError that fails the connection', async () => {
    let serverSocket: Socket | undefined;
    server = await startFakeServer((socket) => {
      serverSocket = socket;
      readUntypedFrame(socket).then(
        () => socket.write(acceptLogin),
        () => undefined,
      );
    });
    const connection = await firstValueFrom(connect(fakeConfig(server.port)));
    serverSocket?.write(readyForQuery('I'));
    const error = await errorOf(lastValueFrom(connection.closed$, { defaultValue: undefined }));
    expect(error).toBeInstanceOf(ProtocolError);
  });
});

describe('SSL negotiation with a scripted server', () => {
  /** Answers SSLRequest with `answer`, then accepts the login in plaintext. */
  async function sslAnswering(answer: Buffer, log: string[]): Promise<FakeServer> {
    return startFakeServer((socket) => {
      void (async () => {
        const first = await readUntypedFrame(socket);
        if (first.length === 8 && first.readUInt32BE(4) === 80877103) {
          log.push('SSLRequest');
          socket.write(answer);
          // A server that said S but speaks no TLS: its plaintext reply breaks the handshake.
          if (answer.toString() === 'S') socket.once('data', () => socket.write(acceptLogin));
          if (answer.toString() !== 'N') return;
          await readUntypedFrame(socket);
        } else {
          log.push('skipped ssl');
        }
        socket.write(acceptLogin);
      })().catch(() => undefined);
    });
  }

  it('N under prefer goes on in plaintext (T-SSL2)', async () => {
    const log: string[] = [];
    server = await sslAnswering(Buffer.from('N'), log);
    const connection = await firstValueFrom(connect(fakeConfig(server.port, { sslmode: 'prefer' })));
    expect(log).toEqual(['SSLRequest']);
    connection.close().catch(() => undefined);
  });

  it.each<SslMode>(['require', 'verify-ca'])('N under %s fails (T-SSL5)', async (sslmode) => {
    server = await sslAnswering(Buffer.from('N'), []);
    // A root certificate that really is one: every named TLS file is checked before any I/O.
    const sslrootcert = testServers().primary.tls?.caFile;
    const error = await errorOf(firstValueFrom(connect(fakeConfig(server.port, { sslmode, sslrootcert }))));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toContain('SSL was required');
  });

  it('an answer other than S or N is a ProtocolError (T-SSL3)', async () => {
    server = await sslAnswering(Buffer.from('E'), []);
    const error = await errorOf(firstValueFrom(connect(fakeConfig(server.port, { sslmode: 'require' }))));
    expect(error).toBeInstanceOf(ProtocolError);
  });

  it('bytes after S before the handshake are refused (CVE-2021-23222)', async () => {
    server = await sslAnswering(Buffer.concat([Buffer.from('S'), authenticationOk()]), []);
    const error = await errorOf(firstValueFrom(connect(fakeConfig(server.port, { sslmode: 'require' }))));
    expect(error).toBeInstanceOf(ProtocolError);
  });

  it('S from a server that does not speak TLS fails under require, without throwing (T-SSL1)', async () => {
    server = await sslAnswering(Buffer.from('S'), []);
    const error = await errorOf(firstValueFrom(connect(fakeConfig(server.port, { sslmode: 'require', connectTimeout: 5000 }))));
    expect(error).toBeInstanceOf(ConnectionError);
  });

  it('disable sends the StartupMessage first (T-SSL6)', async () => {
    const log: string[] = [];
    server = await sslAnswering(Buffer.from('N'), log);
    const connection = await firstValueFrom(connect(fakeConfig(server.port, { sslmode: 'disable' })));
    expect(log).toEqual(['skipped ssl']);
    connection.close().catch(() => undefined);
  });
});
