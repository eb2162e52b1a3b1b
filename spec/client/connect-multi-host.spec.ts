// connect over host lists against the suite's shared server: dead hosts, names that do not
// resolve, hostaddr (connect to the address, verify TLS against the name), unix sockets in a
// list, and the Observable's contract (cold, cancellable) while it walks the list.
import { createServer, type Socket } from 'node:net';
import { firstValueFrom } from 'rxjs';
import { connect, type ConnectionConfig } from '../../lib';
import { ConnectionAttemptsError } from '../../lib/errors/connection-attempts-error';
import { closeOpenedConnections, errorOf, eventually, openConnection, queryValue } from '../helpers/connections';
import { requireTls, superuserConfig, testServers } from '../helpers/test-servers';

afterEach(closeOpenedConnections);

/** A TCP server that counts connections and never answers; `port` is also "a dead port" once closed. */
async function listener(): Promise<{ port: number; accepted: Socket[]; closed: Set<Socket>; close(): Promise<void> }> {
  const accepted: Socket[] = [];
  const closed = new Set<Socket>();
  const server = createServer((socket) => {
    accepted.push(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => closed.add(socket));
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    accepted,
    closed,
    close: () => {
      for (const socket of accepted) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function deadPort(): Promise<number> {
  const closed = await listener();
  await closed.close();
  return closed.port;
}

const base = (): ConnectionConfig => superuserConfig();

describe('connect over a host list', () => {
  it('skips a dead host and reports the host it reached in config', async () => {
    const { primary } = testServers();
    const dead = await deadPort();
    const connection = await openConnection({ ...base(), host: ['127.0.0.1', '127.0.0.1'], port: [dead, primary.port] });
    expect(connection.config.port).toBe(primary.port);
    expect(connection.config.hosts.map((entry) => entry.port)).toEqual([dead, primary.port]);
    expect(await queryValue(connection, 'SELECT inet_server_port()')).toBe(String(primary.port));
  });

  it('skips a name that does not resolve, and names it when everything fails', async () => {
    const { primary } = testServers();
    const connection = await openConnection({ ...base(), host: ['no-such-host.invalid', '127.0.0.1'], port: primary.port });
    expect(connection.config.host).toBe('127.0.0.1');
    const dead = await deadPort();
    const error = await errorOf(firstValueFrom(connect({ ...base(), host: ['no-such-host.invalid', '127.0.0.1'], port: dead })));
    expect(error).toBeInstanceOf(ConnectionAttemptsError);
    expect(error.message).toContain('could not translate host name "no-such-host.invalid" to an address');
    expect(error.message).toContain(`could not connect to 127.0.0.1:${dead}`);
    expect((error as ConnectionAttemptsError).attempts.map((attempt) => attempt.address)).toEqual([undefined, '127.0.0.1']);
  });

  it('tries every address of a name (localhost) and reports each', async () => {
    const dead = await deadPort();
    const error = await errorOf(firstValueFrom(connect({ ...base(), host: ['localhost', '127.0.0.1'], port: dead })));
    const attempts = (error as ConnectionAttemptsError).attempts;
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.every((attempt) => attempt.port === dead)).toBe(true);
    expect(attempts.filter((attempt) => attempt.host === 'localhost').length).toBe(attempts.length - 1);
  });

  it('reaches a unix socket directory in the list', async () => {
    const { primary } = testServers();
    const dead = await deadPort();
    const connection = await openConnection({ ...base(), host: ['127.0.0.1', primary.socketDir!], port: [dead, primary.port] });
    expect(connection.config.host).toBe(primary.socketDir);
    expect(await queryValue(connection, "SELECT coalesce(inet_server_addr()::text, 'unix')")).toBe('unix');
  });

  it('connects to hostaddr and verifies TLS against the host name', async () => {
    const { primary } = testServers();
    const tls = requireTls();
    const secure = { ...base(), port: primary.port, sslmode: 'verify-full' as const, sslrootcert: tls.caFile };
    // The certificate names only "localhost": connecting to 127.0.0.1 by that name verifies.
    const connection = await openConnection({ ...secure, host: 'localhost', hostaddr: '127.0.0.1' });
    expect(connection.config.hostaddr).toBe('127.0.0.1');
    expect(await queryValue(connection, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).toBe('t');
    const error = await errorOf(firstValueFrom(connect({ ...secure, host: '127.0.0.1' })));
    expect(error.message).toMatch(/SSL connection failed/);
  });

  it('a TLS failure on the first host ends the attempt (libpq tries further hosts only when unreachable)', async () => {
    const { primary } = testServers();
    const tls = requireTls();
    const error = await errorOf(
      firstValueFrom(
        connect({ ...base(), host: ['127.0.0.1', 'localhost'], port: primary.port, sslmode: 'verify-full', sslrootcert: tls.caFile }),
      ),
    );
    expect(error).not.toBeInstanceOf(ConnectionAttemptsError);
    expect(error.message).toMatch(/SSL connection failed/);
  });

  it('is cold, and unsubscribing while a host hangs closes its socket without trying the next', async () => {
    const silent = await listener();
    const next = await listener();
    try {
      const connect$ = connect({ ...base(), host: ['127.0.0.1', '127.0.0.1'], port: [silent.port, next.port] });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(silent.accepted).toHaveLength(0);
      const subscription = connect$.subscribe({ error: () => undefined });
      await eventually(() => silent.accepted.length === 1);
      subscription.unsubscribe();
      await eventually(() => silent.closed.has(silent.accepted[0]!));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(next.accepted).toHaveLength(0);
    } finally {
      await Promise.all([silent.close(), next.close()]);
    }
  });

  it('aborting the signal stops the walk with a ConnectionError', async () => {
    const silent = await listener();
    try {
      const controller = new AbortController();
      const attempt = errorOf(firstValueFrom(connect({ ...base(), host: ['127.0.0.1'], port: [silent.port], signal: controller.signal })));
      await eventually(() => silent.accepted.length === 1);
      controller.abort(new Error('stop'));
      const error = await attempt;
      expect(error.message).toBe('connection attempt aborted');
    } finally {
      await silent.close();
    }
  });
});
