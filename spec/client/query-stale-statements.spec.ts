// A cached prepared statement the server can no longer use — DDL changed its result type
// (0A000), or SQL the cache did not see dropped it (26000) — is prepared again and retried
// once outside a transaction, and reported (and forgotten) inside one.
import { lastValueFrom, toArray } from 'rxjs';
import { PostgresError, type Connection, type ObjectQueryOptions } from '../../lib';
import { closeOpenedConnections, errorOf, openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';

afterEach(closeOpenedConnections);

const rows = (connection: Connection, sql: string, params: unknown[] = [], options: ObjectQueryOptions = {}) =>
  lastValueFrom(connection.query<Record<string, unknown>>(sql, params, options).pipe(toArray()));
const run = (connection: Connection, sql: string) => lastValueFrom(connection.execute(sql));

/** A connection with table `t (a int)` holding one row, and `SELECT * FROM t` cached. */
async function cachedSelect(): Promise<Connection> {
  const connection = await openConnection(superuserConfig());
  await run(connection, 'CREATE TEMPORARY TABLE t (a int)');
  await run(connection, 'INSERT INTO t VALUES (1)');
  expect(await rows(connection, 'SELECT * FROM t')).toEqual([{ a: 1 }]);
  expect(await rows(connection, 'SELECT * FROM t')).toEqual([{ a: 1 }]);
  return connection;
}

describe('a cached statement whose result type changed (0A000)', () => {
  it('is prepared again and retried, invisibly, outside a transaction', async () => {
    const connection = await cachedSelect();
    await run(connection, 'ALTER TABLE t ADD COLUMN b text');
    const fieldNames: string[][] = [];
    const result = await rows(connection, 'SELECT * FROM t', [], {
      onFields: (fields) => fieldNames.push(fields.map((field) => field.name)),
    });
    expect(result).toEqual([{ a: 1, b: null }]);
    // The failed attempt delivered nothing: one set of columns, the retried one's.
    expect(fieldNames).toEqual([['a', 'b']]);
    expect(await rows(connection, 'SELECT * FROM t')).toEqual([{ a: 1, b: null }]);
  });

  it('a statement with side effects runs once', async () => {
    const connection = await openConnection(superuserConfig());
    await run(connection, 'CREATE TEMPORARY TABLE t (a int)');
    const sql = 'INSERT INTO t VALUES (1) RETURNING *';
    await rows(connection, sql);
    await rows(connection, sql);
    await run(connection, 'ALTER TABLE t ADD COLUMN b text');
    expect(await rows(connection, sql)).toEqual([{ a: 1, b: null }]);
    // The failed attempt inserted nothing: the retry's row is the only new one.
    expect(await rows(connection, 'SELECT count(*)::int AS n FROM t')).toEqual([{ n: 3 }]);
  });

  it('is retried only when nothing was pipelined behind it: a retry never runs after a later request', async () => {
    const connection = await cachedSelect();
    await run(connection, 'ALTER TABLE t ADD COLUMN b text');
    const outcomes = await Promise.all([
      errorOf(rows(connection, 'SELECT * FROM t')),
      rows(connection, 'SELECT 2 AS two'),
      rows(connection, 'SELECT * FROM t'),
    ]);
    // The first had a request behind it: its error, and the statement is dropped...
    expect((outcomes[0] as PostgresError).code).toBe('0A000');
    expect(outcomes[1]).toEqual([{ two: 2 }]);
    // ...so the third prepares it afresh.
    expect(outcomes[2]).toEqual([{ a: 1, b: null }]);
  });

  it('a retry never runs inside a transaction that a request pipelined behind it began', async () => {
    const connection = await openConnection(superuserConfig());
    await run(connection, 'CREATE TABLE IF NOT EXISTS stale_retry_order (a int)');
    await run(connection, 'TRUNCATE stale_retry_order');
    const insert = 'INSERT INTO stale_retry_order VALUES (1) RETURNING *';
    await rows(connection, insert);
    await rows(connection, insert);
    await run(connection, 'ALTER TABLE stale_retry_order ADD COLUMN IF NOT EXISTS b text');
    const outcomes = await Promise.all([
      errorOf(rows(connection, insert)),
      lastValueFrom(connection.simpleQuery('BEGIN')),
      lastValueFrom(connection.simpleQuery('ROLLBACK')),
    ]);
    expect((outcomes[0] as PostgresError).code).toBe('0A000');
    // Had the INSERT been retried behind BEGIN, the ROLLBACK would have undone it silently.
    expect(await rows(connection, 'SELECT count(*)::int AS n FROM stale_retry_order')).toEqual([{ n: 2 }]);
    await run(connection, 'DROP TABLE stale_retry_order');
  });

  it('reaches the caller inside a transaction, and the statement works again after ROLLBACK', async () => {
    const connection = await cachedSelect();
    await run(connection, 'BEGIN');
    await run(connection, 'ALTER TABLE t ADD COLUMN b text');
    const error = await errorOf(rows(connection, 'SELECT * FROM t'));
    expect(error).toBeInstanceOf(PostgresError);
    expect((error as PostgresError).code).toBe('0A000');
    await run(connection, 'ROLLBACK');
    expect(await rows(connection, 'SELECT * FROM t')).toEqual([{ a: 1 }]);
  });

  it('an unsubscribe during the retry abandons the retry and leaves the connection usable', async () => {
    const connection = await openConnection(superuserConfig());
    const sql = 'SELECT *, pg_sleep(3) IS NULL AS slept FROM t';
    await run(connection, 'CREATE TEMPORARY TABLE t (a int)');
    await rows(connection, sql);
    await rows(connection, sql);
    await run(connection, 'INSERT INTO t VALUES (1)');
    await run(connection, 'ALTER TABLE t ADD COLUMN b text');
    const seen: unknown[] = [];
    const subscription = connection.query(sql).subscribe({ next: (row) => seen.push(row), error: (error) => seen.push(error) });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const unsubscribed = Date.now();
    subscription.unsubscribe();
    expect(await rows(connection, 'SELECT 3 AS three')).toEqual([{ three: 3 }]);
    // The retry, not the ended first attempt, was abandoned: cancelled rather than waited for.
    expect(Date.now() - unsubscribed).toBeLessThan(1500);
    expect(seen).toEqual([]);
    await run(connection, 'DELETE FROM t');
    expect(await rows(connection, sql)).toEqual([]);
  });
});

describe('a cached statement the server no longer has (26000)', () => {
  it.each([
    ['DEALLOCATE ALL through simpleQuery', (connection: Connection) => lastValueFrom(connection.simpleQuery('DEALLOCATE ALL'))],
    ['DISCARD ALL through execute', (connection: Connection) => run(connection, 'DISCARD ALL')],
    [
      'DEALLOCATE by name through query',
      async (connection: Connection) => {
        const { name } = (await rows(connection, "SELECT name FROM pg_prepared_statements WHERE statement = 'SELECT 7 AS seven'"))[0]!;
        await run(connection, `DEALLOCATE ${String(name)}`);
      },
    ],
    [
      'a function that runs DEALLOCATE ALL',
      async (connection: Connection) => {
        await run(
          connection,
          "CREATE FUNCTION pg_temp.deallocate_all() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DEALLOCATE ALL'; END $$",
        );
        await rows(connection, 'SELECT pg_temp.deallocate_all()');
      },
    ],
  ])('is prepared again and retried after %s', async (_, drop) => {
    const connection = await openConnection(superuserConfig());
    expect(await rows(connection, 'SELECT 7 AS seven')).toEqual([{ seven: 7 }]);
    expect(await rows(connection, 'SELECT 7 AS seven')).toEqual([{ seven: 7 }]);
    await drop(connection);
    expect(await rows(connection, 'SELECT 7 AS seven')).toEqual([{ seven: 7 }]);
    expect(await rows(connection, 'SELECT 7 AS seven')).toEqual([{ seven: 7 }]);
  });

  it('through execute() too', async () => {
    const connection = await openConnection(superuserConfig());
    await run(connection, 'CREATE TEMPORARY TABLE t (a int)');
    await run(
      connection,
      "CREATE FUNCTION pg_temp.deallocate_all() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DEALLOCATE ALL'; END $$",
    );
    await run(connection, 'INSERT INTO t VALUES (1)');
    await run(connection, 'INSERT INTO t VALUES (1)');
    await rows(connection, 'SELECT pg_temp.deallocate_all()');
    expect(await run(connection, 'INSERT INTO t VALUES (1)')).toEqual({ command: 'INSERT 0 1', rowCount: 1 });
    expect(await rows(connection, 'SELECT count(*)::int AS n FROM t')).toEqual([{ n: 3 }]);
  });

  it('pipelined requests on the dropped statement: the last one in flight is retried, the others report 26000', async () => {
    const connection = await openConnection(superuserConfig());
    await run(
      connection,
      "CREATE FUNCTION pg_temp.deallocate_all() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DEALLOCATE ALL'; END $$",
    );
    await rows(connection, 'SELECT $1::int AS n', [0]);
    await rows(connection, 'SELECT $1::int AS n', [0]);
    const outcomes = await Promise.all([
      rows(connection, 'SELECT pg_temp.deallocate_all()'),
      errorOf(rows(connection, 'SELECT $1::int AS n', [1])),
      errorOf(rows(connection, 'SELECT $1::int AS n', [2])),
      rows(connection, 'SELECT $1::int AS n', [3]),
    ]);
    expect((outcomes[1] as PostgresError).code).toBe('26000');
    expect((outcomes[2] as PostgresError).code).toBe('26000');
    // Says what happened, without rxpg's internal statement name.
    expect(outcomes[1].message).toMatch(/no longer exists on the server/);
    expect(outcomes[1].message).not.toMatch(/rxpg_/);
    expect(outcomes[3]).toEqual([{ n: 3 }]);
    expect(await rows(connection, 'SELECT $1::int AS n', [4])).toEqual([{ n: 4 }]);
  });

  it('reaches the caller inside a transaction, and the statement works again after ROLLBACK', async () => {
    const connection = await openConnection(superuserConfig());
    await run(
      connection,
      "CREATE FUNCTION pg_temp.deallocate_all() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DEALLOCATE ALL'; END $$",
    );
    await rows(connection, 'SELECT 7 AS seven');
    await run(connection, 'BEGIN');
    await rows(connection, 'SELECT pg_temp.deallocate_all()');
    const error = await errorOf(rows(connection, 'SELECT 7 AS seven'));
    expect((error as PostgresError).code).toBe('26000');
    await run(connection, 'ROLLBACK');
    expect(await rows(connection, 'SELECT 7 AS seven')).toEqual([{ seven: 7 }]);
  });
});

describe('rows are built with the description the server gave for that execution', () => {
  it('a cached FETCH first run without its cursor, then inside a transaction that declared it', async () => {
    const connection = await openConnection(superuserConfig());
    const fetch = 'FETCH 3 FROM c';
    expect((await errorOf(rows(connection, fetch))) as PostgresError).toMatchObject({ code: '34000' });
    await run(connection, 'BEGIN');
    await run(connection, 'DECLARE c CURSOR FOR SELECT n, n * 2 AS twice FROM generate_series(1, 10) n');
    expect(await rows(connection, fetch)).toEqual([
      { n: 1, twice: 2 },
      { n: 2, twice: 4 },
      { n: 3, twice: 6 },
    ]);
    expect(await rows(connection, fetch)).toEqual([
      { n: 4, twice: 8 },
      { n: 5, twice: 10 },
      { n: 6, twice: 12 },
    ]);
    await run(connection, 'CLOSE c');
    await run(connection, 'DECLARE c CURSOR FOR SELECT $$x$$ AS letter');
    expect(await rows(connection, fetch)).toEqual([{ letter: 'x' }]);
    await run(connection, 'COMMIT');
  });

  it('a cached EXECUTE of a prepared statement that is redefined', async () => {
    const connection = await openConnection(superuserConfig());
    await run(connection, 'PREPARE p AS SELECT 1 AS one');
    expect(await rows(connection, 'EXECUTE p')).toEqual([{ one: 1 }]);
    expect(await rows(connection, 'EXECUTE p')).toEqual([{ one: 1 }]);
    await run(connection, 'DEALLOCATE p');
    await run(connection, "PREPARE p AS SELECT 'two' AS two, 2 AS n");
    expect(await rows(connection, 'EXECUTE p')).toEqual([{ two: 'two', n: 2 }]);
  });

  it('a cached CALL of a procedure that is redefined', async () => {
    const connection = await openConnection(superuserConfig());
    const call = "CALL pg_temp.p('1')";
    await run(connection, "CREATE PROCEDURE pg_temp.p(INOUT x text) LANGUAGE sql AS $$ SELECT x || '?' $$");
    expect(await rows(connection, call)).toEqual([{ x: '1?' }]);
    expect(await rows(connection, call)).toEqual([{ x: '1?' }]);
    await run(connection, 'DROP PROCEDURE pg_temp.p(text)');
    await run(connection, "CREATE PROCEDURE pg_temp.p(INOUT y text, INOUT z int DEFAULT 2) LANGUAGE sql AS $$ SELECT y || '!', z $$");
    expect(await rows(connection, call)).toEqual([{ y: '1!', z: 2 }]);
  });

  it('SHOW and EXPLAIN keep their columns', async () => {
    const connection = await openConnection(superuserConfig());
    for (let i = 0; i < 2; i++) {
      expect(await rows(connection, 'SHOW client_encoding')).toEqual([{ client_encoding: 'UTF8' }]);
      const plan = await rows(connection, 'EXPLAIN (COSTS OFF) SELECT 1');
      expect(plan).toEqual([{ 'QUERY PLAN': 'Result' }]);
    }
  });
});
