import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  defaultPasswordFilePath,
  findPassword,
  parsePasswordFile,
  passwordFromFile,
  resolvePassword,
  type PasswordFileTarget,
} from '../../lib/config/password-file';
import { resolveConnectionConfig } from '../../lib/config/resolve-connection-config';
import { expectConfigErrorAsync } from './expect-config-error';

const target: PasswordFileTarget = { host: 'db.example.com', port: 5432, database: 'shop', user: 'app' };
const posix = process.platform !== 'win32';
const posixIt = posix ? it : it.skip;

describe('parsePasswordFile', () => {
  it('splits fields and treats an unescaped * as a wildcard', () => {
    expect(parsePasswordFile('db:5432:shop:app:pw\n*:*:*:*:any')).toEqual([
      { host: 'db', port: '5432', database: 'shop', user: 'app', password: 'pw' },
      { host: undefined, port: undefined, database: undefined, user: undefined, password: 'any' },
    ]);
  });

  it('unescapes \\: and \\\\, and keeps an escaped star literal', () => {
    const [entry] = parsePasswordFile('h\\:x:5432:d\\\\b:\\*:pa\\:ss\\\\word');
    expect(entry).toEqual({ host: 'h:x', port: '5432', database: 'd\\b', user: '*', password: 'pa:ss\\word' });
  });

  it('ends the password at the next unescaped colon', () => {
    expect(parsePasswordFile('h:1:d:u:pw:extra')[0]!.password).toBe('pw');
  });

  it('skips comments, blank lines and short lines, and handles CRLF', () => {
    expect(parsePasswordFile('# h:1:d:u:pw\r\n\r\nh:1:d:u\r\nh:1:d:u:pw\r\n')).toEqual([
      { host: 'h', port: '1', database: 'd', user: 'u', password: 'pw' },
    ]);
  });
});

describe('findPassword', () => {
  it('takes the first matching entry', () => {
    const entries = parsePasswordFile('other:5432:shop:app:no\ndb.example.com:*:shop:app:first\n*:*:*:*:second');
    expect(findPassword(entries, target)).toBe('first');
  });

  it('matches each field literally or by wildcard', () => {
    const entries = parsePasswordFile('*:5433:*:*:wrong-port\n*:5432:other:*:wrong-db\n*:5432:*:bob:wrong-user\n*:5432:*:app:right');
    expect(findPassword(entries, target)).toBe('right');
  });

  it('returns undefined when nothing matches, or the match has an empty password', () => {
    expect(findPassword(parsePasswordFile('x:1:d:u:pw'), target)).toBeUndefined();
    expect(findPassword(parsePasswordFile('*:*:*:*:\n*:*:*:*:later'), target)).toBeUndefined();
  });

  it('matches a literal star only through an escaped star', () => {
    const entries = parsePasswordFile('\\*:*:*:*:literal');
    expect(findPassword(entries, { ...target, host: '*' })).toBe('literal');
    expect(findPassword(entries, target)).toBeUndefined();
  });

  it('matches a unix socket directory by its path', () => {
    const entries = parsePasswordFile('/srv/pg:5432:*:*:by-path');
    expect(findPassword(entries, { ...target, host: '/srv/pg' })).toBe('by-path');
  });

  it('matches localhost for a default socket directory, as libpq does', () => {
    const entries = parsePasswordFile('localhost:5432:*:*:local');
    for (const directory of ['/tmp', '/var/run/postgresql', '/run/postgresql', '/var/run/postgresql/']) {
      expect(findPassword(entries, { ...target, host: directory })).toBe('local');
    }
    expect(findPassword(entries, { ...target, host: '/srv/custom' })).toBeUndefined();
  });
});

describe('passwordFromFile and resolvePassword', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rxpg-pgpass-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function writePassFile(name: string, text: string, mode = 0o600): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    chmodSync(path, mode);
    return path;
  }

  it('reads a 0600 file', async () => {
    const path = writePassFile('pgpass', 'db.example.com:5432:shop:app:from-file\n');
    await expect(passwordFromFile(path, target)).resolves.toBe('from-file');
  });

  it('gives undefined for a missing file', async () => {
    await expect(passwordFromFile(join(dir, 'absent'), target)).resolves.toBeUndefined();
  });

  posixIt.each([0o640, 0o604, 0o660, 0o644, 0o610])('ignores a file with mode %o and warns through the hook', async (mode) => {
    const path = writePassFile('pgpass', '*:*:*:*:leaky\n', mode);
    const warnings: string[] = [];
    await expect(passwordFromFile(path, target, { onWarning: (m) => warnings.push(m) })).resolves.toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('group or world access');
    expect(warnings[0]).not.toContain('leaky');
  });

  posixIt('accepts 0400', async () => {
    const path = writePassFile('pgpass', '*:*:*:*:readonly\n', 0o400);
    await expect(passwordFromFile(path, target)).resolves.toBe('readonly');
  });

  posixIt('ignores a directory', async () => {
    const path = join(dir, 'a-directory');
    mkdirSync(path, { mode: 0o700 });
    const warnings: string[] = [];
    await expect(passwordFromFile(path, target, { onWarning: (m) => warnings.push(m) })).resolves.toBeUndefined();
    expect(warnings[0]).toContain('not a plain file');
  });

  it('skips the permission check on Windows, as libpq does', async () => {
    const path = writePassFile('pgpass', '*:*:*:*:windows\n', 0o644);
    await expect(passwordFromFile(path, target, { platform: 'win32' })).resolves.toBe('windows');
  });

  it('finds the default path from PGPASSFILE, then the home directory, then APPDATA on Windows', () => {
    expect(defaultPasswordFilePath({ env: { PGPASSFILE: '/x/pgpass' }, homeDir: '/home/u' })).toBe('/x/pgpass');
    expect(defaultPasswordFilePath({ env: {}, homeDir: '/home/u', platform: 'linux' })).toBe(join('/home/u', '.pgpass'));
    expect(defaultPasswordFilePath({ env: { APPDATA: '/appdata' }, platform: 'win32' })).toBe(
      join('/appdata', 'postgresql', 'pgpass.conf'),
    );
    expect(defaultPasswordFilePath({ env: {}, platform: 'win32' })).toBeUndefined();
  });

  describe('resolvePassword', () => {
    const base = { host: 'db.example.com', port: 5432, database: 'shop', user: 'app' };

    it('returns an explicit string password without reading any file', async () => {
      const path = writePassFile('pgpass', '*:*:*:*:from-file\n');
      const config = resolveConnectionConfig({ ...base, password: 'explicit', passfile: path }, {});
      await expect(resolvePassword(config)).resolves.toBe('explicit');
    });

    it('calls a synchronous password function', async () => {
      const source = jest.fn(() => 'sync-token');
      const config = resolveConnectionConfig({ ...base, password: source }, {});
      await expect(resolvePassword(config)).resolves.toBe('sync-token');
      expect(source).toHaveBeenCalledTimes(1);
    });

    it('awaits an asynchronous password function', async () => {
      const config = resolveConnectionConfig({ ...base, password: async () => 'async-token' }, {});
      await expect(resolvePassword(config)).resolves.toBe('async-token');
    });

    it('wraps a throwing password function in a ConfigError with the cause', async () => {
      const failure = new Error('token service down');
      const config = resolveConnectionConfig(
        {
          ...base,
          password: () => {
            throw failure;
          },
        },
        {},
      );
      const error = await expectConfigErrorAsync(() => resolvePassword(config), 'password');
      expect(error.cause).toBe(failure);
    });

    it('wraps a rejecting password function', async () => {
      const config = resolveConnectionConfig({ ...base, password: () => Promise.reject(new Error('nope')) }, {});
      await expectConfigErrorAsync(() => resolvePassword(config), 'password');
    });

    it.each([
      ['a number', 12345678],
      ['undefined', undefined],
      ['null', null],
      ['an object holding the secret', { secret: 'ObjectS3cret' }],
    ])('rejects a function returning %s, without echoing the value', async (_name, value) => {
      const config = resolveConnectionConfig({ ...base, password: (() => value) as never }, {});
      const error = await expectConfigErrorAsync(() => resolvePassword(config), 'password', ['12345678', 'ObjectS3cret']);
      expect(error.message).toContain('not a string');
    });

    it('rejects a function returning a string with a NUL byte, without echoing it', async () => {
      const config = resolveConnectionConfig({ ...base, password: () => 'NulS3cret\0x' }, {});
      await expectConfigErrorAsync(() => resolvePassword(config), 'password', ['NulS3cret']);
    });

    it('rejects a password file entry with a NUL byte, naming the file but not the password', async () => {
      const path = writePassFile('nul', '*:*:*:*:FileNulS3cret\0admin\n');
      const config = resolveConnectionConfig({ ...base, passfile: path }, {});
      const error = await expectConfigErrorAsync(() => resolvePassword(config), 'password', ['FileNulS3cret', 'admin']);
      expect(error.message).toContain(path);
    });

    it('falls back to config.passfile', async () => {
      const path = writePassFile('custom', 'db.example.com:5432:shop:app:custom-file\n');
      const config = resolveConnectionConfig({ ...base, passfile: path }, {});
      await expect(resolvePassword(config, { env: {}, homeDir: dir })).resolves.toBe('custom-file');
    });

    it('treats an empty explicit password as none and reads the file', async () => {
      const path = writePassFile('custom', '*:*:*:*:file\n');
      const config = resolveConnectionConfig({ ...base, password: '', passfile: path }, {});
      await expect(resolvePassword(config)).resolves.toBe('file');
    });

    it('falls back to PGPASSFILE in the lookup environment', async () => {
      const path = writePassFile('env-file', '*:*:*:*:env-file\n');
      const config = resolveConnectionConfig(base, {});
      await expect(resolvePassword(config, { env: { PGPASSFILE: path }, homeDir: dir })).resolves.toBe('env-file');
    });

    it('takes PGPASSFILE from the environment the config was resolved with', async () => {
      const path = writePassFile('resolved-env', '*:*:*:*:resolved-env\n');
      const config = resolveConnectionConfig(base, { PGPASSFILE: path });
      await expect(resolvePassword(config, { env: {}, homeDir: dir })).resolves.toBe('resolved-env');
    });

    it('falls back to ~/.pgpass', async () => {
      writePassFile('.pgpass', 'db.example.com:5432:shop:app:home-file\n');
      const config = resolveConnectionConfig(base, {});
      await expect(resolvePassword(config, { env: {}, homeDir: dir, platform: 'linux' })).resolves.toBe('home-file');
    });

    it('matches a default socket directory against localhost', async () => {
      writePassFile('.pgpass', 'localhost:5433:*:app:socket-file\n');
      const config = resolveConnectionConfig({ ...base, host: '/var/run/postgresql', port: 5433 }, {});
      await expect(resolvePassword(config, { env: {}, homeDir: dir, platform: 'linux' })).resolves.toBe('socket-file');
    });

    it('gives undefined when there is no password anywhere', async () => {
      const config = resolveConnectionConfig(base, {});
      await expect(resolvePassword(config, { env: {}, homeDir: dir, platform: 'linux' })).resolves.toBeUndefined();
    });

    posixIt('ignores a world-readable ~/.pgpass', async () => {
      writePassFile('.pgpass', '*:*:*:*:leaky\n', 0o644);
      const config = resolveConnectionConfig(base, {});
      await expect(resolvePassword(config, { env: {}, homeDir: dir, platform: 'linux' })).resolves.toBeUndefined();
    });
  });
});
