import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTlsMaterial } from '../../lib/client/tls-request';
import { resolveConnectionConfig, type SslPolicy } from '../../lib/config';
import { expectConfigErrorAsync } from '../config/expect-config-error';

const policy: SslPolicy = { requestTls: 'always', allowPlaintextFallback: false, verify: 'none' };
const passphrase = 'TlsKeyPassphr4se';
let directory: string;
let encryptedKeyFile: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'rxpg-tls-request-'));
  encryptedKeyFile = join(directory, 'encrypted.key');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  writeFileSync(encryptedKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }), { mode: 0o600 });
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('loadTlsMaterial', () => {
  it('names a directory given as a file', async () => {
    const config = resolveConnectionConfig({ sslmode: 'require', sslrootcert: directory }, {});
    const error = await expectConfigErrorAsync(() => loadTlsMaterial(config, { ...policy, rootCertFile: directory }), 'sslrootcert');
    expect(error.message).toContain('is a directory');
  });

  it('refuses an encrypted key without its passphrase, and loads it with tls.passphrase', async () => {
    const without = resolveConnectionConfig({ sslmode: 'require', sslkey: encryptedKeyFile }, {});
    const error = await expectConfigErrorAsync(() => loadTlsMaterial(without, { ...policy, clientKeyFile: encryptedKeyFile }), 'sslkey');
    expect(error.message).toContain('sslpassword');

    const wrong = resolveConnectionConfig({ sslmode: 'require', sslkey: encryptedKeyFile, tls: { passphrase: 'wrong' } }, {});
    await expectConfigErrorAsync(() => loadTlsMaterial(wrong, { ...policy, clientKeyFile: encryptedKeyFile }), 'sslkey', [passphrase]);

    const right = resolveConnectionConfig({ sslmode: 'require', sslkey: encryptedKeyFile, tls: { passphrase } }, {});
    // A key without a certificate is checked but not presented (as in libpq).
    await expect(loadTlsMaterial(right, { ...policy, clientKeyFile: encryptedKeyFile })).resolves.toEqual({});
  });
});
