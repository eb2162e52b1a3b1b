import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { ClusterSettings, TestServers } from './cluster-settings';
import { saveHarnessState, settingsFileVariable } from './harness-state';
import { findPostgresBinDir } from './postgres-binaries';
import { psqlAsSuperuser } from './psql';
import { ensureDebianTools } from './debian-tools';
import { findPgBouncer, pgBouncerMissingMessage, startPgBouncer, type ThrowawayPgBouncer } from './pgbouncer';
import { startThrowawayCluster, type ThrowawayCluster } from './throwaway-cluster';

/**
 * Jest globalSetup: provides the PostgreSQL servers the specs use and publishes their
 * settings (a `TestServers` JSON file named by RXPG_TEST_SETTINGS, which jest's workers
 * inherit). Normally it starts two throwaway clusters in parallel: `primary` (TLS and auth
 * roles) and `plain` (auth roles, no TLS), then a PgBouncer in transaction mode in front of
 * `plain` (it starts in milliseconds). With RXPG_USE_PG_ENV=1 it uses the server that the
 * libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE name instead, and no
 * PgBouncer.
 */
export default async function globalSetup(): Promise<void> {
  const startedAt = Date.now();
  const external = process.env['RXPG_USE_PG_ENV'] === '1';
  await ensureDebianTools();
  const clusters = external ? [] : await startClusters();
  const pgbouncers: ThrowawayPgBouncer[] = [];
  const settingsDir = await mkdtemp(join(tmpdir(), 'rxpg-test-settings-'));
  try {
    let servers: TestServers;
    if (external) {
      servers = { external: true, primary: await externalServer() };
    } else {
      const [primary, plain] = clusters as [ThrowawayCluster, ThrowawayCluster];
      const pgbouncer = await startPgBouncerUnlessMissing(plain);
      if (typeof pgbouncer !== 'string') pgbouncers.push(pgbouncer);
      servers = { external: false, primary, plain, ...(typeof pgbouncer === 'string' ? { pgbouncerMissing: pgbouncer } : { pgbouncer }) };
    }
    const settingsFile = join(settingsDir, 'servers.json');
    await writeFile(settingsFile, `${JSON.stringify(servers, null, 2)}\n`);
    process.env[settingsFileVariable] = settingsFile;
    saveHarnessState({ clusters, pgbouncers, settingsDir });
    console.log(describeServers(servers, Date.now() - startedAt));
  } catch (error) {
    // Jest skips globalTeardown when globalSetup fails.
    await Promise.allSettled([
      ...pgbouncers.map((pgbouncer) => pgbouncer.stop()),
      ...clusters.map((cluster) => cluster.stop()),
      rm(settingsDir, { recursive: true, force: true }),
    ]);
    throw error;
  }
}

/**
 * Starts PgBouncer in front of `cluster` as its superuser. When PgBouncer is not installed and
 * cannot be (not root), resolves with the message saying how to install it instead: the
 * PgBouncer specs then fail with it (never skip), while the other specs run.
 */
async function startPgBouncerUnlessMissing(cluster: ThrowawayCluster): Promise<ThrowawayPgBouncer | string> {
  if (findPgBouncer() === undefined && process.getuid?.() !== 0) return pgBouncerMissingMessage;
  return startPgBouncer({ host: cluster.host, port: cluster.port, user: cluster.superuser, database: cluster.database });
}

/** Starts `primary` and `plain` in parallel; if either fails, stops the other. */
async function startClusters(): Promise<ThrowawayCluster[]> {
  const results = await Promise.allSettled([
    startThrowawayCluster({ tls: true, authRoles: true }),
    startThrowawayCluster({ authRoles: true }),
  ]);
  const clusters = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  if (failures.length > 0) {
    await Promise.allSettled(clusters.map((cluster) => cluster.stop()));
    throw failures.length === 1 ? failures[0] : new AggregateError(failures, 'starting the test PostgreSQL clusters failed');
  }
  return clusters;
}

/** The server named by the libpq variables, with libpq's defaults for what is unset. */
async function externalServer(): Promise<ClusterSettings> {
  const env = process.env;
  const host = env['PGHOST'];
  if (!host) {
    throw new Error(
      'RXPG_USE_PG_ENV=1 needs PGHOST (and optionally PGPORT, PGUSER, PGPASSWORD, PGDATABASE) naming the server to test against',
    );
  }
  const port = Number(env['PGPORT'] || 5432);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`PGPORT=${env['PGPORT']} is not a port number`);
  const superuser = env['PGUSER'] || userInfo().username;
  const server = {
    host,
    port,
    socketDir: host.startsWith('/') ? host : undefined,
    superuser,
    password: env['PGPASSWORD'],
    database: env['PGDATABASE'] || superuser,
    binDir: findPostgresBinDir(),
  };
  return { ...server, serverVersion: await psqlAsSuperuser(server, 'SHOW server_version') };
}

/** The one line that says which servers the tests use. */
function describeServers(servers: TestServers, elapsedMs: number): string {
  const { primary, plain, pgbouncer } = servers;
  if (servers.external) {
    return (
      `rxpg tests: external PostgreSQL ${primary.serverVersion} at ${primary.host}:${primary.port} as ${primary.superuser} ` +
      '(RXPG_USE_PG_ENV=1); specs that need auth roles, TLS or a second server will fail'
    );
  }
  const ignoredPgHost = process.env['PGHOST'] ? ' (PGHOST ignored; RXPG_USE_PG_ENV=1 would use it)' : '';
  return (
    `rxpg tests: throwaway PostgreSQL ${primary.serverVersion}: primary ${primary.host}:${primary.port} (TLS, auth roles), ` +
    `plain ${plain?.host}:${plain?.port} (auth roles), ` +
    (pgbouncer
      ? `${pgbouncer.version} ${pgbouncer.host}:${pgbouncer.port} (transaction mode, in front of plain), `
      : 'no PgBouncer (not installed), ') +
    `started in ${(elapsedMs / 1000).toFixed(1)} s${ignoredPgHost}`
  );
}
