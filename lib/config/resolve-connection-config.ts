import { userInfo } from 'node:os';
import { ConfigError } from '../errors/config-error';
import {
  defaultCancelTimeout,
  defaultMaxMessageSize,
  type ConnectionConfig,
  type PasswordSource,
  type ResolvedConnectionConfig,
  type SslMode,
} from './connection-config';
import {
  assertNoNul,
  checkHost,
  checkPort,
  checkRuntimeParameter,
  parseHostaddrText,
  parseHostText,
  parseLoadBalanceHosts,
  parseSslMode,
  parseSslNegotiation,
  parseChannelBinding,
  parseRequireAuth,
  parseTargetSessionAttrs,
  type ConnectionSettings,
} from './connection-settings';
import { parseConnectionString } from './connection-string';
import { readEnvironmentSettings } from './environment';
import { readServiceSettings } from './service-file';
import { defaultHost, defaultPort, resolveHostEntries } from './host-list';
import { hideTlsPassphrases } from './hide-tls-passphrases';
import { defineHidden } from './define-hidden';

export { defaultHost, defaultPort };
/** libpq's default sslmode. */
export const defaultSslMode: SslMode = 'prefer';

/** Prepared statements kept per connection unless `statementCacheSize` says otherwise. */
export const defaultStatementCacheSize = 100;
/** Milliseconds of idleness before the first keepalive probe unless `keepAliveIdle` says otherwise. */
export const defaultKeepAliveIdle = 60_000;
/** The smallest `maxMessageSize` accepted: below this, ordinary server messages would not fit. */
export const minMaxMessageSize = 1024;
/** The largest `maxMessageSize` accepted: a message length is a signed 32-bit integer. */
export const maxMaxMessageSize = 2 ** 31 - 1;

const noSettings: ConnectionSettings = Object.freeze({});

/**
 * Merges connection settings into a complete, validated, frozen configuration.
 *
 * Precedence, per field: the explicit fields of `input` > its connection string (`input`
 * itself when it is a string, else `input.connectionString`) > the PG* environment variables
 * in `env` > defaults. Defaults: host `localhost`, port 5432, user = the OS user name
 * (`os.userInfo()`, else `env.USER` / `env.USERNAME`), database = the user, sslmode `prefer`
 * (but `verify-full` when sslrootcert is `system`, as in libpq 16), connectTimeout 0 (none),
 * maxMessageSize {@link defaultMaxMessageSize}, keepAlive true, no runtime parameters,
 * statementCacheSize 100 (a connection string's `statement_cache_size` sets it too), cancelTimeout {@link defaultCancelTimeout} (5000 ms; only the
 * config object sets it: connection strings and the environment have no such key).
 * `runtimeParameters` are merged key by key, explicit over connection string. The application
 * name falls back to the connection string's `fallback_application_name`. A string
 * `gssKrbToken` becomes its UTF-8 bytes.
 *
 * Every source is validated in full, even fields that a higher source overrides. The result
 * is frozen and its `password`, `sslpassword` and the private keys and passphrases in `tls` are
 * non-enumerable properties (see `hideTlsPassphrases`), so `JSON.stringify`, `util.inspect`
 * and `console.log` never show them. The only files read here are the service
 * files, when a service is named (`service`, the string's `service=`, or PGSERVICE): their
 * settings rank below the connection string's and above the environment's, as in libpq (see
 * `readServiceSettings`). keepAliveIdle defaults to 60000 ms (`keepalives_idle` in seconds).
 *
 * @throws ConfigError naming the setting: a malformed connection string or environment
 * variable (see `parseConnectionString`, `readEnvironmentSettings`); a port outside 1..65535;
 * an unknown sslmode; a negative or non-finite connectTimeout; a maxMessageSize that is not
 * an integer in 1024..2^31-1; a cancelTimeout that is not a positive, finite number; a NUL byte in the user, database, application name, options or
 * runtime parameters; startup values that do not fit in the server's 10000-byte
 * StartupMessage (setting `runtimeParameters`); an empty host, user or database; `sslnegotiation=direct` with an sslmode
 * weaker than `require` (setting `sslnegotiation`, libpq's rule); `sslrootcert=system` with an sslmode
 * other than `verify-full`; a field of the wrong type. Messages never contain the password.
 * @example
 * const config = resolveConnectionConfig('postgres://app@db.internal/shop?sslmode=verify-full', {});
 * config.host;          // 'db.internal'
 * config.port;          // 5432
 * config.sslmode;       // 'verify-full'
 * JSON.stringify(config).includes('password'); // false
 */
export function resolveConnectionConfig(input?: ConnectionConfig | string, env: NodeJS.ProcessEnv = process.env): ResolvedConnectionConfig {
  let explicit: ConnectionConfig;
  if (input === undefined || input === null) explicit = {};
  else if (typeof input === 'string') explicit = { connectionString: input };
  else if (typeof input === 'object') explicit = snapshot(input);
  else {
    throw new ConfigError('connection settings must be a connection string or an object', { setting: 'connectionString' });
  }

  checkExplicit(explicit);
  const fromString = explicit.connectionString === undefined ? noSettings : parseConnectionString(explicit.connectionString);
  const fromEnv = readEnvironmentSettings(env);
  // libpq's order: the service file fills what the connection string left unset, and only
  // then do the environment variables apply.
  const service = explicit.service ?? fromString.service ?? fromEnv.service;
  const fromService =
    service === undefined
      ? noSettings
      : readServiceSettings(service, explicit.serviceFile ?? fromString.serviceFile ?? fromEnv.serviceFile, env);

  const pick = <K extends keyof ConnectionSettings & keyof ConnectionConfig>(key: K) =>
    (explicit[key] ?? fromString[key] ?? fromService[key] ?? fromEnv[key]) as ConnectionSettings[K] & ConnectionConfig[K];

  // Each of host, hostaddr and port comes from its highest source on its own; libpq matches
  // the lists afterwards.
  const explicitHost = typeof explicit.host === 'string' ? parseHostText(explicit.host, 'host') : explicit.host;
  const explicitHostaddr = typeof explicit.hostaddr === 'string' ? parseHostaddrText(explicit.hostaddr, 'hostaddr') : explicit.hostaddr;
  const hosts = Object.freeze(
    resolveHostEntries(
      explicitHost ?? fromString.host ?? fromService.host ?? fromEnv.host,
      explicitHostaddr ?? fromString.hostaddr ?? fromService.hostaddr ?? fromEnv.hostaddr,
      explicit.port ?? fromString.port ?? fromService.port ?? fromEnv.port,
    ),
  );
  const first = hosts[0]!;

  const user = pick('user') ?? osUserName(env);
  const sslrootcert = pick('sslrootcert');
  const sslmode = pick('sslmode') ?? (sslrootcert === 'system' ? 'verify-full' : defaultSslMode);
  if (sslrootcert === 'system' && sslmode !== 'verify-full') {
    throw new ConfigError('sslrootcert=system (the system CA store) requires sslmode verify-full; weaker modes are refused', {
      setting: 'sslmode',
    });
  }
  const sslnegotiation = pick('sslnegotiation') ?? 'postgres';
  // libpq's rule: direct TLS has no plaintext fallback, so a mode that allows plaintext is
  // taken for a mistake rather than quietly strengthened.
  if (sslnegotiation === 'direct' && sslmode !== 'require' && sslmode !== 'verify-ca' && sslmode !== 'verify-full') {
    throw new ConfigError(
      `weak sslmode "${sslmode}" may not be used with sslnegotiation=direct (use "require", "verify-ca", or "verify-full")`,
      { setting: 'sslnegotiation' },
    );
  }

  const runtimeParameters: Record<string, string> = {};
  for (const source of [fromString.runtimeParameters, explicit.runtimeParameters]) {
    if (source === undefined) continue;
    for (const name of Object.keys(source)) {
      Object.defineProperty(runtimeParameters, name, { value: source[name], enumerable: true, writable: true, configurable: true });
    }
  }

  const gssKrbToken = explicit.gssKrbToken;
  const resolved = {
    host: first.host,
    port: first.port,
    hostaddr: first.hostaddr,
    hosts,
    targetSessionAttrs: pick('targetSessionAttrs') ?? 'any',
    channelBinding: pick('channelBinding') ?? 'prefer',
    requireAuth:
      explicit.requireAuth !== undefined
        ? parseRequireAuth(explicit.requireAuth, 'requireAuth')
        : (fromString.requireAuth ?? fromService.requireAuth ?? fromEnv.requireAuth),
    loadBalanceHosts: pick('loadBalanceHosts') ?? 'disable',
    user,
    database: pick('database') ?? user,
    applicationName: pick('applicationName') ?? fromString.fallbackApplicationName ?? fromService.fallbackApplicationName,
    options: pick('options'),
    runtimeParameters: Object.freeze(runtimeParameters),
    sslmode,
    sslnegotiation,
    sslrootcert,
    sslcert: pick('sslcert'),
    sslkey: pick('sslkey'),
    sslsni: pick('sslsni') ?? true,
    sslcrl: pick('sslcrl'),
    tls: hideTlsPassphrases(explicit.tls),
    connectTimeout: pick('connectTimeout') ?? 0,
    passfile: pick('passfile'),
    gssKrbToken:
      gssKrbToken === undefined
        ? undefined
        : typeof gssKrbToken === 'string'
          ? new TextEncoder().encode(gssKrbToken)
          : Uint8Array.from(gssKrbToken),
    maxMessageSize: explicit.maxMessageSize ?? defaultMaxMessageSize,
    keepAlive: pick('keepAlive') ?? true,
    keepAliveIdle: pick('keepAliveIdle') ?? defaultKeepAliveIdle,
    service,
    signal: explicit.signal,
    bigint: explicit.bigint ?? false,
    statementCacheSize: pick('statementCacheSize') ?? defaultStatementCacheSize,
    cancelTimeout: explicit.cancelTimeout ?? defaultCancelTimeout,
  };
  const password: PasswordSource | undefined = explicit.password ?? fromString.password ?? fromService.password ?? fromEnv.password;
  checkStartupValues(resolved, password);
  defineHidden(resolved, 'password', password);
  defineHidden(resolved, 'sslpassword', pick('sslpassword'));
  return Object.freeze(resolved) as ResolvedConnectionConfig;
}

/** Every field of {@link ConnectionConfig}, so that {@link snapshot} cannot miss a new one. */
const connectionConfigFields = Object.keys({
  connectionString: true,
  host: true,
  port: true,
  hostaddr: true,
  targetSessionAttrs: true,
  channelBinding: true,
  requireAuth: true,
  loadBalanceHosts: true,
  user: true,
  password: true,
  database: true,
  applicationName: true,
  options: true,
  runtimeParameters: true,
  sslmode: true,
  sslnegotiation: true,
  sslrootcert: true,
  sslcert: true,
  sslkey: true,
  sslpassword: true,
  sslsni: true,
  sslcrl: true,
  tls: true,
  connectTimeout: true,
  passfile: true,
  gssKrbToken: true,
  maxMessageSize: true,
  keepAlive: true,
  keepAliveIdle: true,
  service: true,
  serviceFile: true,
  signal: true,
  bigint: true,
  statementCacheSize: true,
  cancelTimeout: true,
} satisfies Record<keyof ConnectionConfig, true>) as (keyof ConnectionConfig)[];

/**
 * Reads each field of the caller's object once, and copies `runtimeParameters`, so that what
 * is validated is what is used: a getter or a Proxy that answers differently the second time
 * could otherwise slip a NUL byte past the checks into the StartupMessage.
 */
function snapshot(input: ConnectionConfig): ConnectionConfig {
  const copy: Record<string, unknown> = {};
  for (const field of connectionConfigFields) {
    const value: unknown = input[field];
    if (value !== undefined) copy[field] = value;
  }
  const parameters = copy.runtimeParameters;
  if (typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters)) {
    const parametersCopy: Record<string, unknown> = {};
    for (const name of Object.keys(parameters)) {
      // defineProperty, not assignment: a key such as `__proto__` must stay plain data.
      const value: unknown = (parameters as Record<string, unknown>)[name];
      Object.defineProperty(parametersCopy, name, { value, enumerable: true, writable: true, configurable: true });
    }
    copy.runtimeParameters = parametersCopy;
  }
  for (const field of ['host', 'port', 'hostaddr'] as const) {
    if (Array.isArray(copy[field])) copy[field] = [...(copy[field] as unknown[])];
  }
  return copy;
}

/**
 * The one rule for what goes into the StartupMessage, applied to the merged result whatever
 * its source: no NUL byte in the user, database, application name, options, or a runtime
 * parameter's name or value (the protocol ends each of them at a NUL, so one inside would
 * cut the value short and inject another startup parameter, e.g. `application_name:
 * 'x\0user\0admin'`). A password that is a string must not hold one either, since it cannot
 * be sent. Each source is checked as it is read too; this guards the result. The values must
 * also fit in the server's 10000-byte StartupMessage, which it would refuse after connecting.
 */
function checkStartupValues(
  resolved: Pick<ResolvedConnectionConfig, 'user' | 'database' | 'applicationName' | 'options' | 'runtimeParameters'>,
  password: PasswordSource | undefined,
): void {
  assertNoNul(resolved.user, 'user', 'the user name');
  assertNoNul(resolved.database, 'database', 'the database name');
  if (resolved.applicationName !== undefined) assertNoNul(resolved.applicationName, 'applicationName', 'the application name');
  if (resolved.options !== undefined) assertNoNul(resolved.options, 'options', 'the options');
  for (const name of Object.keys(resolved.runtimeParameters)) {
    checkRuntimeParameter(name, resolved.runtimeParameters[name], 'runtimeParameters');
  }
  if (typeof password === 'string') assertNoNul(password, 'password', 'the password');

  const entries: [string, string | undefined][] = [
    ['user', resolved.user],
    ['database', resolved.database],
    ['application_name', resolved.applicationName],
    ['options', resolved.options],
    ...Object.entries(resolved.runtimeParameters),
  ];
  let size = startupMessageReserve;
  for (const [name, value] of entries) {
    if (value !== undefined) size += Buffer.byteLength(name) + Buffer.byteLength(value) + 2;
  }
  if (size > maxStartupMessageSize) {
    throw new ConfigError(
      `the startup parameters (user, database, application name, options, runtime parameters) need a StartupMessage of about ${size} bytes; the server accepts at most ${maxStartupMessageSize}`,
      { setting: 'runtimeParameters' },
    );
  }
}

/** The server's MAX_STARTUP_PACKET_LENGTH: a longer StartupMessage is refused. */
const maxStartupMessageSize = 10000;
/**
 * Bytes of the StartupMessage that are not the caller's: length, protocol version, the final
 * NUL, and the parameters connect always adds (client_encoding, DateStyle), with room to spare.
 */
const startupMessageReserve = 64;

/** The OS user name, as libpq's default user. */
function osUserName(env: NodeJS.ProcessEnv): string {
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (e.g. a container running with an arbitrary uid).
  }
  name = name || env.USER || env.USERNAME;
  if (!name) {
    throw new ConfigError('no user name given and the OS user name is unknown; set user or PGUSER', { setting: 'user' });
  }
  return name;
}

const stringFields = [
  'connectionString',
  'user',
  'database',
  'applicationName',
  'options',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'sslpassword',
  'sslcrl',
  'passfile',
  'service',
  'serviceFile',
] as const;
const nonEmptyFields: ReadonlySet<string> = new Set([
  'user',
  'database',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'sslcrl',
  'passfile',
  'service',
  'serviceFile',
]);

/** Validates the explicitly given fields' types and values. */
function checkExplicit(config: ConnectionConfig): void {
  for (const field of stringFields) {
    const value: unknown = config[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new ConfigError(`${field} must be a string`, { setting: field });
    if (nonEmptyFields.has(field) && value === '') throw new ConfigError(`${field} must not be empty`, { setting: field });
    if (field !== 'connectionString') assertNoNul(value, field, field);
  }
  checkListField(
    config.host,
    'host',
    (value) => {
      if (typeof value !== 'string') throw new ConfigError('host must be a string or an array of strings', { setting: 'host' });
      assertNoNul(value, 'host', 'host');
    },
    (value, field) => {
      if (typeof value !== 'string') throw new ConfigError(`${field} must be a string`, { setting: 'host' });
      checkHost(value, field);
    },
  );
  checkListField(
    config.hostaddr,
    'hostaddr',
    (value) => {
      if (typeof value !== 'string') throw new ConfigError('hostaddr must be a string or an array of strings', { setting: 'hostaddr' });
    },
    (value, field) => {
      if (typeof value !== 'string' || value.includes(','))
        throw new ConfigError(`${field} must be a string without commas`, { setting: 'hostaddr' });
      parseHostaddrText(value, field);
    },
  );
  checkListField(
    config.port,
    'port',
    (value) => checkPort(value, 'port'),
    (value, field) => checkPort(value, field),
  );
  if (config.sslmode !== undefined) parseSslMode(config.sslmode, 'sslmode');
  if (config.sslnegotiation !== undefined) parseSslNegotiation(config.sslnegotiation, 'sslnegotiation');
  if (config.targetSessionAttrs !== undefined) parseTargetSessionAttrs(config.targetSessionAttrs, 'targetSessionAttrs');
  if (config.channelBinding !== undefined) parseChannelBinding(config.channelBinding, 'channelBinding');
  if (config.requireAuth !== undefined) parseRequireAuth(config.requireAuth, 'requireAuth');
  if (config.loadBalanceHosts !== undefined) parseLoadBalanceHosts(config.loadBalanceHosts, 'loadBalanceHosts');

  const password: unknown = config.password;
  if (password !== undefined) {
    if (typeof password === 'string') assertNoNul(password, 'password', 'the password');
    else if (typeof password !== 'function') {
      throw new ConfigError('password must be a string or a function returning one', { setting: 'password' });
    }
  }

  const parameters: unknown = config.runtimeParameters;
  if (parameters !== undefined) {
    if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
      throw new ConfigError('runtimeParameters must be an object of strings', { setting: 'runtimeParameters' });
    }
    for (const name of Object.keys(parameters)) {
      checkRuntimeParameter(name, (parameters as Record<string, unknown>)[name], 'runtimeParameters');
    }
  }

  const timeout: unknown = config.connectTimeout;
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0)) {
    throw new ConfigError('connectTimeout must be a non-negative number of milliseconds (0 for none)', {
      setting: 'connectTimeout',
    });
  }

  const size: unknown = config.maxMessageSize;
  if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size) || size < minMaxMessageSize || size > maxMaxMessageSize)) {
    throw new ConfigError(`maxMessageSize must be an integer from ${minMaxMessageSize} to ${maxMaxMessageSize}`, {
      setting: 'maxMessageSize',
    });
  }

  const cacheSize: unknown = config.statementCacheSize;
  if (cacheSize !== undefined && (typeof cacheSize !== 'number' || !Number.isInteger(cacheSize) || cacheSize < 0)) {
    throw new ConfigError('statementCacheSize must be a non-negative integer', { setting: 'statementCacheSize' });
  }

  const cancelTimeout: unknown = config.cancelTimeout;
  if (cancelTimeout !== undefined && (typeof cancelTimeout !== 'number' || !Number.isFinite(cancelTimeout) || cancelTimeout <= 0)) {
    throw new ConfigError('cancelTimeout must be a positive, finite number of milliseconds', { setting: 'cancelTimeout' });
  }

  if (config.bigint !== undefined && typeof config.bigint !== 'boolean') {
    throw new ConfigError('bigint must be a boolean', { setting: 'bigint' });
  }

  if (config.sslsni !== undefined && typeof config.sslsni !== 'boolean') {
    throw new ConfigError('sslsni must be a boolean', { setting: 'sslsni' });
  }
  const idle: unknown = config.keepAliveIdle;
  if (idle !== undefined && (typeof idle !== 'number' || !Number.isInteger(idle) || idle < 0)) {
    throw new ConfigError('keepAliveIdle must be a non-negative integer number of milliseconds', { setting: 'keepAliveIdle' });
  }

  if (config.keepAlive !== undefined && typeof config.keepAlive !== 'boolean') {
    throw new ConfigError('keepAlive must be a boolean', { setting: 'keepAlive' });
  }

  const token: unknown = config.gssKrbToken;
  if (token !== undefined && typeof token !== 'string' && !(token instanceof Uint8Array)) {
    throw new ConfigError('gssKrbToken must be a string or a Uint8Array', { setting: 'gssKrbToken' });
  }

  const tls: unknown = config.tls;
  if (tls !== undefined && (typeof tls !== 'object' || tls === null)) {
    throw new ConfigError('tls must be an object of Node TLS options', { setting: 'tls' });
  }

  const signal: unknown = config.signal;
  if (
    signal !== undefined &&
    (typeof signal !== 'object' ||
      signal === null ||
      typeof (signal as AbortSignal).aborted !== 'boolean' ||
      typeof (signal as AbortSignal).addEventListener !== 'function')
  ) {
    throw new ConfigError('signal must be an AbortSignal', { setting: 'signal' });
  }
}

/**
 * Validates a field that takes one value or a non-empty array of values (`host`, `hostaddr`,
 * `port`): `checkOne` for a single value, `checkElement` for each element of an array.
 */
function checkListField(
  value: unknown,
  setting: string,
  checkOne: (value: unknown) => void,
  checkElement: (value: unknown, field: string) => void,
): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    checkOne(value);
    return;
  }
  if (value.length === 0) throw new ConfigError(`${setting} must not be an empty array`, { setting });
  value.forEach((element: unknown, index) => checkElement(element, `${setting}[${index}]`));
}
