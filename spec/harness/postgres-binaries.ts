import { spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { harnessEnv, runCommand } from './run-command';

/** The programs the harness runs; a bin dir counts only when it holds all of them. */
const requiredPrograms = ['initdb', 'pg_ctl', 'postgres', 'psql', 'pg_isready'] as const;

/** Where Debian and Ubuntu install each PostgreSQL major version (`<root>/<version>/bin`). */
const debianVersionsRoot = '/usr/lib/postgresql';

/**
 * Finds the directory of the PostgreSQL server programs, or undefined. Looks, in order, at
 * `PG_BINDIR`, `pg_config --bindir`, the highest `/usr/lib/postgresql/<version>/bin` and the
 * directory of the first `initdb` on PATH (through symlinks, so that `/usr/local/bin/initdb
 * -> .../15/bin/initdb` finds its siblings). A `PG_BINDIR` without the programs is an error
 * rather than silently ignored: whoever set it meant that server.
 */
export function findPostgresBinDir(): string | undefined {
  const explicit = process.env['PG_BINDIR'];
  if (explicit) {
    if (hasServerPrograms(explicit)) return explicit;
    throw new Error(`PG_BINDIR=${explicit} does not contain all of ${requiredPrograms.join(', ')}`);
  }
  const candidates = [pgConfigBinDir(), ...debianBinDirs(), ...pathBinDirs()];
  return candidates.find((dir): dir is string => dir !== undefined && hasServerPrograms(dir));
}

let ensured: Promise<string> | undefined;

/**
 * Resolves with the PostgreSQL bin dir (see {@link findPostgresBinDir}). When there is none
 * and this process is root (CI containers), installs Debian's `postgresql` and `openssl`
 * with apt-get and looks again; otherwise rejects with the command that installs them.
 * Memoised, so that clusters started in parallel never run apt-get twice.
 */
export function ensurePostgresBinaries(): Promise<string> {
  ensured ??= findOrInstall();
  return ensured;
}

async function findOrInstall(): Promise<string> {
  const found = findPostgresBinDir();
  if (found !== undefined) return found;
  const searched = 'PG_BINDIR, pg_config --bindir, /usr/lib/postgresql/*/bin and PATH';
  if (process.getuid?.() !== 0) {
    throw new Error(
      `PostgreSQL server binaries (${requiredPrograms.join(', ')}) not found in ${searched}. ` +
        'The tests start their own throwaway server; install one with:\n\n' +
        '    sudo apt-get install -y postgresql\n\n' +
        'or set PG_BINDIR to the directory that holds initdb.',
    );
  }
  process.stderr.write("PostgreSQL server binaries not found; installing Debian's postgresql with apt-get ...\n");
  const env = harnessEnv({ DEBIAN_FRONTEND: 'noninteractive' });
  await runCommand('apt-get', ['update'], { env, inheritOutput: true });
  await runCommand('apt-get', ['install', '-y', 'postgresql', 'openssl'], { env, inheritOutput: true });
  const installed = findPostgresBinDir();
  if (installed === undefined) {
    throw new Error(`apt-get installed postgresql, but the server binaries are still not found in ${searched}`);
  }
  return installed;
}

function hasServerPrograms(dir: string): boolean {
  return requiredPrograms.every((program) => {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function pgConfigBinDir(): string | undefined {
  const result = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8', env: harnessEnv() });
  return result.status === 0 ? result.stdout.trim() || undefined : undefined;
}

/** `/usr/lib/postgresql/<version>/bin`, highest version first. */
function debianBinDirs(): string[] {
  let versions: string[];
  try {
    versions = readdirSync(debianVersionsRoot).filter((name) => /^\d+(\.\d+)?$/.test(name));
  } catch {
    return [];
  }
  return versions.sort((a, b) => compareVersions(b, a)).map((version) => join(debianVersionsRoot, version, 'bin'));
}

function compareVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

/** For each PATH entry holding `initdb`: the directory of its real file, then the entry itself. */
function pathBinDirs(): string[] {
  return (process.env['PATH'] ?? '').split(delimiter).flatMap((entry) => {
    if (!entry) return [];
    try {
      return [dirname(realpathSync(join(entry, 'initdb'))), entry];
    } catch {
      return [];
    }
  });
}
