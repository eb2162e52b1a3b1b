// target_session_attrs and host lists against a real primary and a streaming hot standby
// (spec/harness/standby.ts), each value in every order of the host list, with and without a
// first host that nothing listens on; psql checks the servers independently where it matters.
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { firstValueFrom } from 'rxjs';
import { connect, type Connection, type ConnectionConfig, type TargetSessionAttrs } from '../../lib';
import { ConnectionAttemptsError } from '../../lib/errors/connection-attempts-error';
import { useReplicatedCluster } from '../harness/standby';
import { closeOpenedConnections, errorOf, eventually, openConnection, queryValue } from '../helpers/connections';
import { startParameterHidingRelay, type ParameterHidingRelay } from '../helpers/parameter-hiding-relay';

const cluster = useReplicatedCluster();
afterEach(closeOpenedConnections);

/** A port on 127.0.0.1 that nothing listens on (taken from the kernel, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let dead: number;
beforeAll(async () => {
  dead = await deadPort();
});

type Role = 'primary' | 'standby' | 'dead';

function config(order: readonly Role[], target?: TargetSessionAttrs, extra: Partial<ConnectionConfig> = {}): ConnectionConfig {
  const { primary, standby } = cluster();
  const port = (role: Role) => (role === 'primary' ? primary.port : role === 'standby' ? standby.port : dead);
  return {
    host: order.map(() => '127.0.0.1'),
    port: order.map(port),
    user: 'postgres',
    database: 'postgres',
    sslmode: 'disable',
    ...(target === undefined ? {} : { targetSessionAttrs: target }),
    ...extra,
  };
}

/**
 * Which server a connection reached, asked of the server itself; its `config.port` must name
 * that server (or the relay in front of it).
 */
async function roleOf(connection: Connection, relays: readonly ParameterHidingRelay[] = []): Promise<Role> {
  const { primary, standby } = cluster();
  const port = Number(await queryValue(connection, 'SELECT inet_server_port()'));
  const relayed = relays[port === primary.port ? 0 : 1];
  expect(connection.config.port).toBe(relayed === undefined ? port : relayed.port);
  const inRecovery = await queryValue(connection, 'SELECT pg_is_in_recovery()');
  if (port === primary.port && inRecovery === 'f') return 'primary';
  if (port === standby.port && inRecovery === 't') return 'standby';
  throw new Error(`unexpected server: port ${port}, in recovery ${inRecovery}`);
}

const orders: readonly (readonly Role[])[] = [
  ['primary', 'standby'],
  ['standby', 'primary'],
  ['dead', 'primary', 'standby'],
  ['dead', 'standby', 'primary'],
];

/** The server libpq's rules pick for each target, given the list order. */
function expected(target: TargetSessionAttrs, order: readonly Role[]): Role {
  switch (target) {
    case 'any':
      return order.find((role) => role !== 'dead')!;
    case 'read-write':
    case 'primary':
      return 'primary';
    default:
      return 'standby';
  }
}

const targets: readonly TargetSessionAttrs[] = ['any', 'read-write', 'read-only', 'primary', 'standby', 'prefer-standby'];
const cases = targets.flatMap((target) => orders.map((order) => [target, order.join(','), expected(target, order), order] as const));

describe('connect with target_session_attrs against a primary and a hot standby', () => {
  it.each(cases)('%s over %s reaches the %s', async (target, _orderText, role, order) => {
    const connection = await openConnection(config(order, target));
    expect(await roleOf(connection)).toBe(role);
  });

  it('takes the target from a URL with host:port pairs', async () => {
    const { primary, standby } = cluster();
    const url = `postgres://postgres@127.0.0.1:${dead},127.0.0.1:${standby.port},127.0.0.1:${primary.port}/postgres?sslmode=disable&target_session_attrs=read-write`;
    expect(await roleOf(await openConnection(url))).toBe('primary');
  });

  it('takes the target from PGTARGETSESSIONATTRS when nothing else sets it', async () => {
    const saved = process.env.PGTARGETSESSIONATTRS;
    process.env.PGTARGETSESSIONATTRS = 'standby';
    try {
      expect(await roleOf(await openConnection(config(['primary', 'standby'])))).toBe('standby');
      expect(await roleOf(await openConnection(config(['primary', 'standby'], 'any')))).toBe('primary');
    } finally {
      if (saved === undefined) delete process.env.PGTARGETSESSIONATTRS;
      else process.env.PGTARGETSESSIONATTRS = saved;
    }
  });

  it('closes a server that does not match with a Terminate, never leaving its session behind', async () => {
    const { standby } = cluster();
    const logBefore = (await readFile(standby.logFile, 'utf8')).length;
    const applicationName = `rxpg-tsa-${process.pid}`;
    const connection = await openConnection(config(['standby', 'primary'], 'read-write', { applicationName }));
    expect(await roleOf(connection)).toBe('primary');
    const sessions = () => standby.psql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = '${applicationName}'`);
    await eventually(async () => (await sessions()) === '0');
    // A client that just drops the socket makes the server log "unexpected EOF on client connection".
    expect((await readFile(standby.logFile, 'utf8')).slice(logBefore)).not.toMatch(/unexpected EOF|could not receive data/);
  });

  it('names every attempt and its cause when no server matches, and never the password', async () => {
    const password = 'TsaS3cretPassw0rd';
    const error = await errorOf(firstValueFrom(connect(config(['dead', 'primary'], 'standby', { password }))));
    expect(error).toBeInstanceOf(ConnectionAttemptsError);
    const attempts = (error as ConnectionAttemptsError).attempts;
    expect(attempts.map(({ host, port }) => `${host}:${port}`)).toEqual([`127.0.0.1:${dead}`, `127.0.0.1:${cluster().primary.port}`]);
    expect(error.message).toMatch(new RegExp(`could not connect to 127\\.0\\.0\\.1:${dead}: .*ECONNREFUSED`));
    expect(error.message).toContain(`server at 127.0.0.1:${cluster().primary.port} rejected: server is not in hot standby mode`);
    expect((error as ConnectionAttemptsError).errors).toEqual(attempts.map((attempt) => attempt.error));
    expect((error as ConnectionAttemptsError).code).toBe('08001');
    expect(error.cause).toBe(attempts[1]!.error);
    expect(`${error.message} ${JSON.stringify(attempts)}`).not.toContain(password);
  });

  it("keeps a single attempt's own error", async () => {
    const error = await errorOf(firstValueFrom(connect(config(['primary'], 'read-only'))));
    expect(error).not.toBeInstanceOf(ConnectionAttemptsError);
    expect(error.message).toMatch(/rejected: session is not read-only$/);
  });

  it('applies connectTimeout to each attempt and moves on from a silent host', async () => {
    const silent = await silentServer();
    try {
      const { primary } = cluster();
      const started = Date.now();
      const connection = await openConnection({
        ...config(['primary'], 'any', { connectTimeout: 300 }),
        host: ['127.0.0.1', '127.0.0.1'],
        port: [silent.port, primary.port],
      });
      expect(await roleOf(connection)).toBe('primary');
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      const error = await errorOf(
        firstValueFrom(
          connect({
            ...config(['primary'], 'any', { connectTimeout: 200 }),
            host: ['127.0.0.1', '127.0.0.1'],
            port: [silent.port, silent.port],
          }),
        ),
      );
      expect(error).toBeInstanceOf(ConnectionAttemptsError);
      expect((error as ConnectionAttemptsError).attempts.map((attempt) => attempt.error.message)).toEqual([
        `connection attempt to 127.0.0.1:${silent.port} timed out after 200 ms`,
        `connection attempt to 127.0.0.1:${silent.port} timed out after 200 ms`,
      ]);
    } finally {
      await silent.close();
    }
  });

  it('ends the whole attempt when a server refuses the login, as libpq does', async () => {
    const error = await errorOf(firstValueFrom(connect(config(['primary', 'standby'], 'any', { database: 'no_such_database' }))));
    expect(error).not.toBeInstanceOf(ConnectionAttemptsError);
    expect((error as { code?: string }).code).toBe('3D000');
  });

  it('shuffles the hosts with loadBalanceHosts random', async () => {
    const reached = new Set<Role>();
    for (let i = 0; i < 30 && reached.size < 2; i++) {
      const connection = await firstValueFrom(connect(config(['primary', 'standby'], 'any', { loadBalanceHosts: 'random' })));
      reached.add(await roleOf(connection));
      await connection.close();
    }
    expect(reached).toEqual(new Set(['primary', 'standby']));
  });

  it('asks the server (SHOW transaction_read_only, pg_is_in_recovery()) when it does not report in_hot_standby', async () => {
    const { primary, standby } = cluster();
    const hidden = ['in_hot_standby', 'default_transaction_read_only'];
    const relays = await Promise.all([primary, standby].map((server) => startParameterHidingRelay(server, hidden)));
    try {
      const [toPrimary, toStandby] = relays as [ParameterHidingRelay, ParameterHidingRelay];
      const via = (target: TargetSessionAttrs, first: ParameterHidingRelay, second: ParameterHidingRelay) =>
        openConnection({ ...config(['primary'], target), host: [first.host, second.host], port: [first.port, second.port] });
      const readOnly = await via('read-only', toPrimary, toStandby);
      expect(readOnly.parameters.in_hot_standby).toBeUndefined();
      expect(readOnly.parameters.default_transaction_read_only).toBeUndefined();
      expect(await roleOf(readOnly, relays)).toBe('standby');
      expect(await roleOf(await via('read-write', toStandby, toPrimary), relays)).toBe('primary');
      expect(await roleOf(await via('standby', toPrimary, toStandby), relays)).toBe('standby');
      expect(await roleOf(await via('prefer-standby', toPrimary, toStandby), relays)).toBe('standby');
      expect(await roleOf(await via('primary', toStandby, toPrimary), relays)).toBe('primary');
    } finally {
      await closeOpenedConnections();
      await Promise.all(relays.map((relay) => relay.close()));
    }
  });

  it('treats default_transaction_read_only = on as read-only, like a standby', async () => {
    const { primary } = cluster();
    const readOnlyPrimary = { ...config(['primary', 'standby']), options: '-c default_transaction_read_only=on' };
    expect(await roleOf(await openConnection({ ...readOnlyPrimary, targetSessionAttrs: 'read-only' }))).toBe('primary');
    expect(await roleOf(await openConnection({ ...readOnlyPrimary, targetSessionAttrs: 'primary' }))).toBe('primary');
    const error = await errorOf(firstValueFrom(connect({ ...readOnlyPrimary, targetSessionAttrs: 'read-write' })));
    expect(
      (error as ConnectionAttemptsError).attempts.map((attempt) => [attempt.port, attempt.error.message.replace(/^.*rejected: /, '')]),
    ).toEqual([
      [primary.port, 'session is read-only'],
      [cluster().standby.port, 'session is read-only'],
    ]);
  });

  it('prefer-standby falls back to the primary while the standby is stopped, and standby then fails', async () => {
    const { standby } = cluster();
    await standby.stopServer();
    try {
      expect(await roleOf(await openConnection(config(['standby', 'primary'], 'prefer-standby')))).toBe('primary');
      expect(await roleOf(await openConnection(config(['dead', 'primary', 'standby'], 'prefer-standby')))).toBe('primary');
      const error = await errorOf(firstValueFrom(connect(config(['standby', 'primary'], 'standby'))));
      expect(error).toBeInstanceOf(ConnectionAttemptsError);
      expect((error as ConnectionAttemptsError).attempts.map((attempt) => attempt.port)).toEqual([standby.port, cluster().primary.port]);
    } finally {
      await closeOpenedConnections();
      await standby.startServer();
    }
  });
});

/** A TCP server that accepts connections and never answers (a silent peer). */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
