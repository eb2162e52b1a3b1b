import { ConfigError } from '../errors/config-error';
import type { HostEntry, ResolvedConnectionConfig } from './connection-config';
import { defineHidden } from './define-hidden';

/** libpq's default port. */
export const defaultPort = 5432;
/** rxpg's default host (libpq's would be its compiled-in socket directory). */
export const defaultHost = 'localhost';

type ListSetting<T> = T | readonly T[] | undefined;

const asList = <T>(value: ListSetting<T>): readonly T[] | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? (value as readonly T[]) : [value as T];

/**
 * Matches libpq's `host`, `hostaddr` and `port` settings into the servers to try, with
 * libpq's rules: the number of hosts is the number of `hostaddr` elements when given, else of
 * `host` elements, else one; a `host` list given with `hostaddr` must have as many elements;
 * a single port applies to every host, otherwise there must be one port per host. An empty
 * host element means the default host (`localhost`), or the hostaddr when there is one; a
 * missing port means 5432.
 *
 * @throws ConfigError (setting `host` or `port`) when the counts cannot be matched.
 * @example
 * resolveHostEntries(['a', 'b'], undefined, 5433);
 * // [{ host: 'a', hostaddr: undefined, port: 5433 }, { host: 'b', hostaddr: undefined, port: 5433 }]
 * resolveHostEntries(['a', 'b', 'c'], undefined, [1, 2]); // throws: could not match 2 ports to 3 hosts
 */
export function resolveHostEntries(
  host: ListSetting<string>,
  hostaddr: ListSetting<string>,
  port: ListSetting<number | undefined>,
): HostEntry[] {
  const hosts = asList(host);
  const addresses = asList(hostaddr);
  const ports = asList(port);
  const count = addresses?.length ?? hosts?.length ?? 1;
  if (addresses !== undefined && hosts !== undefined && hosts.length !== count) {
    throw new ConfigError(`could not match ${hosts.length} host names to ${count} hostaddr values`, { setting: 'host' });
  }
  if (ports !== undefined && ports.length !== 1 && ports.length !== count) {
    throw new ConfigError(`could not match ${ports.length} port numbers to ${count} hosts`, { setting: 'port' });
  }
  const entries: HostEntry[] = [];
  for (let index = 0; index < count; index++) {
    const address = addresses?.[index] || undefined;
    const name = hosts?.[index] || undefined;
    entries.push(
      Object.freeze({
        host: name ?? address ?? defaultHost,
        hostaddr: address,
        port: (ports === undefined ? undefined : ports.length === 1 ? ports[0] : ports[index]) ?? defaultPort,
      }),
    );
  }
  return entries;
}

/**
 * The configuration of one attempt: `config` with `host`, `port` and `hostaddr` set to
 * `entry` (what TLS verifies, `.pgpass` matches and a Connection's `config` reports). The
 * password stays a non-enumerable property.
 *
 * @example
 * const attempt = configForHost(config, config.hosts[1]!);
 * attempt.host; // the second host
 */
export function configForHost(config: ResolvedConnectionConfig, entry: HostEntry): ResolvedConnectionConfig {
  const copy = { ...config, host: entry.host, port: entry.port, hostaddr: entry.hostaddr };
  defineHidden(copy, 'password', config.password);
  defineHidden(copy, 'sslpassword', config.sslpassword);
  return Object.freeze(copy);
}

/**
 * A shuffled copy of `items` (Fisher-Yates), as `load_balance_hosts=random` does to the hosts
 * and to each host name's addresses.
 *
 * @example
 * shuffled(['a', 'b', 'c']); // e.g. ['c', 'a', 'b']
 */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const result = [...items];
  for (let index = result.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [result[index], result[other]] = [result[other]!, result[index]!];
  }
  return result;
}
