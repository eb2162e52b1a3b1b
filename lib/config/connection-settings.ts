import { ConfigError } from '../errors/config-error';
import { ipAddressVersion } from './ip-address';
import {
  loadBalanceHostsValues,
  sslModes,
  sslNegotiations,
  type SslNegotiation,
  targetSessionAttrsValues,
  type LoadBalanceHosts,
  type SslMode,
  type TargetSessionAttrs,
  channelBindingModes,
  type ChannelBinding,
  authMethods,
  type AuthMethod,
} from './connection-config';
import { defineHidden } from './define-hidden';

/**
 * The settings one source contributes (a connection string, or the PG* environment
 * variables), already validated and converted to rxpg's units: `connectTimeout` is in
 * milliseconds, `port` is a number. Absent fields were not given by that source.
 *
 * The `password` is a non-enumerable property, so logging or serialising the object does not
 * show it. `fallbackApplicationName` is libpq's `fallback_application_name`: used only when no
 * source sets `applicationName`.
 */
export interface ConnectionSettings {
  /** One host, or libpq's comma-separated list split into its elements ('' = the default host). */
  readonly host?: string | readonly string[];
  /** Numeric addresses, one per host (libpq's `hostaddr`); '' = none for that host. */
  readonly hostaddr?: string | readonly string[];
  /** One port for every host, or one per host (`undefined` = the default port). */
  readonly port?: number | readonly (number | undefined)[];
  readonly targetSessionAttrs?: TargetSessionAttrs;
  readonly channelBinding?: ChannelBinding;
  readonly requireAuth?: readonly AuthMethod[];
  readonly loadBalanceHosts?: LoadBalanceHosts;
  readonly user?: string;
  /** Non-enumerable. */
  readonly password?: string;
  readonly database?: string;
  readonly applicationName?: string;
  readonly fallbackApplicationName?: string;
  readonly options?: string;
  readonly runtimeParameters?: Readonly<Record<string, string>>;
  readonly sslmode?: SslMode;
  readonly sslnegotiation?: SslNegotiation;
  readonly sslrootcert?: string;
  readonly sslcert?: string;
  readonly sslkey?: string;
  /** Non-enumerable. */
  readonly sslpassword?: string;
  readonly sslsni?: boolean;
  readonly sslcrl?: string;
  /** Milliseconds; 0 means no limit. */
  readonly connectTimeout?: number;
  readonly passfile?: string;
  readonly keepAlive?: boolean;
  /** Milliseconds of idleness before the first TCP keepalive probe (libpq's `keepalives_idle`, in seconds there). */
  readonly keepAliveIdle?: number;
  /** The service name to look up in the service files (libpq's `service`, PGSERVICE). */
  readonly service?: string;
  /** The per-user service file's path (libpq's `servicefile`, PGSERVICEFILE). */
  readonly serviceFile?: string;
  /** Prepared statements kept per connection (`statement_cache_size`); 0 turns the cache off. */
  readonly statementCacheSize?: number;
}

/** The mutable form of {@link ConnectionSettings} that the parsers fill in. */
export type MutableConnectionSettings = { -readonly [K in keyof ConnectionSettings]: ConnectionSettings[K] };

/**
 * Freezes settings built by a parser, turning `password` and `sslpassword` into non-enumerable properties and
 * dropping fields that were left `undefined`.
 *
 * @example
 * const settings = freezeSettings({ host: 'db', password: 'pw' });
 * JSON.stringify(settings); // '{"host":"db"}'
 * settings.password;        // 'pw'
 */
export function freezeSettings(settings: MutableConnectionSettings): ConnectionSettings {
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(settings) as (keyof ConnectionSettings)[]) {
    const value = settings[key];
    if (value === undefined || key === 'password' || key === 'sslpassword') continue;
    result[key] =
      key === 'runtimeParameters' ? Object.freeze(value) : Array.isArray(value) ? Object.freeze([...(value as readonly unknown[])]) : value;
  }
  if (settings.password !== undefined) defineHidden(result, 'password', settings.password);
  if (settings.sslpassword !== undefined) defineHidden(result, 'sslpassword', settings.sslpassword);
  return Object.freeze(result);
}

/**
 * True when `host` names a unix-socket directory (an absolute path) rather than a host name
 * or IP address. libpq never uses TLS on such connections.
 *
 * @example
 * isUnixSocketHost('/var/run/postgresql'); // true
 * isUnixSocketHost('db.example.com');      // false
 */
export function isUnixSocketHost(host: string): boolean {
  return host.startsWith('/');
}

/**
 * Throws a {@link ConfigError} naming `setting` when `value` contains a NUL byte, which the
 * wire protocol cannot carry in a string (it would silently cut the value short). The
 * message never contains the value.
 *
 * @example
 * assertNoNul('app\0x', 'applicationName', 'the application name'); // throws ConfigError
 */
export function assertNoNul(value: string, setting: string, what: string): void {
  if (value.includes('\0')) {
    throw new ConfigError(`${what} must not contain a NUL byte`, { setting });
  }
}

/**
 * Validates one host (a name, an IP address or a socket directory): not empty, no NUL byte,
 * no comma (a comma separates hosts).
 *
 * @throws ConfigError with setting `host`.
 * @example
 * checkHost('localhost', 'PGHOST'); // 'localhost'
 * checkHost('', 'PGHOST');          // throws: the host must not be empty
 */
export function checkHost(value: string, source: string): string {
  if (value === '') throw new ConfigError(`${source}: the host must not be empty`, { setting: 'host' });
  assertNoNul(value, 'host', `${source}: the host`);
  if (value.includes(',')) {
    throw new ConfigError(`${source}: a host must not contain a comma (a comma separates hosts)`, { setting: 'host' });
  }
  return value;
}

/**
 * Parses libpq's `host` text: one host, or a comma-separated list of hosts (`db1,db2`), whose
 * empty elements mean the default host (libpq's rule).
 *
 * @throws ConfigError with setting `host` for a NUL byte.
 * @example
 * parseHostText('db1,db2', 'PGHOST'); // ['db1', 'db2']
 * parseHostText('db', 'PGHOST');      // 'db'
 */
export function parseHostText(text: string, source: string): string | string[] {
  assertNoNul(text, 'host', `${source}: the host`);
  return text.includes(',') ? text.split(',') : checkHost(text, source);
}

/**
 * Parses libpq's `hostaddr` text: one numeric IP address per host, comma-separated; an empty
 * element means "look the host name up" for that host. Names are refused here, before any I/O
 * (libpq refuses them when it connects).
 *
 * @throws ConfigError with setting `hostaddr`; the message names the element's position.
 * @example
 * parseHostaddrText('10.0.0.1,::1', 'PGHOSTADDR'); // ['10.0.0.1', '::1']
 * parseHostaddrText('db', 'PGHOSTADDR');           // throws: not a numeric IP address
 */
export function parseHostaddrText(text: string, source: string): string | string[] {
  const elements = text.split(',');
  elements.forEach((element, index) => {
    if (element !== '' && ipAddressVersion(element) === 0) {
      const which = elements.length === 1 ? 'hostaddr' : `hostaddr element ${index + 1}`;
      throw new ConfigError(`${source}: ${which} is not a numeric IPv4 or IPv6 address`, { setting: 'hostaddr' });
    }
  });
  if (elements.length === 1 && elements[0] === '') {
    throw new ConfigError(`${source}: hostaddr must not be empty`, { setting: 'hostaddr' });
  }
  return elements.length === 1 ? elements[0]! : elements;
}

/**
 * Parses libpq's `port` text: one port, or a comma-separated list with one port per host,
 * whose empty elements mean the default port.
 *
 * @throws ConfigError with setting `port`.
 * @example
 * parsePortListText('5432,5433', 'PGPORT'); // [5432, 5433]
 * parsePortListText('5433', 'PGPORT');      // 5433
 */
export function parsePortListText(text: string, source: string): number | (number | undefined)[] {
  if (!text.includes(',')) return parsePortText(text, source);
  return text.split(',').map((element) => (element.trim() === '' ? undefined : parsePortText(element, source)));
}

/**
 * Checks a target_session_attrs value against libpq's.
 *
 * @throws ConfigError with setting `targetSessionAttrs`; the message lists the valid values.
 * @example
 * parseTargetSessionAttrs('read-write', 'PGTARGETSESSIONATTRS'); // 'read-write'
 */
export function parseTargetSessionAttrs(value: unknown, source: string): TargetSessionAttrs {
  if (typeof value !== 'string' || !(targetSessionAttrsValues as readonly string[]).includes(value)) {
    throw new ConfigError(`${source}: invalid target_session_attrs (expected one of ${targetSessionAttrsValues.join(', ')})`, {
      setting: 'targetSessionAttrs',
    });
  }
  return value as TargetSessionAttrs;
}

/**
 * Checks a load_balance_hosts value (`disable` or `random`).
 *
 * @throws ConfigError with setting `loadBalanceHosts`.
 * @example
 * parseLoadBalanceHosts('random', 'PGLOADBALANCEHOSTS'); // 'random'
 */
export function parseLoadBalanceHosts(value: unknown, source: string): LoadBalanceHosts {
  if (typeof value !== 'string' || !(loadBalanceHostsValues as readonly string[]).includes(value)) {
    throw new ConfigError(`${source}: invalid load_balance_hosts (expected one of ${loadBalanceHostsValues.join(', ')})`, {
      setting: 'loadBalanceHosts',
    });
  }
  return value as LoadBalanceHosts;
}

const decimalInteger = /^\s*(\d+)\s*$/;

/**
 * Parses a port number written as text (libpq's syntax: decimal digits, surrounding spaces
 * allowed) and checks it lies in 1..65535.
 *
 * @throws ConfigError with setting `port`; the message names `source` but not the value.
 * @example
 * parsePortText('5433', 'PGPORT'); // 5433
 * parsePortText('0', 'PGPORT');    // throws ConfigError (setting 'port')
 */
export function parsePortText(text: string, source: string): number {
  const match = decimalInteger.exec(text);
  const port = match === null ? Number.NaN : Number(match[1]);
  return checkPort(port, source);
}

/**
 * Checks that a port is an integer in 1..65535.
 *
 * @throws ConfigError with setting `port`.
 * @example
 * checkPort(5432, 'port'); // 5432
 */
export function checkPort(port: unknown, source: string): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`${source}: invalid port number (expected an integer from 1 to 65535)`, { setting: 'port' });
  }
  return port;
}

/**
 * Parses libpq's `connect_timeout` (whole seconds as decimal text) into milliseconds.
 * `0` means no limit. Unlike libpq, which treats negative values as "no limit" and raises
 * 1 to 2, rxpg rejects negative and non-integer text and keeps 1 second as 1000 ms.
 *
 * @throws ConfigError with setting `connectTimeout`.
 * @example
 * parseConnectTimeoutSeconds('10', 'PGCONNECT_TIMEOUT'); // 10000
 * parseConnectTimeoutSeconds('-1', 'PGCONNECT_TIMEOUT'); // throws ConfigError
 */
export function parseConnectTimeoutSeconds(text: string, source: string): number {
  const match = decimalInteger.exec(text);
  const seconds = match === null ? Number.NaN : Number(match[1]);
  if (!Number.isSafeInteger(seconds * 1000)) {
    throw new ConfigError(`${source}: invalid connect timeout (expected a whole, non-negative number of seconds)`, {
      setting: 'connectTimeout',
    });
  }
  return seconds * 1000;
}

/**
 * Parses rxpg's `statement_cache_size` keyword (decimal digits, surrounding spaces allowed):
 * how many prepared statements a connection keeps; `0` turns the cache off, as PgBouncer's
 * transaction mode needs.
 *
 * @throws ConfigError with setting `statementCacheSize`; the message names `source`, not the value.
 * @example
 * parseStatementCacheSize('0', 'connection string parameter "statement_cache_size"'); // 0
 * parseStatementCacheSize('-1', 'statement_cache_size');                              // throws ConfigError
 */
export function parseStatementCacheSize(text: string, source: string): number {
  const match = decimalInteger.exec(text);
  const size = match === null ? Number.NaN : Number(match[1]);
  if (!Number.isSafeInteger(size)) {
    throw new ConfigError(`${source}: invalid statement cache size (expected a whole number ≥ 0; 0 turns the cache off)`, {
      setting: 'statementCacheSize',
    });
  }
  return size;
}

/**
 * Parses libpq's `require_auth`: a comma-separated list of methods the server may ask for, or
 * (every entry prefixed with `!`) of methods it may not. Returns the allowed methods.
 *
 * @throws ConfigError with setting `requireAuth`: an unknown method, a method twice, an empty
 * list, or `!` on some entries but not others.
 * @example
 * parseRequireAuth('!password,!md5', 'require_auth'); // ['gss', 'sspi', 'scram-sha-256', 'none']
 */
export function parseRequireAuth(value: unknown, source: string): readonly AuthMethod[] {
  const fail = (problem: string): never => {
    throw new ConfigError(`${source}: ${problem} (require_auth takes ${authMethods.join(', ')}, optionally each with !)`, {
      setting: 'requireAuth',
    });
  };
  if (typeof value !== 'string' || value.trim() === '') return fail('an empty method list');
  const entries = value.split(',').map((entry) => entry.trim());
  const negated = entries.filter((entry) => entry.startsWith('!')).length;
  if (negated !== 0 && negated !== entries.length) fail('a list that mixes allowed and refused methods');
  const named = entries.map((entry) => entry.replace(/^!/, ''));
  for (const method of named) {
    if (!(authMethods as readonly string[]).includes(method)) fail(`unknown method "${method.slice(0, 40)}"`);
  }
  if (new Set(named).size !== named.length) fail('a method named twice');
  const methods = named as AuthMethod[];
  return Object.freeze(negated === 0 ? methods : authMethods.filter((method) => !methods.includes(method)));
}

/**
 * Checks a channel_binding value against {@link channelBindingModes}.
 *
 * @throws ConfigError with setting `channelBinding`; the message lists the valid values.
 * @example
 * parseChannelBinding('require', 'PGCHANNELBINDING'); // 'require'
 */
export function parseChannelBinding(value: unknown, source: string): ChannelBinding {
  if (typeof value !== 'string' || !(channelBindingModes as readonly string[]).includes(value)) {
    throw new ConfigError(`${source}: invalid channel_binding (expected one of ${channelBindingModes.join(', ')})`, {
      setting: 'channelBinding',
    });
  }
  return value as ChannelBinding;
}

/**
 * Reads libpq's `sslsni` (`PGSSLSNI`): `1` sends the host name as TLS SNI, `0` sends none.
 *
 * @throws ConfigError with setting `sslsni` for any other value.
 * @example
 * parseSslSni('0', 'PGSSLSNI'); // false
 */
export function parseSslSni(value: string, source: string): boolean {
  const match = /^\s*([01])\s*$/.exec(value);
  if (match === null) throw new ConfigError(`${source}: invalid sslsni value (expected 0 or 1)`, { setting: 'sslsni' });
  return match[1] === '1';
}

/**
 * Checks an sslmode value against {@link sslModes}.
 *
 * @throws ConfigError with setting `sslmode`; the message lists the valid values.
 * @example
 * parseSslMode('verify-full', 'PGSSLMODE'); // 'verify-full'
 * parseSslMode('on', 'PGSSLMODE');          // throws ConfigError
 */
export function parseSslMode(value: unknown, source: string): SslMode {
  if (typeof value !== 'string' || !(sslModes as readonly string[]).includes(value)) {
    throw new ConfigError(`${source}: invalid sslmode (expected one of ${sslModes.join(', ')})`, { setting: 'sslmode' });
  }
  return value as SslMode;
}

/**
 * Checks an sslnegotiation value against {@link sslNegotiations}.
 *
 * @throws ConfigError with setting `sslnegotiation`; the message lists the valid values.
 * @example
 * parseSslNegotiation('direct', 'PGSSLNEGOTIATION'); // 'direct'
 * parseSslNegotiation('fast', 'PGSSLNEGOTIATION');   // throws ConfigError
 */
export function parseSslNegotiation(value: unknown, source: string): SslNegotiation {
  if (typeof value !== 'string' || !(sslNegotiations as readonly string[]).includes(value)) {
    throw new ConfigError(`${source}: invalid sslnegotiation (expected one of ${sslNegotiations.join(', ')})`, {
      setting: 'sslnegotiation',
    });
  }
  return value as SslNegotiation;
}

/**
 * StartupMessage keys that are not runtime parameters: they are set through their own
 * settings (`user`, `database`, `options`, `applicationName`) or not supported (`replication`).
 */
const reservedParameterNames: ReadonlySet<string> = new Set(['user', 'database', 'options', 'application_name', 'replication']);

/**
 * Validates one runtime parameter for the StartupMessage: a non-empty name, no NUL byte in
 * the name or the value, not one of the keys that have their own setting (`user`,
 * `database`, `options`, `application_name`, `replication`), not a protocol extension
 * (`_pq_.` prefix), and not `client_encoding` or `DateStyle` (in any case), which rxpg's
 * decoders depend on.
 *
 * @throws ConfigError with setting `runtimeParameters`; the message names the parameter but
 * not its value.
 * @example
 * checkRuntimeParameter('TimeZone', 'UTC', 'runtimeParameters'); // ok
 * checkRuntimeParameter('user', 'bob', 'runtimeParameters');     // throws ConfigError
 */
export function checkRuntimeParameter(name: unknown, value: unknown, source: string): void {
  const setting = 'runtimeParameters';
  if (typeof name !== 'string' || name === '') {
    throw new ConfigError(`${source}: a runtime parameter name must be a non-empty string`, { setting });
  }
  assertNoNul(name, setting, `${source}: a runtime parameter name`);
  if (typeof value !== 'string') {
    throw new ConfigError(`${source}: runtime parameter "${name}" must have a string value`, { setting });
  }
  assertNoNul(value, setting, `${source}: the value of runtime parameter "${name}"`);
  if (reservedParameterNames.has(name)) {
    throw new ConfigError(`${source}: "${name}" is not a runtime parameter; use its own connection setting`, { setting });
  }
  if (name.startsWith('_pq_.')) {
    throw new ConfigError(`${source}: "${name}" is a protocol extension, not a runtime parameter`, { setting });
  }
  if (fixedParameterNames.has(name.toLowerCase())) {
    throw new ConfigError(
      `${source}: "${name}" cannot be changed: rxpg decodes text as UTF8 and dates in the ISO style, and sets both itself`,
      { setting },
    );
  }
}

/**
 * Runtime parameters that rxpg sends itself because its decoders depend on them. The server
 * matches names case-insensitively, so `Client_Encoding` would override them too.
 */
const fixedParameterNames: ReadonlySet<string> = new Set(['client_encoding', 'datestyle']);
