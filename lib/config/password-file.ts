import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors/config-error';
import type { ResolvedConnectionConfig } from './connection-config';
import { isUnixSocketHost } from './connection-settings';

// Why not the `pgpass` package: it only reads the file named by process.env (PGPASSFILE or
// HOME), so it cannot honour a `passfile` setting; it writes warnings to stderr (rxpg prints
// nothing by default); it reads process.env.PGPASSWORD itself; and its line splitter
// mishandles `\\:` and comment lines. The format is small, so it is parsed here.

/** One line of a password file. An absent field is the `*` wildcard. */
export interface PasswordFileEntry {
  readonly host?: string;
  readonly port?: string;
  readonly database?: string;
  readonly user?: string;
  readonly password: string;
}

/** What a password file entry is matched against. */
export interface PasswordFileTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
}

/** Where the password file lookup looks, for tests and unusual environments. */
export interface PasswordLookupOptions {
  /** Environment for PGPASSFILE / APPDATA (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /** Home directory holding `.pgpass` (default `os.homedir()`). */
  readonly homeDir?: string;
  /** Platform rules to apply (default `process.platform`). */
  readonly platform?: NodeJS.Platform;
  /**
   * Told why a password file was ignored (not a regular file, group/world accessible).
   * libpq prints these warnings; rxpg prints nothing unless asked.
   */
  readonly onWarning?: (message: string) => void;
}

/**
 * The socket directories that libpq builds use as their default, for which libpq looks up
 * the host name `localhost` in the password file.
 */
const defaultSocketDirectories: ReadonlySet<string> = new Set(['/tmp', '/var/run/postgresql', '/run/postgresql']);

/**
 * Splits password file text into entries, following libpq: one
 * `hostname:port:database:username:password` entry per line; `\` escapes the next character
 * (so `\:` is a colon and `\\` a backslash inside a field); a field that is exactly `*`
 * (unescaped) is a wildcard; the password ends at the next unescaped colon; lines starting
 * with `#`, empty lines and lines with fewer than five fields are skipped.
 *
 * @example
 * parsePasswordFile('db:*:shop:app:pa\\:ss\n# comment');
 * // [{ host: 'db', port: undefined, database: 'shop', user: 'app', password: 'pa:ss' }]
 */
export function parsePasswordFile(text: string): PasswordFileEntry[] {
  const entries: PasswordFileEntry[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = splitFields(trimmed);
    if (fields.length < 5) continue;
    const field = (index: number): string | undefined => {
      const value = fields[index]!;
      return value.raw === '*' ? undefined : value.text;
    };
    entries.push({ host: field(0), port: field(1), database: field(2), user: field(3), password: fields[4]!.text });
  }
  return entries;
}

function splitFields(line: string): { raw: string; text: string }[] {
  const fields: { raw: string; text: string }[] = [];
  let raw = '';
  let text = '';
  for (let i = 0; i < line.length; i++) {
    const character = line[i];
    if (character === '\\' && i + 1 < line.length) {
      raw += character + line[i + 1];
      text += line[i + 1];
      i++;
    } else if (character === ':') {
      fields.push({ raw, text });
      raw = '';
      text = '';
    } else {
      raw += character;
      text += character;
    }
  }
  fields.push({ raw, text });
  return fields;
}

/**
 * Finds the password for `target` in parsed entries: the first entry whose host, port,
 * database and user all match (or are wildcards) wins, as in libpq. For a unix-socket host,
 * entries are matched against the socket directory, and also against `localhost` when the
 * directory is a default socket directory (`/tmp`, `/var/run/postgresql`,
 * `/run/postgresql`), which is libpq's documented rule. An empty password counts as none.
 *
 * @example
 * findPassword(parsePasswordFile('*:5432:*:app:secret'), { host: 'db', port: 5432, database: 'x', user: 'app' });
 * // 'secret'
 */
export function findPassword(entries: readonly PasswordFileEntry[], target: PasswordFileTarget): string | undefined {
  const hosts = [target.host];
  if (isUnixSocketHost(target.host)) {
    const directory = target.host.length > 1 ? target.host.replace(/\/+$/, '') : target.host;
    if (defaultSocketDirectories.has(directory)) hosts.push('localhost');
  }
  const port = String(target.port);
  const matches = (field: string | undefined, value: string): boolean => field === undefined || field === value;
  for (const entry of entries) {
    if (
      (entry.host === undefined || hosts.includes(entry.host)) &&
      matches(entry.port, port) &&
      matches(entry.database, target.database) &&
      matches(entry.user, target.user)
    ) {
      return entry.password === '' ? undefined : entry.password;
    }
  }
  return undefined;
}

/**
 * The password file libpq would use when none is configured: `PGPASSFILE`, else
 * `~/.pgpass` (on Windows `%APPDATA%\postgresql\pgpass.conf`). `undefined` when the home
 * directory is unknown.
 *
 * @example
 * defaultPasswordFilePath({ env: {}, homeDir: '/home/app' }); // '/home/app/.pgpass'
 */
export function defaultPasswordFilePath(options: PasswordLookupOptions = {}): string | undefined {
  const env = options.env ?? process.env;
  if (env.PGPASSFILE) return env.PGPASSFILE;
  if ((options.platform ?? process.platform) === 'win32') {
    return env.APPDATA ? join(env.APPDATA, 'postgresql', 'pgpass.conf') : undefined;
  }
  const home = options.homeDir ?? safeHomeDir();
  return home ? join(home, '.pgpass') : undefined;
}

function safeHomeDir(): string | undefined {
  try {
    return homedir() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Looks up the password for `target` in the password file at `path`. A missing or unreadable
 * file gives `undefined`, as in libpq. On platforms other than Windows the file is also
 * ignored (with a warning through `options.onWarning`) when it is not a regular file or when
 * its permissions give the group or others any access (it must be 0600 or stricter).
 *
 * Never throws for file problems; never prints.
 *
 * @example
 * await passwordFromFile('/home/app/.pgpass', { host: 'db', port: 5432, database: 'shop', user: 'app' });
 */
export async function passwordFromFile(
  path: string,
  target: PasswordFileTarget,
  options: PasswordLookupOptions = {},
): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const stats = await handle.stat();
    if ((options.platform ?? process.platform) !== 'win32') {
      if (!stats.isFile()) {
        options.onWarning?.(`password file "${path}" is not a plain file; ignoring it`);
        return undefined;
      }
      if ((stats.mode & 0o077) !== 0) {
        options.onWarning?.(`password file "${path}" has group or world access; permissions should be u=rw (0600) or less; ignoring it`);
        return undefined;
      }
    }
    return findPassword(parsePasswordFile(await handle.readFile('utf8')), target);
  } catch {
    return undefined;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * The password to send when the server asks for one. In order:
 * 1. the configured password: a string as is, or the result of calling the function (sync or
 *    async; called once per call of `resolvePassword`);
 * 2. the password file: `config.passfile`, else PGPASSFILE in `options.env`, else
 *    `~/.pgpass`, matched on the config's host, port, database and user;
 * 3. `undefined` (the caller then fails authentication with a clear error).
 *
 * An empty configured password counts as none (libpq's rule), so the file is consulted.
 * Call it only when the server asks for a password: it may call user code and read a file.
 *
 * @throws ConfigError with setting `password` when the password function throws or rejects
 * (the error is the `cause`), returns something other than a string, or returns a string
 * containing a NUL byte, and when the password file's entry holds a NUL byte. The message
 * never contains the password.
 * @example
 * const config = resolveConnectionConfig({ password: async () => fetchToken() });
 * const password = await resolvePassword(config);
 */
export async function resolvePassword(
  config: Pick<ResolvedConnectionConfig, 'password' | 'passfile' | 'host' | 'port' | 'database' | 'user'>,
  options: PasswordLookupOptions = {},
): Promise<string | undefined> {
  const source: unknown = config.password;
  if (typeof source === 'function') {
    let value: unknown;
    try {
      value = await (source as () => unknown)();
    } catch (error) {
      throw new ConfigError('the password function failed', { setting: 'password', cause: error });
    }
    if (typeof value !== 'string') {
      const kind = value === null ? 'null' : typeof value;
      throw new ConfigError(`the password function returned ${kind}, not a string`, { setting: 'password' });
    }
    if (value.includes('\0')) {
      throw new ConfigError('the password returned by the password function contains a NUL byte', { setting: 'password' });
    }
    return value;
  }
  if (typeof source === 'string' && source !== '') return source;

  const file = config.passfile || defaultPasswordFilePath(options);
  if (file === undefined) return undefined;
  const fromFile = await passwordFromFile(file, config, options);
  if (fromFile !== undefined && fromFile.includes('\0')) {
    // libpq reads the line as a C string and would send what precedes the NUL; refusing is
    // clearer than logging in with a cut-off password.
    throw new ConfigError(`the password file "${file}" entry for this connection holds a NUL byte`, { setting: 'password' });
  }
  return fromFile;
}
