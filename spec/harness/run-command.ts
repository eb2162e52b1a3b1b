import { spawn } from 'node:child_process';
import { guardAgainstExit } from './exit-guard';

/**
 * The OS user that PostgreSQL's server programs must run as: `postgres` when this process is
 * root (the server refuses to run as root, and initdb refuses too), otherwise nobody else —
 * the tools then run as the invoking user.
 */
export function serverOsUser(): string | undefined {
  return process.getuid?.() === 0 ? 'postgres' : undefined;
}

/**
 * The program and arguments that run `command` as `osUser` (through `runuser -u`, as root) or
 * as this process's user when `osUser` is undefined.
 */
export function asOsUser(osUser: string | undefined, command: string, args: readonly string[]): [string, string[]] {
  return osUser === undefined ? [command, [...args]] : ['runuser', ['-u', osUser, '--', command, ...args]];
}

/**
 * This process's environment without the libpq variables (PGHOST, PGPORT, PGSSLMODE,
 * PGOPTIONS, ...) and PGDATA, so that a developer's settings never redirect or reconfigure the
 * harness's own PostgreSQL tools.
 */
export function harnessEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('PG')) env[name] = value;
  }
  return { ...env, ...extra };
}

/** How to run one command with {@link runCommand}. */
export interface RunCommandOptions {
  /** Run as this OS user via `runuser` (see {@link serverOsUser}). */
  readonly osUser?: string;
  /** Working directory; defaults to `/`, which every user may enter. */
  readonly cwd?: string;
  /** Written to the command's stdin, which is then closed. */
  readonly input?: string;
  /** Defaults to {@link harnessEnv}. */
  readonly env?: NodeJS.ProcessEnv;
  /** Let the command print to this process's stdout and stderr instead of capturing them. */
  readonly inheritOutput?: boolean;
}

/** What a command printed (empty when its output was inherited), once it exited with status 0. */
export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to completion and resolves with its output. Rejects, with the command line,
 * the exit status and what it printed on stderr, when it cannot start or exits non-zero —
 * harness failures have to explain themselves, as they surface far from their cause.
 */
export function runCommand(command: string, args: readonly string[], options: RunCommandOptions = {}): Promise<CommandOutput> {
  const [program, programArgs] = asOsUser(options.osUser, command, args);
  return new Promise((resolve, reject) => {
    const child = spawn(program, programArgs, {
      cwd: options.cwd ?? '/',
      env: options.env ?? harnessEnv(),
      stdio: ['pipe', options.inheritOutput ? 'inherit' : 'pipe', options.inheritOutput ? 'inherit' : 'pipe'],
    });
    // Interrupted, this process takes the command down with it (initdb then removes its data dir).
    const releaseGuard = guardAgainstExit(() => child.kill('SIGTERM'));
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      releaseGuard();
      reject(new Error(`cannot run ${formatCommandLine(program, programArgs)}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      releaseGuard();
      const output = { stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
      if (code === 0) {
        resolve(output);
      } else {
        const status = signal === null ? `exit status ${code}` : `signal ${signal}`;
        const detail = (output.stderr.trim() || output.stdout.trim()).slice(-4000);
        reject(new Error(`${formatCommandLine(program, programArgs)} failed with ${status}${detail ? `:\n${detail}` : ''}`));
      }
    });
    // A command that does not read its stdin may close it early: EPIPE is not our failure.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

/** A shell-like rendering of a command line, for error messages. */
export function formatCommandLine(command: string, args: readonly string[]): string {
  return [command, ...args].map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`)).join(' ');
}
