// Pipelining, cancellation and timeouts. Seed cases ported here (reference/postgres_async.md
// §3.4): T-Q12 (a query cancelled mid-stream; the connection stays healthy), T-CAN2 (the
// seed's disabled cancel test, here enabled through unsubscribe).
import { count, firstValueFrom, lastValueFrom, tap, toArray } from 'rxjs';
import { PostgresError, TimeoutError, type Connection } from '../../lib';
import { closeOpenedConnections, errorOf, eventually, openConnection } from '../helpers/connections';
import { superuserConfig, superuserPsql } from '../helpers/test-servers';

let connection: Connection;
beforeEach(async () => {
  connection = await openConnection(superuserConfig());
});
afterEach(closeOpenedConnections);

const value = async <T>(sql: string, params?: unknown[]) =>
  (await firstValueFrom(connection.query<unknown[]>(sql, params, { rowMode: 'array' })))[0] as T;

/** Whether the backend is running a statement whose text contains `marker`. */
const runningOnServer = async (marker: string) =>
  Number(
    await superuserPsql(
      `SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%${marker}%' AND application_name <> 'rxpg-test-harness'`,
    ),
  ) > 0;

describe('pipelining', () => {
  it('answers 10,000 queries subscribed at once, in order; a failing one fails only itself', async () => {
    const count = 10_000;
    const failing = 5_000;
    const results: (number | string)[] = new Array(count);
    const done = Array.from({ length: count }, (_, i) =>
      lastValueFrom(
        connection.query<{ n: number }>(i === failing ? 'SELECT 1/0 AS n' : 'SELECT $1::int4 + 1 AS n', i === failing ? [] : [i]),
      )
        .then((row) => (results[i] = row.n))
        .catch((error: PostgresError) => (results[i] = error.code ?? 'error')),
    );
    await Promise.all(done);
    expect(results[failing]).toBe('22012');
    for (let i = 0; i < count; i++) if (i !== failing) expect(results[i]).toBe(i + 1);
  });

  it('keeps FIFO order when statements take different times', async () => {
    const order: number[] = [];
    const statements = ['SELECT pg_sleep(0.2), 1', 'SELECT 2', 'SELECT pg_sleep(0.1), 3'];
    await Promise.all(statements.map((sql, i) => lastValueFrom(connection.query(sql).pipe(toArray())).then(() => order.push(i + 1))));
    expect(order).toEqual([1, 2, 3]);
  });
});

describe('cancellation by unsubscribe', () => {
  it('ends a running pg_sleep(30) on the server within 1 s; the next query succeeds', async () => {
    const marker = `cancel_marker_${process.pid}`;
    const subscription = connection.query(`SELECT pg_sleep(30) AS ${marker}`).subscribe({ error: () => undefined });
    await eventually(() => runningOnServer(marker));
    const started = Date.now();
    subscription.unsubscribe();
    await eventually(async () => !(await runningOnServer(marker)), 1000);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await value('SELECT 42')).toBe(42);
  });

  it('never cancels the requests pipelined behind the abandoned one', async () => {
    for (let round = 0; round < 10; round++) {
      const behind = Array.from({ length: 3 }, (_, i) =>
        lastValueFrom(connection.query<{ n: number }>(`SELECT pg_sleep(0.01), ${i} AS n`)),
      );
      const sleeper = connection.query('SELECT pg_sleep(0.05)').subscribe({ error: () => undefined });
      // Written after the sleeper: a CancelRequest would hit these, so none may be sent.
      const after = Array.from({ length: 3 }, (_, i) => lastValueFrom(connection.query<{ n: number }>(`SELECT pg_sleep(0.01), ${i} AS n`)));
      await new Promise((resolve) => setTimeout(resolve, round * 7));
      sleeper.unsubscribe();
      const results = await Promise.all([...behind, ...after]);
      expect(results.map((row) => row.n)).toEqual([0, 1, 2, 0, 1, 2]);
    }
  });

  it('holds back requests made while a cancel is in flight, so the cancel cannot hit them', async () => {
    for (let round = 0; round < 10; round++) {
      const sleeper = connection.query('SELECT pg_sleep(5)').subscribe({ error: () => undefined });
      await new Promise((resolve) => setTimeout(resolve, 20 + round * 3));
      sleeper.unsubscribe();
      const next = await lastValueFrom(connection.query<{ n: number }>('SELECT pg_sleep(0.02), 7 AS n'));
      expect(next.n).toBe(7);
    }
  });

  it('drops a request that was not written yet', async () => {
    await lastValueFrom(connection.execute('CREATE TEMPORARY TABLE never (x int)'));
    const sleeper = connection.query('SELECT pg_sleep(5)').subscribe({ error: () => undefined });
    await new Promise((resolve) => setTimeout(resolve, 50));
    sleeper.unsubscribe();
    // The cancel is in flight, so this INSERT is held back; unsubscribing removes it.
    connection.execute('INSERT INTO never VALUES (1)').subscribe().unsubscribe();
    expect(await value('SELECT count(*)::int FROM never')).toBe(0);
  });

  it('a query cancelled from another session mid-stream errors with 57014; the connection stays healthy (T-Q12)', async () => {
    let handled = 0;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let blocked: () => void = () => undefined;
    const isBlocked = new Promise<void>((resolve) => (blocked = resolve));
    const result = errorOf(
      lastValueFrom(
        connection
          .query('SELECT g, repeat($1, 1024) FROM generate_series(0, 65535) g', ['a'], {
            pushback: () => {
              if (handled <= 10_000) return undefined;
              blocked();
              return released;
            },
          })
          .pipe(
            tap(() => (handled += 1)),
            count(),
          ),
      ),
    );
    await isBlocked;
    expect(await superuserPsql(`SELECT pg_cancel_backend(${connection.processId})`)).toBe('t');
    release();
    const error = await result;
    expect(error).toBeInstanceOf(PostgresError);
    expect((error as PostgresError).code).toBe('57014');
    expect(handled).toBeLessThan(50_000);
    expect(await value('SELECT 1')).toBe(1);
  });
});

describe('timeout', () => {
  it('errors with a TimeoutError, stops the statement on the server, and keeps the connection', async () => {
    const marker = `timeout_marker_${process.pid}`;
    const started = Date.now();
    const error = await errorOf(lastValueFrom(connection.query(`SELECT pg_sleep(10) AS ${marker}`, [], { timeout: 200 })));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeLessThan(1000);
    await eventually(async () => !(await runningOnServer(marker)), 1000);
    expect(await value('SELECT 6')).toBe(6);
  });

  it('does not fire after the query has completed', async () => {
    expect(await value('SELECT 8', [])).toBe(8);
    const row = await lastValueFrom(connection.query<{ n: number }>('SELECT 9 AS n', [], { timeout: 50 }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(row.n).toBe(9);
  });

  it('an invalid timeout is a RangeError before anything is sent', async () => {
    for (const timeout of [0, -5, Number.NaN, Infinity, '100' as unknown as number]) {
      const error = await errorOf(lastValueFrom(connection.query('SELECT 1', [], { timeout })));
      expect(error).toBeInstanceOf(RangeError);
    }
    expect(await value('SELECT 7')).toBe(7);
  });
});
