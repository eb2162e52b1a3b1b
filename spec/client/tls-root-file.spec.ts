// A root certificate file makes allow and prefer verify the server's chain, as in libpq: its
// initialize_SSL (fe-secure-openssl.c) loads an existing root file and sets SSL_VERIFY_PEER for
// every connection that uses TLS, and checks the host name only under verify-full. A failed
// TLS open is then what the sslmode says: prefer retries once in plaintext (fe-connect.c), allow
// (which tried plaintext first) fails.
import { readFileSync } from 'node:fs';
import { firstValueFrom } from 'rxjs';
import { ConnectionError, connect, type Connection, type ConnectionConfig, type SslMode } from '../../lib';
import { closeOpenedConnections, errorOf, openConnection, queryValue } from '../helpers/connections';
import { requireRoles, requireTls, testServers } from '../helpers/test-servers';

afterEach(closeOpenedConnections);

/** The primary (TLS, and a `cert` role that pg_hba.conf lets in over hostssl only). */
function config(sslmode: SslMode, extra: Partial<ConnectionConfig> = {}): ConnectionConfig {
  return { host: 'localhost', port: testServers().primary.port, user: 'postgres', database: 'postgres', sslmode, ...extra };
}

/** The `cert` role with its client certificate: a plaintext login is rejected ("no encryption"). */
function certRole(sslmode: SslMode, sslrootcert: string): ConnectionConfig {
  const tls = requireTls();
  const cert = requireRoles().cert;
  if (cert === undefined) throw new Error('no certificate role on the test server');
  return config(sslmode, { user: cert.user, sslrootcert, sslcert: tls.clientCertFile, sslkey: tls.clientKeyFile });
}

const usesTls = (connection: Connection) => queryValue(connection, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');

describe('prefer with a root certificate file', () => {
  it('connects over TLS when the chain leads to it, whatever the host name (verify-ca, not verify-full)', async () => {
    const { caFile } = requireTls();
    // The certificate's only name is localhost: 127.0.0.1 would fail verify-full.
    const connection = await openConnection(config('prefer', { host: '127.0.0.1', sslrootcert: caFile }));
    expect(await usesTls(connection)).toBe('t');
  });

  it('retries in plaintext when the server certificate does not chain to it', async () => {
    const connection = await openConnection(config('prefer', { sslrootcert: requireTls().otherCaFile }));
    expect(await usesTls(connection)).toBe('f');
  });

  it('fails when the plaintext retry is rejected too (a hostssl-only role)', async () => {
    const error = await errorOf(firstValueFrom(connect(certRole('prefer', requireTls().otherCaFile))));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/no encryption/);
  });
});

describe('allow with a root certificate file', () => {
  it('connects over TLS after the plaintext rejection when the chain leads to it', async () => {
    const cert = certRole('allow', requireTls().caFile);
    const connection = await openConnection(cert);
    expect(await usesTls(connection)).toBe('t');
    expect(await queryValue(connection, 'SELECT current_user')).toBe(cert.user);
  });

  it('fails, naming the verification and the root file, when the server certificate does not chain to it', async () => {
    const { otherCaFile } = requireTls();
    const error = await errorOf(firstValueFrom(connect(certRole('allow', otherCaFile))));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('08001');
    expect(error.message).toMatch(/certificate verif/i);
    expect(error.message).toContain(otherCaFile);
  });
});

describe('a rejected server certificate', () => {
  it('under verify-full with a host name it does not hold, says so rather than blaming the root file', async () => {
    const error = await errorOf(firstValueFrom(connect(config('verify-full', { host: '127.0.0.1', sslrootcert: requireTls().caFile }))));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/^SSL connection failed: server certificate does not match the host name: .*altnames/);
  });
});

describe('a rejected server certificate with tls.ca', () => {
  it('names tls.ca, not the root file that tls.ca replaced', async () => {
    const { caFile, otherCaFile } = requireTls();
    const tls = { ca: readFileSync(otherCaFile) };
    const error = await errorOf(firstValueFrom(connect(config('verify-ca', { sslrootcert: caFile, tls }))));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/^SSL connection failed: server certificate verification failed against tls\.ca: /);
    expect(error.message).not.toContain(caFile);
  });
});
