// Seed cases ported here (reference/postgres_async.md §3.4): T-SSL7 (disable, prefer and require
// against a TLS server and a plain one), plus libpq's verify-ca / verify-full rules that the
// seed lacks. Fake-server SSL cases (T-SSL1..6) are in fake-server.spec.ts.
import { firstValueFrom } from 'rxjs';
import { ConnectionError, connect, type ConnectionConfig, type SslMode } from '../../lib';
import { closeOpenedConnections, errorOf, openConnection, queryValue } from '../helpers/connections';
import { testServers } from '../helpers/test-servers';

afterEach(closeOpenedConnections);

function tlsSettings() {
  const tls = testServers().primary.tls;
  if (tls === undefined) throw new Error('the test server has no TLS settings (an external server was given)');
  return tls;
}

function config(cluster: 'primary' | 'plain', sslmode: SslMode, extra: Partial<ConnectionConfig> = {}): ConnectionConfig {
  const server = testServers()[cluster];
  if (server === undefined) throw new Error(`no ${cluster} test server`);
  return { host: 'localhost', port: server.port, user: 'postgres', database: 'postgres', sslmode, ...extra };
}

const usesTls = async (connection: Awaited<ReturnType<typeof openConnection>>) =>
  queryValue(connection, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');

describe('sslmode against a server with TLS', () => {
  it.each<[SslMode, string]>([
    ['disable', 'f'],
    ['allow', 'f'],
    ['prefer', 't'],
    ['require', 't'],
  ])('%s connects (TLS in use: %s)', async (sslmode, expected) => {
    const connection = await openConnection(config('primary', sslmode, { sslrootcert: '/nonexistent/root.crt' }));
    expect(await usesTls(connection)).toBe(expected);
  });

  it.each<SslMode>(['verify-ca', 'verify-full'])('%s connects with the right CA', async (sslmode) => {
    const connection = await openConnection(config('primary', sslmode, { sslrootcert: tlsSettings().caFile }));
    expect(await usesTls(connection)).toBe('t');
  });

  it('verify-full fails when the host name does not match the certificate', async () => {
    const error = await errorOf(
      firstValueFrom(connect(config('primary', 'verify-full', { host: '127.0.0.1', sslrootcert: tlsSettings().caFile }))),
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('08001');
    expect(error.message).toMatch(/altnames|host|IP/i);
  });

  it('verify-ca accepts a host name that does not match', async () => {
    const connection = await openConnection(
      config('primary', 'verify-ca', { host: '127.0.0.1', sslrootcert: tlsSettings().caFile }),
    );
    expect(await usesTls(connection)).toBe('t');
  });

  it.each<SslMode>(['verify-ca', 'verify-full'])('%s fails with a CA that did not sign the certificate', async (sslmode) => {
    const error = await errorOf(firstValueFrom(connect(config('primary', sslmode, { sslrootcert: tlsSettings().otherCaFile }))));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/certificate/i);
  });

  it('require verifies like verify-ca when a root certificate is given (libpq rule)', async () => {
    const error = await errorOf(firstValueFrom(connect(config('primary', 'require', { sslrootcert: tlsSettings().otherCaFile }))));
    expect(error).toBeInstanceOf(ConnectionError);
    const connection = await openConnection(config('primary', 'require', { sslrootcert: tlsSettings().caFile }));
    expect(await usesTls(connection)).toBe('t');
  });

  it('logs in with a client certificate (cert auth)', async () => {
    const tls = tlsSettings();
    const cert = testServers().primary.roles?.cert;
    if (cert === undefined) throw new Error('no certificate role on the test server');
    const connection = await openConnection(
      config('primary', 'verify-full', {
        user: cert.user,
        sslrootcert: tls.caFile,
        sslcert: tls.clientCertFile,
        sslkey: tls.clientKeyFile,
      }),
    );
    expect(await queryValue(connection, 'SELECT current_user')).toBe(cert.user);
  });

  it('a missing sslrootcert file under verify-full is an error before connecting', async () => {
    const error = await errorOf(firstValueFrom(connect(config('primary', 'verify-full', { sslrootcert: '/nonexistent/ca.pem' }))));
    expect(error.name).toBe('ConfigError');
  });
});

describe('sslmode against a server without TLS', () => {
  it.each<SslMode>(['disable', 'allow', 'prefer'])('%s connects in plaintext', async (sslmode) => {
    const connection = await openConnection(config('plain', sslmode, { sslrootcert: '/nonexistent/root.crt' }));
    expect(await usesTls(connection)).toBe('f');
  });

  it.each<SslMode>(['require', 'verify-ca', 'verify-full'])('%s fails', async (sslmode) => {
    const error = await errorOf(
      firstValueFrom(connect(config('plain', sslmode, { sslrootcert: tlsSettings().caFile }))),
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('08001');
    expect(error.message).toContain('SSL');
  });
});

describe('unix sockets', () => {
  it('never use TLS, whatever the sslmode', async () => {
    const cluster = testServers().primary;
    const connection = await openConnection({
      host: cluster.socketDir,
      port: cluster.port,
      user: 'postgres',
      database: 'postgres',
      sslmode: 'require',
    });
    expect(await queryValue(connection, "SELECT coalesce((SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()), 'f')")).toBe(
      'false',
    );
  });
});
