import { checkUnimplementedKeyword } from './connection-string';
import {
  assertNoNul,
  freezeSettings,
  parseConnectTimeoutSeconds,
  parseHostaddrText,
  parseHostText,
  parseLoadBalanceHosts,
  parsePortListText,
  parseSslMode,
  parseSslSni,
  parseSslNegotiation,
  parseChannelBinding,
  parseRequireAuth,
  parseTargetSessionAttrs,
  type ConnectionSettings,
  type MutableConnectionSettings,
} from './connection-settings';

/** The environment variables rxpg reads, as libpq names them. */
export const environmentVariables = [
  'PGHOST',
  'PGHOSTADDR',
  'PGPORT',
  'PGUSER',
  'PGPASSWORD',
  'PGDATABASE',
  'PGAPPNAME',
  'PGOPTIONS',
  'PGSSLMODE',
  'PGSSLNEGOTIATION',
  'PGSSLROOTCERT',
  'PGSSLCERT',
  'PGSSLKEY',
  'PGSSLCRL',
  'PGSSLSNI',
  'PGCONNECT_TIMEOUT',
  'PGPASSFILE',
  'PGTARGETSESSIONATTRS',
  'PGCHANNELBINDING',
  'PGREQUIREAUTH',
  'PGLOADBALANCEHOSTS',
  'PGSERVICE',
  'PGSERVICEFILE',
] as const;

/**
 * Reads libpq's connection environment variables from `env` (default `process.env`):
 * PGHOST, PGHOSTADDR, PGPORT (each may be a comma-separated list, as in libpq), PGUSER, PGPASSWORD, PGDATABASE, PGAPPNAME, PGOPTIONS, PGSSLMODE, PGSSLNEGOTIATION,
 * PGSSLROOTCERT, PGSSLCERT, PGSSLKEY, PGSSLCRL, PGSSLSNI (0/1), PGCONNECT_TIMEOUT (seconds, converted to milliseconds)
 * PGPASSFILE, PGTARGETSESSIONATTRS, PGCHANNELBINDING, PGREQUIREAUTH, PGLOADBALANCEHOSTS, PGSERVICE and PGSERVICEFILE (the service is looked up by
 * `resolveConnectionConfig`). Unset and empty variables are ignored (libpq treats an empty value as the
 * default too). libpq's variables for keywords rxpg does not implement (PGGSSENCMODE,
 * PGSSLCRLDIR, ...) are a ConfigError unless set to libpq's default; others (PGTZ, ...) are not read.
 *
 * The values are validated as in a connection string, and a broken variable is an error even
 * when a higher-precedence source would override it.
 *
 * @throws ConfigError naming the setting (`port`, `sslmode`, `connectTimeout`, `host`, ...)
 * with the variable's name in the message, never its value.
 * @example
 * readEnvironmentSettings({ PGHOST: '/var/run/postgresql', PGCONNECT_TIMEOUT: '10' });
 * // { host: '/var/run/postgresql', connectTimeout: 10000 }
 */
/**
 * libpq's variables for keywords rxpg does not implement: set to anything but libpq's default
 * they are a ConfigError, as the keywords are (see `checkUnimplementedKeyword`).
 */
const unimplementedVariables: Readonly<Record<string, string>> = {
  PGGSSENCMODE: 'gssencmode',
  PGGSSLIB: 'gsslib',
  PGGSSDELEGATION: 'gssdelegation',
  PGKRBSRVNAME: 'krbsrvname',
  PGSSLCOMPRESSION: 'sslcompression',
  PGSSLCRLDIR: 'sslcrldir',
  PGSSLCERTMODE: 'sslcertmode',
  PGSSLKEYLOGFILE: 'sslkeylogfile',
  PGSSLMINPROTOCOLVERSION: 'ssl_min_protocol_version',
  PGSSLMAXPROTOCOLVERSION: 'ssl_max_protocol_version',
  PGMINPROTOCOLVERSION: 'min_protocol_version',
  PGMAXPROTOCOLVERSION: 'max_protocol_version',
  PGREQUIREPEER: 'requirepeer',
};

export function readEnvironmentSettings(env: NodeJS.ProcessEnv = process.env): ConnectionSettings {
  for (const [variable, keyword] of Object.entries(unimplementedVariables)) {
    const value = env[variable];
    if (typeof value === 'string' && value !== '') checkUnimplementedKeyword(keyword, value, variable);
  }
  const get = (name: (typeof environmentVariables)[number]): string | undefined => {
    const value = env[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const text = (name: (typeof environmentVariables)[number], setting: string, what: string): string | undefined => {
    const value = get(name);
    if (value !== undefined) assertNoNul(value, setting, `${name}: ${what}`);
    return value;
  };
  const settings: MutableConnectionSettings = {};
  const host = get('PGHOST');
  if (host !== undefined) settings.host = parseHostText(host, 'PGHOST');
  const hostaddr = get('PGHOSTADDR');
  if (hostaddr !== undefined) settings.hostaddr = parseHostaddrText(hostaddr, 'PGHOSTADDR');
  const port = get('PGPORT');
  if (port !== undefined) settings.port = parsePortListText(port, 'PGPORT');
  settings.user = text('PGUSER', 'user', 'the user name');
  settings.password = text('PGPASSWORD', 'password', 'the password');
  settings.database = text('PGDATABASE', 'database', 'the database name');
  settings.applicationName = text('PGAPPNAME', 'applicationName', 'the application name');
  settings.options = text('PGOPTIONS', 'options', 'the options');
  const sslmode = get('PGSSLMODE');
  if (sslmode !== undefined) settings.sslmode = parseSslMode(sslmode, 'PGSSLMODE');
  const sslnegotiation = get('PGSSLNEGOTIATION');
  if (sslnegotiation !== undefined) settings.sslnegotiation = parseSslNegotiation(sslnegotiation, 'PGSSLNEGOTIATION');
  settings.sslrootcert = text('PGSSLROOTCERT', 'sslrootcert', 'the path');
  settings.sslcert = text('PGSSLCERT', 'sslcert', 'the path');
  settings.sslkey = text('PGSSLKEY', 'sslkey', 'the path');
  settings.sslcrl = text('PGSSLCRL', 'sslcrl', 'the path');
  const sslsni = get('PGSSLSNI');
  if (sslsni !== undefined) settings.sslsni = parseSslSni(sslsni, 'PGSSLSNI');
  const timeout = get('PGCONNECT_TIMEOUT');
  if (timeout !== undefined) settings.connectTimeout = parseConnectTimeoutSeconds(timeout, 'PGCONNECT_TIMEOUT');
  settings.passfile = text('PGPASSFILE', 'passfile', 'the path');
  const requireAuth = get('PGREQUIREAUTH');
  if (requireAuth !== undefined) settings.requireAuth = parseRequireAuth(requireAuth, 'PGREQUIREAUTH');
  const channelBinding = get('PGCHANNELBINDING');
  if (channelBinding !== undefined) settings.channelBinding = parseChannelBinding(channelBinding, 'PGCHANNELBINDING');
  const targetSessionAttrs = get('PGTARGETSESSIONATTRS');
  if (targetSessionAttrs !== undefined) settings.targetSessionAttrs = parseTargetSessionAttrs(targetSessionAttrs, 'PGTARGETSESSIONATTRS');
  const loadBalanceHosts = get('PGLOADBALANCEHOSTS');
  if (loadBalanceHosts !== undefined) settings.loadBalanceHosts = parseLoadBalanceHosts(loadBalanceHosts, 'PGLOADBALANCEHOSTS');
  // PGSYSCONFDIR and HOME are read by readServiceSettings, where the service files are found.
  settings.service = text('PGSERVICE', 'service', 'the service name');
  settings.serviceFile = text('PGSERVICEFILE', 'serviceFile', 'the service file path');
  return freezeSettings(settings);
}
