import { inspect } from 'node:util';
import fc from 'fast-check';
import { ConfigError } from '../../lib/errors';
import { parseConnectionString } from '../../lib/config/connection-string';
import { expectConfigError } from './expect-config-error';

const secret = 'Sup3rS3cretPassw0rd';

describe('parseConnectionString: URLs', () => {
  it('reads every part of a full URL', () => {
    const settings = parseConnectionString(`postgres://app:${secret}@db.example.com:5433/shop`);
    expect(settings).toEqual({ user: 'app', host: 'db.example.com', port: 5433, database: 'shop' });
    expect(settings.password).toBe(secret);
  });

  it('accepts the postgresql:// scheme and is case-insensitive about it', () => {
    expect(parseConnectionString('postgresql://h/d')).toEqual({ host: 'h', database: 'd' });
    expect(parseConnectionString('POSTGRES://h/d')).toEqual({ host: 'h', database: 'd' });
  });

  it('gives nothing for a bare scheme or an empty string', () => {
    expect(parseConnectionString('postgres://')).toEqual({});
    expect(parseConnectionString('postgresql:///')).toEqual({});
    expect(parseConnectionString('')).toEqual({});
  });

  it('keeps the password non-enumerable, hidden from JSON and inspect', () => {
    const settings = parseConnectionString(`postgres://app:${secret}@h/d`);
    expect(Object.keys(settings)).not.toContain('password');
    expect(JSON.stringify(settings)).not.toContain(secret);
    expect(inspect(settings)).not.toContain(secret);
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it('percent-decodes user, password, host and database', () => {
    const settings = parseConnectionString('postgres://us%40er:p%3Aw%2Fd%25@my%2Dhost/d%2Fb%3Fx');
    expect(settings.user).toBe('us@er');
    expect(settings.password).toBe('p:w/d%');
    expect(settings.host).toBe('my-host');
    expect(settings.database).toBe('d/b?x');
  });

  it('keeps + as a plus sign, as libpq does', () => {
    const settings = parseConnectionString('postgres://u:a+b@h/d?application_name=x+y');
    expect(settings.password).toBe('a+b');
    expect(settings.applicationName).toBe('x+y');
  });

  it('decodes UTF-8 percent-encodings', () => {
    expect(parseConnectionString('postgres://%C3%BCser@h/d%E2%82%AC')).toEqual({ user: 'üser', host: 'h', database: 'd€' });
  });

  it('takes the last @ of the authority as the user-info end', () => {
    const settings = parseConnectionString('postgres://user@tenant:p@ss@host/db');
    expect(settings.user).toBe('user@tenant');
    expect(settings.password).toBe('p@ss');
    expect(settings.host).toBe('host');
  });

  it('accepts ? and # in an unencoded password before the @', () => {
    expect(parseConnectionString('postgres://u:pa#ss@h/d').password).toBe('pa#ss');
  });

  it('reads a user without password, and a password with an empty user', () => {
    const withUser = parseConnectionString('postgres://u@h');
    expect(withUser).toEqual({ user: 'u', host: 'h' });
    expect(withUser.password).toBeUndefined();
    const withPassword = parseConnectionString('postgres://:pw@h');
    expect(withPassword).toEqual({ host: 'h' });
    expect(withPassword.password).toBe('pw');
  });

  it('reads IPv6 literals with and without port', () => {
    expect(parseConnectionString('postgres://[::1]/d')).toEqual({ host: '::1', database: 'd' });
    expect(parseConnectionString('postgres://u@[2001:db8::7]:6543/d')).toEqual({
      user: 'u',
      host: '2001:db8::7',
      port: 6543,
      database: 'd',
    });
    expect(parseConnectionString('postgres://[fe80::1%25eth0]').host).toBe('fe80::1%eth0');
  });

  it('reads a percent-encoded socket directory as the host', () => {
    expect(parseConnectionString('postgres://%2Fvar%2Frun%2Fpostgresql/db')).toEqual({ host: '/var/run/postgresql', database: 'db' });
    expect(parseConnectionString('postgresql://%2ftmp:5433')).toEqual({ host: '/tmp', port: 5433 });
  });

  it('reads a socket directory given as the host query parameter, which overrides the URL host', () => {
    expect(parseConnectionString('postgres:///db?host=/var/run/postgresql')).toEqual({ host: '/var/run/postgresql', database: 'db' });
    expect(parseConnectionString('postgres://ignored/db?host=%2Ftmp')).toEqual({ host: '/tmp', database: 'db' });
    expect(parseConnectionString('postgres://u@/db?host=/tmp&port=6000')).toEqual({ user: 'u', host: '/tmp', port: 6000, database: 'db' });
  });

  it('lets query parameters override the URL parts', () => {
    const settings = parseConnectionString('postgres://a:b@h:1/d?user=x&password=y&port=2&dbname=z');
    expect(settings).toEqual({ user: 'x', host: 'h', port: 2, database: 'z' });
    expect(settings.password).toBe('y');
  });

  it('reads the libpq query keys', () => {
    const settings = parseConnectionString(
      'postgres://h/d?sslmode=verify-full&sslrootcert=%2Fca.pem&sslcert=/c.crt&sslkey=/c.key' +
        '&application_name=my%20app&options=-c%20search_path%3Dapp&connect_timeout=7&passfile=/pgpass&keepalives=0',
    );
    expect(settings).toEqual({
      host: 'h',
      database: 'd',
      sslmode: 'verify-full',
      sslrootcert: '/ca.pem',
      sslcert: '/c.crt',
      sslkey: '/c.key',
      applicationName: 'my app',
      options: '-c search_path=app',
      connectTimeout: 7000,
      passfile: '/pgpass',
      keepAlive: false,
    });
  });

  it.each([
    ['0', 0],
    ['1', 1000],
    ['10', 10000],
    [' 30 ', 30000],
  ])('converts connect_timeout=%j seconds to %d ms', (text, ms) => {
    expect(parseConnectionString(`postgres://h?connect_timeout=${encodeURIComponent(text)}`).connectTimeout).toBe(ms);
  });

  it('maps ssl=true to sslmode=require (libpq JDBC compatibility)', () => {
    expect(parseConnectionString('postgres://h?ssl=true').sslmode).toBe('require');
  });

  it('keeps fallback_application_name apart from application_name', () => {
    expect(parseConnectionString('postgres://h?fallback_application_name=fb')).toEqual({ host: 'h', fallbackApplicationName: 'fb' });
  });

  it('turns unknown keys into runtime parameters', () => {
    const settings = parseConnectionString('postgres://h/d?TimeZone=UTC&search_path=app%2Cpublic&statement_timeout=5s');
    expect(settings.runtimeParameters).toEqual({ TimeZone: 'UTC', search_path: 'app,public', statement_timeout: '5s' });
    expect(Object.isFrozen(settings.runtimeParameters)).toBe(true);
  });

  it('accepts unimplemented libpq keywords with their default value and ignores tuning knobs', () => {
    const settings = parseConnectionString(
      'postgres://h?gssencmode=prefer&target_session_attrs=any&keepalives_idle=30&sslsni=1&client_encoding=UTF8',
    );
    expect(settings).toEqual({ host: 'h', targetSessionAttrs: 'any', keepAliveIdle: 30_000, sslsni: true });
  });

  it('reads service, servicefile and keepalives_idle, and accepts keepalives_interval and keepalives_count only at the system default', () => {
    expect(parseConnectionString('service=shop servicefile=/s.conf keepalives_idle=7 keepalives_interval=0 keepalives_count=0')).toEqual({
      service: 'shop',
      serviceFile: '/s.conf',
      keepAliveIdle: 7000,
    });
  });

  it.each([
    'keepalives_interval=3',
    'keepalives_count=2',
    'tcp_user_timeout=1000',
    'sslcompression=1',
    'sslkeylogfile=/k',
    'gssdelegation=1',
  ])('refuses %s, which rxpg cannot honour, rather than ignore it', (pair) => {
    expect(() => parseConnectionString(`host=h ${pair}`)).toThrow(ConfigError);
  });

  it('reads require_auth as the allowed methods, with ! as the refused ones', () => {
    expect(parseConnectionString('postgres://h?require_auth=scram-sha-256')).toEqual({ host: 'h', requireAuth: ['scram-sha-256'] });
    expect(parseConnectionString('host=h require_auth=md5,scram-sha-256')).toEqual({ host: 'h', requireAuth: ['md5', 'scram-sha-256'] });
    expect(parseConnectionString('postgres://h?require_auth=!password,!none')).toEqual({
      host: 'h',
      requireAuth: ['md5', 'gss', 'sspi', 'scram-sha-256'],
    });
  });

  it('reads channel_binding in both forms and refuses an unknown value', () => {
    for (const mode of ['disable', 'prefer', 'require'] as const) {
      expect(parseConnectionString(`postgres://h?channel_binding=${mode}`)).toEqual({ host: 'h', channelBinding: mode });
      expect(parseConnectionString(`host=h channel_binding=${mode}`)).toEqual({ host: 'h', channelBinding: mode });
    }
  });

  it('treats an empty query value as "not set", and a later one clears an earlier one', () => {
    expect(parseConnectionString('postgres://h?sslmode=')).toEqual({ host: 'h' });
    expect(parseConnectionString('postgres://h:5433?port=')).toEqual({ host: 'h' });
    expect(parseConnectionString('postgres://h?application_name=')).toEqual({ host: 'h', applicationName: '' });
  });

  it('skips empty query pieces', () => {
    expect(parseConnectionString('postgres://h?&sslmode=disable&&')).toEqual({ host: 'h', sslmode: 'disable' });
  });

  it('round-trips percent-encoded user, password and database (property)', () => {
    const text = fc.string({ unit: 'binary', minLength: 1 }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(text, text, text, (user, password, database) => {
        const url = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@h/${encodeURIComponent(database)}`;
        const settings = parseConnectionString(url);
        expect(settings.user).toBe(user);
        expect(settings.password).toBe(password);
        expect(settings.database).toBe(database);
      }),
    );
  });

  it('round-trips any value through a percent-encoded query parameter (property)', () => {
    const text = fc.string({ unit: 'binary', minLength: 1 }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(text, (value) => {
        const settings = parseConnectionString(
          `postgres://h?application_name=${encodeURIComponent(value)}&password=${encodeURIComponent(value)}`,
        );
        expect(settings.applicationName).toBe(value);
        expect(settings.password).toBe(value);
      }),
    );
  });
});

describe('parseConnectionString: keyword/value strings', () => {
  it('reads keyword=value pairs, with spaces around =', () => {
    const settings = parseConnectionString(`host=db port = 5433 dbname= shop user =app password=${secret}`);
    expect(settings).toEqual({ host: 'db', port: 5433, database: 'shop', user: 'app' });
    expect(settings.password).toBe(secret);
  });

  it('reads single-quoted values with escapes, and backslash escapes in bare values', () => {
    const settings = parseConnectionString("application_name='my app' password='it\\'s \\\\ok' options=-c\\ x=1");
    expect(settings.applicationName).toBe('my app');
    expect(settings.password).toBe("it's \\ok");
    expect(settings.options).toBe('-c x=1');
  });

  it("reads an empty quoted value ''", () => {
    expect(parseConnectionString("host=h application_name=''")).toEqual({ host: 'h', applicationName: '' });
  });

  it('reads a socket directory, connect_timeout and sslmode', () => {
    expect(parseConnectionString('host=/var/run/postgresql connect_timeout=3 sslmode=disable')).toEqual({
      host: '/var/run/postgresql',
      connectTimeout: 3000,
      sslmode: 'disable',
    });
  });

  it('does not percent-decode', () => {
    expect(parseConnectionString('dbname=a%20b').database).toBe('a%20b');
  });

  it('lets a later keyword override an earlier one', () => {
    expect(parseConnectionString('port=1 port=2').port).toBe(2);
  });

  it('turns unknown keywords into runtime parameters', () => {
    expect(parseConnectionString('host=h TimeZone=UTC').runtimeParameters).toEqual({ TimeZone: 'UTC' });
  });

  it('accepts surrounding white space, tabs and newlines', () => {
    expect(parseConnectionString('  \thost=h\n port=7  ')).toEqual({ host: 'h', port: 7 });
  });
});

describe('parseConnectionString: errors never reveal the password', () => {
  const cases: [string, string, string][] = [
    ['non-numeric URL port', `postgres://u:${secret}@host:abc/db`, 'port'],
    ['port 0', `postgres://u:${secret}@host:0/db`, 'port'],
    ['port 65536', `postgres://u:${secret}@host:65536/db`, 'port'],
    ['port in the query', `postgres://u:${secret}@host/db?port=-1`, 'port'],
    ['password in the port position', `postgres://host:${secret}/db`, 'port'],
    ['unterminated IPv6 literal', `postgres://u:${secret}@[::1/db`, 'host'],
    ['text after an IPv6 literal', `postgres://u:${secret}@[::1]x/db`, 'host'],
    ['a bad port among several hosts', `postgres://u:${secret}@h1:1,h2:x/db`, 'port'],
    ['a name as hostaddr', `postgres://u:${secret}@/db?hostaddr=db`, 'hostaddr'],
    ['an unknown target_session_attrs', `postgres://u:${secret}@h/db?target_session_attrs=master`, 'targetSessionAttrs'],
    ['an unknown load_balance_hosts', `postgres://u:${secret}@h/db?load_balance_hosts=round-robin`, 'loadBalanceHosts'],
    ['bad percent-encoding in the password', `postgres://u:${secret}%zz@host/db`, 'password'],
    ['truncated percent-encoding in the password', `postgres://u:${secret}%2@host/db`, 'password'],
    ['invalid UTF-8 in the password', `postgres://u:${secret}%C3@host/db`, 'password'],
    ['NUL in the password', `postgres://u:${secret}%00@host/db`, 'password'],
    ['bad percent-encoding in the password query value', `postgres://h/db?password=${secret}%zz`, 'password'],
    ['bad percent-encoding in the user', `postgres://%zz:${secret}@host/db`, 'user'],
    ['bad percent-encoding in the database', `postgres://u:${secret}@host/%zz`, 'database'],
    ['bad percent-encoding in the host', `postgres://u:${secret}@%zz/db`, 'host'],
    ['NUL in the database', `postgres://u:${secret}@host/a%00b`, 'database'],
    ['query parameter without =', `postgres://u:${secret}@host/db?sslmode`, 'connectionString'],
    ['query parameter with empty key', `postgres://u:${secret}@host/db?=x`, 'connectionString'],
    ['unknown sslmode', `postgres://u:${secret}@host/db?sslmode=bogus`, 'sslmode'],
    ['ssl other than true', `postgres://u:${secret}@host/db?ssl=1`, 'sslmode'],
    ['negative connect_timeout', `postgres://u:${secret}@host/db?connect_timeout=-5`, 'connectTimeout'],
    ['fractional connect_timeout', `postgres://u:${secret}@host/db?connect_timeout=1.5`, 'connectTimeout'],
    ['non-numeric keepalives', `postgres://u:${secret}@host/db?keepalives=yes`, 'keepAlive'],
    ['non-UTF8 client_encoding', `postgres://u:${secret}@host/db?client_encoding=LATIN1`, 'client_encoding'],
    ['unknown channel_binding', `postgres://u:${secret}@host/db?channel_binding=always`, 'channelBinding'],
    ['unknown require_auth method', `postgres://u:${secret}@host/db?require_auth=kerberos`, 'requireAuth'],
    ['require_auth mixing ! and plain', `postgres://u:${secret}@host/db?require_auth=md5,!password`, 'requireAuth'],
    ['require_auth naming a method twice', `postgres://u:${secret}@host/db?require_auth=md5,md5`, 'requireAuth'],
    ['sslcrldir', `postgres://u:${secret}@host/db?sslcrldir=/crl`, 'sslcrldir'],
    ['sslsni other than 0 or 1', `postgres://u:${secret}@host/db?sslsni=yes`, 'sslsni'],
    ['non-numeric keepalives_idle', `postgres://u:${secret}@host/db?keepalives_idle=1m`, 'keepAliveIdle'],
    ['database as a runtime parameter', `postgres://u:${secret}@host/db?database=x`, 'runtimeParameters'],
    ['protocol extension as a runtime parameter', `postgres://u:${secret}@host/db?_pq_.x=1`, 'runtimeParameters'],
    ['unsupported scheme', `mysql://u:${secret}@host/db`, 'connectionString'],
    ['http scheme', `http://u:${secret}@host/db`, 'connectionString'],
    ['keyword/value: unquoted password with a space', `host=h password=abc ${secret}`, 'connectionString'],
    ['keyword/value: password with a space before another keyword', `password=abc ${secret} host=h`, 'connectionString'],
    ['keyword/value: unterminated quote', `host=h password='${secret}`, 'connectionString'],
    ['keyword/value: missing keyword', `=${secret}`, 'connectionString'],
    ['keyword/value: bare word', secret, 'connectionString'],
    ['keyword/value: bad port', `password=${secret} port=99999`, 'port'],
    ['keyword/value: bad sslmode', `password=${secret} sslmode=on`, 'sslmode'],
    ['keyword/value: negative connect_timeout', `password=${secret} connect_timeout=-1`, 'connectTimeout'],
  ];

  it.each(cases)('%s', (_name, connectionString, setting) => {
    expectConfigError(() => parseConnectionString(connectionString), setting, [secret]);
  });

  it('names the setting in the message for an invalid sslmode and lists the valid ones', () => {
    const error = expectConfigError(() => parseConnectionString('postgres://h?sslmode=bogus'), 'sslmode');
    expect(error.message).toContain('verify-full');
    expect(error.message).not.toContain('bogus');
  });

  it('never echoes the password for any malformed URL (property)', () => {
    const password = fc.stringMatching(/^[A-Za-z0-9]{12,20}$/);
    const breakage = fc.constantFrom(':abc', ':0', ':70000', '%zz', ',x', '[', '/%zz', '?x', '?sslmode=nope', '?connect_timeout=-1');
    fc.assert(
      fc.property(password, breakage, (pw, broken) => {
        let caught: unknown;
        try {
          parseConnectionString(`postgres://u:${pw}@h${broken}`);
        } catch (error) {
          caught = error;
        }
        if (caught !== undefined) {
          // eslint-disable-next-line @typescript-eslint/no-base-to-string -- whatever was thrown, its text must not hold the password
          expect(String(caught)).not.toContain(pw);
          expect(JSON.stringify(caught)).not.toContain(pw);
          expect(inspect(caught)).not.toContain(pw);
        }
      }),
    );
  });
});

describe('parseConnectionString: prototype safety', () => {
  it('keeps a __proto__ query key as a runtime parameter, not a prototype change', () => {
    const settings = parseConnectionString('postgres://h?__proto__=x&constructor=y');
    expect(Object.keys(settings.runtimeParameters!)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(settings.runtimeParameters)).toBe(Object.prototype);
  });
});
