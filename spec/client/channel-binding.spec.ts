// channel_binding (issue 12, item 4) against the test server's roles, over TLS and plain TCP,
// and a scripted server for what the real one does not do (offer only SCRAM-SHA-256 over TLS
// is covered by the plain-TCP case: there the server offers no PLUS either). A refusal under
// `require` happens before any password leaves the client: the password function is never called.
import { firstValueFrom } from 'rxjs';
import { AuthenticationError, connect, type ChannelBinding, type ConnectionConfig } from '../../lib';
import { authenticationCode, cstring } from '../helpers/backend-messages';
import { closeOpenedConnections, errorOf, openConnection, queryValue } from '../helpers/connections';
import { readUntypedFrame, startFakeServer, type FakeServer } from '../helpers/fake-server';
import { testServers } from '../helpers/test-servers';

let fake: FakeServer | undefined;
afterEach(async () => {
  await closeOpenedConnections();
  await fake?.close();
  fake = undefined;
});

type Role = 'trust' | 'password' | 'md5' | 'scram';

/** A role's settings with a password function that counts how often it was asked for. */
function roleConfig(role: Role, tls: boolean, channelBinding: ChannelBinding): { config: ConnectionConfig; asked: () => number } {
  const server = testServers().primary;
  const roles = server.roles;
  const caFile = server.tls?.caFile;
  if (roles === undefined || caFile === undefined)
    throw new Error('the test server has no auth roles or TLS (an external server was given)');
  const credentials: { user: string; password?: string } = roles[role];
  let asked = 0;
  const config: ConnectionConfig = {
    host: 'localhost',
    port: server.port,
    database: 'postgres',
    user: credentials.user,
    password: () => {
      asked++;
      return credentials.password ?? '';
    },
    channelBinding,
    ...(tls ? { sslmode: 'verify-full', sslrootcert: caFile } : { sslmode: 'disable' }),
  };
  return { config, asked: () => asked };
}

describe('channel_binding=require', () => {
  it('logs in over TLS with SCRAM-SHA-256-PLUS', async () => {
    const { config } = roleConfig('scram', true, 'require');
    const connection = await openConnection(config);
    expect(await queryValue(connection, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).toBe('t');
  });

  it.each<[string, Role, boolean]>([
    ['SCRAM over plain TCP (no PLUS offered, no TLS to bind to)', 'scram', false],
    ['MD5 over TLS', 'md5', true],
    ['a cleartext password over TLS', 'password', true],
    ['trust over TLS (no exchange at all)', 'trust', true],
    ['trust over plain TCP', 'trust', false],
  ])('refuses %s, without asking for the password', async (_name, role, tls) => {
    const { config, asked } = roleConfig(role, tls, 'require');
    const error = await errorOf(firstValueFrom(connect(config)));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toMatch(/channel binding is required/);
    expect(asked()).toBe(0);
  });

  it('refuses a server that offers only SCRAM-SHA-256, before any password leaves', async () => {
    let received = 0;
    fake = await startFakeServer((socket) => {
      readUntypedFrame(socket).then(
        () => {
          socket.on('data', () => received++);
          socket.write(authenticationCode(10, Buffer.concat([cstring('SCRAM-SHA-256'), Buffer.from([0])])));
        },
        () => undefined,
      );
    });
    let asked = 0;
    const error = await errorOf(
      firstValueFrom(
        connect({
          host: '127.0.0.1',
          port: fake.port,
          user: 'postgres',
          database: 'postgres',
          sslmode: 'disable',
          channelBinding: 'require',
          password: () => {
            asked++;
            return 'secret';
          },
        }),
      ),
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toMatch(/channel binding is required/);
    expect(asked).toBe(0);
    expect(received).toBe(0);
  });
});

describe('channel_binding=prefer and disable', () => {
  it.each<ChannelBinding>(['prefer', 'disable'])('%s logs in with SCRAM over TLS and over plain TCP', async (mode) => {
    for (const tls of [true, false]) {
      const { config } = roleConfig('scram', tls, mode);
      const connection = await openConnection(config);
      expect(await queryValue(connection, 'SELECT current_user')).toBe(roleConfig('scram', tls, mode).config.user);
    }
  });

  it('prefer (the default) and disable let MD5 and trust log in', async () => {
    for (const mode of ['prefer', 'disable'] as const) {
      for (const role of ['md5', 'trust'] as const) {
        const connection = await openConnection(roleConfig(role, true, mode).config);
        expect(await queryValue(connection, 'SELECT 1')).toBe('1');
      }
    }
  });
});

describe('require_auth', () => {
  it.each<[string, Role, boolean]>([
    ['scram-sha-256', 'scram', true],
    ['md5,scram-sha-256', 'md5', true],
    ['!password', 'md5', true],
    ['none', 'trust', true],
    ['scram-sha-256', 'md5', false],
    ['scram-sha-256', 'password', false],
    ['scram-sha-256', 'trust', false],
    ['!md5', 'md5', false],
    ['!none', 'trust', false],
    ['password', 'scram', false],
  ])('%s with the %s role: allowed %s', async (requireAuth, role, allowed) => {
    const { config, asked } = roleConfig(role, false, 'prefer');
    const attempt = firstValueFrom(connect({ ...config, requireAuth }));
    if (allowed) {
      opened.push(await attempt);
      return;
    }
    const error = await errorOf(attempt);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toMatch(/require_auth does not allow/);
    expect(asked()).toBe(0);
  });

  it('comes from a connection string too', async () => {
    const { config } = roleConfig('md5', false, 'prefer');
    const error = await errorOf(firstValueFrom(connect({ ...config, connectionString: 'postgres://x?require_auth=scram-sha-256' })));
    expect(error.message).toMatch(/require_auth does not allow/);
  });
});

const opened: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const connection of opened) await connection.close();
});
