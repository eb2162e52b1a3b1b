import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { authRoles, authRolesHbaConf, createAuthRolesSql } from './auth-roles';
import type { ClusterSettings, ClusterTlsSettings } from './cluster-settings';
import { guardAgainstExit } from './exit-guard';
import { ensurePostgresBinaries } from './postgres-binaries';
import { psqlAsSuperuser, type SuperuserTarget } from './psql';
import { asOsUser, harnessEnv, runCommand, serverOsUser } from './run-command';
import { generateTestCertificates, serverCertificateName, type TestCertificates } from './tls-certificates';

/** What {@link startThrowawayCluster} sets up besides a bare trust-everyone server. */
export interface ThrowawayClusterOptions {
  /** Turn on TLS with freshly generated certificates (see `ClusterTlsSettings`). */
  readonly tls?: boolean;
  /** Replace pg_hba.conf and create one role per authentication method (see `ClusterRoles`). */
  readonly authRoles?: boolean;
  /** Extra server settings, passed as `-c name=value` after the harness's own (so they win). */
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
  /** How long the server may take to accept connections; default 30 s. */
  readonly startTimeoutMs?: number;
  /**
   * Make this cluster a streaming hot standby of `primary`: its data directory comes from
   * `pg_basebackup -R` (fast checkpoint, WAL streamed) instead of initdb, so it follows the
   * primary from the start. `tls` and `authRoles` do not apply (the primary's files are copied).
   */
  readonly standbyOf?: ThrowawayCluster;
}

/** The settings of a running throwaway cluster; the optional parts of {@link ClusterSettings} are all set. */
export interface ThrowawayClusterSettings extends ClusterSettings {
  readonly host: '127.0.0.1';
  readonly socketDir: string;
  readonly superuser: 'postgres';
  readonly database: 'postgres';
  readonly binDir: string;
  readonly dataDir: string;
  readonly logFile: string;
  /** The postmaster's pid (a new one after {@link ThrowawayCluster.startServer}). */
  readonly pid: number;
}

/**
 * A PostgreSQL server in temporary directories, owned by this process. `JSON.stringify` of it
 * gives its {@link ThrowawayClusterSettings} (the methods are left out).
 */
export interface ThrowawayCluster extends ThrowawayClusterSettings {
  /** Runs SQL as the superuser with psql and resolves with its `-At` output (see `runPsql`). */
  psql(sql: string): Promise<string>;
  /** Stops the server immediately and removes its directories. Idempotent. */
  stop(): Promise<void>;
  /**
   * Stops the server immediately (`pg_ctl stop -m immediate`) but keeps its directories, so
   * that {@link startServer} can bring it back — a server outage for fault tests. Resolves once
   * the server has exited. Idempotent while stopped.
   */
  stopServer(): Promise<void>;
  /**
   * Starts the server again after {@link stopServer}, on the same port and with the same data
   * (after crash recovery), and resolves once it accepts connections. Does nothing while the
   * server runs. Rejects after `stop()`, or when the port was taken in the meantime.
   */
  startServer(): Promise<void>;
}

const defaultStartTimeoutMs = 30_000;
const portAttempts = 3;

/**
 * Starts a throwaway PostgreSQL: initdb into a fresh temporary directory, a free port on
 * 127.0.0.1, a short socket directory under /tmp, fsync off. As root, every server program
 * runs as the `postgres` OS user. The server is killed if this process exits without calling
 * `stop()`. Rejects (after cleaning up) with the server log's tail when the server fails.
 */
export async function startThrowawayCluster(options: ThrowawayClusterOptions = {}): Promise<ThrowawayCluster> {
  const binDir = await ensurePostgresBinaries();
  const osUser = serverOsUser();
  // As root, the server user must be able to reach its directories, whatever TMPDIR is.
  const baseDir = await mkdtemp(join(osUser === undefined ? tmpdir() : '/tmp', 'rxpg-cluster-'));
  // Unix socket paths are limited to ~107 bytes, so the socket directory stays short.
  const socketDir = await mkdtemp('/tmp/rxpg-s-');
  const dataDir = join(baseDir, 'data');
  const logFile = join(baseDir, 'postgres.log');
  const releaseDirsGuard = guardAgainstExit(() => [baseDir, socketDir].forEach(removeTreeSync));
  const removeDirs = async () => {
    await Promise.all([baseDir, socketDir].map((dir) => rm(dir, { recursive: true, force: true })));
    releaseDirsGuard();
  };

  let server: PostmasterProcess | undefined;
  try {
    const fresh = options.standbyOf === undefined;
    const certificates = options.tls && fresh ? await generateTestCertificates(join(baseDir, 'tls')) : undefined;
    const roles = options.authRoles && fresh ? authRoles(certificates !== undefined) : undefined;
    if (osUser !== undefined) await runCommand('chown', ['-R', `${osUser}:`, baseDir, socketDir]);
    const primary = options.standbyOf;
    if (primary === undefined) {
      await runCommand(join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '-N'], {
        osUser,
        cwd: baseDir,
      });
    } else {
      // initdb's pg_hba.conf lets local and 127.0.0.1 replication connections in (trust).
      const backupArgs = [
        '-D',
        dataDir,
        '-R',
        '-X',
        'stream',
        '-c',
        'fast',
        '-h',
        primary.socketDir,
        '-p',
        String(primary.port),
        '-U',
        'postgres',
        '-w',
      ];
      await runCommand(join(binDir, 'pg_basebackup'), backupArgs, { osUser, cwd: baseDir });
    }
    if (roles) await writeFile(join(dataDir, 'pg_hba.conf'), authRolesHbaConf(roles));

    const settings = { ...serverSettings(socketDir, certificates), ...options.settings };
    const postmasterConfig: PostmasterConfig = { binDir, osUser, dataDir, socketDir, logFile, settings };
    const startTimeoutMs = options.startTimeoutMs ?? defaultStartTimeoutMs;
    server = await PostmasterProcess.start(postmasterConfig, startTimeoutMs);
    const target: SuperuserTarget = {
      host: '127.0.0.1',
      port: server.port,
      socketDir,
      superuser: 'postgres',
      database: 'postgres',
      binDir,
      osUser,
    };
    if (roles) await psqlAsSuperuser(target, createAuthRolesSql(roles));
    const serverVersion = await psqlAsSuperuser(target, 'SHOW server_version');

    let running = server;
    let stopped: Promise<void> | undefined;
    let restarting: Promise<void> | undefined;
    const port = server.port;
    const startServer = async (): Promise<void> => {
      if (stopped !== undefined) throw new Error('startServer: the throwaway cluster has been removed (stop() was called)');
      if (running.stopRequested) await running.stop();
      if (!running.hasExited) return;
      const next = await PostmasterProcess.startOnPort(postmasterConfig, port, startTimeoutMs);
      running = next;
      // stop() was called while this server was starting: it must not outlive the cluster.
      if (stopped !== undefined) await next.stop();
    };
    const cluster: ThrowawayCluster = {
      host: '127.0.0.1',
      port: server.port,
      socketDir,
      superuser: 'postgres',
      database: 'postgres',
      serverVersion,
      binDir,
      osUser,
      dataDir,
      logFile,
      get pid() {
        return running.pid;
      },
      tls: certificates && tlsSettings(certificates),
      roles,
      psql: (sql) => psqlAsSuperuser(target, sql),
      stop: () =>
        (stopped ??= (restarting ?? Promise.resolve())
          .catch(() => undefined)
          .then(() => running.stop())
          .finally(removeDirs)),
      stopServer: () => running.stop(),
      startServer: () => {
        const attempt = (restarting ?? Promise.resolve()).catch(() => undefined).then(startServer);
        restarting = attempt;
        return attempt;
      },
    };
    return cluster;
  } catch (error) {
    await server?.stop();
    await removeDirs();
    throw error;
  }
}

/** The harness's own server settings. */
function serverSettings(socketDir: string, certificates: TestCertificates | undefined): Record<string, string> {
  return {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: socketDir,
    logging_collector: 'off',
    fsync: 'off',
    max_connections: '200',
    ...(certificates && {
      ssl: 'on',
      ssl_cert_file: certificates.serverCertFile,
      ssl_key_file: certificates.serverKeyFile,
      ssl_ca_file: certificates.caFile,
    }),
  };
}

function tlsSettings(certificates: TestCertificates): ClusterTlsSettings {
  const { caFile, otherCaFile, clientCertFile, clientKeyFile } = certificates;
  return { caFile, otherCaFile, serverName: serverCertificateName, clientCertFile, clientKeyFile };
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

interface PostmasterConfig {
  readonly binDir: string;
  readonly osUser: string | undefined;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;
  readonly settings: Readonly<Record<string, string | number | boolean>>;
}

/**
 * One `postgres` server process (under `runuser` as root), its log in a file. Owns the
 * exit guard that kills it if this process ends first.
 */
class PostmasterProcess {
  /** Set once the child has exited, e.g. `exit status 1` or `signal SIGQUIT`. */
  private exitStatus: string | undefined;
  private readonly exited: Promise<void>;
  private readonly releaseGuard: () => void;
  private stopping: Promise<void> | undefined;
  /** The postmaster's pid, known once the server accepts connections. */
  pid = 0;

  private constructor(
    private readonly config: PostmasterConfig,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitStatus = signal === null ? `exit status ${code}` : `signal ${signal}`;
        resolve();
      }),
    );
    this.releaseGuard = guardAgainstExit(() => this.kill('SIGQUIT'));
  }

  /**
   * Spawns the server and waits until it accepts connections. When it cannot bind its port
   * (another process took it since {@link freePort}), tries again with a new port.
   */
  static async start(config: PostmasterConfig, timeoutMs: number): Promise<PostmasterProcess> {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const server = PostmasterProcess.spawn(config, port, 'w');
      try {
        await server.waitUntilReady(timeoutMs);
        return server;
      } catch (error) {
        await server.stop();
        const portTaken = /could not bind .*Address already in use/.test(await server.logTail());
        if (!portTaken || attempt === portAttempts) throw error;
      }
    }
  }

  /**
   * Starts the server of an existing data directory on a given port (a restart after
   * {@link stop}) and waits until it accepts connections. The log is appended to.
   */
  static async startOnPort(config: PostmasterConfig, port: number, timeoutMs: number): Promise<PostmasterProcess> {
    const server = PostmasterProcess.spawn(config, port, 'a');
    try {
      await server.waitUntilReady(timeoutMs);
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  /** Whether {@link stop} has been called. */
  get stopRequested(): boolean {
    return this.stopping !== undefined;
  }

  /** Whether the server process has exited. */
  get hasExited(): boolean {
    return this.exitStatus !== undefined;
  }

  private static spawn(config: PostmasterConfig, port: number, logMode: 'w' | 'a'): PostmasterProcess {
    const settings = { ...config.settings, port };
    const args = ['-D', config.dataDir, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${settingValue(value)}`])];
    const [program, programArgs] = asOsUser(config.osUser, join(config.binDir, 'postgres'), args);
    const log = openSync(config.logFile, logMode);
    try {
      const child = spawn(program, programArgs, { cwd: config.dataDir, env: harnessEnv(), stdio: ['ignore', log, log] });
      // A forgotten server must not keep this process alive: it exits, and the exit guard kills the server.
      child.unref();
      return new PostmasterProcess(config, port, child);
    } finally {
      closeSync(log);
    }
  }

  private async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exitStatus !== undefined) {
        throw new Error(`postgres exited (${this.exitStatus}) before accepting connections; its log ends:\n${await this.logTail()}`);
      }
      if (await this.isReady()) {
        const pid = this.readPostmasterPid();
        if (pid === undefined) throw new Error(`postgres accepts connections but ${this.config.dataDir}/postmaster.pid is unreadable`);
        this.pid = pid;
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(`postgres did not accept connections within ${timeoutMs / 1000} s; its log ends:\n${await this.logTail()}`);
      }
      await Promise.race([delay(50), this.exited]);
    }
  }

  private isReady(): Promise<boolean> {
    const args = ['-q', '-h', this.config.socketDir, '-p', String(this.port), '-t', '2'];
    return runCommand(join(this.config.binDir, 'pg_isready'), args).then(
      () => true,
      () => false,
    );
  }

  /**
   * Immediate shutdown with `pg_ctl stop -m immediate`; if that fails or hangs, SIGQUIT and
   * finally SIGKILL. Resolves once the process has exited. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown().finally(this.releaseGuard);
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    if (this.exitStatus !== undefined) return;
    this.child.ref();
    const pgCtl = join(this.config.binDir, 'pg_ctl');
    await runCommand(pgCtl, ['stop', '-D', this.config.dataDir, '-m', 'immediate', '-s', '-t', '10'], { osUser: this.config.osUser }).catch(
      () => this.kill('SIGQUIT'),
    );
    if (await this.exitsWithin(10_000)) return;
    this.kill('SIGKILL');
    await this.exited;
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    const timeout = new AbortController();
    const exited = await Promise.race([this.exited.then(() => true), delay(ms, false, { signal: timeout.signal }).catch(() => false)]);
    timeout.abort();
    return exited;
  }

  /**
   * Synchronously signals the postmaster (found through its pid file: under runuser the child
   * is not the postmaster) and the child.
   */
  private kill(signal: NodeJS.Signals): void {
    const pid = this.readPostmasterPid();
    for (const target of [pid, this.child.pid]) {
      if (target === undefined || this.exitStatus !== undefined) continue;
      try {
        process.kill(target, signal);
      } catch {
        // Already gone.
      }
    }
  }

  private readPostmasterPid(): number | undefined {
    try {
      const pid = Number.parseInt(readFileSync(join(this.config.dataDir, 'postmaster.pid'), 'utf8'), 10);
      return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** The last 40 lines of the server log. */
  async logTail(): Promise<string> {
    const log = await readFile(this.config.logFile, 'utf8').catch(() => '');
    return log.split('\n').slice(-41).join('\n');
  }
}

function settingValue(value: string | number | boolean): string {
  return typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value);
}

/**
 * Removes a directory tree synchronously, for exit guards: retries for a moment while
 * programs that were just signalled still write into it, then gives up silently.
 */
function removeTreeSync(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
  } catch {
    // Best effort.
  }
}
