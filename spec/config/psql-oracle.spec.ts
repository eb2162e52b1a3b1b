import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { connect, type Connection } from '../../lib';
import { resolveConnectionConfig } from '../../lib/config/resolve-connection-config';
import { ConfigError } from '../../lib/errors/config-error';
import { harnessEnv, runCommand } from '../harness/run-command';
import { requirePlainServer, superuserPsql } from '../helpers/test-servers';

// psql (libpq) is the oracle: for each input, what the server reports to a psql session made
// from it must be what it reports to an rxpg session made from the same input, and what
// resolveConnectionConfig computes. Inputs that libpq refuses must be refused by rxpg too.
// Not here: ~/.pg_service.conf (PostgreSQL 15's libpq finds the home directory with
// getpwuid, ignoring HOME, which rxpg reads first; see service-file.spec.ts) and the
// `servicefile` keyword, which PostgreSQL 15's libpq does not know.

const server = requirePlainServer();
const host = server.host;
const port = server.port;
const user = server.superuser;
const database = server.database;
const spacedDatabase = 'rxpg oracle db';
const report = "SELECT current_user, current_database(), current_setting('application_name'), inet_server_port()";

interface Reported {
  readonly user: string;
  readonly database: string;
  readonly applicationName: string;
  readonly port: number;
}

interface OracleCase {
  readonly name: string;
  /** The connection string given to psql and to rxpg. */
  readonly conninfo: string;
  /** libpq variables (paths relative to the case's directory are written as `<dir>`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Files to create, by path relative to the case's directory. */
  readonly files?: Readonly<Record<string, string>>;
}

const service = (lines: readonly string[]): string => `${lines.join('\n')}\n`;
const oracleService = service([
  '[oracle]',
  `host=${host}`,
  `port=${port}`,
  `user=${user}`,
  `dbname=${spacedDatabase}`,
  'application_name=from service',
]);

const cases: readonly OracleCase[] = [
  {
    name: 'keyword/value with quoted values and escapes',
    conninfo: `host=${host} port=${port} user=${user} dbname='${spacedDatabase}' password='a\\'b' application_name='x y\\\\z'`,
  },
  {
    name: 'keyword/value with white space around = and an escaped space',
    conninfo: `host = ${host}  port= ${port} user =${user} dbname = ${database} application_name=after\\ space`,
  },
  {
    name: 'URL with percent-encoding',
    conninfo: `postgresql://${user}@${host}:${port}/rxpg%20oracle%20db?application_name=%41pp%2Bx%20y`,
  },
  {
    name: 'URL with the user and database as query parameters',
    conninfo: `postgres://${host}:${port}?dbname=${database}&user=${user}&application_name=query`,
  },
  {
    name: 'keyword/value host list whose first host refuses',
    conninfo: `host=${host},${host} port=1,${port} user=${user} dbname=${database} application_name=list connect_timeout=5`,
  },
  {
    name: 'URL host list whose first host refuses',
    conninfo: `postgresql://${host}:1,${host}:${port}/${database}?user=${user}&application_name=urllist`,
  },
  {
    name: 'environment variables fill what the string leaves unset',
    conninfo: `host=${host} port=${port}`,
    env: { PGUSER: user, PGDATABASE: database, PGAPPNAME: 'from env' },
  },
  {
    name: 'service= from PGSERVICEFILE',
    conninfo: 'service=oracle',
    env: { PGSERVICEFILE: '<dir>/services.conf' },
    files: { 'services.conf': oracleService },
  },
  {
    name: 'the string wins over the service file',
    conninfo: `service=oracle application_name=from_string dbname=${database}`,
    env: { PGSERVICEFILE: '<dir>/services.conf' },
    files: { 'services.conf': oracleService },
  },
  {
    name: 'the service file wins over the environment',
    conninfo: 'service=oracle',
    env: { PGSERVICEFILE: '<dir>/services.conf', PGAPPNAME: 'from env', PGDATABASE: database },
    files: { 'services.conf': oracleService },
  },
  {
    name: 'PGSERVICE names the service',
    conninfo: 'application_name=via_pgservice',
    env: { PGSERVICE: 'oracle', PGSERVICEFILE: '<dir>/services.conf' },
    files: { 'services.conf': oracleService },
  },
  {
    name: 'URL with a service query parameter',
    conninfo: 'postgresql://?service=oracle&application_name=urlservice',
    env: { PGSERVICEFILE: '<dir>/services.conf' },
    files: { 'services.conf': oracleService },
  },
  {
    name: 'service file: comments, indentation, other groups, a keyword given twice',
    conninfo: 'service=oracle',
    env: { PGSERVICEFILE: '<dir>/services.conf' },
    files: {
      'services.conf': service([
        '# a comment',
        '',
        '[other]',
        'port=1',
        '[oracle]',
        `  host=${host}`,
        `port=${port}   `,
        `user=${user}`,
        `dbname=${database}`,
        'application_name=first',
        'application_name=second',
        '[next]',
        'application_name=third',
      ]),
    },
  },
  {
    name: 'service found in PGSYSCONFDIR when there is no ~/.pg_service.conf',
    conninfo: 'service=oracle',
    env: { PGSYSCONFDIR: '<dir>/sys' },
    files: { 'sys/pg_service.conf': oracleService },
  },
  {
    name: 'a PGSERVICEFILE that does not exist is an error, even when PGSYSCONFDIR defines the service',
    conninfo: 'service=oracle',
    env: { PGSERVICEFILE: '<dir>/missing.conf', PGSYSCONFDIR: '<dir>/sys' },
    files: { 'sys/pg_service.conf': oracleService },
  },

  {
    name: 'the per-user file wins whole: no merging with PGSYSCONFDIR',
    conninfo: 'service=oracle',
    env: { PGSERVICEFILE: '<dir>/services.conf', PGSYSCONFDIR: '<dir>/sys' },
    files: {
      'services.conf': service(['[oracle]', `host=${host}`, `port=${port}`, `user=${user}`, `dbname=${database}`]),
      'sys/pg_service.conf': service(['[oracle]', 'application_name=from system file']),
    },
  },
  {
    name: 'a service that no file defines is an error',
    conninfo: `host=${host} port=${port} user=${user} service=absent`,
    env: { PGSERVICEFILE: '<dir>/services.conf', PGSYSCONFDIR: '<dir>/sys' },
    files: { 'services.conf': oracleService, 'sys/pg_service.conf': oracleService },
  },
  {
    name: 'white space before = in a service file is an error',
    conninfo: 'service=oracle',
    env: { PGSERVICEFILE: '<dir>/services.conf' },
    files: { 'services.conf': service(['[oracle]', `host = ${host}`]) },
  },
  {
    name: 'an unknown keyword in a service file is an error',
    conninfo: 'service=oracle',
    env: { PGSERVICEFILE: '<dir>/services.conf' },
    files: { 'services.conf': service(['[oracle]', `host=${host}`, 'TimeZone=UTC']) },
  },
  {
    name: 'a nested service in a service file is an error',
    conninfo: 'service=oracle',
    env: { PGSERVICEFILE: '<dir>/services.conf' },
    files: { 'services.conf': service(['[oracle]', 'service=other']) },
  },
];

let root: string;
let emptyHome: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'rxpg-psql-oracle-'));
  // psql runs as the server's OS user, which must be able to read the service files.
  chmodSync(root, 0o755);
  emptyHome = join(root, 'home');
  mkdirSync(emptyHome, { mode: 0o755 });
  const exists = await superuserPsql(`SELECT count(*) FROM pg_database WHERE datname = '${spacedDatabase}'`, server);
  if (exists === '0') await superuserPsql(`CREATE DATABASE "${spacedDatabase}"`, server);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Writes the case's files into its own directory and returns its environment with `<dir>` filled in. */
function prepare(oracleCase: OracleCase, index: number): Record<string, string> {
  const directory = join(root, `case-${index}`);
  mkdirSync(directory, { mode: 0o755 });
  for (const [path, text] of Object.entries(oracleCase.files ?? {})) {
    const file = join(directory, path);
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    writeFileSync(file, text, { mode: 0o644 });
  }
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(oracleCase.env ?? {})) env[name] = value.replace('<dir>', directory);
  return env;
}

function parseReport(line: string): Reported {
  const [reportedUser = '', reportedDatabase = '', applicationName = '', reportedPort = ''] = line.split('|');
  return { user: reportedUser, database: reportedDatabase, applicationName, port: Number(reportedPort) };
}

/** What the server reports to psql, or `'error'` when libpq refuses the input. */
async function askPsql(conninfo: string, env: Record<string, string>): Promise<Reported | 'error'> {
  const psql = server.binDir === undefined ? 'psql' : join(server.binDir, 'psql');
  try {
    const { stdout } = await runCommand(psql, ['-X', '-q', '-At', '-c', report, conninfo], {
      osUser: server.osUser,
      env: harnessEnv({ HOME: emptyHome, ...env }),
    });
    const reported = parseReport(stdout.trim());
    // psql's own fallback_application_name; rxpg has none.
    return reported.applicationName === 'psql' ? { ...reported, applicationName: '' } : reported;
  } catch {
    return 'error';
  }
}

/** Runs `action` with process.env holding only `env` among the libpq variables, and HOME empty unless `env` sets it. */
async function withEnvironment<T>(env: Record<string, string>, action: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) if (name.startsWith('PG')) delete process.env[name];
  Object.assign(process.env, { HOME: emptyHome }, env);
  try {
    return await action();
  } finally {
    for (const name of Object.keys(process.env)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

/** What the server reports to rxpg, or `'error'` when rxpg refuses the input. */
async function askRxpg(conninfo: string, env: Record<string, string>): Promise<Reported | 'error'> {
  let connection: Connection;
  try {
    connection = await withEnvironment(env, () => firstValueFrom(connect(conninfo)));
  } catch {
    return 'error';
  }
  try {
    const results = await lastValueFrom(connection.simpleQuery(report).pipe(toArray()));
    const row = results[results.length - 1]?.rows[0] ?? [];
    return parseReport(row.map((value) => value ?? '').join('|'));
  } finally {
    await connection.close();
  }
}

describe('connection strings and service files resolve as psql resolves them', () => {
  it.each(cases.map((oracleCase, index) => [oracleCase.name, oracleCase, index] as const))('%s', async (_name, oracleCase, index) => {
    const env = prepare(oracleCase, index);
    const expected = await askPsql(oracleCase.conninfo, env);
    const actual = await askRxpg(oracleCase.conninfo, env);
    expect(actual).toEqual(expected);

    let resolved: ReturnType<typeof resolveConnectionConfig> | undefined;
    let failure: unknown;
    try {
      resolved = resolveConnectionConfig(oracleCase.conninfo, { HOME: emptyHome, ...env });
    } catch (error) {
      failure = error;
    }
    if (expected === 'error') {
      expect(failure).toBeInstanceOf(ConfigError);
    } else {
      expect(failure).toBeUndefined();
      expect({ user: resolved?.user, database: resolved?.database, applicationName: resolved?.applicationName ?? '' }).toEqual({
        user: expected.user,
        database: expected.database,
        applicationName: expected.applicationName,
      });
      expect(resolved?.hosts.some((entry) => entry.port === expected.port)).toBe(true);
    }
  });
});
