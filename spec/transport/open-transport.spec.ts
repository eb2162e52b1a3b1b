// openTransport: the one place a connection's socket is made (socket, then TLS as asked),
// against the test servers: what it hands over, and its errors.
import { createServer } from 'node:net';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { ConnectionError } from '../../lib';
import { SocketTransport, isUnreachable, openTransport, type Transport } from '../../lib/transport';
import { errorOf } from '../helpers/connections';
import { requirePlainServer, requireTls, testServers } from '../helpers/test-servers';

const transports: Transport[] = [];
afterEach(() => {
  for (const transport of transports.splice(0)) transport.destroy();
});

async function opened(...args: Parameters<typeof openTransport>): Promise<Transport> {
  const transport = await firstValueFrom(openTransport(...args));
  transports.push(transport);
  return transport;
}

describe('openTransport', () => {
  it('plaintext: a SocketTransport, not encrypted, without a certificate', async () => {
    const server = requirePlainServer();
    const transport = await opened({ kind: 'tcp', host: server.host, port: server.port }, { keepAlive: false, description: 'plain' });
    expect(transport).toBeInstanceOf(SocketTransport);
    expect(transport.encrypted).toBe(false);
    expect(transport.peerCertificate()).toBeUndefined();
    expect(transport.writable).toBe(true);
    transport.destroy();
    await lastValueFrom(transport.whenClosed());
    expect(transport.closed).toBe(true);
  });

  it('TLS as asked: encrypted, with the server certificate (for channel binding)', async () => {
    const primary = testServers().primary;
    requireTls(primary);
    const transport = await opened(
      { kind: 'tcp', host: primary.host, port: primary.port },
      { keepAlive: false, description: 'tls', tls: { required: true, verify: 'none', host: primary.host } },
    );
    expect(transport.encrypted).toBe(true);
    expect(transport.peerCertificate()?.raw.length).toBeGreaterThan(0);
  });

  it('TLS preferred and refused by the server (N): plaintext on the same socket', async () => {
    const server = requirePlainServer();
    const transport = await opened(
      { kind: 'tcp', host: server.host, port: server.port },
      { keepAlive: false, description: 'plain', tls: { required: false, verify: 'none', host: server.host } },
    );
    expect(transport.encrypted).toBe(false);
  });

  it('TLS required and refused: ConnectionError 08001', async () => {
    const server = requirePlainServer();
    const error = await errorOf(
      firstValueFrom(
        openTransport(
          { kind: 'tcp', host: server.host, port: server.port },
          { keepAlive: false, description: 'plain', tls: { required: true, verify: 'none', host: server.host } },
        ),
      ),
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/SSL was required/);
    expect(isUnreachable(error)).toBe(false);
  });

  it('an address nobody listens on: ConnectionError that isUnreachable recognises, naming the description', async () => {
    const listener = createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as { port: number }).port;
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    const error = await errorOf(
      firstValueFrom(openTransport({ kind: 'tcp', host: '127.0.0.1', port }, { keepAlive: false, description: 'gone:1' })),
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect(isUnreachable(error)).toBe(true);
    expect(error.message).toMatch(/gone:1/);
  });
});
