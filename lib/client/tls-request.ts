import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors';
import type { ResolvedConnectionConfig, SslPolicy } from '../config';
import type { TlsRequest } from '../transport';

/** The TLS files of a connection, read and checked: PEM contents, ready for Node's TLS. */
export interface TlsMaterial {
  /** The trusted root certificate(s), when a root certificate file is used. */
  readonly ca?: Buffer;
  /** The client certificate (chain), when one is presented. */
  readonly cert?: Buffer;
  /** The client certificate's private key. */
  readonly key?: Buffer;
  /** The certificate revocation list (`sslcrl`), when one is used. */
  readonly crl?: Buffer;
}

/**
 * Reads and checks every TLS file that a connection may use, so that a connection never goes
 * ahead with a file that cannot serve: call it before the first socket is opened, whenever
 * the sslmode may use TLS (every sslmode but `disable`, and never for a unix socket, as
 * {@link SslPolicy} says). The rule, decided from libpq's `initialize_SSL`
 * (fe-secure-openssl.c) and made stricter where libpq silently drops what was asked for:
 *
 * - A file that is named (`sslrootcert`, `sslcert`, `sslkey`, from the config, the URL or the
 *   PG* environment) must exist, be readable, and hold PEM of its kind: one or more
 *   `CERTIFICATE` blocks for `sslrootcert` and `sslcert` (each must parse), a private key for
 *   `sslkey` (an encrypted key needs its passphrase: `sslpassword`, else `tls.passphrase`),
 *   and one or more `X509 CRL` blocks for `sslcrl`. libpq goes on
 *   without a client certificate when the `sslcert` file is missing, and without verifying
 *   the server when a root certificate file is missing under `allow`, `prefer` or `require`; it cannot tell a
 *   named file from its default path. rxpg refuses instead: a typo must not quietly drop a
 *   client certificate or a server check that the caller asked for.
 * - The default files (`~/.postgresql/root.crt`, `postgresql.crt`, `postgresql.key`) are used
 *   only when they exist, as in libpq, and then must be usable too.
 * - A client certificate needs its private key (`sslkey`, the default key file, or
 *   `tls.key`), and the two must belong together (libpq: "certificate present, but not
 *   private key file", "certificate does not match private key file"). A key without a
 *   certificate is checked when named but not presented.
 * - The files are checked for every sslmode that may use TLS, whatever the server turns out
 *   to offer, and a broken file never makes rxpg fall back to plaintext (libpq reads them
 *   only once the server accepts TLS, and its `prefer` then retries in plaintext).
 *
 * Nothing is sent before this resolves. Errors never contain a file's contents.
 *
 * @throws (rejects with) ConfigError whose `setting` is the file's setting (`sslrootcert`,
 * `sslcert`, `sslkey`, `sslcrl`) and whose message names the file and what is wrong with it: it does
 * not exist, cannot be read, holds no PEM certificate / private key, holds one that does not
 * parse, holds no PEM revocation list, is encrypted without a passphrase (or with a wrong one: the
 * passphrase itself is never in the message), or the key does not match the certificate.
 * @example
 * const policy = sslPolicy(config);
 * const material = policy.requestTls === 'never' ? {} : await loadTlsMaterial(config, policy);
 */
export async function loadTlsMaterial(config: ResolvedConnectionConfig, policy: SslPolicy): Promise<TlsMaterial> {
  // Every sslmode that may use TLS verifies against a named root file (see sslPolicy), so the
  // policy names it; `sslrootcert=system` names none (Node's default store is meant).
  const rootFile = policy.rootCertFile;
  const certFile = policy.clientCertFile;
  const keyFile = policy.clientKeyFile;
  const crlFile = config.sslcrl;
  const [ca, cert, key, crl] = await Promise.all([
    rootFile === undefined ? undefined : readTlsFile('sslrootcert', rootFile),
    certFile === undefined ? undefined : readTlsFile('sslcert', certFile),
    keyFile === undefined ? undefined : readTlsFile('sslkey', keyFile),
    crlFile === undefined ? undefined : readTlsFile('sslcrl', crlFile),
  ]);
  if (ca !== undefined) parseCertificates('sslrootcert', rootFile!, ca);
  if (crl !== undefined) checkRevocationList(crlFile!, crl);
  const certificates = cert === undefined ? undefined : parseCertificates('sslcert', certFile!, cert);
  const privateKey = key === undefined ? undefined : parsePrivateKey(keyFile!, key, keyPassphrase(config));

  if (certificates !== undefined) {
    if (privateKey === undefined && config.tls?.key === undefined) {
      throw new ConfigError(`sslcert file "${certFile}" is a client certificate, but there is no private key for it; set sslkey`, {
        setting: 'sslkey',
      });
    }
    if (privateKey !== undefined && !certificates[0]!.checkPrivateKey(privateKey)) {
      throw new ConfigError(`sslkey file "${keyFile}" does not match the certificate in sslcert file "${certFile}"`, {
        setting: 'sslkey',
      });
    }
  }
  const material: { ca?: Buffer; cert?: Buffer; key?: Buffer; crl?: Buffer } = {};
  if (ca !== undefined) material.ca = ca;
  if (crl !== undefined) material.crl = crl;
  if (cert !== undefined) material.cert = cert;
  // libpq loads the key only to go with a certificate; without one, Node has no use for it.
  if (cert !== undefined && key !== undefined) material.key = key;
  return material;
}

/**
 * The TLS request for one connection attempt, from the checked material.
 *
 * @param required whether this attempt fails when the server declines TLS.
 * @example
 * negotiateTls(socket, tlsRequestFor(config, policy, material, true));
 */
export function tlsRequestFor(config: ResolvedConnectionConfig, policy: SslPolicy, material: TlsMaterial, required: boolean): TlsRequest {
  const { crl, ...files } = material;
  const passphrase = keyPassphrase(config);
  // The CRL goes before `tls` (merged last, as documented); the passphrase after it, since
  // `sslpassword` is the one that was checked against the key.
  // `tls.key` and `tls.pfx` are non-enumerable in the resolved config (see hideTlsPassphrases),
  // so the spread leaves them out: they are put back by name.
  const tls = config.tls;
  const extra = {
    ...(crl === undefined ? {} : { crl }),
    ...tls,
    ...(tls?.key === undefined ? {} : { key: tls.key }),
    ...(tls?.pfx === undefined ? {} : { pfx: tls.pfx }),
    ...(passphrase === undefined ? {} : { passphrase }),
  };
  const root = policy.rootCertFile === undefined ? {} : { rootCertFile: policy.rootCertFile };
  return { required, verify: policy.verify, host: config.host, sni: config.sslsni, ...files, ...root, extra };
}

/** libpq's `sslpassword`, else Node's `tls.passphrase`. */
function keyPassphrase(config: ResolvedConnectionConfig): string | undefined {
  return config.sslpassword ?? config.tls?.passphrase;
}

const pemRevocationList = /-----BEGIN X509 CRL-----[^-]*-----END X509 CRL-----/;

/** Checks that a `sslcrl` file holds a PEM CRL; Node parses it when the TLS context is built. */
function checkRevocationList(path: string, contents: Buffer): void {
  if (!pemRevocationList.test(contents.toString('latin1'))) {
    throw new ConfigError(`sslcrl file "${path}" holds no PEM certificate revocation list (expected "-----BEGIN X509 CRL-----")`, {
      setting: 'sslcrl',
    });
  }
}

async function readTlsFile(setting: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ConfigError(`${setting} file "${path}" ${readProblem(error)}`, { setting, cause: error });
  }
}

/** What went wrong reading a file, in words; the fs error's code, never its text alone. */
function readProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read: permission denied';
    case 'EISDIR':
      return 'is a directory, not a file';
    default:
      return `cannot be read${code === undefined ? '' : ` (${code})`}`;
  }
}

const pemCertificate = /-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g;

/** The certificates of a PEM file, in order; the first one is the leaf of a client chain. */
function parseCertificates(setting: string, path: string, contents: Buffer): X509Certificate[] {
  const blocks = contents.toString('latin1').match(pemCertificate);
  if (blocks === null) {
    throw new ConfigError(`${setting} file "${path}" holds no PEM certificate (expected "-----BEGIN CERTIFICATE-----")`, {
      setting,
    });
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch {
      // The parser's error is dropped: it could quote the file.
      throw new ConfigError(`${setting} file "${path}" holds a PEM certificate (number ${index + 1}) that does not parse`, {
        setting,
      });
    }
  });
}

const pemPrivateKey = /-----BEGIN (?:RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY-----/;

function parsePrivateKey(path: string, contents: Buffer, passphrase: string | undefined): KeyObject {
  const setting = 'sslkey';
  const text = contents.toString('latin1');
  if (!pemPrivateKey.test(text)) {
    throw new ConfigError(`sslkey file "${path}" holds no PEM private key (expected "-----BEGIN PRIVATE KEY-----" or the like)`, {
      setting,
    });
  }
  try {
    return createPrivateKey({ key: contents, format: 'pem', ...(passphrase === undefined ? {} : { passphrase }) });
  } catch (error) {
    const encrypted = text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || text.includes('Proc-Type: 4,ENCRYPTED');
    if (encrypted && passphrase === undefined) {
      throw new ConfigError(`sslkey file "${path}" holds an encrypted private key; give its passphrase as sslpassword`, {
        setting,
      });
    }
    throw new ConfigError(
      `sslkey file "${path}" holds a PEM private key that cannot be loaded${passphrase === undefined ? '' : ' (is sslpassword right?)'}`,
      { setting, cause: error },
    );
  }
}
