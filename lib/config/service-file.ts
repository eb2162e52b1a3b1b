import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors/config-error';
import type { ConnectionSettings } from './connection-settings';
import { parseConnectionKeywords } from './connection-string';

/**
 * Reads the settings of one service from libpq's service files, as libpq does: first the
 * per-user file (`serviceFile`, else `PGSERVICEFILE`, else `~/.pg_service.conf`), then the
 * system-wide `PGSYSCONFDIR/pg_service.conf`. The first file that defines the service gives
 * all its settings; the files are not merged. A missing `~/.pg_service.conf` or system file is
 * skipped, but a missing file named by `serviceFile` or PGSERVICEFILE is an error.
 * libpq's compiled-in system directory is not known to rxpg, so without PGSYSCONFDIR only the
 * per-user file is read.
 *
 * The file format is libpq's: `[name]` starts a service, `keyword=value` lines follow (no
 * quoting, no white space around `=`: the value is everything after the first `=`), blank
 * lines and lines starting with `#` are skipped. A keyword given twice keeps its first value.
 * The caller ranks these settings below the connection string's and above the environment's.
 * Reads the files synchronously: they are small, and this runs once per connection attempt.
 *
 * @throws ConfigError (setting `service`) when no file defines the service, when the named
 * service file does not exist, when a file
 * exists but cannot be read, for a line that is not `keyword=value`, a nested `service`, a
 * keyword libpq does not know, or a value the connection string would refuse (the message
 * names the file and line, never a value).
 * @example
 * // ~/.pg_service.conf:  [shop]\nhost=db.internal\ndbname=shop
 * readServiceSettings('shop', undefined, process.env); // { host: 'db.internal', database: 'shop' }
 */
export function readServiceSettings(service: string, serviceFile: string | undefined, env: NodeJS.ProcessEnv): ConnectionSettings {
  const namedFile = serviceFile ?? nonEmpty(env.PGSERVICEFILE);
  const userFile = namedFile ?? join(nonEmpty(env.HOME) ?? homedir(), '.pg_service.conf');
  const systemDirectory = nonEmpty(env.PGSYSCONFDIR);
  const files = systemDirectory === undefined ? [userFile] : [userFile, join(systemDirectory, 'pg_service.conf')];
  for (const file of files) {
    const text = readIfExists(file);
    if (text === undefined) {
      // libpq skips a missing ~/.pg_service.conf, but not a file the caller named.
      if (file === namedFile) throw new ConfigError(`service file "${file}" not found`, { setting: 'service' });
      continue;
    }
    const settings = parseServiceFile(text, service, file);
    if (settings !== undefined) return settings;
  }
  throw new ConfigError(`definition of service "${service}" not found (looked in ${files.map((f) => `"${f}"`).join(', ')})`, {
    setting: 'service',
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new ConfigError(`service file "${file}" cannot be read (${code ?? 'error'})`, { setting: 'service' });
  }
}

/** The settings of `service` in one file's text, or undefined when the file does not define it. */
function parseServiceFile(text: string, service: string, file: string): ConnectionSettings | undefined {
  let found = false;
  const pairs = new Map<string, string>();
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] ?? '').trim();
    const where = `service file "${file}", line ${index + 1}`;
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      if (found) break;
      // libpq compares the name's characters and then wants `]`; anything after it is ignored.
      found = line.startsWith(`[${service}]`);
      continue;
    }
    if (!found) continue;
    // libpq reads `ldap` lines only when built with LDAP; rxpg has no LDAP lookup.
    if (line.startsWith('ldap')) {
      throw new ConfigError(`${where}: LDAP service lookups are not supported by rxpg`, { setting: 'service' });
    }
    const equals = line.indexOf('=');
    if (equals === -1) throw new ConfigError(`${where}: syntax error (expected keyword=value)`, { setting: 'service' });
    const keyword = line.slice(0, equals);
    if (keyword === 'service' || keyword === 'servicefile') {
      throw new ConfigError(`${where}: nested service specifications are not supported`, { setting: 'service' });
    }
    if (!pairs.has(keyword)) pairs.set(keyword, line.slice(equals + 1));
  }
  if (!found) return undefined;
  const settings = parseConnectionKeywords(pairs, `service file "${file}", service "${service}"`);
  if (settings.runtimeParameters !== undefined) {
    // libpq refuses keywords it does not know here; a connection string would send them as
    // runtime parameters, but a service file is libpq's format only.
    const keyword = Object.keys(settings.runtimeParameters)[0] ?? '';
    throw new ConfigError(`service file "${file}", service "${service}": unknown keyword "${keyword}"`, { setting: 'service' });
  }
  return settings;
}
