import { join } from 'node:path';
import type { ClusterSettings } from './cluster-settings';
import { harnessEnv, runCommand } from './run-command';

/** The `application_name` of the harness's own sessions, so specs can tell them apart in pg_stat_activity. */
export const harnessApplicationName = 'rxpg-test-harness';

/** Where and as whom {@link runPsql} connects. */
export interface PsqlTarget {
  /** Host name, IP address or unix-socket directory. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly password?: string;
  /** Directory holding psql; psql from PATH when absent. */
  readonly binDir?: string;
  /** Run psql as this OS user (see `serverOsUser`). */
  readonly osUser?: string;
  /** Further libpq variables, e.g. `{ PGSSLMODE: 'verify-full', PGSSLROOTCERT: ... }`. */
  readonly libpqEnv?: Readonly<Record<string, string>>;
}

/**
 * Runs an SQL script with psql — independent of the client under test — and resolves with its
 * unaligned, tuples-only output (`-At`: one line per row, columns separated by `|`) without the
 * final newline. Statements run one by one as in a script file, and the first error stops the
 * script and rejects with psql's message. A developer's PG* variables and `.psqlrc` are ignored.
 */
export async function runPsql(target: PsqlTarget, sql: string): Promise<string> {
  const psql = target.binDir === undefined ? 'psql' : join(target.binDir, 'psql');
  const args = [
    '-X',
    '-q',
    '-At',
    '-v',
    'ON_ERROR_STOP=1',
    '-h',
    target.host,
    '-p',
    String(target.port),
    '-U',
    target.user,
    '-d',
    target.database,
    '-f',
    '-',
  ];
  const env = harnessEnv({
    PGAPPNAME: harnessApplicationName,
    PGCONNECT_TIMEOUT: '10',
    ...(target.password === undefined ? {} : { PGPASSWORD: target.password }),
    ...target.libpqEnv,
  });
  const { stdout } = await runCommand(psql, args, { osUser: target.osUser, env, input: sql });
  return stdout.replace(/\n$/, '');
}

/** The parts of {@link ClusterSettings} that say how to reach a server as its superuser. */
export type SuperuserTarget = Pick<
  ClusterSettings,
  'host' | 'port' | 'socketDir' | 'superuser' | 'password' | 'database' | 'binDir' | 'osUser'
>;

/** Runs SQL as the server's superuser (over its unix socket when it has one); see {@link runPsql}. */
export function psqlAsSuperuser(server: SuperuserTarget, sql: string): Promise<string> {
  return runPsql(
    {
      host: server.socketDir ?? server.host,
      port: server.port,
      user: server.superuser,
      database: server.database,
      password: server.password,
      binDir: server.binDir,
      osUser: server.osUser,
    },
    sql,
  );
}
