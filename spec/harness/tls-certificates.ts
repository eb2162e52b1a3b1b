import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './run-command';

/** The certificate files {@link generateTestCertificates} writes (all PEM). */
export interface TestCertificates {
  readonly caFile: string;
  readonly otherCaFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

/** The host name in the server certificate — its only name (no IP address). */
export const serverCertificateName = 'localhost';

/** The client certificate's CN, which `cert` authentication maps to this role. */
export const clientCertificateUser = 'rxpg_cert';

/**
 * Our own openssl config, so that neither the system's openssl.cnf nor the OpenSSL version
 * decides which extensions the certificates get.
 */
const opensslConfig = `[req]
distinguished_name = subject

[subject]

[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:${serverCertificateName}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/**
 * Generates, with the `openssl` command, into `dir` (created): a CA; a server certificate
 * signed by it whose only name is DNS:localhost; a client certificate signed by it with
 * CN=rxpg_cert; and an unrelated second CA for wrong-CA tests. Keys are P-256 (fast to
 * generate) with mode 0600; certificates are valid for a week.
 */
export async function generateTestCertificates(dir: string): Promise<TestCertificates> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const config = join(dir, 'openssl.cnf');
  await writeFile(config, opensslConfig);
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) =>
    runCommand('openssl', args, { cwd: dir }).catch((error: Error) => {
      const missing = (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
      throw missing ? new Error('openssl not found; the TLS tests need it: sudo apt-get install -y openssl', { cause: error }) : error;
    });

  const newKey = async (keyFile: string) => {
    await openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile);
    await chmod(keyFile, 0o600);
  };
  const newCa = async (name: string, commonName: string) => {
    await newKey(file(`${name}.key`));
    await openssl(
      'req',
      '-x509',
      '-new',
      '-key',
      file(`${name}.key`),
      '-sha256',
      '-days',
      '7',
      '-subj',
      `/CN=${commonName}`,
      '-config',
      config,
      '-extensions',
      'ca',
      '-out',
      file(`${name}.crt`),
    );
  };
  const newLeaf = async (name: string, commonName: string, extensions: 'server' | 'client') => {
    await newKey(file(`${name}.key`));
    await openssl('req', '-new', '-key', file(`${name}.key`), '-subj', `/CN=${commonName}`, '-config', config, '-out', file(`${name}.csr`));
    await openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-sha256',
      '-days',
      '7',
      '-extfile',
      config,
      '-extensions',
      extensions,
      '-out',
      file(`${name}.crt`),
    );
  };

  await Promise.all([newCa('ca', 'rxpg test CA'), newCa('other-ca', 'rxpg unrelated test CA')]);
  await Promise.all([newLeaf('server', serverCertificateName, 'server'), newLeaf('client', clientCertificateUser, 'client')]);
  return {
    caFile: file('ca.crt'),
    otherCaFile: file('other-ca.crt'),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    clientCertFile: file('client.crt'),
    clientKeyFile: file('client.key'),
  };
}
