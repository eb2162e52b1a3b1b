import { ConfigError } from '../errors/config-error';
import {
  assertNoNul,
  checkRuntimeParameter,
  freezeSettings,
  parseConnectTimeoutSeconds,
  parseHostaddrText,
  parseHostText,
  parseLoadBalanceHosts,
  parsePortListText,
  parseStatementCacheSize,
  parseSslMode,
  parseSslSni,
  parseSslNegotiation,
  parseChannelBinding,
  parseRequireAuth,
  parseTargetSessionAttrs,
  type ConnectionSettings,
  type MutableConnectionSettings,
} from './connection-settings';

// Why not pg-connection-string: it reads the sslcert/sslkey/sslrootcert files with
// readFileSync while parsing (and fails on a missing file libpq would skip), prints a process
// warning for some sslmodes, decodes the database name with decodeURI (so %2F stays encoded,
// unlike libpq), treats `+` in query values as a space, and has no keyword/value syntax. This
// file follows libpq's grammar for both forms instead (PostgreSQL docs, "Connection Strings").

/**
 * libpq keywords rxpg understands but does not implement. Each maps to the values that mean
 * "libpq's default behaviour" (for the socket options, `0`: the system's default), which are
 * therefore accepted; any other value (for example `sslcrldir=...` or `keepalives_count=3`)
 * is a {@link ConfigError}: silently dropping a setting the caller asked for — a security
 * setting above all — would be worse than refusing it.
 */
const unimplementedKeywords: ReadonlyMap<string, readonly string[] | 'any'> = new Map(
  Object.entries({
    keepalives_interval: ['0'],
    keepalives_count: ['0'],
    tcp_user_timeout: ['0'],
    sslcompression: ['0'],
    sslkeylogfile: [],
    krbsrvname: ['postgres'],
    gsslib: ['gssapi'],
    gssdelegation: ['0'],
    gssencmode: ['disable', 'prefer'],
    sslcertmode: ['allow'],
    min_protocol_version: ['3.0'],
    max_protocol_version: ['3.0', 'latest'],
    requirepeer: [],
    replication: [],
    sslcrldir: [],
    ssl_min_protocol_version: [],
    ssl_max_protocol_version: [],
    scram_client_key: [],
    scram_server_key: [],
    oauth_issuer: [],
    oauth_client_id: [],
    oauth_client_secret: [],
    oauth_scope: [],
  } satisfies Record<string, readonly string[] | 'any'>),
);

/**
 * Accepts a libpq keyword that rxpg does not implement when its value is libpq's default,
 * and refuses any other value (see `unimplementedKeywords`). Keywords rxpg does not know at
 * all are not checked here.
 *
 * @throws ConfigError with the keyword as `setting`; the message names `source`, never the value.
 * @example
 * checkUnimplementedKeyword('gssencmode', 'disable', 'PGGSSENCMODE'); // ok
 * checkUnimplementedKeyword('sslcrldir', '/crl', 'PGSSLCRLDIR');     // throws ConfigError
 */
export function checkUnimplementedKeyword(keyword: string, value: string, source: string): void {
  const accepted = unimplementedKeywords.get(keyword);
  if (accepted === undefined || accepted === 'any' || accepted.includes(value)) return;
  throw new ConfigError(`${source}: this libpq option is not supported by rxpg`, { setting: keyword });
}

const utf8EncodingNames: ReadonlySet<string> = new Set(['utf8', 'utf-8', 'unicode', 'auto']);

/** Keywords whose empty value is meaningful; for every other keyword, empty means "not set". */
const keepEmpty: ReadonlySet<string> = new Set(['application_name', 'fallback_application_name', 'options']);

/**
 * Parses a connection string into the settings it gives. Two forms are accepted, as in libpq:
 *
 * - a URL, `postgres://` or `postgresql://`:
 *   `postgresql://[user[:password]@][host][:port][/dbname][?key=value&...]`. User, password,
 *   host, database and query keys/values are percent-decoded (`+` stays a plus, as in libpq).
 *   The host may be an IPv6 literal in brackets (`[::1]`), or a percent-encoded socket
 *   directory (`postgres://%2Fvar%2Frun%2Fpostgresql/db`); a `host` query parameter overrides
 *   the URL's host (`postgres:///db?host=/var/run/postgresql`). Query parameters override the
 *   URL's own parts. `ssl=true` means `sslmode=require` (libpq's JDBC compatibility rule).
 * - a libpq keyword/value string: `host=localhost port=5432 dbname=app`, with single-quoted
 *   values (`password='a b\'c'`) and backslash escapes.
 *
 * Keywords: `host`, `hostaddr`, `port`, `target_session_attrs`, `load_balance_hosts`, `dbname`, `user`, `password`, `passfile`, `options`,
 * `application_name`, `fallback_application_name`, `sslmode`, `sslrootcert`, `sslcert`,
 * `sslkey`, `sslpassword` (non-enumerable, like the password), `sslsni` (0/1), `sslcrl`, `connect_timeout` (seconds, converted to milliseconds), `keepalives` (0/1),
 * `keepalives_idle` (seconds, converted to milliseconds; Node cannot set `keepalives_interval`
 * and `keepalives_count`, so they are accepted only as `0`, the system's default), `service` and
 * `servicefile` (see `readServiceSettings`),
 * `client_encoding` (only UTF-8 is accepted), and rxpg's own `statement_cache_size` (prepared
 * statements kept per connection, `statementCacheSize`; `0` for PgBouncer's transaction
 * mode). Other libpq keywords that rxpg does not
 * implement are accepted only with their default value and otherwise rejected.
 *
 * Unknown keys are NOT rejected as libpq would: like pgx and postgres.js, rxpg sends them as
 * runtime parameters in the StartupMessage (`?TimeZone=UTC&search_path=app`), so the server
 * validates them. `database` and `_pq_.*` are refused (use `dbname`).
 *
 * Several hosts, as in libpq: `host=a,b port=5432,5433` (one port for all hosts, or one per
 * host; empty elements mean the default), `hostaddr=` lists, and URLs with several
 * `host:port` pairs (`postgres://a:5432,b:5433/db`). `target_session_attrs` and
 * `load_balance_hosts` choose among them (see `ConnectionConfig`).
 *
 * @throws ConfigError for a malformed string, a bad percent-encoding, a port outside
 * 1..65535, an unknown sslmode, a negative or non-integer connect_timeout, a NUL byte, an
 * unsupported libpq option value. `setting` names the field at fault (`port`, `sslmode`,
 * `connectTimeout`, `host`, `user`, `password`, `database`, or `connectionString` for the
 * syntax). Messages never contain the password nor any other value from the string; they may
 * name a keyword.
 * @example
 * parseConnectionString('postgres://app:s%40cret@[::1]:5433/shop?sslmode=require&connect_timeout=5');
 * // { host: '::1', port: 5433, user: 'app', database: 'shop', sslmode: 'require',
 * //   connectTimeout: 5000 } (password 's@cret', non-enumerable)
 * parseConnectionString("host=/tmp dbname=shop application_name='my app'");
 */
export function parseConnectionString(connectionString: string): ConnectionSettings {
  if (typeof connectionString !== 'string') {
    throw new ConfigError('the connection string must be a string', { setting: 'connectionString' });
  }
  const builder = new SettingsBuilder();
  const scheme = /^(postgres(?:ql)?):\/\//i.exec(connectionString);
  if (scheme !== null) {
    parseUrl(connectionString.slice(scheme[0].length), builder);
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(connectionString)) {
    throw new ConfigError('unsupported connection URL scheme (expected postgres:// or postgresql://)', {
      setting: 'connectionString',
    });
  } else {
    parseKeywordValue(connectionString, builder);
  }
  return builder.build();
}

/**
 * Builds settings from keyword/value pairs that are already unquoted, later pairs overriding
 * earlier ones, with the same rules as a connection string's keywords. For service files.
 *
 * @throws ConfigError as {@link parseConnectionString}, `source` naming where a pair came from.
 * @example
 * parseConnectionKeywords([['host', 'db'], ['port', '5433']], 'service file "a", line');
 */
export function parseConnectionKeywords(pairs: Iterable<readonly [string, string]>, source: string): ConnectionSettings {
  const builder = new SettingsBuilder();
  for (const [keyword, value] of pairs) builder.apply(keyword, value, `${source}: parameter "${keyword}"`);
  return builder.build();
}

/** Accumulates settings from keywords, later keywords overriding earlier ones. */
class SettingsBuilder {
  private readonly settings: MutableConnectionSettings = {};
  private readonly runtimeParameters: Record<string, string> = {};
  private hasRuntimeParameters = false;

  /**
   * Applies one libpq keyword (already unquoted / percent-decoded). An empty value means "not
   * set" (libpq's rule) except for the keywords in `keepEmpty` and for runtime parameters.
   */
  apply(keyword: string, value: string, source = `connection string parameter "${keyword}"`): void {
    if (value === '' && !keepEmpty.has(keyword)) {
      const field = clearedByEmptyValue.get(keyword);
      if (field !== undefined) {
        delete this.settings[field];
        return;
      }
      if (keyword === 'client_encoding' || unimplementedKeywords.has(keyword)) return;
    }
    const s = this.settings;
    switch (keyword) {
      case 'host':
        s.host = parseHostText(value, source);
        return;
      case 'hostaddr':
        s.hostaddr = parseHostaddrText(value, source);
        return;
      case 'port':
        s.port = parsePortListText(value, source);
        return;
      case 'target_session_attrs':
        s.targetSessionAttrs = parseTargetSessionAttrs(value, source);
        return;
      case 'channel_binding':
        s.channelBinding = parseChannelBinding(value, source);
        return;
      case 'require_auth':
        s.requireAuth = parseRequireAuth(value, source);
        return;
      case 'load_balance_hosts':
        s.loadBalanceHosts = parseLoadBalanceHosts(value, source);
        return;
      case 'dbname':
        assertNoNul(value, 'database', `${source}: the database name`);
        s.database = value;
        return;
      case 'user':
        assertNoNul(value, 'user', `${source}: the user name`);
        s.user = value;
        return;
      case 'password':
        assertNoNul(value, 'password', `${source}: the password`);
        s.password = value;
        return;
      case 'passfile':
        assertNoNul(value, 'passfile', `${source}: the password file path`);
        s.passfile = value;
        return;
      case 'options':
        assertNoNul(value, 'options', `${source}: the options`);
        s.options = value;
        return;
      case 'application_name':
        assertNoNul(value, 'applicationName', `${source}: the application name`);
        s.applicationName = value;
        return;
      case 'fallback_application_name':
        assertNoNul(value, 'applicationName', `${source}: the application name`);
        s.fallbackApplicationName = value;
        return;
      case 'sslmode':
        s.sslmode = parseSslMode(value, source);
        return;
      case 'sslnegotiation':
        s.sslnegotiation = parseSslNegotiation(value, source);
        return;
      case 'ssl':
        if (value !== 'true') {
          throw new ConfigError(`${source}: only ssl=true (meaning sslmode=require) is understood; use sslmode`, {
            setting: 'sslmode',
          });
        }
        s.sslmode = 'require';
        return;
      case 'sslrootcert':
      case 'sslcert':
      case 'sslkey':
      case 'sslcrl':
        assertNoNul(value, keyword, `${source}: the path`);
        s[keyword] = value;
        return;
      case 'sslpassword':
        assertNoNul(value, 'sslpassword', `${source}: the key passphrase`);
        s.sslpassword = value;
        return;
      case 'sslsni':
        s.sslsni = parseSslSni(value, source);
        return;
      case 'connect_timeout':
        s.connectTimeout = parseConnectTimeoutSeconds(value, source);
        return;
      case 'statement_cache_size':
        s.statementCacheSize = parseStatementCacheSize(value, source);
        return;
      case 'keepalives_idle': {
        const match = /^\s*(\d+)\s*$/.exec(value);
        if (match === null) {
          throw new ConfigError(`${source}: invalid keepalives_idle value (expected whole seconds)`, { setting: 'keepAliveIdle' });
        }
        s.keepAliveIdle = Number(match[1]) * 1000;
        return;
      }
      case 'service':
        assertNoNul(value, 'service', `${source}: the service name`);
        s.service = value;
        return;
      case 'servicefile':
        assertNoNul(value, 'serviceFile', `${source}: the service file path`);
        s.serviceFile = value;
        return;
      case 'keepalives': {
        const match = /^\s*(\d+)\s*$/.exec(value);
        if (match === null) {
          throw new ConfigError(`${source}: invalid keepalives value (expected 0 or 1)`, { setting: 'keepAlive' });
        }
        s.keepAlive = Number(match[1]) !== 0;
        return;
      }
      case 'client_encoding':
        if (!utf8EncodingNames.has(value.toLowerCase())) {
          throw new ConfigError(`${source}: rxpg only supports the UTF8 client encoding`, { setting: 'client_encoding' });
        }
        return;
    }
    if (unimplementedKeywords.has(keyword)) {
      checkUnimplementedKeyword(keyword, value, source);
      return;
    }
    checkRuntimeParameter(keyword, value, source);
    // defineProperty, not assignment: a key such as `__proto__` must stay plain data.
    Object.defineProperty(this.runtimeParameters, keyword, { value, enumerable: true, writable: true, configurable: true });
    this.hasRuntimeParameters = true;
  }

  build(): ConnectionSettings {
    if (this.hasRuntimeParameters) this.settings.runtimeParameters = this.runtimeParameters;
    return freezeSettings(this.settings);
  }
}

/** The settings field each keyword sets, cleared again when a later occurrence is empty. */
const clearedByEmptyValue: ReadonlyMap<string, keyof MutableConnectionSettings> = new Map(
  Object.entries({
    host: 'host',
    hostaddr: 'hostaddr',
    port: 'port',
    target_session_attrs: 'targetSessionAttrs',
    channel_binding: 'channelBinding',
    require_auth: 'requireAuth',
    load_balance_hosts: 'loadBalanceHosts',
    dbname: 'database',
    user: 'user',
    password: 'password',
    passfile: 'passfile',
    sslmode: 'sslmode',
    ssl: 'sslmode',
    sslrootcert: 'sslrootcert',
    sslcert: 'sslcert',
    sslkey: 'sslkey',
    sslpassword: 'sslpassword',
    sslsni: 'sslsni',
    sslcrl: 'sslcrl',
    connect_timeout: 'connectTimeout',
    keepalives: 'keepAlive',
    keepalives_idle: 'keepAliveIdle',
    service: 'service',
    servicefile: 'serviceFile',
    statement_cache_size: 'statementCacheSize',
  } satisfies Record<string, keyof MutableConnectionSettings>),
);

/** Percent-decodes one URL part; `+` is kept. Invalid escapes, bad UTF-8 and %00 are errors. */
function percentDecode(text: string, setting: string, what: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    // The URIError says nothing useful and must not be kept: callers could log it.
    throw new ConfigError(`invalid percent-encoding in the ${what} of the connection URL`, { setting });
  }
  assertNoNul(decoded, setting, `the ${what} of the connection URL`);
  return decoded;
}

/**
 * Parses what follows `postgres://`. The authority ends at the first `/` or `?`; within it the
 * LAST `@` ends the user info, so an unencoded `@` in a user name (`user@tenant`) still works.
 * `#` has no special meaning (libpq has no fragments).
 */
function parseUrl(rest: string, builder: SettingsBuilder): void {
  const urlPart = 'the connection URL';
  const authorityEnd = firstIndexOf(rest, ['/', '?']);
  const authority = rest.slice(0, authorityEnd);
  let after = rest.slice(authorityEnd);

  const at = authority.lastIndexOf('@');
  const hostPort = at === -1 ? authority : authority.slice(at + 1);
  if (at !== -1) {
    const userInfo = authority.slice(0, at);
    const colon = userInfo.indexOf(':');
    const user = colon === -1 ? userInfo : userInfo.slice(0, colon);
    if (user !== '') builder.apply('user', percentDecode(user, 'user', 'user name'), urlPart);
    if (colon !== -1) {
      const password = userInfo.slice(colon + 1);
      if (password !== '') builder.apply('password', percentDecode(password, 'password', 'password'), urlPart);
    }
  }

  // Several `host[:port]` pairs may be separated by commas. As libpq does, the hosts and the
  // ports are joined into two comma-separated lists, so that `a:1,b` gives b the default port
  // (an empty element) and a list of several hosts always sets the ports (PGPORT is then unused).
  const hosts: string[] = [];
  const ports: string[] = [];
  let remaining = hostPort;
  for (;;) {
    let host: string;
    let port = '';
    if (remaining.startsWith('[')) {
      const close = remaining.indexOf(']');
      if (close === -1) {
        throw new ConfigError('malformed IPv6 address in the connection URL (missing "]")', { setting: 'host' });
      }
      host = remaining.slice(1, close);
      if (host === '') throw new ConfigError('empty IPv6 address in the connection URL', { setting: 'host' });
      remaining = remaining.slice(close + 1);
      if (remaining !== '' && !remaining.startsWith(':') && !remaining.startsWith(',')) {
        throw new ConfigError('unexpected text after the IPv6 address in the connection URL', { setting: 'host' });
      }
    } else {
      const end = firstIndexOf(remaining, [':', ',']);
      host = remaining.slice(0, end);
      remaining = remaining.slice(end);
    }
    if (remaining.startsWith(':')) {
      const end = firstIndexOf(remaining, [',']);
      port = remaining.slice(1, end);
      remaining = remaining.slice(end);
    }
    hosts.push(percentDecode(host, 'host', 'host'));
    ports.push(port);
    if (!remaining.startsWith(',')) break;
    remaining = remaining.slice(1);
  }
  const hostList = hosts.join(',');
  const portList = ports.join(',');
  if (hostList !== '') builder.apply('host', hostList, urlPart);
  if (portList !== '') builder.apply('port', portList, urlPart);

  if (after.startsWith('/')) {
    const queryStart = after.indexOf('?');
    const path = queryStart === -1 ? after.slice(1) : after.slice(1, queryStart);
    after = queryStart === -1 ? '' : after.slice(queryStart);
    if (path !== '') builder.apply('dbname', percentDecode(path, 'database', 'database name'), urlPart);
  }

  if (after.startsWith('?')) {
    for (const pair of after.slice(1).split('&')) {
      if (pair === '') continue;
      const equals = pair.indexOf('=');
      if (equals <= 0) {
        throw new ConfigError('malformed query parameter in the connection URL (expected key=value)', {
          setting: 'connectionString',
        });
      }
      const key = percentDecode(pair.slice(0, equals), 'connectionString', 'query parameter name');
      const value = percentDecode(pair.slice(equals + 1), key === 'password' ? 'password' : 'connectionString', 'query parameter value');
      builder.apply(key, value);
    }
  }
}

function firstIndexOf(text: string, characters: readonly string[]): number {
  let first = text.length;
  for (const character of characters) {
    const index = text.indexOf(character);
    if (index !== -1 && index < first) first = index;
  }
  return first;
}

const isSpace = (character: string | undefined): boolean => character !== undefined && /\s/.test(character);

/**
 * Parses libpq's keyword/value syntax: `keyword = value` pairs separated by white space;
 * a value is either single-quoted (with `\'` and `\\` escapes) or runs to the next white
 * space (with backslash escapes). Errors never quote the text, which may hold a password.
 */
function parseKeywordValue(text: string, builder: SettingsBuilder): void {
  let i = 0;
  let count = 0;
  const fail = (problem: string): never => {
    throw new ConfigError(`malformed connection string: ${problem} (in setting number ${count})`, {
      setting: 'connectionString',
    });
  };
  for (;;) {
    while (isSpace(text[i])) i++;
    if (i >= text.length) return;
    count++;
    const keywordStart = i;
    while (i < text.length && text[i] !== '=' && !isSpace(text[i])) i++;
    const keyword = text.slice(keywordStart, i);
    while (isSpace(text[i])) i++;
    if (text[i] !== '=') fail('expected "=" after a keyword');
    if (keyword === '') fail('missing keyword before "="');
    i++;
    while (isSpace(text[i])) i++;
    let value = '';
    if (text[i] === "'") {
      i++;
      for (;;) {
        if (i >= text.length) fail('unterminated quoted value');
        const character = text[i];
        if (character === '\\' && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else if (character === "'") {
          i++;
          break;
        } else {
          value += character;
          i++;
        }
      }
    } else {
      while (i < text.length && !isSpace(text[i])) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
    }
    builder.apply(keyword, value);
  }
}
