import { readFileSync } from 'node:fs';
import type { ClusterRoles, ClusterSettings, ClusterTlsSettings, PgBouncerSettings, TestServers } from '../harness/cluster-settings';
import { settingsFileVariable } from '../harness/harness-state';
import { psqlAsSuperuser } from '../harness/psql';

export type {
  ClusterRoles,
  ClusterSettings,
  ClusterTlsSettings,
  PgBouncerSettings,
  RoleCredentials,
  RoleName,
  TestServers,
} from '../harness/cluster-settings';

let cached: TestServers | undefined;

/**
 * The PostgreSQL servers that jest's globalSetup provided (spec/harness/global-setup.ts),
 * read once from the file named by RXPG_TEST_SETTINGS.
 */
export function testServers(): TestServers {
  if (cached === undefined) {
    const file = process.env[settingsFileVariable];
    if (!file) throw new Error(`${settingsFileVariable} is not set: run the specs through jest, whose globalSetup starts the test servers`);
    cached = JSON.parse(readFileSync(file, 'utf8')) as TestServers;
  }
  return cached;
}

/** Connection settings for the superuser, as a plain object to spread into a connection config. */
export interface SuperuserConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** Only an external server (PGPASSWORD) has one; throwaway clusters trust the superuser. */
  readonly password?: string;
  readonly sslmode: 'disable';
}

/**
 * The superuser's connection settings for `cluster` (default: the primary), over TCP or over
 * the unix socket (`host` is then the socket directory). TLS is off, so that tests which are
 * not about TLS do not depend on it.
 */
export function superuserConfig(cluster: ClusterSettings = testServers().primary, via: 'tcp' | 'socket' = 'tcp'): SuperuserConfig {
  const host = via === 'tcp' ? cluster.host : cluster.socketDir;
  if (host === undefined) throw missing('a unix-socket directory', cluster);
  return {
    host,
    port: cluster.port,
    user: cluster.superuser,
    database: cluster.database,
    ...(cluster.password === undefined ? {} : { password: cluster.password }),
    sslmode: 'disable',
  };
}

/**
 * Runs SQL as the superuser with psql — independently of the client under test, e.g. to
 * inspect pg_stat_activity or terminate a backend — and resolves with the `-At` output (rows
 * on lines, columns separated by `|`, no final newline). Its sessions have
 * `application_name` = 'rxpg-test-harness'.
 */
export function superuserPsql(sql: string, cluster: ClusterSettings = testServers().primary): Promise<string> {
  return psqlAsSuperuser(cluster, sql);
}

/** The auth roles of `cluster` (default: the primary); throws a clear error when it has none. */
export function requireRoles(cluster: ClusterSettings = testServers().primary): ClusterRoles {
  if (cluster.roles === undefined) throw missing('the auth roles (one per authentication method)', cluster);
  return cluster.roles;
}

/** The TLS files of `cluster` (default: the primary); throws a clear error when it has no TLS. */
export function requireTls(cluster: ClusterSettings = testServers().primary): ClusterTlsSettings {
  if (cluster.tls === undefined) throw missing('a server with TLS and generated certificates', cluster);
  return cluster.tls;
}

/** The server without TLS; throws a clear error when there is none (external server). */
export function requirePlainServer(): ClusterSettings {
  const { plain, primary } = testServers();
  if (plain === undefined) throw missing('a second server without TLS', primary);
  return plain;
}

/**
 * The PgBouncer (transaction mode, in front of {@link requirePlainServer}); throws a clear
 * error when there is none: not installed (with the command that installs it), or an
 * external server.
 */
export function requirePgBouncer(): PgBouncerSettings {
  const { pgbouncer, pgbouncerMissing, primary } = testServers();
  if (pgbouncer !== undefined) return pgbouncer;
  if (pgbouncerMissing !== undefined) throw new Error(pgbouncerMissing);
  throw missing('PgBouncer in front of a throwaway server', primary);
}

/** Connection settings that reach the plain server through PgBouncer, as {@link superuserConfig} does directly. */
export function pgBouncerConfig(pgbouncer: PgBouncerSettings = requirePgBouncer()): SuperuserConfig {
  return { host: pgbouncer.host, port: pgbouncer.port, user: pgbouncer.user, database: pgbouncer.database, sslmode: 'disable' };
}

/**
 * The error for a test whose server lacks what it needs. Such tests fail rather than skip,
 * so that CI never passes without running them.
 */
function missing(what: string, cluster: ClusterSettings): Error {
  const where = `${cluster.host}:${cluster.port}`;
  return new Error(
    testServers().external
      ? `This test needs ${what}, which only the harness's throwaway servers have, but RXPG_USE_PG_ENV=1 points the tests at ${where}. Unset RXPG_USE_PG_ENV to run it.`
      : `This test needs ${what}, but the test server ${where} was started without it (see spec/harness/global-setup.ts).`,
  );
}
