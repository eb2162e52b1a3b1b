// tls.passphrase decrypts an encrypted client key against the real server (cert authentication
// over hostssl), and never shows when the Connection's config is logged.
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { ConnectionConfig } from '../../lib';
import { closeOpenedConnections, openConnection, queryValue } from '../helpers/connections';
import { requireRoles, requireTls, testServers } from '../helpers/test-servers';

const passphrase = 'Cl1entKey-tls-passphrase';
let directory: string;
let encryptedKeyFile: string;
let encryptedKeyPem: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'rxpg-tls-passphrase-'));
  encryptedKeyFile = join(directory, 'client.key');
  const key = createPrivateKey(readFileSync(requireTls().clientKeyFile));
  encryptedKeyPem = key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string;
  writeFileSync(encryptedKeyFile, encryptedKeyPem, { mode: 0o600 });
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));
afterEach(closeOpenedConnections);

/** The `cert` role, verify-full against the harness's CA; `extra` supplies the client certificate and key. */
function certRole(extra: Partial<ConnectionConfig>): ConnectionConfig {
  const cert = requireRoles().cert;
  if (cert === undefined) throw new Error('no certificate role on the test server');
  const { caFile } = requireTls();
  return {
    host: 'localhost',
    port: testServers().primary.port,
    user: cert.user,
    database: 'postgres',
    sslmode: 'verify-full',
    sslrootcert: caFile,
    ...extra,
  };
}

function expectHidden(value: unknown): void {
  for (const text of [JSON.stringify(value), inspect(value, { depth: 10 }), String(Object.keys(value as object))]) {
    expect(text).not.toContain(passphrase);
  }
}

describe('tls.passphrase', () => {
  it('decrypts an encrypted sslkey, and the Connection’s config does not show it', async () => {
    const settings = certRole({ sslcert: requireTls().clientCertFile, sslkey: encryptedKeyFile, tls: { passphrase } });
    const connection = await openConnection(settings);
    expect(await queryValue(connection, 'SELECT current_user')).toBe(settings.user);
    expect(connection.config.tls?.passphrase).toBe(passphrase);
    expectHidden(connection.config);
  });

  it('decrypts a tls.key entry given as { pem, passphrase }', async () => {
    const tls = { cert: readFileSync(requireTls().clientCertFile), key: [{ pem: encryptedKeyPem, passphrase }] };
    const settings = certRole({ tls });
    const connection = await openConnection(settings);
    expect(await queryValue(connection, 'SELECT current_user')).toBe(settings.user);
    expectHidden(connection.config);
  });
});

describe('tls.key without a passphrase', () => {
  it('logs in with an unencrypted key given in tls.key, and the Connection’s config does not show the key', async () => {
    const keyPem = readFileSync(requireTls().clientKeyFile, 'latin1');
    const keyBody = keyPem.split('\n')[1]!;
    const settings = certRole({ tls: { cert: readFileSync(requireTls().clientCertFile), key: keyPem } });
    const connection = await openConnection(settings);
    expect(await queryValue(connection, 'SELECT current_user')).toBe(settings.user);
    expect(connection.config.tls?.key).toBe(keyPem);
    for (const text of [JSON.stringify(connection.config), inspect(connection.config, { depth: 10 })]) {
      expect(text).not.toContain(keyBody);
      expect(text).not.toContain('PRIVATE KEY');
    }
  });
});
