import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect as connectTcp, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { PgBouncerSettings } from './cluster-settings';
import { guardAgainstExit } from './exit-guard';
import { asOsUser, harnessEnv, runCommand, serverOsUser } from './run-command';

/** Where Debian's `pgbouncer` package installs the program. */
const debianPgBouncer = '/usr/sbin/pgbouncer';

/**
 * Finds the `pgbouncer` program: `PGBOUNCER` (a path, which must be executable), Debian's
 * `/usr/sbin/pgbouncer`, then PATH. Undefined when there is none.
 */
export function findPgBouncer(): string | undefined {
  const explicit = process.env['PGBOUNCER'];
  if (explicit) {
    if (isExecutable(explicit)) return explicit;
    throw new Error(`PGBOUNCER=${explicit} is not an executable file`);
  }
  const candidates = [
    debianPgBouncer,
    ...(process.env['PATH'] ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, 'pgbouncer')),
  ];
  return candidates.find(isExecutable);
}

/** The message for a machine without PgBouncer, naming the command that installs it. */
export const pgBouncerMissingMessage =
  'PgBouncer not found (PGBOUNCER, /usr/sbin/pgbouncer, PATH). The PgBouncer specs start their own; install it with:\n\n' +
  '    sudo apt-get install -y pgbouncer\n\n' +
  'or set PGBOUNCER to the pgbouncer program.';

let ensured: Promise<string> | undefined;

/**
 * Resolves with the `pgbouncer` program (see {@link findPgBouncer}). When there is none and
 * this process is root (CI containers), installs Debian's `pgbouncer` with apt-get and looks
 * again; otherwise rejects with {@link pgBouncerMissingMessage}. Memoised.
 */
export function ensurePgBouncer(): Promise<string> {
  ensured ??= (async () => {
    const found = findPgBouncer();
    if (found !== undefined) return found;
    if (process.getuid?.() !== 0) throw new Error(pgBouncerMissingMessage);
    process.stderr.write("PgBouncer not found; installing Debian's pgbouncer with apt-get ...\n");
    const env = harnessEnv({ DEBIAN_FRONTEND: 'noninteractive' });
    await runCommand('apt-get', ['update'], { env, inheritOutput: true });
    await runCommand('apt-get', ['install', '-y', 'pgbouncer'], { env, inheritOutput: true });
    const installed = findPgBouncer();
    if (installed === undefined) throw new Error('apt-get installed pgbouncer, but the program is still not found');
    return installed;
  })();
  return ensured;
}

/** The PostgreSQL server a PgBouncer forwards to, and the role it logs in as. */
export interface PgBouncerBackend {
  readonly host: string;
  readonly port: number;
  /** A role the server trusts from 127.0.0.1: PgBouncer holds no password for it. */
  readonly user: string;
  readonly database: string;
}

/** A running PgBouncer; `JSON.stringify` of it gives its {@link PgBouncerSettings}. */
export interface ThrowawayPgBouncer extends PgBouncerSettings {
  /** Stops PgBouncer (SIGTERM, then SIGKILL) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

const portAttempts = 3;
const startTimeoutMs = 10_000;

/**
 * Starts a PgBouncer in transaction pooling mode on a free port of 127.0.0.1, in front of
 * `backend`: a throwaway directory with its config, auth_file, log and pid file, no unix
 * socket. Clients log in as `backend.user` without a password (auth_type trust; PgBouncer then
 * logs in to the server as that role). As root it runs as the `postgres` OS user (PgBouncer
 * refuses root). It is killed if this process exits without calling `stop()`. Rejects, with
 * the log's tail, when it does not accept connections.
 */
export async function startPgBouncer(backend: PgBouncerBackend): Promise<ThrowawayPgBouncer> {
  const program = await ensurePgBouncer();
  const osUser = serverOsUser();
  const dir = await mkdtemp('/tmp/rxpg-pgbouncer-');
  const releaseDirGuard = guardAgainstExit(() => removeTreeSync(dir));
  try {
    await writeFile(join(dir, 'userlist.txt'), `${quoteUserlist(backend.user)} ""\n`);
    if (osUser !== undefined) await runCommand('chown', ['-R', `${osUser}:`, dir]);
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const bouncer = PgBouncerProcess.spawn(program, osUser, dir, port, backend);
      try {
        await bouncer.waitUntilReady(startTimeoutMs);
      } catch (error) {
        await bouncer.stop();
        const portTaken = /Address already in use/.test(await bouncer.logTail());
        if (portTaken && attempt < portAttempts) continue;
        throw error;
      }
      let stopped: Promise<void> | undefined;
      return {
        host: '127.0.0.1',
        port,
        user: backend.user,
        database: backend.database,
        poolMode: 'transaction',
        version: pgBouncerVersion(program),
        pid: bouncer.pid,
        logFile: bouncer.logFile,
        stop: () => (stopped ??= bouncer.stop().finally(() => rm(dir, { recursive: true, force: true }).finally(releaseDirGuard))),
      };
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    releaseDirGuard();
    throw error;
  }
}

/** `pgbouncer --version`'s first line, e.g. `PgBouncer 1.18.0`. */
function pgBouncerVersion(program: string): string {
  const result = spawnSync(program, ['--version'], { encoding: 'utf8', env: harnessEnv() });
  return result.stdout.split('\n')[0]?.trim() || 'PgBouncer (unknown version)';
}

/** The configuration: what the specs need, nothing from /etc/pgbouncer. */
function pgBouncerIni(dir: string, port: number, backend: PgBouncerBackend): string {
  return [
    '[databases]',
    `* = host=${backend.host} port=${backend.port}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${join(dir, 'userlist.txt')}`,
    `admin_users = ${backend.user}`,
    'pool_mode = transaction',
    'max_client_conn = 200',
    'default_pool_size = 20',
    `logfile = ${join(dir, 'pgbouncer.log')}`,
    `pidfile = ${join(dir, 'pgbouncer.pid')}`,
    // Let a failed server login be retried quickly instead of after the default 15 s.
    'server_login_retry = 1',
    '',
  ].join('\n');
}

/** A user name as a double-quoted auth_file field (a quote is doubled). */
function quoteUserlist(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}

/** One pgbouncer process (under `runuser` as root); owns the exit guard that kills it. */
class PgBouncerProcess {
  #exitStatus: string | undefined;
  readonly #exited: Promise<void>;
  readonly #releaseGuard: () => void;
  #stopping: Promise<void> | undefined;
  /** PgBouncer's own pid (from its pid file), known once it accepts connections. */
  pid = 0;

  private constructor(
    private readonly dir: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    this.#exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.#exitStatus = signal === null ? `exit status ${code}` : `signal ${signal}`;
        resolve();
      }),
    );
    this.#releaseGuard = guardAgainstExit(() => this.#kill('SIGKILL'));
  }

  get logFile(): string {
    return join(this.dir, 'pgbouncer.log');
  }

  static spawn(program: string, osUser: string | undefined, dir: string, port: number, backend: PgBouncerBackend): PgBouncerProcess {
    const iniFile = join(dir, `pgbouncer-${port}.ini`);
    // Root may write into the directory of osUser; PgBouncer only needs to read the file.
    writeFileSync(iniFile, pgBouncerIni(dir, port, backend), { mode: 0o644 });
    const [command, args] = asOsUser(osUser, program, [iniFile]);
    // Startup errors (a bad config) go to stderr before the log file is opened.
    const output = openSync(join(dir, 'pgbouncer.out'), 'a');
    try {
      const child = spawn(command, args, { cwd: dir, env: harnessEnv(), stdio: ['ignore', output, output] });
      child.unref();
      return new PgBouncerProcess(dir, port, child);
    } finally {
      closeSync(output);
    }
  }

  /** Waits until the port accepts TCP connections and the pid file names a live process. */
  async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#exitStatus !== undefined) {
        throw new Error(`pgbouncer exited (${this.#exitStatus}) before accepting connections; its log ends:\n${await this.logTail()}`);
      }
      const pid = this.#readPid();
      if (pid !== undefined && (await acceptsConnections(this.port))) {
        this.pid = pid;
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(`pgbouncer did not accept connections within ${timeoutMs / 1000} s; its log ends:\n${await this.logTail()}`);
      }
      await Promise.race([delay(10), this.#exited]);
    }
  }

  /** SIGTERM (immediate shutdown), SIGKILL after 5 s. Resolves once it exited. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#exitStatus === undefined) {
        this.child.ref();
        this.#kill('SIGTERM');
        // The timer is cancelled once PgBouncer exited: a pending one would keep jest alive.
        const timer = new AbortController();
        const exited = await Promise.race([
          this.#exited.then(() => true),
          delay(5_000, false, { signal: timer.signal }).catch(() => false),
        ]);
        timer.abort();
        if (!exited) {
          this.#kill('SIGKILL');
          await this.#exited;
        }
      }
      // Under runuser the child may exit on SIGTERM before PgBouncer itself has.
      await this.#untilGone(this.pid);
    })().finally(this.#releaseGuard);
    return this.#stopping;
  }

  /** Resolves once process `pid` no longer exists, or after 5 s with a SIGKILL. */
  async #untilGone(pid: number): Promise<void> {
    if (pid <= 0) return;
    const deadline = Date.now() + 5_000;
    for (;;) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      if (Date.now() > deadline) {
        // Killed, or a zombie that its parent has not reaped yet: nothing more to wait for.
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
        return;
      }
      await delay(10);
    }
  }

  /** Signals PgBouncer (found through its pid file: under runuser the child is not PgBouncer) and the child. */
  #kill(signal: NodeJS.Signals): void {
    for (const target of [this.#readPid(), this.child.pid]) {
      if (target === undefined || this.#exitStatus !== undefined) continue;
      try {
        process.kill(target, signal);
      } catch {
        // Already gone.
      }
    }
  }

  #readPid(): number | undefined {
    try {
      const pid = Number.parseInt(readFileSync(join(this.dir, 'pgbouncer.pid'), 'utf8'), 10);
      return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** The last 40 lines of what PgBouncer wrote (its stderr, then its log file). */
  async logTail(): Promise<string> {
    const read = (name: string) => readFile(join(this.dir, name), 'utf8').catch(() => '');
    const text = (await read('pgbouncer.out')) + (await read('pgbouncer.log'));
    return text.split('\n').slice(-41).join('\n');
  }
}

/** Whether a TCP connection to 127.0.0.1:`port` is accepted (then closed at once). */
function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Asks the kernel for a currently free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port assigned'))));
    });
  });
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function removeTreeSync(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
  } catch {
    // Best effort.
  }
}
