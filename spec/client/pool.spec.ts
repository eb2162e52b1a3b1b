// The pool against a real server: every request kind, withConnection, fair FIFO waiting,
// leaving the queue, acquireTimeout, failed connections replaced, a transaction left open
// rolled back (PoolMisuseError), connect failures, and option validation.
import { Subject, concat, firstValueFrom, lastValueFrom, of, retry, toArray } from 'rxjs';
import {
  AcquireTimeoutError,
  ConfigError,
  ConnectionError,
  PoolMisuseError,
  PostgresError,
  createPool,
  type Pool,
  type PoolOptions,
} from '../../lib';
import { errorOf, eventually } from '../helpers/connections';
import { superuserConfig, superuserPsql } from '../helpers/test-servers';

const pools: Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.end({ timeout: 100 })));
});

const tag = () => Math.random().toString(36).slice(2, 10);

/** A pool on the primary with its own application_name, so that its backends can be counted. */
function pool(options: PoolOptions = {}, applicationName = `pool-${tag()}`): Pool {
  const created = createPool({ ...superuserConfig(), applicationName }, options);
  pools.push(created);
  return created;
}

const all = <T>(source: import('rxjs').Observable<T>) => lastValueFrom(source.pipe(toArray()));
const backendsOf = async (applicationName: string) =>
  Number(await superuserPsql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = '${applicationName}'`));
const pidOf = async (p: Pool) => (await lastValueFrom(p.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))).pid;

describe('createPool', () => {
  it('is lazy: nothing connects before the first request', async () => {
    const applicationName = `lazy-${tag()}`;
    const p = pool({ min: 2 }, applicationName);
    p.query('SELECT 1'); // never subscribed: cold
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(p.stats).toEqual({ total: 0, idle: 0, busy: 0, waiting: 0, connecting: 0, max: 10 });
    expect(await backendsOf(applicationName)).toBe(0);
  });

  it.each<[string, PoolOptions]>([
    ['max 0', { max: 0 }],
    ['fractional max', { max: 1.5 }],
    ['min above max', { max: 2, min: 3 }],
    ['negative min', { min: -1 }],
    ['idleTimeout 0', { idleTimeout: 0 }],
    ['NaN maxLifetime', { maxLifetime: Number.NaN }],
    ['acquireTimeout beyond setTimeout', { acquireTimeout: 2 ** 31 }],
    ['negative connectRetry delay', { connectRetry: { initialDelay: -1 } }],
    ['pipeline 0', { pipeline: 0 }],
    ['a zero listener heartbeat', { listener: { heartbeatInterval: 0 } }],
    ['a listener reconnect factor below 1', { listener: { reconnect: { factor: 0.5 } } }],
  ])('refuses %s with a RangeError naming the option, before any I/O', (_name, options) => {
    const key = Object.keys(options)[0];
    expect(() => createPool(superuserConfig(), options)).toThrow(RangeError);
    expect(() => createPool(superuserConfig(), options)).toThrow(key);
  });

  it.each<[string, PoolOptions, string]>([
    ['a connectRetry that is a number', { connectRetry: 5 as unknown as PoolOptions['connectRetry'] }, 'connectRetry'],
    ['a connectRetry that is a string', { connectRetry: 'fast' as unknown as PoolOptions['connectRetry'] }, 'connectRetry'],
    ['a listener.reconnect of null', { listener: { reconnect: null as unknown as undefined } }, 'listener.reconnect'],
  ])('refuses %s with a TypeError naming the option, before any I/O', (_name, options, key) => {
    expect(() => createPool(superuserConfig(), options)).toThrow(TypeError);
    expect(() => createPool(superuserConfig(), options)).toThrow(`createPool: ${key} must be an object`);
  });

  it.each<[string, PoolOptions, string]>([
    ["pg-pool's idleTimeoutMillis", { idleTimeoutMillis: 1000 } as PoolOptions, 'unknown pool option "idleTimeoutMillis"'],
    ['a misspelt acquireTimout', { max: 2, acquireTimout: 50 } as PoolOptions, 'unknown pool option "acquireTimout"'],
    ['a listener option that does not exist', { listener: { heartbeat: 10 } } as PoolOptions, 'unknown pool option "listener.heartbeat"'],
  ])('refuses %s with a TypeError naming it (a typo would otherwise run with the default)', (_name, options, message) => {
    expect(() => createPool(superuserConfig(), options)).toThrow(TypeError);
    expect(() => createPool(superuserConfig(), options)).toThrow(message);
  });

  it('refuses options that are not an object, and invalid connection settings', () => {
    expect(() => createPool(superuserConfig(), null as unknown as PoolOptions)).toThrow(TypeError);
    expect(() => createPool('postgres://h/db?sslmode=bogus')).toThrow(ConfigError);
  });

  it('accepts Infinity for the durations (no limit)', async () => {
    const p = pool({ idleTimeout: Infinity, maxLifetime: Infinity, acquireTimeout: Infinity });
    expect(await firstValueFrom(p.query('SELECT 1 AS one'))).toEqual({ one: 1 });
  });
});

describe('pool requests', () => {
  it('gives the connection straight back after a statement error (the error came with its ReadyForQuery: in sync)', async () => {
    const p = pool({ max: 1 });
    await pidOf(p); // one idle connection
    const seen: { busy: number; idle: number }[] = [];
    const error = await new Promise<unknown>((resolve) => {
      p.query('SELECT 1/0').subscribe({
        error: (failure: unknown) => {
          const { busy, idle } = p.stats;
          seen.push({ busy, idle });
          resolve(failure);
        },
      });
    });
    expect(error).toBeInstanceOf(PostgresError);
    // Idle when the error is delivered: no sync round trip held it back from the next request.
    expect(seen).toEqual([{ busy: 0, idle: 1 }]);
    // In a failed implicit transaction? No: the next request on it runs normally.
    expect(await firstValueFrom(p.query('SELECT 2 AS two'))).toEqual({ two: 2 });
  });

  it('runs every request kind on pooled connections and returns them', async () => {
    const p = pool({ max: 2 });
    const table = `pool_kinds_${tag()}`;
    await lastValueFrom(p.execute(`CREATE TABLE ${table} (id int, name text)`));
    try {
      expect(await all(p.query<{ n: number }>('SELECT generate_series(1, $1::int) AS n', [3]))).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      expect(await lastValueFrom(p.execute(`INSERT INTO ${table} VALUES ($1, $2)`, [1, 'Ada']))).toEqual({
        command: 'INSERT 0 1',
        rowCount: 1,
      });
      const [result] = await all(p.simpleQuery(`SELECT count(*) AS c FROM ${table}`));
      expect(result?.rows).toEqual([['1']]);
      expect(await lastValueFrom(p.copyIn(`COPY ${table} FROM STDIN`, ['2\tGrace\n', '3\tEdsger\n']))).toMatchObject({ rowCount: 2 });
      expect(await lastValueFrom(p.copyInRows({ table, columns: ['id', 'name'] }, [[4, null]]))).toMatchObject({ rowCount: 1 });
      const csv = Buffer.concat(await all(p.copyOut(`COPY (SELECT * FROM ${table} ORDER BY id) TO STDOUT (FORMAT csv)`))).toString();
      expect(csv).toBe('1,Ada\n2,Grace\n3,Edsger\n4,\n');
      expect(await all(p.copyOutRows(`COPY (SELECT * FROM ${table} WHERE id > 2 ORDER BY id) TO STDOUT`))).toEqual([
        ['3', 'Edsger'],
        ['4', null],
      ]);
      await lastValueFrom(p.notify(`pool_kinds_${tag()}`, 'x'), { defaultValue: undefined });
      expect(p.stats).toMatchObject({ busy: 0, waiting: 0 });
      expect(p.stats.total).toBeGreaterThanOrEqual(1);
      expect(p.stats.total).toBeLessThanOrEqual(2);
    } finally {
      await lastValueFrom(p.execute(`DROP TABLE ${table}`));
    }
  });

  it('passes a statement error through and keeps the connection', async () => {
    const p = pool({ max: 1 });
    const pid = await pidOf(p);
    const error = await errorOf(lastValueFrom(p.query('SELECT 1/0')));
    expect(error).toBeInstanceOf(PostgresError);
    expect((error as PostgresError).code).toBe('22012');
    expect(await pidOf(p)).toBe(pid);
  });

  it('gives waiters the connection in the order they asked (fair FIFO)', async () => {
    const p = pool({ max: 1 });
    const gate = new Subject<never>();
    const held = p.withConnection(() => gate).subscribe({ error: () => undefined });
    await eventually(() => p.stats.busy === 1);
    const order: number[] = [];
    const done = Promise.all(
      [0, 1, 2, 3, 4].map((i) => lastValueFrom(p.query<{ i: number }>('SELECT $1::int AS i', [i])).then((row) => order.push(row.i))),
    );
    expect(p.stats.waiting).toBe(5);
    gate.complete();
    await done;
    held.unsubscribe();
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('takes a waiter that unsubscribes out of the queue at once; its statement is never sent', async () => {
    const p = pool({ max: 1 });
    const table = `pool_leave_${tag()}`;
    await lastValueFrom(p.execute(`CREATE TABLE ${table} (id int)`));
    try {
      const gate = new Subject<never>();
      p.withConnection(() => gate).subscribe({ error: () => undefined });
      await eventually(() => p.stats.busy === 1);
      const first = lastValueFrom(p.execute(`INSERT INTO ${table} VALUES (1)`));
      const leaving = p.execute(`INSERT INTO ${table} VALUES (2)`).subscribe();
      const third = lastValueFrom(p.execute(`INSERT INTO ${table} VALUES (3)`));
      expect(p.stats.waiting).toBe(3);
      leaving.unsubscribe();
      expect(p.stats.waiting).toBe(2);
      gate.complete();
      await Promise.all([first, third]);
      expect(await all(p.query<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`))).toEqual([{ id: 1 }, { id: 3 }]);
    } finally {
      await lastValueFrom(p.execute(`DROP TABLE ${table}`));
    }
  });

  it('after an unsubscribe mid-request, waits until the connection is in sync and rolls back what the request left open', async () => {
    const p = pool({ max: 1 });
    // transactionStatus still says 'idle' when this is abandoned: its only ReadyForQuery comes at the end.
    const subscription = p.simpleQuery('BEGIN; SELECT pg_sleep(10)').subscribe({ error: () => undefined });
    await eventually(
      async () =>
        (await superuserPsql(`SELECT count(*) FROM pg_stat_activity WHERE query = 'BEGIN; SELECT pg_sleep(10)' AND state = 'active'`)) ===
        '1',
    );
    subscription.unsubscribe();
    expect(await p.first('SELECT 1 AS one')).toEqual({ one: 1 });
    expect(await firstValueFrom(p.withConnection((c) => of(c.transactionStatus)))).toBe('idle');
  });

  it('fails a request that waits past acquireTimeout with an AcquireTimeoutError naming the pool state', async () => {
    const p = pool({ max: 1, acquireTimeout: 150 });
    const gate = new Subject<never>();
    p.withConnection(() => gate).subscribe({ error: () => undefined });
    await eventually(() => p.stats.busy === 1);
    const started = Date.now();
    const error = await errorOf(lastValueFrom(p.query('SELECT 1')));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(error).toBeInstanceOf(AcquireTimeoutError);
    expect(error.message).toContain('acquireTimeout 150 ms');
    expect(error.message).toContain('total 1 (idle 0, busy 1), waiting 1, connecting 0, max 1');
    expect((error as AcquireTimeoutError).state).toMatchObject({ total: 1, busy: 1, waiting: 1, max: 1 });
    expect((error as AcquireTimeoutError).timeout).toBe(150);
    expect(p.stats.waiting).toBe(0);
    gate.complete();
    expect(await firstValueFrom(p.query('SELECT 2 AS two'))).toEqual({ two: 2 });
  });

  it('drops a connection whose backend was terminated while idle; the next request gets a new one', async () => {
    const applicationName = `pool-term-${tag()}`;
    const p = pool({ max: 1 }, applicationName);
    const pid = await pidOf(p);
    await superuserPsql(`SELECT pg_terminate_backend(${pid})`);
    await eventually(() => p.stats.total === 0);
    const next = await pidOf(p);
    expect(next).not.toBe(pid);
    expect(await backendsOf(applicationName)).toBe(1);
  });

  it('fails the request running on a terminated backend with a ConnectionError, and serves the next', async () => {
    const p = pool({ max: 1 });
    const pid = await pidOf(p);
    const running = errorOf(lastValueFrom(p.query('SELECT pg_sleep(5)')));
    await eventually(async () => (await superuserPsql(`SELECT state FROM pg_stat_activity WHERE pid = ${pid}`)) === 'active');
    await superuserPsql(`SELECT pg_terminate_backend(${pid})`);
    expect(await running).toBeInstanceOf(ConnectionError);
    expect(await pidOf(p)).not.toBe(pid);
  });

  it('fails queued requests at once when connecting cannot succeed (no such database)', async () => {
    const p = createPool({ ...superuserConfig(), database: `missing_${tag()}` }, { acquireTimeout: 10_000 });
    pools.push(p);
    const started = Date.now();
    const error = await errorOf(lastValueFrom(p.query('SELECT 1')));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('3D000');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('keeps waiting while the server cannot be reached, and names the connect error when acquireTimeout passes', async () => {
    const p = createPool(
      { ...superuserConfig(), host: '127.0.0.1', port: 1 },
      { acquireTimeout: 300, connectRetry: { initialDelay: 20, maxDelay: 50 } },
    );
    pools.push(p);
    const error = await errorOf(lastValueFrom(p.query('SELECT 1')));
    expect(error).toBeInstanceOf(AcquireTimeoutError);
    expect(error.message).toContain('connecting fails');
    expect((error as AcquireTimeoutError).cause).toBeInstanceOf(ConnectionError);
  });
});

describe('pool option pipeline', () => {
  const running = (marker: string) =>
    superuserPsql(
      `SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%${marker}%' AND state = 'active' AND pid <> pg_backend_pid()`,
    ).then(Number);

  it('packs single statements onto the busiest connection with room before opening another, each with its own answer and failure', async () => {
    const p = pool({ max: 3, pipeline: 8 });
    await p.first('SELECT 1');
    // Written in one tick: eight share the one open connection, the other three wait for one more.
    const answers = Array.from({ length: 10 }, (_, i) => p.first<{ n: number }>('SELECT $1::int AS n', [i]));
    const failing = p.all('SELECT 1/0').catch((error: unknown) => error);
    expect(p.stats).toMatchObject({ total: 1, busy: 1, waiting: 3 });
    expect((await Promise.all(answers)).map((row) => row?.n)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(await failing).toMatchObject({ code: '22012' });
    await eventually(() => p.stats.busy === 0);
    expect(p.stats.total).toBeLessThanOrEqual(2);
  });

  it('queues nothing behind a statement that has been running for a while: the next takes another connection, or the first free one', async () => {
    const p = pool({ max: 2, pipeline: 8 });
    const marker = `pipeline_slow_${tag()}`;
    const slow = lastValueFrom(p.query(`SELECT pg_sleep(0.5) AS ${marker}`));
    await eventually(async () => (await running(marker)) === 1);
    const started = Date.now();
    expect(await p.first('SELECT 2 AS n')).toEqual({ n: 2 });
    expect(Date.now() - started).toBeLessThan(400);
    expect(p.stats.total).toBe(2);
    // Both connections busy with slow statements: a fast one waits for the first that is free.
    const marker2 = `pipeline_slow2_${tag()}`;
    const slow2 = lastValueFrom(p.query(`SELECT pg_sleep(0.2) AS ${marker2}`));
    await eventually(async () => (await running(marker2)) === 1);
    const fast = p.first('SELECT 3 AS n');
    expect(p.stats.waiting).toBe(1);
    expect(await fast).toEqual({ n: 3 });
    await Promise.all([slow, slow2]);
  });

  it('opens no connection for a stall of its own event loop: statements made after a busy stretch are packed once the replies are read', async () => {
    const p = pool({ max: 3, pipeline: 8 });
    const sql = 'SELECT $1::int AS n, pg_backend_pid() AS pid';
    await p.first(sql, [0]);
    const first = p.first<{ n: number; pid: number }>(sql, [0]);
    // The loop is blocked past the packing window: the connection's work looks stalled, but
    // only because nothing could be read meanwhile.
    const blockedUntil = Date.now() + 10;
    while (Date.now() < blockedUntil);
    const later = Array.from({ length: 5 }, (_, i) => p.first<{ n: number; pid: number }>(sql, [i + 1]));
    // Queued, with no connection attempt until the event loop has read what arrived.
    expect(p.stats).toMatchObject({ total: 1, waiting: 5, connecting: 0 });
    const rows = await Promise.all([first, ...later]);
    expect(rows.map((row) => row?.n)).toEqual([0, 1, 2, 3, 4, 5]);
    // Packed onto the first statement's connection at its release.
    expect(new Set(rows.map((row) => row?.pid)).size).toBe(1);
  });

  it('nor moves statements to an idle connection for such a stall', async () => {
    const p = pool({ max: 3, pipeline: 8 });
    const sql = 'SELECT $1::int AS n, pg_backend_pid() AS pid';
    // Two connections, one of them idle once these are done.
    await Promise.all([0, 1].map(() => lastValueFrom(p.withConnection((c) => c.query(sql, [0])))));
    await eventually(() => p.stats.idle === 2);
    expect(p.stats.total).toBe(2);
    const first = p.first<{ n: number; pid: number }>(sql, [0]);
    const blockedUntil = Date.now() + 10;
    while (Date.now() < blockedUntil);
    const later = Array.from({ length: 5 }, (_, i) => p.first<{ n: number; pid: number }>(sql, [i + 1]));
    expect(p.stats).toMatchObject({ total: 2, idle: 1, busy: 1, waiting: 5 });
    const rows = await Promise.all([first, ...later]);
    expect(rows.map((row) => row?.n)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(new Set(rows.map((row) => row?.pid)).size).toBe(1);
  });

  it('judges a slow statement once: later statements take an idle connection at once, not after another stall check each', async () => {
    const p = pool({ max: 2, pipeline: 8 });
    await Promise.all([0, 1].map(() => lastValueFrom(p.withConnection((c) => c.query('SELECT 1')))));
    await eventually(() => p.stats.idle === 2);
    const marker = `pipeline_judged_${tag()}`;
    const slow = lastValueFrom(p.query(`SELECT pg_sleep(0.5) AS ${marker}`));
    await eventually(async () => (await running(marker)) === 1);
    // The first statement waits for the stall check's verdict, then takes the idle connection.
    expect(await p.first('SELECT 1 AS n')).toEqual({ n: 1 });
    // The slow statement has not moved since that verdict: nothing waits for it again.
    for (let i = 2; i < 5; i++) {
      const next = p.first<{ n: number }>('SELECT $1::int AS n', [i]);
      expect(p.stats).toMatchObject({ busy: 2, waiting: 0 });
      expect(await next).toEqual({ n: i });
    }
    await slow;
  });

  it('without it (the default), a statement waits for a free connection', async () => {
    const p = pool({ max: 1 });
    const marker = `unpipelined_${tag()}`;
    const slow = lastValueFrom(p.query(`SELECT pg_sleep(0.1) AS ${marker}`));
    await eventually(async () => (await running(marker)) === 1);
    const next = p.first('SELECT 1 AS one');
    expect(p.stats.waiting).toBe(1);
    await slow;
    expect(await next).toEqual({ one: 1 });
  });

  it('never pipelines a statement that could open a transaction, nor anything behind one, nor a query with pushback', async () => {
    const p = pool({ max: 1, pipeline: 8 });
    await p.first('SELECT 1');
    const begin = errorOf(lastValueFrom(p.query('  begin')));
    const behind = p.first<{ inTx: boolean }>(
      'SELECT now() <> clock_timestamp() AND current_setting(\'transaction_isolation\') IS NOT NULL AS "inTx"',
    );
    expect(p.stats.waiting).toBe(1); // not pipelined behind the BEGIN
    expect(await begin).toBeInstanceOf(PoolMisuseError);
    await behind;
    expect(await firstValueFrom(p.withConnection((c) => of(c.transactionStatus)))).toBe('idle');
    const marker = `pushback_${tag()}`;
    const slow = lastValueFrom(p.query(`SELECT pg_sleep(0.1) AS ${marker}`));
    await eventually(async () => (await running(marker)) === 1);
    const withPushback = lastValueFrom(p.query('SELECT 1 AS one', [], { pushback: () => undefined }));
    const startsTransaction = lastValueFrom(p.execute('START TRANSACTION')).catch((error: unknown) => error);
    expect(p.stats.waiting).toBe(2);
    await slow;
    expect(await withPushback).toEqual({ one: 1 });
    expect(await startsTransaction).toBeInstanceOf(PoolMisuseError);
  });

  it('an unsubscribed pipelined statement does not disturb the others; the connection comes back in sync', async () => {
    const p = pool({ max: 1, pipeline: 8 });
    const marker = `pipeline_unsub_${tag()}`;
    await p.first('SELECT 1');
    // Pipelined in one tick behind the slow one; the dropped one is unsubscribed once written.
    const slow = lastValueFrom(p.query<{ n: number }>(`SELECT 1 AS n, pg_sleep(0.2) AS ${marker}`));
    const dropped = p.query('SELECT pg_sleep(0.1)').subscribe();
    const kept = p.first<{ n: number }>('SELECT 2 AS n');
    expect(p.stats).toMatchObject({ total: 1, waiting: 0 });
    await eventually(async () => (await running(marker)) === 1);
    dropped.unsubscribe();
    expect(await slow).toMatchObject({ n: 1 });
    expect(await kept).toEqual({ n: 2 });
    await eventually(() => p.stats.idle === 1);
    expect(await p.first('SELECT 3 AS n')).toEqual({ n: 3 });
  });
});

describe('pool.queryBatch', () => {
  it('runs the sets on one held connection, one array per set, and returns the connection', async () => {
    const p = pool({ max: 2, pipeline: 8 });
    const batch = lastValueFrom(
      // Each set sleeps, so the batch still holds its connection when the second one opens.
      p
        .queryBatch<{ n: number; pid: number }>('SELECT $1::int * 2 AS n, pg_backend_pid() AS pid, pg_sleep(0.1)::text AS slept', [
          [1],
          [2],
          [3],
        ])
        .pipe(toArray()),
    );
    // Nothing is pipelined with a batch: a statement made meanwhile gets the other connection.
    const beside = p.first<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const results = await batch;
    expect(results.map((rows) => rows[0]?.n)).toEqual([2, 4, 6]);
    expect(new Set(results.map((rows) => rows[0]?.pid)).size).toBe(1);
    expect((await beside)?.pid).not.toBe(results[0]?.[0]?.pid);
    await eventually(() => p.stats.busy === 0);
  });

  it("errors with the failing set's PostgresError, commits nothing (sync once) and returns a clean connection", async () => {
    const p = pool({ max: 1 });
    const table = `pool_batch_${tag()}`;
    await p.run(`CREATE TABLE ${table} (n int PRIMARY KEY)`);
    try {
      const error = await errorOf(lastValueFrom(p.queryBatch(`INSERT INTO ${table} VALUES ($1)`, [[1], [2], [1]])));
      expect(error).toBeInstanceOf(PostgresError);
      expect(error).toMatchObject({ code: '23505' });
      expect(await p.first(`SELECT count(*)::int AS n FROM ${table}`)).toEqual({ n: 0 });
      expect(await p.first('SELECT 1 AS one')).toEqual({ one: 1 });
    } finally {
      await p.run(`DROP TABLE ${table}`);
    }
  });

  it('refuses a bad parameter set with a ParameterError before anything is sent, and after the pool has ended', async () => {
    const p = pool({ max: 1 });
    expect(await errorOf(lastValueFrom(p.queryBatch('SELECT $1::int', [[1], [() => 1]])))).toMatchObject({ name: 'ParameterError' });
    expect(await p.first('SELECT 2 AS two')).toEqual({ two: 2 });
    await p.end();
    expect(await errorOf(lastValueFrom(p.queryBatch('SELECT $1::int', [[1]])))).toBeInstanceOf(ConnectionError);
  });
});

describe('pool.withConnection', () => {
  it('refuses a work that is not a function, and transaction options it cannot use, at subscribe and before taking a connection', async () => {
    // A database that does not exist: taking a connection first would show as a connection error.
    const p = pool({ max: 1, acquireTimeout: 2000 });
    const missing = createPool({ ...superuserConfig(), database: `missing_${tag()}` }, { max: 1, acquireTimeout: 2000 });
    pools.push(missing);
    for (const target of [p, missing]) {
      expect(await errorOf(lastValueFrom(target.withConnection(42 as never)))).toBeInstanceOf(TypeError);
      expect(await errorOf(lastValueFrom(target.transaction(() => of(1), { isolation: 'bogus' as never })))).toBeInstanceOf(TypeError);
      expect(await errorOf(lastValueFrom(target.transaction('work' as never)))).toBeInstanceOf(TypeError);
      expect(target.stats).toMatchObject({ total: 0, connecting: 0, waiting: 0 });
    }
  });

  it('holds one connection for the whole work (session state is shared) and returns it', async () => {
    const p = pool({ max: 3 });
    const rows = await all(
      p.withConnection((connection) =>
        concat(
          connection.execute('CREATE TEMP TABLE pool_temp (n int)'),
          connection.execute('INSERT INTO pool_temp VALUES (7)'),
          connection.query<{ n: number }>('SELECT n FROM pool_temp'),
          connection.execute('DROP TABLE pool_temp'),
        ),
      ),
    );
    expect(rows.at(2)).toEqual({ n: 7 });
    // Back once the pool has checked that nothing the work started is still running.
    await eventually(() => p.stats.idle === 1);
    expect(p.stats).toMatchObject({ total: 1, idle: 1, busy: 0 });
  });

  it('returns the connection when the work errors, or throws', async () => {
    const p = pool({ max: 1 });
    expect(await errorOf(lastValueFrom(p.withConnection((c) => c.query('SELECT nope'))))).toBeInstanceOf(PostgresError);
    const thrown = new Error('work threw');
    expect(
      await errorOf(
        lastValueFrom(
          p.withConnection(() => {
            throw thrown;
          }),
        ),
      ),
    ).toBe(thrown);
    await eventually(() => p.stats.idle === 1);
    expect(await firstValueFrom(p.withConnection((c) => of(c.transactionStatus)))).toBe('idle');
  });

  it('after an unsubscribe inside a transaction, cancels the running statement, rolls back, and hands out an idle connection', async () => {
    const p = pool({ max: 1 });
    const table = `pool_unsub_${tag()}`;
    await lastValueFrom(p.execute(`CREATE TABLE ${table} (id int)`));
    try {
      const subscription = p
        .withConnection((c) => concat(c.execute('BEGIN'), c.execute(`INSERT INTO ${table} VALUES (1)`), c.query('SELECT pg_sleep(10)')))
        .subscribe({ error: () => undefined });
      await eventually(
        async () =>
          (await superuserPsql(`SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(10)' AND state = 'active'`)) === '1',
      );
      subscription.unsubscribe();
      const started = Date.now();
      expect(await firstValueFrom(p.withConnection((c) => of(c.transactionStatus)))).toBe('idle');
      expect(Date.now() - started).toBeLessThan(3000);
      expect(await all(p.query(`SELECT * FROM ${table}`))).toEqual([]);
    } finally {
      await lastValueFrom(p.execute(`DROP TABLE ${table}`));
    }
  });

  it('errors with a PoolMisuseError when the work leaves a transaction open, and rolls it back', async () => {
    const p = pool({ max: 1 });
    const error = await errorOf(lastValueFrom(p.withConnection((c) => c.execute('BEGIN'))));
    expect(error).toBeInstanceOf(PoolMisuseError);
    expect(await firstValueFrom(p.withConnection((c) => of(c.transactionStatus)))).toBe('idle');
  });
});

describe('a transaction left open by a pooled request', () => {
  it("pool.query('BEGIN') errors with a PoolMisuseError; the transaction is rolled back and the next user is idle", async () => {
    const p = pool({ max: 1 });
    const table = `pool_begin_${tag()}`;
    await lastValueFrom(p.execute(`CREATE TABLE ${table} (id int)`));
    try {
      const error = await errorOf(lastValueFrom(p.query('BEGIN')));
      expect(error).toBeInstanceOf(PoolMisuseError);
      expect(error.message).toContain('open transaction');
      expect(error.message).toContain('pool.transaction');
      expect((error as PoolMisuseError).sql).toBe('BEGIN');
      const textError = await errorOf(lastValueFrom(p.simpleQuery(`BEGIN; INSERT INTO ${table} VALUES (1)`)));
      expect(textError).toBeInstanceOf(PoolMisuseError);
      expect(await firstValueFrom(p.withConnection((c) => of(c.transactionStatus)))).toBe('idle');
      expect(await all(p.query(`SELECT * FROM ${table}`))).toEqual([]);
      expect(p.stats.total).toBe(1);
    } finally {
      await lastValueFrom(p.execute(`DROP TABLE ${table}`));
    }
  });

  it('a failed transaction left by simpleQuery keeps its own error and is rolled back too', async () => {
    const p = pool({ max: 1 });
    const error = await errorOf(lastValueFrom(p.simpleQuery('BEGIN; SELECT 1/0')));
    expect(error).toBeInstanceOf(PostgresError);
    expect(await firstValueFrom(p.withConnection((c) => of(c.transactionStatus)))).toBe('idle');
  });
});

describe('pool.transaction and the Promise conveniences', () => {
  const table = `pool_tx_${tag()}`;
  beforeAll(async () => {
    await superuserPsql(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
  });
  afterAll(async () => {
    await superuserPsql(`DROP TABLE ${table}`);
  });

  it('commits on complete, on one connection held for the whole transaction', async () => {
    const p = pool({ max: 2 });
    const pids = await all(
      p.transaction((tx) =>
        concat(
          tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'),
          tx.execute(`INSERT INTO ${table} VALUES (1)`),
          tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'),
        ),
      ),
    );
    expect(pids[0]).toEqual(pids[2]);
    expect(await p.all(`SELECT id FROM ${table} WHERE id = 1`)).toEqual([{ id: 1 }]);
    expect(p.stats).toMatchObject({ busy: 0, idle: p.stats.total });
  });

  it('rolls back on error (the work error reaches the subscriber) and on unsubscribe mid-statement', async () => {
    const p = pool({ max: 1 });
    const failure = await errorOf(
      lastValueFrom(p.transaction((tx) => concat(tx.execute(`INSERT INTO ${table} VALUES (2)`), tx.query('SELECT 1/0')))),
    );
    expect((failure as PostgresError).code).toBe('22012');
    const subscription = p
      .transaction((tx) => concat(tx.execute(`INSERT INTO ${table} VALUES (3)`), tx.query('SELECT pg_sleep(10)')))
      .subscribe({ error: () => undefined });
    await eventually(
      async () =>
        (await superuserPsql(`SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(10)' AND state = 'active'`)) === '1',
    );
    subscription.unsubscribe();
    expect(await firstValueFrom(p.withConnection((c) => of(c.transactionStatus)))).toBe('idle');
    expect(await p.all(`SELECT id FROM ${table} WHERE id IN (2, 3)`)).toEqual([]);
  });

  it('is cold: retry runs the whole transaction again after a serialization failure (40001)', async () => {
    const p = pool({ max: 2 });
    let attempts = 0;
    await lastValueFrom(
      p
        .transaction(
          (tx) =>
            concat(
              tx.execute(`INSERT INTO ${table} VALUES (4)`),
              ++attempts === 1
                ? tx.execute(`DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$`)
                : tx.execute('SELECT 1 WHERE false'),
            ),
          { isolation: 'serializable' },
        )
        .pipe(retry({ count: 2 })),
    );
    expect(attempts).toBe(2);
    expect(await p.all(`SELECT id FROM ${table} WHERE id = 4`)).toEqual([{ id: 4 }]);
  });

  it('all, first and run resolve with rows, the first row (or undefined) and the command result', async () => {
    const p = pool({ max: 1 });
    expect(await p.all<{ n: number }>('SELECT generate_series(1, 3) AS n')).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(await p.first<{ n: number }>('SELECT generate_series(5, 9) AS n')).toEqual({ n: 5 });
    // first() reads the rest instead of cancelling: the connection goes straight back.
    expect(p.stats).toMatchObject({ total: 1, idle: 1 });
    expect(await p.first('SELECT 1 WHERE false')).toBeUndefined();
    expect(await p.run(`DELETE FROM ${table} WHERE id = 1000`)).toEqual({ command: 'DELETE 0', rowCount: 0 });
    await expect(p.all('SELECT 1/0')).rejects.toBeInstanceOf(PostgresError);
    await expect(p.run('BEGIN')).rejects.toBeInstanceOf(PoolMisuseError);
    const aborted = new AbortController();
    aborted.abort();
    await expect(p.all('SELECT 1', [], { signal: aborted.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
