// Seed cases ported here (reference/postgres_async.md §3.4): T-SSL7 (disable, prefer and require
// against a TLS server and a plain one), plus libpq's verify-ca / verify-full rules that the
// seed lacks. Fake-server SSL cases (T-SSL1..6) are in fake-server.spec.ts.
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom } from 'rxjs';
import { ConfigError, ConnectionError, connect, type ConnectionConfig, type SslMode } from '../../lib';
import { expectConfigErrorAsync } from '../config/expect-config-error';
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
    // A named root file must be usable whenever TLS may be used (see loadTlsMaterial).
    const connection = await openConnection(config('primary', sslmode, { sslrootcert: tlsSettings().caFile }));
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
    const connection = await openConnection(config('primary', 'verify-ca', { host: '127.0.0.1', sslrootcert: tlsSettings().caFile }));
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
    const connection = await openConnection(config('plain', sslmode, { sslrootcert: tlsSettings().caFile }));
    expect(await usesTls(connection)).toBe('f');
  });

  it.each<SslMode>(['require', 'verify-ca', 'verify-full'])('%s fails', async (sslmode) => {
    const error = await errorOf(firstValueFrom(connect(config('plain', sslmode, { sslrootcert: tlsSettings().caFile }))));
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

  // libpq: with hostaddr, the connection goes over TCP to that address and `host` only names
  // the server (verification, .pgpass), so a socket directory there does not skip TLS.
  it('are not used when hostaddr is given: TCP to it, with TLS as the sslmode says', async () => {
    const cluster = testServers().primary;
    const connection = await openConnection({
      host: cluster.socketDir,
      hostaddr: '127.0.0.1',
      port: cluster.port,
      user: 'postgres',
      database: 'postgres',
      sslmode: 'require',
    });
    expect(await usesTls(connection)).toBe('t');
  });
});

describe('unusable TLS files are refused before anything is sent', () => {
  // Bytes that are no PEM at all; their text must never show up in an error.
  const garbageText = 'rxpg-not-pem-7f3a9c';
  let directory: string;
  let garbageFile: string;
  let strayKeyFile: string;
  const missingFile = () => join(directory, 'does-not-exist.pem');

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'rxpg-tls-files-'));
    garbageFile = join(directory, 'garbage.pem');
    writeFileSync(garbageFile, Buffer.concat([Buffer.from(`${garbageText}\n`), Buffer.from([0, 1, 2, 0xff, 0xfe])]));
    chmodSync(garbageFile, 0o600);
    strayKeyFile = join(directory, 'stray.key');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(strayKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  type Setting = 'sslrootcert' | 'sslcert' | 'sslkey';
  /** The other TLS settings valid, `setting` pointing at `file`. */
  function settingsWith(setting: Setting, file: string): Partial<ConnectionConfig> {
    const tls = tlsSettings();
    const valid = { sslrootcert: tls.caFile, sslcert: tls.clientCertFile, sslkey: tls.clientKeyFile };
    if (setting === 'sslrootcert') return { sslrootcert: file };
    return { ...valid, [setting]: file };
  }

  const modes: SslMode[] = ['allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
  const cases = (['sslrootcert', 'sslcert', 'sslkey'] as const).flatMap((setting) =>
    (['missing', 'not PEM'] as const).flatMap((problem) => modes.map((sslmode) => [setting, problem, sslmode] as const)),
  );

  it.each(cases)('%s %s, sslmode %s: ConfigError naming the file, against a TLS server', async (setting, problem, sslmode) => {
    const file = problem === 'missing' ? missingFile() : garbageFile;
    const error = await expectConfigErrorAsync(
      () => firstValueFrom(connect(config('primary', sslmode, settingsWith(setting, file)))),
      setting,
      [garbageText],
    );
    expect(error.message).toContain(file);
    expect(error.message).toMatch(problem === 'missing' ? /does not exist/ : /PEM/);
  });

  it.each(cases)('%s %s, sslmode %s: ConfigError before any socket is opened', async (setting, problem, sslmode) => {
    // A port that nothing listens on: a connection attempt would end in ECONNREFUSED.
    const closedPort = await unusedPort();
    const file = problem === 'missing' ? missingFile() : garbageFile;
    const error = await expectConfigErrorAsync(
      () => firstValueFrom(connect({ ...config('primary', sslmode, settingsWith(setting, file)), port: closedPort })),
      setting,
      [garbageText],
    );
    expect(error).toBeInstanceOf(ConfigError);
  });

  it('a client certificate without a private key is refused', async () => {
    const { clientCertFile } = tlsSettings();
    const error = await expectConfigErrorAsync(
      () => firstValueFrom(connect(config('primary', 'require', { sslcert: clientCertFile }))),
      'sslkey',
    );
    expect(error.message).toContain(clientCertFile);
  });

  it('a private key that does not belong to the certificate is refused', async () => {
    const { caFile, clientCertFile } = tlsSettings();
    const error = await expectConfigErrorAsync(
      () =>
        firstValueFrom(connect(config('primary', 'verify-full', { sslrootcert: caFile, sslcert: clientCertFile, sslkey: strayKeyFile }))),
      'sslkey',
    );
    expect(error.message).toContain(strayKeyFile);
    expect(error.message).toMatch(/does not match/);
  });

  it('sslmode disable never reads the files (no TLS is used, as in libpq)', async () => {
    const connection = await openConnection(
      config('primary', 'disable', { sslrootcert: garbageFile, sslcert: missingFile(), sslkey: garbageFile }),
    );
    expect(await usesTls(connection)).toBe('f');
  });

  it('a unix socket never reads the files (no TLS is used, as in libpq)', async () => {
    const cluster = testServers().primary;
    const connection = await openConnection({
      host: cluster.socketDir,
      port: cluster.port,
      user: 'postgres',
      database: 'postgres',
      sslmode: 'prefer',
      sslcert: garbageFile,
      sslkey: missingFile(),
    });
    expect(await queryValue(connection, 'SELECT 1')).toBe('1');
  });
});

/** A TCP port on localhost that nothing listens on (bound once, then released). */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}
