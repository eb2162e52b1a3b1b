import { userInfo } from 'node:os';
import { inspect } from 'node:util';
import { defaultMaxMessageSize, type ConnectionConfig } from '../../lib/config/connection-config';
import { resolveConnectionConfig } from '../../lib/config/resolve-connection-config';
import { expectConfigError } from './expect-config-error';

const secret = 'ResolveS3cretPassw0rd';

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? '';
  }
}

describe('resolveConnectionConfig: defaults', () => {
  it('fills in libpq-like defaults from an empty environment', () => {
    const config = resolveConnectionConfig(undefined, {});
    const user = osUser();
    expect(config).toEqual({
      host: 'localhost',
      port: 5432,
      hostaddr: undefined,
      hosts: [{ host: 'localhost', hostaddr: undefined, port: 5432 }],
      targetSessionAttrs: 'any',
      channelBinding: 'prefer',
      loadBalanceHosts: 'disable',
      user,
      database: user,
      applicationName: undefined,
      options: undefined,
      runtimeParameters: {},
      sslmode: 'prefer',
      sslnegotiation: 'postgres',
      sslrootcert: undefined,
      sslcert: undefined,
      sslcrl: undefined,
      sslkey: undefined,
      sslsni: true,
      tls: undefined,
      connectTimeout: 0,
      passfile: undefined,
      gssKrbToken: undefined,
      maxMessageSize: defaultMaxMessageSize,
      keepAlive: true,
      keepAliveIdle: 60000,
      service: undefined,
      signal: undefined,
      bigint: false,
      statementCacheSize: 100,
      cancelTimeout: 5000,
    });
    expect(config.password).toBeUndefined();
  });

  it('takes cancelTimeout from the config object only', () => {
    expect(resolveConnectionConfig({ cancelTimeout: 250 }, {}).cancelTimeout).toBe(250);
    expect(resolveConnectionConfig({ cancelTimeout: 0.5 }, {}).cancelTimeout).toBe(0.5);
    expect(resolveConnectionConfig({ connectionString: 'postgres://h/db', cancelTimeout: 9000 }, {}).cancelTimeout).toBe(9000);
  });

  it('defaults the database to the resolved user', () => {
    expect(resolveConnectionConfig({ user: 'alice' }, {}).database).toBe('alice');
    expect(resolveConnectionConfig(undefined, { PGUSER: 'bob' }).database).toBe('bob');
  });

  it('defaults sslmode to verify-full when sslrootcert is system', () => {
    expect(resolveConnectionConfig({ sslrootcert: 'system' }, {}).sslmode).toBe('verify-full');
    expect(resolveConnectionConfig('postgres://h?sslrootcert=system', {}).sslmode).toBe('verify-full');
  });
});

type Field =
  'host' | 'port' | 'user' | 'database' | 'applicationName' | 'options' | 'sslmode' | 'sslrootcert' | 'connectTimeout' | 'passfile';

/** One row per field: an explicit value, a URL query that sets it, an env variable that sets it. */
const precedence: [Field, ConnectionConfig[Field], string, Record<string, string>, unknown, unknown, unknown][] = [
  // field, explicit, URL query, env, explicit value, URL value, env value
  ['host', 'explicit-host', 'host=url-host', { PGHOST: 'env-host' }, 'explicit-host', 'url-host', 'env-host'],
  ['port', 1111, 'port=2222', { PGPORT: '3333' }, 1111, 2222, 3333],
  ['user', 'explicit-user', 'user=url-user', { PGUSER: 'env-user' }, 'explicit-user', 'url-user', 'env-user'],
  ['database', 'explicit-db', 'dbname=url-db', { PGDATABASE: 'env-db' }, 'explicit-db', 'url-db', 'env-db'],
  ['applicationName', 'explicit-app', 'application_name=url-app', { PGAPPNAME: 'env-app' }, 'explicit-app', 'url-app', 'env-app'],
  ['options', '-c a=1', 'options=-c%20a%3D2', { PGOPTIONS: '-c a=3' }, '-c a=1', '-c a=2', '-c a=3'],
  ['sslmode', 'disable', 'sslmode=require', { PGSSLMODE: 'verify-ca' }, 'disable', 'require', 'verify-ca'],
  ['sslrootcert', '/explicit.pem', 'sslrootcert=/url.pem', { PGSSLROOTCERT: '/env.pem' }, '/explicit.pem', '/url.pem', '/env.pem'],
  ['connectTimeout', 1500, 'connect_timeout=2', { PGCONNECT_TIMEOUT: '3' }, 1500, 2000, 3000],
  ['passfile', '/explicit', 'passfile=/url', { PGPASSFILE: '/env' }, '/explicit', '/url', '/env'],
];

describe('resolveConnectionConfig: precedence explicit > connection string > environment > default', () => {
  describe.each(precedence)('%s', (field, explicitValue, query, env, fromExplicit, fromUrl, fromEnv) => {
    const url = `postgres://?${query}`;
    it('explicit wins over URL and environment', () => {
      expect(resolveConnectionConfig({ connectionString: url, [field]: explicitValue }, env)[field]).toEqual(fromExplicit);
    });
    it('URL wins over environment', () => {
      expect(resolveConnectionConfig({ connectionString: url }, env)[field]).toEqual(fromUrl);
      expect(resolveConnectionConfig(url, env)[field]).toEqual(fromUrl);
    });
    it('environment wins over the default', () => {
      expect(resolveConnectionConfig({}, env)[field]).toEqual(fromEnv);
    });
    it('explicit wins over environment without a URL', () => {
      expect(resolveConnectionConfig({ [field]: explicitValue }, env)[field]).toEqual(fromExplicit);
    });
  });

  it('applies the same precedence to the password', () => {
    const env = { PGPASSWORD: 'env-pw' };
    expect(resolveConnectionConfig({ connectionString: 'postgres://u:url-pw@h', password: 'explicit-pw' }, env).password).toBe(
      'explicit-pw',
    );
    expect(resolveConnectionConfig('postgres://u:url-pw@h', env).password).toBe('url-pw');
    expect(resolveConnectionConfig({}, env).password).toBe('env-pw');
  });

  it('uses the URL fallback_application_name only when no source sets an application name', () => {
    const url = 'postgres://h?fallback_application_name=fallback';
    expect(resolveConnectionConfig(url, {}).applicationName).toBe('fallback');
    expect(resolveConnectionConfig(url, { PGAPPNAME: 'env-app' }).applicationName).toBe('env-app');
    expect(resolveConnectionConfig({ connectionString: url, applicationName: 'mine' }, {}).applicationName).toBe('mine');
  });

  it('merges runtime parameters, explicit over URL, and freezes them', () => {
    const config = resolveConnectionConfig(
      {
        connectionString: 'postgres://h?TimeZone=UTC&search_path=url',
        runtimeParameters: { search_path: 'explicit', statement_timeout: '5s' },
      },
      {},
    );
    expect(config.runtimeParameters).toEqual({ TimeZone: 'UTC', search_path: 'explicit', statement_timeout: '5s' });
    expect(Object.isFrozen(config.runtimeParameters)).toBe(true);
  });

  it('keeps a runtime parameter named __proto__ as data', () => {
    const parameters = JSON.parse('{"__proto__":"x"}') as Record<string, string>;
    const config = resolveConnectionConfig({ runtimeParameters: parameters }, {});
    expect(Object.keys(config.runtimeParameters)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(config.runtimeParameters)).toBe(Object.prototype);
  });

  it('copies keepAlive, tls, signal, maxMessageSize from explicit settings', () => {
    const signal = new AbortController().signal;
    const tls = { servername: 'db.internal' };
    const config = resolveConnectionConfig({ keepAlive: false, tls, signal, maxMessageSize: 4096 }, {});
    expect(config.keepAlive).toBe(false);
    expect(config.tls).toBe(tls);
    expect(config.signal).toBe(signal);
    expect(config.maxMessageSize).toBe(4096);
  });

  it('takes keepAlive from keepalives=0 in the URL', () => {
    expect(resolveConnectionConfig('postgres://h?keepalives=0', {}).keepAlive).toBe(false);
  });

  it('turns a string gssKrbToken into UTF-8 bytes and copies byte tokens', () => {
    expect(Array.from(resolveConnectionConfig({ gssKrbToken: 'é' }, {}).gssKrbToken!)).toEqual([0xc3, 0xa9]);
    const bytes = new Uint8Array([1, 2, 3]);
    const token = resolveConnectionConfig({ gssKrbToken: bytes }, {}).gssKrbToken!;
    expect(Array.from(token)).toEqual([1, 2, 3]);
    bytes[0] = 9;
    expect(token[0]).toBe(1);
  });

  it('accepts the exact bounds of maxMessageSize', () => {
    expect(resolveConnectionConfig({ maxMessageSize: 1024 }, {}).maxMessageSize).toBe(1024);
    expect(resolveConnectionConfig({ maxMessageSize: 2 ** 31 - 1 }, {}).maxMessageSize).toBe(2 ** 31 - 1);
  });
});

describe('resolveConnectionConfig: the password stays hidden', () => {
  const config = resolveConnectionConfig(`postgres://app:${secret}@db/shop`, {});

  it('is available as a property', () => {
    expect(config.password).toBe(secret);
  });

  it('is non-enumerable, so JSON, inspect, spreads and keys omit it', () => {
    expect(Object.getOwnPropertyDescriptor(config, 'password')?.enumerable).toBe(false);
    expect(Object.keys(config)).not.toContain('password');
    expect(JSON.stringify(config)).not.toContain(secret);
    expect(inspect(config, { depth: 5 })).not.toContain(secret);
    expect(`${inspect({ config })}`).not.toContain(secret);
    expect({ ...config }).not.toHaveProperty('password');
  });

  it('is frozen', () => {
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { password: unknown }).password = 'x';
    }).toThrow(TypeError);
    expect(config.password).toBe(secret);
  });

  it('keeps a password function as given', () => {
    const source = (): string => secret;
    expect(resolveConnectionConfig({ password: source }, {}).password).toBe(source);
  });
});

describe('resolveConnectionConfig: what is checked is what is used', () => {
  /** An object whose `field` reads `first`, then `later` on every further read. */
  function changingField(field: string, first: string, later: string): { config: ConnectionConfig; reads: () => number } {
    let count = 0;
    const config = Object.defineProperty({}, field, {
      enumerable: true,
      get: () => (count++ === 0 ? first : later),
    }) as ConnectionConfig;
    return { config, reads: () => count };
  }

  it.each(['user', 'database', 'applicationName', 'options'] as const)(
    'reads %s once, so a getter cannot swap in a NUL byte after the check',
    (field) => {
      const { config, reads } = changingField(field, 'clean', 'x\0user\0admin');
      const resolved = resolveConnectionConfig(config, {});
      expect(resolved[field]).toBe('clean');
      expect(reads()).toBe(1);
    },
  );

  it("refuses startup values that do not fit in the server's 10000-byte StartupMessage, before any I/O", () => {
    const error = expectConfigError(
      () => resolveConnectionConfig({ runtimeParameters: { search_path: 'a'.repeat(10000) } }, {}),
      'runtimeParameters',
    );
    expect(error.message).toContain('10000');
    expectConfigError(
      () => resolveConnectionConfig({ options: 'o'.repeat(5000), applicationName: 'n'.repeat(5000) }, {}),
      'runtimeParameters',
    );
    expect(resolveConnectionConfig({ options: 'o'.repeat(9000) }, {}).options).toHaveLength(9000);
  });

  it('copies runtimeParameters, so a Proxy cannot swap in a NUL byte after the check', () => {
    let count = 0;
    const runtimeParameters = new Proxy(
      { search_path: 'public' },
      {
        get: (target, name) => (typeof name === 'string' && count++ > 0 ? 'x\0user\0admin' : Reflect.get(target, name)),
      },
    );
    const resolved = resolveConnectionConfig({ runtimeParameters }, {});
    expect(resolved.runtimeParameters).toEqual({ search_path: 'public' });
  });

  it.each<[string, ConnectionConfig | string, Record<string, string>, string]>([
    ['the URL user', 'postgres://a%00user%00admin@h/db', {}, 'user'],
    ['the URL database', 'postgres://h/a%00user%00admin', {}, 'database'],
    ['the URL application_name', 'postgres://h/db?application_name=x%00user%00admin', {}, 'connectionString'],
    ['the URL fallback_application_name', 'postgres://h/db?fallback_application_name=x%00user%00admin', {}, 'connectionString'],
    ['the URL options', 'postgres://h/db?options=-c%00user%00admin', {}, 'connectionString'],
    ['a URL runtime parameter value', 'postgres://h/db?search_path=x%00user%00admin', {}, 'connectionString'],
    ['a URL runtime parameter name', 'postgres://h/db?search%00user=admin', {}, 'connectionString'],
    ['a keyword/value application_name', "host=h application_name='x\0user\0admin'", {}, 'applicationName'],
    ['a keyword/value runtime parameter', "host=h search_path='x\0user\0admin'", {}, 'runtimeParameters'],
    ['PGUSER', 'postgres://h/db', { PGUSER: 'a\0user\0admin' }, 'user'],
    ['PGDATABASE', 'postgres://h', { PGDATABASE: 'a\0user\0admin' }, 'database'],
    ['PGAPPNAME', 'postgres://h/db', { PGAPPNAME: 'x\0user\0admin' }, 'applicationName'],
    ['PGOPTIONS', 'postgres://h/db', { PGOPTIONS: '-c\0user\0admin' }, 'options'],
    ['PGPASSWORD', 'postgres://h/db', { PGPASSWORD: `${secret}\0admin` }, 'password'],
    ['the URL password', `postgres://u:${secret}%00admin@h/db`, {}, 'password'],
  ])('refuses a NUL byte in %s', (_name, input, env, setting) => {
    expectConfigError(() => resolveConnectionConfig(input, env), setting, [secret]);
  });
});

describe('resolveConnectionConfig: errors', () => {
  const url = `postgres://app:${secret}@db/shop`;
  const cases: [string, ConnectionConfig | string, Record<string, string>, string][] = [
    ['malformed URL', `postgres://app:${secret}@db:port/shop`, {}, 'port'],
    ['invalid sslmode in the URL', `${url}?sslmode=strict`, {}, 'sslmode'],
    [
      'invalid sslmode in the environment (even when overridden)',
      { connectionString: url, sslmode: 'require' },
      { PGSSLMODE: 'strict' },
      'sslmode',
    ],
    ['invalid explicit sslmode', { connectionString: url, sslmode: 'strict' as never }, {}, 'sslmode'],
    ['invalid PGPORT', url, { PGPORT: 'x' }, 'port'],
    ['negative PGCONNECT_TIMEOUT', url, { PGCONNECT_TIMEOUT: '-3' }, 'connectTimeout'],
    ['explicit port 0', { connectionString: url, port: 0 }, {}, 'port'],
    ['explicit port 65536', { connectionString: url, port: 65536 }, {}, 'port'],
    ['explicit fractional port', { connectionString: url, port: 54.32 }, {}, 'port'],
    ['explicit port as a string', { connectionString: url, port: '5432' as never }, {}, 'port'],
    ['negative connectTimeout', { connectionString: url, connectTimeout: -1 }, {}, 'connectTimeout'],
    ['infinite connectTimeout', { connectionString: url, connectTimeout: Infinity }, {}, 'connectTimeout'],
    ['maxMessageSize below 1024', { connectionString: url, maxMessageSize: 1023 }, {}, 'maxMessageSize'],
    ['maxMessageSize above 2^31-1', { connectionString: url, maxMessageSize: 2 ** 31 }, {}, 'maxMessageSize'],
    ['fractional maxMessageSize', { connectionString: url, maxMessageSize: 2048.5 }, {}, 'maxMessageSize'],
    ['zero cancelTimeout', { connectionString: url, cancelTimeout: 0 }, {}, 'cancelTimeout'],
    ['negative cancelTimeout', { connectionString: url, cancelTimeout: -1 }, {}, 'cancelTimeout'],
    ['infinite cancelTimeout', { connectionString: url, cancelTimeout: Infinity }, {}, 'cancelTimeout'],
    ['NaN cancelTimeout', { connectionString: url, cancelTimeout: Number.NaN }, {}, 'cancelTimeout'],
    ['cancelTimeout as a string', { connectionString: url, cancelTimeout: '5000' as never }, {}, 'cancelTimeout'],
    ['NUL in the user', { connectionString: url, user: 'a\0b' }, {}, 'user'],
    ['NUL in the database', { connectionString: url, database: 'a\0b' }, {}, 'database'],
    ['NUL in the application name', { connectionString: url, applicationName: 'a\0b' }, {}, 'applicationName'],
    ['NUL in the options', { connectionString: url, options: '-c\0' }, {}, 'options'],
    ['NUL in a runtime parameter value', { connectionString: url, runtimeParameters: { TimeZone: 'U\0TC' } }, {}, 'runtimeParameters'],
    ['NUL in a runtime parameter name', { connectionString: url, runtimeParameters: { 'Time\0Zone': 'UTC' } }, {}, 'runtimeParameters'],
    ['empty runtime parameter name', { connectionString: url, runtimeParameters: { '': 'x' } }, {}, 'runtimeParameters'],
    ['non-string runtime parameter', { connectionString: url, runtimeParameters: { x: 1 as never } }, {}, 'runtimeParameters'],
    ['reserved runtime parameter', { connectionString: url, runtimeParameters: { user: 'x' } }, {}, 'runtimeParameters'],
    ['unknown channelBinding', { connectionString: url, channelBinding: 'always' as never }, {}, 'channelBinding'],
    [
      'client_encoding as a runtime parameter',
      { connectionString: url, runtimeParameters: { client_encoding: 'LATIN1' } },
      {},
      'runtimeParameters',
    ],
    ['Client_Encoding in a URL', { connectionString: `${url}?Client_Encoding=LATIN1` }, {}, 'runtimeParameters'],
    ['DateStyle as a runtime parameter', { connectionString: url, runtimeParameters: { datestyle: 'SQL, DMY' } }, {}, 'runtimeParameters'],
    ['runtimeParameters not an object', { connectionString: url, runtimeParameters: 'x' as never }, {}, 'runtimeParameters'],
    ['NUL in the explicit password', { connectionString: url, password: `${secret}\0` }, {}, 'password'],
    ['password of the wrong type', { connectionString: url, password: 42 as never }, {}, 'password'],
    ['empty host', { connectionString: url, host: '' }, {}, 'host'],
    ['empty user', { connectionString: url, user: '' }, {}, 'user'],
    ['empty database', { connectionString: url, database: '' }, {}, 'database'],
    ['more ports than hosts', { connectionString: url, host: 'a,b', port: [1, 2, 3] }, {}, 'port'],
    ['an empty host array', { connectionString: url, host: [] }, {}, 'host'],
    ['an empty host in an array', { connectionString: url, host: ['a', ''] }, {}, 'host'],
    ['a comma in a host array element', { connectionString: url, host: ['a,b'] }, {}, 'host'],
    ['a bad port in an array', { connectionString: url, host: ['a', 'b'], port: [1, 0] }, {}, 'port'],
    ['a name as hostaddr', { connectionString: url, hostaddr: 'db' }, {}, 'hostaddr'],
    ['an unknown targetSessionAttrs', { connectionString: url, targetSessionAttrs: 'master' as never }, {}, 'targetSessionAttrs'],
    ['an unknown loadBalanceHosts', { connectionString: url, loadBalanceHosts: true as never }, {}, 'loadBalanceHosts'],
    ['host of the wrong type', { connectionString: url, host: 5 as never }, {}, 'host'],
    ['keepAlive of the wrong type', { connectionString: url, keepAlive: 'yes' as never }, {}, 'keepAlive'],
    ['gssKrbToken of the wrong type', { connectionString: url, gssKrbToken: 5 as never }, {}, 'gssKrbToken'],
    ['tls of the wrong type', { connectionString: url, tls: 'on' as never }, {}, 'tls'],
    ['signal of the wrong type', { connectionString: url, signal: {} as never }, {}, 'signal'],
    ['connectionString of the wrong type', { connectionString: 5 as never }, {}, 'connectionString'],
    ['sslrootcert=system with require', { connectionString: `${url}?sslrootcert=system&sslmode=require` }, {}, 'sslmode'],
    ['sslrootcert=system with verify-ca', { connectionString: url, sslrootcert: 'system', sslmode: 'verify-ca' }, {}, 'sslmode'],
    ['sslrootcert=system with disable', { connectionString: url, sslmode: 'disable' }, { PGSSLROOTCERT: 'system' }, 'sslmode'],
  ];

  it.each(cases)('%s', (_name, input, env, setting) => {
    expectConfigError(() => resolveConnectionConfig(input, env), setting, [secret]);
  });

  it('rejects an input that is neither a string nor an object', () => {
    expectConfigError(() => resolveConnectionConfig(42 as never, {}), 'connectionString');
  });
});
