import { inspect } from 'node:util';
import { environmentVariables, readEnvironmentSettings } from '../../lib/config/environment';
import { expectConfigError } from './expect-config-error';

const secret = 'EnvS3cretPassw0rd';

describe('readEnvironmentSettings', () => {
  it('reads every libpq variable it knows', () => {
    const settings = readEnvironmentSettings({
      PGHOST: 'db.example.com',
      PGPORT: '6432',
      PGUSER: 'app',
      PGPASSWORD: secret,
      PGDATABASE: 'shop',
      PGAPPNAME: 'worker',
      PGOPTIONS: '-c search_path=app',
      PGSSLMODE: 'verify-ca',
      PGSSLROOTCERT: '/ca.pem',
      PGSSLCERT: '/client.crt',
      PGSSLKEY: '/client.key',
      PGCONNECT_TIMEOUT: '12',
      PGPASSFILE: '/secrets/pgpass',
    });
    expect(settings).toEqual({
      host: 'db.example.com',
      port: 6432,
      user: 'app',
      database: 'shop',
      applicationName: 'worker',
      options: '-c search_path=app',
      sslmode: 'verify-ca',
      sslrootcert: '/ca.pem',
      sslcert: '/client.crt',
      sslkey: '/client.key',
      connectTimeout: 12000,
      passfile: '/secrets/pgpass',
    });
    expect(settings.password).toBe(secret);
    expect(JSON.stringify(settings)).not.toContain(secret);
    expect(inspect(settings)).not.toContain(secret);
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it('lists the variables it reads', () => {
    expect(environmentVariables).toContain('PGCONNECT_TIMEOUT');
    expect(environmentVariables).toEqual(expect.arrayContaining(['PGSSLCRL', 'PGSSLSNI']));
    expect(environmentVariables).toHaveLength(23);
  });

  it("refuses libpq's variables for keywords rxpg does not implement unless they hold libpq's default", () => {
    expect(readEnvironmentSettings({ PGGSSENCMODE: 'disable', PGKRBSRVNAME: 'postgres' })).toEqual({});
    for (const env of [{ PGSSLCRLDIR: '/crl' }, { PGGSSENCMODE: 'require' }, { PGSSLMINPROTOCOLVERSION: 'TLSv1.3' }]) {
      expect(() => readEnvironmentSettings(env)).toThrow(/not supported by rxpg/);
    }
  });

  it('reads PGREQUIREAUTH and refuses an unknown method', () => {
    expect(readEnvironmentSettings({ PGREQUIREAUTH: '!password' }).requireAuth).toEqual(['md5', 'gss', 'sspi', 'scram-sha-256', 'none']);
    expect(() => readEnvironmentSettings({ PGREQUIREAUTH: 'kerberos' })).toThrow(/require_auth/);
  });

  it('reads PGCHANNELBINDING and refuses an unknown value', () => {
    expect(readEnvironmentSettings({ PGCHANNELBINDING: 'require' })).toEqual({ channelBinding: 'require' });
    expect(() => readEnvironmentSettings({ PGCHANNELBINDING: 'always' })).toThrow(/channel_binding/);
  });

  it('ignores unset and empty variables and unrelated ones', () => {
    expect(readEnvironmentSettings({})).toEqual({});
    expect(readEnvironmentSettings({ PGHOST: '', PGPORT: '', PGSSLMODE: '', PGTZ: 'UTC', PGSERVICE: '', HOME: '/h' })).toEqual({});
  });

  it('reads PGSERVICE and PGSERVICEFILE (the files are read by resolveConnectionConfig)', () => {
    expect(readEnvironmentSettings({ PGSERVICE: 'shop', PGSERVICEFILE: '/etc/svc.conf' })).toEqual({
      service: 'shop',
      serviceFile: '/etc/svc.conf',
    });
  });

  it('reads a socket directory as host', () => {
    expect(readEnvironmentSettings({ PGHOST: '/var/run/postgresql' }).host).toBe('/var/run/postgresql');
  });

  it('converts PGCONNECT_TIMEOUT seconds to milliseconds', () => {
    expect(readEnvironmentSettings({ PGCONNECT_TIMEOUT: '0' }).connectTimeout).toBe(0);
    expect(readEnvironmentSettings({ PGCONNECT_TIMEOUT: '3' }).connectTimeout).toBe(3000);
  });

  it('defaults to process.env', () => {
    const saved = process.env.PGAPPNAME;
    process.env.PGAPPNAME = 'from-process-env';
    try {
      expect(readEnvironmentSettings().applicationName).toBe('from-process-env');
    } finally {
      if (saved === undefined) delete process.env.PGAPPNAME;
      else process.env.PGAPPNAME = saved;
    }
  });

  it.each([
    ['PGPORT', 'abc', 'port'],
    ['PGPORT', '0', 'port'],
    ['PGPORT', '65536', 'port'],
    ['PGPORT', '54 32', 'port'],
    ['PGSSLMODE', 'on', 'sslmode'],
    ['PGSSLMODE', 'REQUIRE', 'sslmode'],
    ['PGCONNECT_TIMEOUT', '-1', 'connectTimeout'],
    ['PGCONNECT_TIMEOUT', 'ten', 'connectTimeout'],
    ['PGHOSTADDR', 'db.example.com', 'hostaddr'],
    ['PGPORT', '5432,x', 'port'],
    ['PGTARGETSESSIONATTRS', 'master', 'targetSessionAttrs'],
    ['PGTARGETSESSIONATTRS', 'READ-WRITE', 'targetSessionAttrs'],
    ['PGLOADBALANCEHOSTS', 'on', 'loadBalanceHosts'],
    ['PGHOST', 'a\0b', 'host'],
    ['PGUSER', 'a\0b', 'user'],
    ['PGDATABASE', 'a\0b', 'database'],
    ['PGAPPNAME', 'a\0b', 'applicationName'],
    ['PGOPTIONS', 'a\0b', 'options'],
    ['PGPASSWORD', `${secret}\0`, 'password'],
  ])('%s=%j is a ConfigError for %s, naming the variable and never the password', (name, value, setting) => {
    const error = expectConfigError(() => readEnvironmentSettings({ PGPASSWORD: secret, [name]: value }), setting, [secret]);
    expect(error.message).toContain(name);
  });
});
