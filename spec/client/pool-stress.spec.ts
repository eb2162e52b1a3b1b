// The pool under load against a real server: 200 concurrent callers make 10,000 requests over
// 5 connections (point queries, streams, sleeps, transactions, held connections), and many
// give up early — while waiting, while running, while streaming, inside a transaction. Every
// answer delivered must be right, no connection may be handed out inside a transaction, and
// afterwards the server has exactly the pool's connections, and none once it has ended.
import { Observable, concat, lastValueFrom, of, repeat, take, toArray } from 'rxjs';
import { PoolMisuseError, createPool, type Pool } from '../../lib';
import { eventually } from '../helpers/connections';
import { superuserConfig, superuserPsql } from '../helpers/test-servers';

const pointQuery = 'SELECT $1::int AS n, current_setting(\'rxpg.in_tx\', true) AS "inTx"';
const openTransaction = "BEGIN; SELECT set_config('rxpg.in_tx', 'yes', true)";

const tag = () => Math.random().toString(36).slice(2, 10);

/** Subscribes and, with `giveUpAfter` ms, unsubscribes then; resolves with the values either way. */
function run<T>(source: Observable<T>, giveUpAfter: number | undefined): Promise<{ values: T[]; completed: boolean }> {
  return new Promise((resolve, reject) => {
    const values: T[] = [];
    let timer: NodeJS.Timeout | undefined;
    const subscription = source.subscribe({
      next: (value) => values.push(value),
      error: (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
      complete: () => {
        clearTimeout(timer);
        resolve({ values, completed: true });
      },
    });
    if (giveUpAfter !== undefined && !subscription.closed) {
      timer = setTimeout(() => {
        subscription.unsubscribe();
        resolve({ values, completed: false });
      }, giveUpAfter);
    }
  });
}

describe('pool under load', () => {
  it.each([1, 4])(
    'serves 10,000 requests from 200 callers over 5 connections (pipeline %d) with random early unsubscribes: right answers, no connection handed out in a transaction, nothing leaked',
    async (pipeline) => {
      const socketsBefore = openSockets();
      const applicationName = `pool-stress-${tag()}`;
      const pool: Pool = createPool({ ...superuserConfig(), applicationName }, { max: 5, acquireTimeout: 20_000, pipeline });
      const problems: string[] = [];
      const counts = { completed: 0, abandoned: 0 };
      const perCaller = 50;
      const caller = async (c: number) => {
        for (let r = 0; r < perCaller; r++) {
          const i = c * perCaller + r;
          const giveUp = Math.random() < 0.3 ? Math.floor(Math.random() * 15) : undefined;
          const kind = i % 5;
          if (kind === 0 && r % 3 === 0) {
            // Misuse: a transaction left open, which the pool must roll back before anyone else gets the connection.
            const outcome = await run(pool.simpleQuery(openTransaction), giveUp).catch((error: unknown) => error);
            if (outcome instanceof PoolMisuseError) counts.completed++;
            else if (outcome instanceof Error) problems.push(`misuse ${i}: ${outcome.message}`);
            else counts.abandoned++;
          } else if (kind === 0) {
            // A point query, which must not run inside anybody's transaction (they all set rxpg.in_tx locally).
            const { values, completed } = await run(pool.query<{ n: number; inTx: string | null }>(pointQuery, [i]), giveUp);
            for (const row of values) {
              if (row.n !== i) problems.push(`point ${i} got ${row.n}`);
              if (row.inTx === 'yes') problems.push(`point ${i} ran inside a transaction`);
            }
            counts[completed ? 'completed' : 'abandoned']++;
          } else if (kind === 1) {
            // A stream, sometimes left after a few rows.
            const rows = Math.random() < 0.3 ? 1 + Math.floor(Math.random() * 50) : undefined;
            const source = pool.query<{ n: number }>('SELECT generate_series(1, 500) AS n');
            const { values, completed } = await run(rows === undefined ? source : source.pipe(take(rows)), giveUp);
            values.forEach((row, index) => {
              if (row.n !== index + 1) problems.push(`stream ${i} row ${index} was ${row.n}`);
            });
            if (completed && values.length !== (rows ?? 500)) problems.push(`stream ${i} ended with ${values.length} rows`);
            counts[completed ? 'completed' : 'abandoned']++;
          } else if (kind === 2) {
            const { values, completed } = await run(pool.query<{ n: number }>('SELECT $1::int AS n, pg_sleep(0.005)', [i]), giveUp);
            if (completed && values[0]?.n !== i) problems.push(`sleep ${i} got ${values[0]?.n}`);
            counts[completed ? 'completed' : 'abandoned']++;
          } else if (kind === 3) {
            // A transaction, sometimes left mid-statement (ROLLBACK).
            const { values, completed } = await run(
              pool.transaction((tx) =>
                concat(
                  tx.query<{ n: number }>("SELECT $1::int AS n, set_config('rxpg.in_tx', 'yes', true) AS marked", [i]),
                  tx.query<{ n: number }>('SELECT $1::int AS n, pg_sleep(0.003)', [i]),
                ),
              ),
              giveUp,
            );
            for (const row of values) if (row.n !== i) problems.push(`transaction ${i} got ${row.n}`);
            if (completed && values.length !== 2) problems.push(`transaction ${i} gave ${values.length} rows`);
            counts[completed ? 'completed' : 'abandoned']++;
          } else {
            // A held connection: what is its transaction status when it is handed out?
            const { values, completed } = await run(
              pool.withConnection((connection) => {
                if (connection.transactionStatus !== 'idle') problems.push(`handed out in '${connection.transactionStatus}'`);
                return connection.query<{ n: number; inTx: string | null }>(pointQuery, [i]);
              }),
              giveUp,
            );
            if (completed && values[0]?.n !== i) problems.push(`held ${i} got ${values[0]?.n}`);
            if (values[0]?.inTx === 'yes') problems.push(`held ${i} ran inside a transaction`);
            counts[completed ? 'completed' : 'abandoned']++;
          }
        }
      };
      const started = Date.now();
      await Promise.all(Array.from({ length: 200 }, (_, c) => caller(c)));
      const elapsed = Date.now() - started;

      expect(problems).toEqual([]);
      expect(counts.completed + counts.abandoned).toBe(10_000);
      expect(counts.abandoned).toBeGreaterThan(500);
      expect(counts.completed).toBeGreaterThan(5000);
      expect(elapsed).toBeLessThan(60_000);
      await eventually(() => pool.stats.busy === 0 && pool.stats.waiting === 0, 5000);
      expect(pool.stats.total).toBeLessThanOrEqual(5);
      const backends = async () =>
        Number(await superuserPsql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = '${applicationName}'`));
      await eventually(async () => (await backends()) === pool.stats.total, 3000);
      // Every connection still in the pool is outside a transaction.
      const statuses = await lastValueFrom(
        pool.withConnection((connection) => of(connection.transactionStatus)).pipe(repeat(pool.stats.total), toArray()),
      );
      expect(new Set(statuses)).toEqual(new Set(['idle']));
      expect(openSockets()).toBeGreaterThan(socketsBefore);
      await pool.end();
      await eventually(async () => (await backends()) === 0, 3000);
      // Client side too: every socket the pool opened (connections, cancel requests) is closed.
      await eventually(() => openSockets() <= socketsBefore, 3000);
    },
    90_000,
  );
});

/** TCP sockets open in this process (connections and cancel sockets alike). */
function openSockets(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'TCPSocketWrap' || resource === 'TCPWrap').length;
}
