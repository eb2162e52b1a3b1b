// rxpg through PgBouncer in transaction pooling mode (Debian's package, started by the harness
// in front of the plain server): cancellation by unsubscribe and by `timeout` (PgBouncer
// forwards the CancelRequest, and aborted when the client closed the cancel socket first), and
// the statement cache switched off, as transaction pooling needs: PgBouncer 1.18 hands each
// transaction any server connection, where a named statement of this connection may be
// missing, or be another client's statement of the same name.
import { readFile } from 'node:fs/promises';
import { lastValueFrom, toArray } from 'rxjs';
import { TimeoutError, type Connection } from '../../lib';
import { closeOpenedConnections, errorOf, eventually, openConnection } from '../helpers/connections';
import { pgBouncerConfig, requirePgBouncer, requirePlainServer, superuserPsql } from '../helpers/test-servers';

afterEach(closeOpenedConnections);

const tag = () => Math.random().toString(36).slice(2, 10);

const rows = <T = Record<string, unknown>>(connection: Connection, sql: string, params: unknown[] = []) =>
  lastValueFrom(connection.query<T>(sql, params).pipe(toArray()));

/** How many backends of the plain server run a statement containing `marker` right now. */
const running = async (marker: string) =>
  Number(
    await superuserPsql(
      `SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%${marker}%' AND pid <> pg_backend_pid()`,
      requirePlainServer(),
    ),
  );

/** Whether PgBouncer's process is alive and its log has no FATAL (it logs one before it dies). */
async function expectPgBouncerHealthy(): Promise<void> {
  const { pid, logFile } = requirePgBouncer();
  expect(() => process.kill(pid, 0)).not.toThrow();
  const log = await readFile(logFile, 'utf8');
  expect(log).not.toMatch(/FATAL|bad client state/);
}

describe('through PgBouncer (transaction mode)', () => {
  it('unsubscribing a running pg_sleep cancels it; the connection and PgBouncer stay usable', async () => {
    const connection = await openConnection({ ...pgBouncerConfig(), statementCacheSize: 0 });
    const marker = `cancel_${tag()}`;
    const subscription = connection.query(`SELECT pg_sleep(5) AS ${marker}`).subscribe({ error: () => undefined });
    await eventually(async () => (await running(marker)) === 1, 3000);
    const unsubscribedAt = Date.now();
    subscription.unsubscribe();
    await eventually(async () => (await running(marker)) === 0, 2000);
    expect(Date.now() - unsubscribedAt).toBeLessThan(2000);

    expect(await rows(connection, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(connection.state).toBe('open');
    await expectPgBouncerHealthy();
    const other = await openConnection({ ...pgBouncerConfig(), statementCacheSize: 0 });
    expect(await rows(other, 'SELECT 2 AS two')).toEqual([{ two: 2 }]);
  });

  it('a query timeout cancels the statement with a TimeoutError; the connection stays usable', async () => {
    const connection = await openConnection({ ...pgBouncerConfig(), statementCacheSize: 0 });
    const marker = `timeout_${tag()}`;
    const startedAt = Date.now();
    const error = await errorOf(lastValueFrom(connection.query(`SELECT pg_sleep(5) AS ${marker}`, [], { timeout: 300 })));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(Date.now() - startedAt).toBeLessThan(2000);
    await eventually(async () => (await running(marker)) === 0, 2000);
    expect(await rows(connection, 'SELECT $1::int4 AS n', [3])).toEqual([{ n: 3 }]);
    expect(connection.state).toBe('open');
    await expectPgBouncerHealthy();
  });

  it('statementCacheSize 0: many clients, each its own statement, interleaved on the server connections, all get their own rows', async () => {
    // With named statements (the default cache) this mix gives 26000 / 42P05 errors and, worse,
    // rows of another client's statement of the same name; unnamed statements cannot mix up.
    const clients = await Promise.all(Array.from({ length: 6 }, () => openConnection({ ...pgBouncerConfig(), statementCacheSize: 0 })));
    for (let round = 0; round < 30; round++) {
      const results = await Promise.all(clients.map((client, k) => rows(client, `SELECT '${k}:' || $1::text AS v`, [round])));
      results.forEach((result, k) => expect(result).toEqual([{ v: `${k}:${round}` }]));
    }
    const [first] = clients as [Connection];
    const pipelined = await Promise.all(
      Array.from({ length: 200 }, (_, i) => rows(first, 'SELECT $1::int4 * 2 AS n, $2::text AS t', [i, `v${i % 7}`])),
    );
    pipelined.forEach((result, i) => expect(result).toEqual([{ n: i * 2, t: `v${i % 7}` }]));
    for (const client of clients) expect(client.state).toBe('open');
  });

  it("the default statement cache never runs another client's statement: names are unique per connection", async () => {
    // Sequential requests per client, so a statement missing on the server session PgBouncer
    // picked (26000) is prepared again and retried invisibly; what must never happen is a
    // statement of the same name from another client answering (rows of the wrong SQL).
    const clients = await Promise.all(Array.from({ length: 6 }, () => openConnection(pgBouncerConfig())));
    for (let round = 0; round < 20; round++) {
      const results = await Promise.all(clients.map((client, k) => rows(client, `SELECT '${k}:' || $1::text AS v`, [round])));
      results.forEach((result, k) => expect(result).toEqual([{ v: `${k}:${round}` }]));
    }
    for (const client of clients) expect(client.state).toBe('open');
  });
});
