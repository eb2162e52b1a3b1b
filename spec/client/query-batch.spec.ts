// connection.queryBatch: one statement for many parameter sets, pipelined, one array of rows per
// set; `sync: 'once'` (all or nothing) or `'each'` (each set commits on its own); cold,
// cancellable, lazy in its parameter sets; and every failure path against the real server.
import { firstValueFrom, lastValueFrom, take, tap, toArray } from 'rxjs';
import { setTimeout as delay } from 'node:timers/promises';
import { ConnectionError, ParameterError, PostgresError, toAsyncIterable, type Connection, type ConnectionConfig } from '../../lib';
import { closeOpenedConnections, errorOf, openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';

afterEach(closeOpenedConnections);

const batch = <T = Record<string, unknown>>(connection: Connection, sql: string, sets: Iterable<readonly unknown[]>, options = {}) =>
  lastValueFrom(connection.queryBatch<T>(sql, sets, options).pipe(toArray()));

/** A fresh table `name` (id int primary key) on `connection`. */
async function freshTable(connection: Connection, name: string): Promise<void> {
  await lastValueFrom(connection.simpleQuery(`DROP TABLE IF EXISTS ${name}; CREATE TABLE ${name} (id int PRIMARY KEY)`));
}

async function ids(connection: Connection, table: string): Promise<number[]> {
  const rows = await batch<{ id: number }>(connection, `SELECT id FROM ${table} ORDER BY id`, [[]]);
  return rows[0]!.map((row) => row.id);
}

describe.each([
  ['with the statement cache', {}],
  ['without the statement cache', { statementCacheSize: 0 }],
])('queryBatch %s', (_, extra: Partial<ConnectionConfig>) => {
  const open = () => openConnection({ ...superuserConfig(), ...extra });

  it.each(['once', 'each'] as const)(
    "emits one array of rows per set, in order (sync '%s'), on the first and a later run",
    async (sync) => {
      const connection = await open();
      const sql = 'SELECT g AS n, $2::text AS label FROM generate_series(1, $1::int) AS g';
      const sets = [
        [2, 'a'],
        [0, 'b'],
        [1, 'c'],
      ];
      const expected = [
        [
          { n: 1, label: 'a' },
          { n: 2, label: 'a' },
        ],
        [],
        [{ n: 1, label: 'c' }],
      ];
      expect(await batch(connection, sql, sets, { sync })).toEqual(expected);
      expect(await batch(connection, sql, sets, { sync })).toEqual(expected);
      expect(await batch(connection, sql, sets, { sync, rowMode: 'array' })).toEqual([
        [
          [1, 'a'],
          [2, 'a'],
        ],
        [],
        [[1, 'c']],
      ]);
      expect(await batch(connection, sql, [], { sync })).toEqual([]);
      expect(await batch(connection, 'SELECT 1 AS one', [[], []], { sync })).toEqual([[{ one: 1 }], [{ one: 1 }]]);
    },
  );

  it('runs 20,000 sets from a lazy generator, with the connection usable after', async () => {
    const connection = await open();
    function* sets(): Generator<number[]> {
      for (let i = 1; i <= 20_000; i++) yield [i];
    }
    let sum = 0;
    let count = 0;
    for (const sync of ['once', 'each'] as const) {
      await lastValueFrom(
        connection.queryBatch<{ n: number }>('SELECT $1::int4 + 1 AS n', sets(), { sync }).pipe(
          tap((rows) => {
            count += 1;
            sum += rows[0]!.n;
          }),
        ),
        { defaultValue: undefined },
      );
    }
    expect(count).toBe(40_000);
    expect(sum).toBe(2 * ((20_000 * 20_001) / 2 + 20_000));
    expect(await batch(connection, 'SELECT 1 AS one', [[]])).toEqual([[{ one: 1 }]]);
  });

  it('pulls sets as they are written: a bounded number of rounds (64 KiB of encoded sets each) ahead of the replies', async () => {
    const connection = await open();
    const value = 'x'.repeat(1000);
    let pulled = 0;
    function* sets(): Generator<string[]> {
      for (let i = 1; i <= 5000; i++) {
        pulled += 1;
        yield [value];
      }
    }
    const pulledAtEmission: number[] = [];
    await lastValueFrom(
      connection.queryBatch('SELECT length($1::text) AS n', sets(), { sync: 'each' }).pipe(tap(() => pulledAtEmission.push(pulled))),
    );
    expect(pulledAtEmission).toHaveLength(5000);
    // Eight rounds of about 64 sets of 1 KB: never more than about 600 sets ahead of the replies.
    pulledAtEmission.forEach((atEmission, index) => expect(atEmission - index).toBeLessThan(700));
  });

  it('pushback bounds memory for a slow consumer: while it is pending no further set is pulled or written', async () => {
    const connection = await open();
    const value = 'x'.repeat(1000);
    let pulled = 0;
    function* sets(): Generator<string[]> {
      for (let i = 1; i <= 100_000; i++) {
        pulled += 1;
        yield [value];
      }
    }
    const seen: number[] = [];
    for await (const rows of toAsyncIterable(
      (pushback) => connection.queryBatch<{ n: number }>('SELECT length($1::text) AS n', sets(), { sync: 'each', pushback }),
      { highWaterMark: 10 },
    )) {
      seen.push(rows[0]!.n);
      if (seen.length < 20) continue;
      // The consumer stalls: once what was already on its way has arrived, the socket stays
      // paused, so replies stop and so does the writing of sets.
      await delay(300);
      const before = pulled;
      await delay(300);
      expect(pulled).toBe(before);
      expect(pulled).toBeLessThan(5000);
      break;
    }
    expect(seen).toEqual(Array.from({ length: 20 }, () => 1000));
    expect(await connection.first('SELECT 1 AS ok')).toEqual({ ok: 1 });
  });

  it('is cold: nothing is pulled or sent before subscribe; each subscription runs the batch again', async () => {
    const connection = await open();
    await freshTable(connection, 'batch_cold');
    let pulled = 0;
    const sets = {
      *[Symbol.iterator]() {
        for (const id of [1, 2]) {
          pulled += 1;
          yield [id];
        }
      },
    };
    const inserts = connection.queryBatch('INSERT INTO batch_cold VALUES ($1) RETURNING id', sets);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pulled).toBe(0);
    expect(await ids(connection, 'batch_cold')).toEqual([]);
    expect(await lastValueFrom(inserts.pipe(toArray()))).toEqual([[{ id: 1 }], [{ id: 2 }]]);
    expect(pulled).toBe(2);
    await lastValueFrom(connection.simpleQuery('TRUNCATE batch_cold'));
    await lastValueFrom(inserts.pipe(toArray()));
    expect(await ids(connection, 'batch_cold')).toEqual([1, 2]);
  });

  it.each(['once', 'each'] as const)(
    'a set that cannot be encoded is a ParameterError naming it, and nothing is sent (%s)',
    async (sync) => {
      const connection = await open();
      await freshTable(connection, 'batch_bad_value');
      const error = await errorOf(batch(connection, 'INSERT INTO batch_bad_value VALUES ($1)', [[1], [undefined]], { sync }));
      expect(error).toBeInstanceOf(ParameterError);
      expect(error.message).toMatch(/^parameter set 1: parameter \$1: /);
      const notArray = await errorOf(
        batch(connection, 'INSERT INTO batch_bad_value VALUES ($1)', [[1], 2 as unknown as unknown[]], { sync }),
      );
      expect(notArray).toBeInstanceOf(TypeError);
      expect(await ids(connection, 'batch_bad_value')).toEqual([]);
    },
  );

  it('a wrong parameter count is a ParameterError, raised before anything is sent where it can be', async () => {
    const connection = await open();
    await freshTable(connection, 'batch_count');
    const sql = 'INSERT INTO batch_count VALUES ($1)';
    // Sets that disagree with each other.
    const mixed = await errorOf(batch(connection, sql, [[1], [2, 3]], { sync: 'each' }));
    expect(mixed).toBeInstanceOf(ParameterError);
    expect(mixed.message).toBe('parameter set 1: parameter $2: the statement takes 1 parameter, but 2 were given');
    // Every set wrong: the server's answer, as the same ParameterError.
    const wrong = await errorOf(batch(connection, sql, [[1, 2]], { sync: 'each' }));
    expect(wrong).toBeInstanceOf(ParameterError);
    expect(wrong.message).toMatch(/the statement takes 1 parameter, but 2 were given$/);
    expect(await ids(connection, 'batch_count')).toEqual([]);
    expect(await batch(connection, sql, [[5]])).toEqual([[]]);
  });

  it("a server error in set k, sync 'once': nothing is committed; the sets before it were emitted", async () => {
    const connection = await open();
    await freshTable(connection, 'batch_once');
    const emitted: unknown[] = [];
    const error = await errorOf(
      new Promise((resolve, reject) =>
        connection
          .queryBatch('INSERT INTO batch_once VALUES ($1) RETURNING id', [[1], [2], [1], [3]])
          .subscribe({ next: (rows) => emitted.push(rows), error: reject, complete: () => resolve(undefined) }),
      ),
    );
    expect(error).toBeInstanceOf(PostgresError);
    expect((error as PostgresError).code).toBe('23505');
    expect(emitted).toEqual([[{ id: 1 }], [{ id: 2 }]]);
    expect(await ids(connection, 'batch_once')).toEqual([]);
    expect(connection.transactionStatus).toBe('idle');
  });

  it("a server error in set k, sync 'each': the sets before it are committed, the ones already written after it ran too", async () => {
    const connection = await open();
    await freshTable(connection, 'batch_each');
    const emitted: unknown[] = [];
    const error = await errorOf(
      new Promise((resolve, reject) =>
        connection
          .queryBatch('INSERT INTO batch_each VALUES ($1) RETURNING id', [[1], [2], [1], [3]], { sync: 'each' })
          .subscribe({ next: (rows) => emitted.push(rows), error: reject, complete: () => resolve(undefined) }),
      ),
    );
    expect((error as PostgresError).code).toBe('23505');
    expect(emitted).toEqual([[{ id: 1 }], [{ id: 2 }]]);
    // Set 3 was in the same write as set 2 (small sets): it ran, its result discarded.
    expect(await ids(connection, 'batch_each')).toEqual([1, 2, 3]);
  });

  it("unsubscribing mid-batch, sync 'once': nothing is committed and the connection stays usable", async () => {
    const connection = await open();
    await freshTable(connection, 'batch_stop_once');
    function* sets(): Generator<number[]> {
      for (let i = 1; i <= 200_000; i++) yield [i];
    }
    // A Flush per round sends results as the sets run: the first array comes before the end.
    await firstValueFrom(connection.queryBatch('INSERT INTO batch_stop_once VALUES ($1)', sets()));
    expect(await ids(connection, 'batch_stop_once')).toEqual([]);
    expect(await batch(connection, 'SELECT 1 AS one', [[]])).toEqual([[{ one: 1 }]]);
    expect(connection.transactionStatus).toBe('idle');
  });

  it("unsubscribing mid-batch, sync 'each': the generator is released, no further set is written", async () => {
    const connection = await open();
    await freshTable(connection, 'batch_stop_each');
    let released = false;
    let pulled = 0;
    function* sets(): Generator<number[]> {
      try {
        for (let i = 1; ; i++) {
          pulled += 1;
          yield [i];
        }
      } finally {
        released = true;
      }
    }
    const first = await lastValueFrom(
      connection
        .queryBatch<{ id: number }>('INSERT INTO batch_stop_each VALUES ($1) RETURNING id', sets(), { sync: 'each' })
        .pipe(take(3), toArray()),
    );
    expect(first).toEqual([[{ id: 1 }], [{ id: 2 }], [{ id: 3 }]]);
    expect(released).toBe(true);
    const pulledAtStop = pulled;
    expect(await batch(connection, 'SELECT 1 AS one', [[]])).toEqual([[{ one: 1 }]]);
    const committed = await ids(connection, 'batch_stop_each');
    expect(committed.length).toBeGreaterThanOrEqual(3);
    expect(committed.length).toBeLessThanOrEqual(pulledAtStop);
    expect(pulled).toBe(pulledAtStop);
  });

  it('a closed or lost connection: ConnectionError', async () => {
    const connection = await open();
    const killer = await openConnection(superuserConfig());
    const running = batch(connection, 'SELECT pg_sleep($1)', [[0.01], [5]], { sync: 'each' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await batch(killer, 'SELECT pg_terminate_backend($1)', [[connection.processId]]);
    expect(await errorOf(running)).toBeInstanceOf(ConnectionError);
    const closed = await open();
    await closed.close();
    expect(await errorOf(batch(closed, 'SELECT 1', [[]]))).toBeInstanceOf(ConnectionError);
  });

  it('bad options and sources error at subscribe, and nothing is sent', async () => {
    const connection = await open();
    expect(await errorOf(batch(connection, 'SELECT 1', [[]], { sync: 'twice' }))).toBeInstanceOf(TypeError);
    expect(await errorOf(batch(connection, 'SELECT 1', [[]], { rowMode: 'arrays' }))).toBeInstanceOf(TypeError);
    expect(await errorOf(batch(connection, 'SELECT 1', [[]], { pushback: 42 }))).toBeInstanceOf(TypeError);
    expect(await errorOf(batch(connection, 'SELECT 1', 42 as unknown as unknown[][]))).toBeInstanceOf(TypeError);
    expect((await errorOf(batch(connection, 'SELECT 1\0', [[]]))).message).toMatch(/NUL/);
    const syntax = await errorOf(batch(connection, 'SELEC 1', [[], []]));
    expect((syntax as PostgresError).code).toBe('42601');
    expect(await batch(connection, 'SELECT 1 AS one', [[]])).toEqual([[{ one: 1 }]]);
  });
});

describe('queryBatch with the statement cache', () => {
  it('a cached statement dropped behind its back (DEALLOCATE by name): the error says so without naming the internal statement, and the next batch prepares it again', async () => {
    const connection = await openConnection(superuserConfig());
    const sql = 'SELECT $1::int * 3 AS n';
    expect(await batch(connection, sql, [[1]])).toEqual([[{ n: 3 }]]);
    const [{ name }] = (await lastValueFrom(
      connection.query<{ name: string }>('SELECT name FROM pg_prepared_statements WHERE statement = $1', [sql]).pipe(toArray()),
    )) as [{ name: string }];
    await lastValueFrom(connection.simpleQuery(`DEALLOCATE ${name}`).pipe(toArray()));
    const error = (await errorOf(batch(connection, sql, [[2], [3]]))) as PostgresError;
    expect(error).toBeInstanceOf(PostgresError);
    expect(error.code).toBe('26000');
    expect(error.message).toMatch(/no longer exists on the server/);
    expect(error.message).not.toContain(name);
    expect(await batch(connection, sql, [[2], [3]])).toEqual([[{ n: 6 }], [{ n: 9 }]]);
  });

  it('a batch that evicts a cached statement (its Close written with the batch) runs, and the connection stays usable', async () => {
    const connection = await openConnection({ ...superuserConfig(), statementCacheSize: 1 });
    expect(await batch(connection, 'SELECT $1::int AS a', [[1]])).toEqual([[{ a: 1 }]]);
    expect(await batch(connection, 'SELECT $1::int AS b', [[2], [3]])).toEqual([[{ b: 2 }], [{ b: 3 }]]);
    expect(await batch(connection, 'SELECT $1::int AS a', [[4]])).toEqual([[{ a: 4 }]]);
    expect(await lastValueFrom(connection.query('SELECT 1 AS one'))).toEqual({ one: 1 });
  });
});
