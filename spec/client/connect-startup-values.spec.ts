// Issue #10, item 10: a NUL byte in a StartupMessage value would end that value early and
// inject another startup parameter (`application_name: 'x\0user\0admin'`). connect() must
// refuse it with a ConfigError before it opens a socket.
import { createServer } from 'node:net';
import { firstValueFrom } from 'rxjs';
import { ConfigError, connect, type ConnectionConfig } from '../../lib';
import { expectConfigErrorAsync } from '../config/expect-config-error';
import { closeOpenedConnections, openConnection, queryValue } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';

afterEach(closeOpenedConnections);

const secret = 'StartupNulS3cret';
const injected = 'x\0user\0admin';

/** A TCP port on localhost that nothing listens on (bound once, then released). */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

describe('connect refuses a NUL byte in a startup value before opening a socket', () => {
  const base = (port: number) => ({ host: '127.0.0.1', port, user: 'app', database: 'shop', sslmode: 'disable' as const });
  const url = (port: number, rest: string) => `postgres://app@127.0.0.1:${port}${rest}`;
  const cases: [string, (port: number) => ConnectionConfig | string, string][] = [
    ['applicationName', (port) => ({ ...base(port), applicationName: injected }), 'applicationName'],
    ['user', (port) => ({ ...base(port), user: injected }), 'user'],
    ['database', (port) => ({ ...base(port), database: injected }), 'database'],
    ['options', (port) => ({ ...base(port), options: `-c${injected}` }), 'options'],
    ['a runtime parameter value', (port) => ({ ...base(port), runtimeParameters: { search_path: injected } }), 'runtimeParameters'],
    ['a runtime parameter name', (port) => ({ ...base(port), runtimeParameters: { [injected]: 'on' } }), 'runtimeParameters'],
    ['the password', (port) => ({ ...base(port), password: `${secret}\0x` }), 'password'],
    ['the URL application_name (%00)', (port) => url(port, '/shop?sslmode=disable&application_name=x%00user%00admin'), 'connectionString'],
    ['the URL user (%00)', (port) => `postgres://a%00user%00admin@127.0.0.1:${port}/shop?sslmode=disable`, 'user'],
    ['the URL database (%00)', (port) => url(port, '/a%00user%00admin?sslmode=disable'), 'database'],
    ['the URL options (%00)', (port) => url(port, '/shop?sslmode=disable&options=-c%00user%00admin'), 'connectionString'],
    ['a URL runtime parameter (%00)', (port) => url(port, '/shop?sslmode=disable&search_path=x%00user%00admin'), 'connectionString'],
    ['the URL password (%00)', (port) => `postgres://app:${secret}%00x@127.0.0.1:${port}/shop?sslmode=disable`, 'password'],
    [
      "a StartupMessage over the server's 10000 bytes",
      (port) => ({ ...base(port), runtimeParameters: { search_path: 'a'.repeat(20000) } }),
      'runtimeParameters',
    ],
    [
      'a keyword/value application_name',
      (port) => `host=127.0.0.1 port=${port} sslmode=disable application_name='x\0user'`,
      'applicationName',
    ],
  ];

  it.each(cases)('%s', async (_name, make, setting) => {
    // Nothing listens on the port: had a socket been opened, the error would be ECONNREFUSED.
    const port = await unusedPort();
    const error = await expectConfigErrorAsync(() => firstValueFrom(connect(make(port))), setting, [secret]);
    expect(error).toBeInstanceOf(ConfigError);
  });
});

describe('connect sends the startup values it checked', () => {
  it('reads a getter once: a value that turns into an injection after the check is never sent', async () => {
    let reads = 0;
    const config = Object.defineProperty({ ...superuserConfig() }, 'applicationName', {
      enumerable: true,
      get: () => (reads++ === 0 ? 'rxpg-checked-name' : injected),
    }) as ConnectionConfig;
    const connection = await openConnection(config);
    expect(await queryValue(connection, 'SHOW application_name')).toBe('rxpg-checked-name');
    expect(await queryValue(connection, 'SELECT current_user')).toBe(superuserConfig().user);
  });
});
