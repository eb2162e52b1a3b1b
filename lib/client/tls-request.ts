import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors';
import type { ResolvedConnectionConfig, SslPolicy } from '../config';
import type { TlsRequest } from '../transport';

/**
 * Reads the certificate files an sslmode policy names and builds the TLS request for one
 * connection attempt. Errors: ConfigError naming the setting when a file cannot be read.
 */
export async function tlsRequestFor(
  config: ResolvedConnectionConfig,
  policy: SslPolicy,
  required: boolean,
): Promise<TlsRequest> {
  const [ca, cert, key] = await Promise.all([
    readSetting('sslrootcert', policy.rootCertFile),
    readSetting('sslcert', policy.clientCertFile),
    readSetting('sslkey', policy.clientKeyFile),
  ]);
  return { required, verify: policy.verify, host: config.host, ca, cert, key, extra: config.tls };
}

async function readSetting(setting: string, path: string | undefined): Promise<Buffer | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path);
  } catch (error) {
    throw new ConfigError(`cannot read ${setting} file ${path}: ${(error as Error).message}`, { setting, cause: error });
  }
}
