import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors/config-error';
import type { ResolvedConnectionConfig } from './connection-config';
import { isUnixSocketHost } from './connection-settings';

/**
 * What the transport must do about TLS for one connection attempt, derived from sslmode as
 * libpq defines it (PostgreSQL docs, "SSL Support", table "SSL Mode Descriptions").
 *
 * - `requestTls`: `never` (plaintext only); `first` (send SSLRequest; if the server declines,
 *   go on in plaintext); `after-plaintext-rejected` (start in plaintext; only if the server
 *   rejects that attempt, reconnect and request TLS); `always` (TLS or fail).
 * - `allowPlaintextFallback`: whether a plaintext session is acceptable at all. False exactly
 *   when TLS is mandatory (`require`, `verify-ca`, `verify-full` over TCP).
 * - `verify`: `none` (accept any server certificate), `ca` (the chain must lead to the root
 *   certificates; the host name is not checked), `full` (chain and host name).
 * - `rootCertFile`: the CA file to verify against. When `verify` is not `none` and this is
 *   undefined, the system's trusted roots are meant (`sslrootcert=system`).
 * - `clientCertFile` / `clientKeyFile`: the client certificate and key to present, if any.
 */
export interface SslPolicy {
  readonly requestTls: 'never' | 'first' | 'after-plaintext-rejected' | 'always';
  readonly allowPlaintextFallback: boolean;
  readonly verify: 'none' | 'ca' | 'full';
  readonly rootCertFile?: string;
  readonly clientCertFile?: string;
  readonly clientKeyFile?: string;
}

/** The settings {@link sslPolicy} looks at. */
export type SslPolicyConfig = Pick<ResolvedConnectionConfig, 'host' | 'sslmode' | 'sslrootcert' | 'sslcert' | 'sslkey'> &
  Partial<Pick<ResolvedConnectionConfig, 'hostaddr'>>;

const plaintextOnly: SslPolicy = Object.freeze({ requestTls: 'never', allowPlaintextFallback: true, verify: 'none' });

/**
 * libpq's sslmode semantics as a pure function of the settings and of which files exist.
 *
 * - A unix-socket host (starting with `/`) never uses TLS, whatever the sslmode ("sslmode is
 *   ignored for Unix domain socket communication"), unless a `hostaddr` goes with it: the
 *   connection is then TCP to that address and the sslmode applies.
 * - `disable`: never. `allow`: plaintext first, TLS only if the server rejects the plaintext
 *   attempt. `prefer`: TLS if the server accepts it, else plaintext. `require`: TLS or fail.
 * - `allow`, `prefer` and `require` verify the server certificate only when there is a root
 *   certificate file, and then like `verify-ca` (the chain, not the host name): libpq's
 *   `initialize_SSL` loads an existing root file and sets `SSL_VERIFY_PEER` for every
 *   connection that uses TLS, whatever the sslmode. The file is `sslrootcert` when given,
 *   whether or not it exists (unlike libpq, which skips a missing one; the client layer then
 *   refuses it), else `~/.postgresql/root.crt` when that exists; without one, nothing is
 *   verified. (What a failed verification leads to is the sslmode's: `prefer` retries in
 *   plaintext, `allow` and `require` fail.)
 * - `verify-ca` / `verify-full`: TLS, verified against `sslrootcert`, else
 *   `~/.postgresql/root.crt`, which must exist.
 * - `sslrootcert=system` uses the system CA store and requires `verify-full` (PostgreSQL 16:
 *   "any weaker setting will result in an error"), for sockets too.
 * - Client certificate and key: `sslcert` / `sslkey` when given (whether or not they exist:
 *   the client layer reads and checks every TLS file before any I/O and refuses a missing
 *   one), else `~/.postgresql/postgresql.crt` / `postgresql.key` when they exist. Only set
 *   when TLS may be used.
 *
 * @param fileExists tells whether a path exists (default `fs.existsSync`); injectable for tests.
 * @param homeDir the directory holding `.postgresql` (default `os.homedir()`); `''` means the
 * home directory is unknown, and the default certificate files are then not looked for.
 * @throws ConfigError with setting `sslrootcert` when verify-ca / verify-full has no root
 * certificate file (libpq: "root certificate file does not exist"), with setting `sslmode`
 * when `sslrootcert=system` comes with another mode than verify-full.
 * @example
 * sslPolicy({ host: 'db', sslmode: 'verify-full', sslrootcert: '/etc/ca.pem', sslcert: undefined, sslkey: undefined });
 * // { requestTls: 'always', allowPlaintextFallback: false, verify: 'full', rootCertFile: '/etc/ca.pem' }
 */
export function sslPolicy(
  config: SslPolicyConfig,
  fileExists: (path: string) => boolean = existsSync,
  homeDir: string | undefined = safeHomeDir(),
): SslPolicy {
  const { sslmode, sslrootcert } = config;
  if (sslrootcert === 'system' && sslmode !== 'verify-full') {
    throw new ConfigError('sslrootcert=system (the system CA store) requires sslmode verify-full; weaker modes are refused', {
      setting: 'sslmode',
    });
  }
  // With a hostaddr the connection is TCP to it, whatever `host` names (libpq's rule).
  if ((config.hostaddr === undefined && isUnixSocketHost(config.host)) || sslmode === 'disable') return plaintextOnly;

  const directory = homeDir === undefined || homeDir === '' ? undefined : join(homeDir, '.postgresql');
  const defaultFile = (name: string): string | undefined => (directory === undefined ? undefined : join(directory, name));
  const existingDefault = (name: string): string | undefined => {
    const path = defaultFile(name);
    return path !== undefined && fileExists(path) ? path : undefined;
  };
  const client: { clientCertFile?: string; clientKeyFile?: string } = {};
  const clientCertFile = config.sslcert ?? existingDefault('postgresql.crt');
  const clientKeyFile = config.sslkey ?? existingDefault('postgresql.key');
  if (clientCertFile !== undefined) client.clientCertFile = clientCertFile;
  if (clientKeyFile !== undefined) client.clientKeyFile = clientKeyFile;

  // allow / prefer / require: libpq verifies the chain whenever a root file exists. A named root
  // file is used even when it does not exist, so that the TLS file check refuses it: libpq
  // would quietly skip the verification it stands for.
  const optionalRoot = (): { verify: 'none' } | { verify: 'ca'; rootCertFile: string } => {
    const root = sslrootcert ?? existingDefault('root.crt');
    return root === undefined ? { verify: 'none' } : { verify: 'ca', rootCertFile: root };
  };
  switch (sslmode) {
    case 'allow':
      return Object.freeze({ requestTls: 'after-plaintext-rejected', allowPlaintextFallback: true, ...optionalRoot(), ...client });
    case 'prefer':
      return Object.freeze({ requestTls: 'first', allowPlaintextFallback: true, ...optionalRoot(), ...client });
    case 'require':
      return Object.freeze({ requestTls: 'always', allowPlaintextFallback: false, ...optionalRoot(), ...client });
    case 'verify-ca':
    case 'verify-full': {
      const verify = sslmode === 'verify-ca' ? 'ca' : 'full';
      if (sslrootcert === 'system') {
        return Object.freeze({ requestTls: 'always', allowPlaintextFallback: false, verify, ...client });
      }
      const root = sslrootcert ?? defaultFile('root.crt');
      if (root === undefined) {
        throw new ConfigError(
          `sslmode ${sslmode} needs a root certificate file, and the home directory (for ~/.postgresql/root.crt) is unknown; set sslrootcert`,
          { setting: 'sslrootcert' },
        );
      }
      if (!fileExists(root)) {
        throw new ConfigError(
          `root certificate file "${root}" does not exist; provide it, use sslrootcert=system for the system's trusted roots, or choose an sslmode that does not verify the server certificate`,
          { setting: 'sslrootcert' },
        );
      }
      return Object.freeze({ requestTls: 'always', allowPlaintextFallback: false, verify, rootCertFile: root, ...client });
    }
    default:
      throw new ConfigError('invalid sslmode', { setting: 'sslmode' });
  }
}

function safeHomeDir(): string | undefined {
  try {
    return homedir() || undefined;
  } catch {
    return undefined;
  }
}
