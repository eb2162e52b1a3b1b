// Seed cases ported here (reference/postgres_async.md §3.4): T-S1 (a first query), T-C5 trust
// with an ignored password, T-C6 md5 login and a bad password, T-C7 unix socket and TCP,
// T-C9 connection refused, T-C10 graceful close; T-RP2 and T-RP3 runtime parameters and options.
import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { firstValueFrom } from 'rxjs';
import { AuthenticationError, ConfigError, ConnectionError, PostgresError, connect, type ConnectionConfig } from '../../lib';
import { closeOpenedConnections, errorOf, openConnection, queryValue } from '../helpers/connections';
import { superuserConfig, superuserPsql, testServers } from '../helpers/test-servers';

afterEach(closeOpenedConnections);

const primary = () => testServers().primary;

function roleConfig(role: 'trust' | 'password' | 'md5' | 'scram', via: 'tcp' | 'socket'): ConnectionConfig {
  const cluster = primary();
  const roles = cluster.roles;
  if (roles === undefined) throw new Error('the test server has no auth roles (an external server was given)');
  const credentials: { user: string; password?: string } = roles[role];
  return {
    host: via === 'tcp' ? cluster.host : cluster.socketDir,
    port: cluster.port,
    database: 'postgres',
    user: credentials.user,
    password: credentials.password,
    sslmode: 'disable',
  };
}

describe('connect: authentication methods', () => {
  const cases = (['trust', 'password', 'md5', 'scram'] as const).flatMap((role) =>
    (['tcp', 'socket'] as const).map((via) => [role, via] as const),
  );

  it.each(cases)('logs in with %s over %s', async (role, via) => {
    const config = roleConfig(role, via);
    const connection = await openConnection(config);
    expect(await queryValue(connection, 'SELECT current_user')).toBe(config.user);
    expect(connection.state).toBe('open');
    expect(connection.processId).toBe(Number(await queryValue(connection, 'SELECT pg_backend_pid()')));
  });

  it.each(['password', 'md5', 'scram'] as const)(
    'a wrong %s password is an AuthenticationError 28P01 that never shows the password',
    async (role) => {
      const wrong = 'Wrong-Secret-9f3b';
      const error = await errorOf(firstValueFrom(connect({ ...roleConfig(role, 'tcp'), password: wrong })));
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as AuthenticationError).code).toBe('28P01');
      expect((error as AuthenticationError).cause).toBeInstanceOf(PostgresError);
      for (const text of [error.message, String(error), JSON.stringify(error), inspect(error, { depth: 8 }), error.stack ?? '']) {
        expect(text).not.toContain(wrong);
        expect(text).not.toContain(roleConfig(role, 'tcp').password as string);
      }
    },
  );

  it.each(['password', 'md5', 'scram'] as const)('no password for %s is an AuthenticationError 28P01', async (role) => {
    const { password: _password, ...withoutPassword } = roleConfig(role, 'tcp');
    const error = await errorOf(firstValueFrom(connect({ ...withoutPassword, passfile: '/nonexistent/pgpass' })));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).code).toBe('28P01');
  });

  it('takes the password from a function, called only when the server asks', async () => {
    let calls = 0;
    const scram = roleConfig('scram', 'tcp');
    const connection = await openConnection({
      ...scram,
      password: async () => {
        calls += 1;
        return scram.password as string;
      },
    });
    expect(await queryValue(connection, 'SELECT current_user')).toBe(scram.user);
    expect(calls).toBe(1);

    const trustCalls = { count: 0 };
    await openConnection({
      ...roleConfig('trust', 'tcp'),
      password: () => {
        trustCalls.count += 1;
        return 'unused';
      },
    });
    expect(trustCalls.count).toBe(0);
  });

  it('a password function that throws fails the login with that error as cause', async () => {
    const failure = new Error('vault unavailable');
    const error = await errorOf(
      firstValueFrom(
        connect({
          ...roleConfig('md5', 'tcp'),
          password: () => {
            throw failure;
          },
        }),
      ),
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(String(error.message)).toContain('password');
  });

  it('ignores a password under trust (T-C5)', async () => {
    const connection = await openConnection({ ...superuserConfig(), password: 'nonsense' });
    expect(await queryValue(connection, "SELECT current_user || ',' || current_database()")).toBe('postgres,postgres');
  });
});

describe('connect: settings sent at startup', () => {
  it('sends application_name, options and runtime parameters (T-RP2, T-RP3)', async () => {
    const connection = await openConnection({
      ...superuserConfig(),
      applicationName: 'rxpg spec',
      options: '-c statement_timeout=1234 -c search_path=pg_catalog',
      runtimeParameters: { TimeZone: 'Pacific/Auckland' },
    });
    expect(connection.parameters.application_name).toBe('rxpg spec');
    expect(connection.parameters.TimeZone).toBe('Pacific/Auckland');
    expect(await queryValue(connection, 'SHOW statement_timeout')).toBe('1234ms');
    expect(await queryValue(connection, 'SHOW search_path')).toBe('pg_catalog');
    expect(connection.parameters.server_version).toMatch(/^\d+/);
    expect(connection.parameters.client_encoding).toBe('UTF8');
  });

  it('keeps backslashes and runs of spaces in options values (T-RP3)', async () => {
    const name = 'My \\very complicated   a\\p\\p name';
    const escaped = name.replace(/[\\ ]/g, (c) => `\\${c}`);
    const connection = await openConnection({ ...superuserConfig(), options: `--application_name=${escaped}` });
    expect(connection.parameters.application_name).toBe(name);
  });

  it('parameters is a snapshot and parameterChanges$ reports SET', async () => {
    const connection = await openConnection(superuserConfig());
    const changes: string[] = [];
    connection.parameterChanges$.subscribe((change) => changes.push(`${change.name}=${change.value}`));
    const before = connection.parameters;
    await queryValue(connection, "SET application_name = 'changed'; SELECT 1");
    expect(changes).toContain('application_name=changed');
    expect(connection.parameters.application_name).toBe('changed');
    expect(before.application_name).not.toBe('changed');
    expect(Object.isFrozen(before)).toBe(true);
  });

  it('delivers NoticeResponse on notices$ with every field', async () => {
    const connection = await openConnection(superuserConfig());
    const notices: { message?: string; severityNonLocalized?: string; code?: string }[] = [];
    connection.notices$.subscribe((notice) => notices.push(notice));
    await queryValue(connection, "DO $$ BEGIN RAISE NOTICE 'hello % world', 42; END $$; SELECT 1");
    expect(notices).toEqual([expect.objectContaining({ message: 'hello 42 world', severityNonLocalized: 'NOTICE', code: '00000' })]);
  });

  it('connects to a database given in a URL and reads PG* defaults', async () => {
    const cluster = primary();
    const connection = await openConnection(
      `postgres://postgres@${cluster.host}:${cluster.port}/postgres?sslmode=disable&application_name=from-url`,
    );
    expect(connection.parameters.application_name).toBe('from-url');
  });

  it('a missing database is a ConnectionError with SQLSTATE 3D000', async () => {
    const error = await errorOf(firstValueFrom(connect({ ...superuserConfig(), database: 'no_such_database' })));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).not.toBeInstanceOf(AuthenticationError);
    expect((error as ConnectionError).code).toBe('3D000');
  });
});

describe('connect: laziness and failures before login', () => {
  it('is cold: nothing connects before subscribe, each subscribe connects again', async () => {
    const applicationName = `cold-${process.pid}-${Date.now()}`;
    const count = async () =>
      Number(await superuserPsql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = '${applicationName}'`));
    const connect$ = connect({ ...superuserConfig(), applicationName });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await count()).toBe(0);
    const first = await firstValueFrom(connect$);
    const second = await firstValueFrom(connect$);
    expect(first).not.toBe(second);
    expect(await count()).toBe(2);
    await Promise.all([first.close(), second.close()]);
  });

  it('a refused connection is a ConnectionError 08001, not a throw (T-C9)', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    const error = await errorOf(firstValueFrom(connect({ host: '127.0.0.1', port, user: 'x', sslmode: 'disable' })));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('08001');
    expect(error.message).toMatch(/ECONNREFUSED|refused/);
  });

  it('a missing unix socket is a ConnectionError 08001', async () => {
    const error = await errorOf(firstValueFrom(connect({ host: '/nonexistent-dir', port: 5999, user: 'x' })));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('08001');
    expect(error.message).toContain('/nonexistent-dir/.s.PGSQL.5999');
  });

  it('invalid settings are a ConfigError before any I/O', async () => {
    const subscribeOnly = connect({ host: '127.0.0.1', port: 1, sslmode: 'sometimes' as never });
    const error = await errorOf(firstValueFrom(subscribeOnly));
    expect(error).toBeInstanceOf(ConfigError);
    const badUrl = await errorOf(firstValueFrom(connect('postgres://user:hunter2@host:notaport/db')));
    expect(badUrl).toBeInstanceOf(ConfigError);
    expect(badUrl.message).not.toContain('hunter2');
  });
});
