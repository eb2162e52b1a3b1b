// The per-connection prepared-statement cache: repeated statements skip Parse and Describe,
// and the cache stays true to what the server holds.
import fc from 'fast-check';
import { Subject, lastValueFrom, toArray } from 'rxjs';
import { PostgresError, type Connection } from '../../lib';
import { closeOpenedConnections, errorOf, openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';

afterEach(closeOpenedConnections);

const rows = (connection: Connection, sql: string, params: unknown[] = []) =>
  lastValueFrom(connection.query<Record<string, unknown>>(sql, params).pipe(toArray()));
const prepared = async (connection: Connection) =>
  (await rows(connection, "SELECT name FROM pg_prepared_statements WHERE name LIKE 'rxpg_%' ORDER BY name")).map((row) => row.name);

describe('statement cache', () => {
  it('prepares a statement once and reuses it, columns included', async () => {
    const connection = await openConnection(superuserConfig());
    const first = await rows(connection, 'SELECT $1::int4 + 1 AS n', [1]);
    const second = await rows(connection, 'SELECT $1::int4 + 1 AS n', [41]);
    expect(first).toEqual([{ n: 2 }]);
    expect(second).toEqual([{ n: 42 }]);
    const names = await prepared(connection);
    expect(names.length).toBeGreaterThanOrEqual(1);
    const fields: string[] = [];
    await lastValueFrom(connection.query('SELECT $1::int4 + 1 AS n', [0], { onFields: (f) => fields.push(...f.map((x) => x.name)) }));
    expect(fields).toEqual(['n']);
  });

  it('pipelined copies of a failing statement all report the real error', async () => {
    const connection = await openConnection(superuserConfig());
    const errors = await Promise.all(Array.from({ length: 5 }, () => errorOf(rows(connection, 'SELEC broken'))));
    for (const error of errors) expect((error as PostgresError).code).toBe('42601');
    expect(await rows(connection, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('requests pipelined behind a leader whose own Bind fails still get their columns and rows', async () => {
    const connection = await openConnection(superuserConfig());
    const sql = 'SELECT $1::int4 AS n, $1::text AS t';
    const [bad, good, again] = await Promise.allSettled([
      rows(connection, sql, ['x']),
      rows(connection, sql, ['5']),
      rows(connection, sql, ['6']),
    ]);
    expect(bad.status === 'rejected' && (bad.reason as PostgresError).code).toBe('22P02');
    expect(good).toEqual({ status: 'fulfilled', value: [{ n: 5, t: '5' }] });
    expect(again).toEqual({ status: 'fulfilled', value: [{ n: 6, t: '6' }] });
    expect(await rows(connection, sql, ['7'])).toEqual([{ n: 7, t: '7' }]);
  });

  it('a request held back and dropped before it was written leaves no statement behind', async () => {
    const connection = await openConnection(superuserConfig());
    await rows(connection, 'CREATE TEMPORARY TABLE held (x int)');
    const source = new Subject<string>();
    // The COPY runs alone: requests made meanwhile are held until it ends.
    const copying = lastValueFrom(connection.copyIn('COPY held FROM STDIN', source));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const sql = 'SELECT count(*)::int AS c FROM held';
    connection.query(sql).subscribe().unsubscribe();
    const later = rows(connection, sql);
    source.next('1\n');
    source.complete();
    await copying;
    expect(await later).toEqual([{ c: 1 }]);
    expect(await rows(connection, sql)).toEqual([{ c: 1 }]);
  });

  it('recovers after DDL changes a cached statement’s result type', async () => {
    const connection = await openConnection(superuserConfig());
    await rows(connection, 'CREATE TEMPORARY TABLE t (a int)');
    await rows(connection, 'INSERT INTO t VALUES (1)');
    expect(await rows(connection, 'SELECT * FROM t')).toEqual([{ a: 1 }]);
    await rows(connection, 'ALTER TABLE t ADD COLUMN b text');
    // The server refuses the stale plan (0A000); the statement is prepared again and retried.
    expect(await rows(connection, 'SELECT * FROM t')).toEqual([{ a: 1, b: null }]);
  });

  it('forgets everything after DISCARD ALL and DEALLOCATE ALL', async () => {
    const connection = await openConnection(superuserConfig());
    await rows(connection, 'SELECT 7 AS seven');
    await rows(connection, 'SELECT 7 AS seven');
    await lastValueFrom(connection.simpleQuery('DISCARD ALL'));
    expect(await rows(connection, 'SELECT 7 AS seven')).toEqual([{ seven: 7 }]);
    await rows(connection, 'DEALLOCATE ALL');
    expect(await rows(connection, 'SELECT 7 AS seven')).toEqual([{ seven: 7 }]);
  });

  it('keeps at most statementCacheSize statements, closing the evicted ones', async () => {
    const connection = await openConnection({ ...superuserConfig(), statementCacheSize: 2 });
    for (const n of [1, 2, 3, 4, 5]) await rows(connection, `SELECT ${n} AS n`);
    expect((await prepared(connection)).length).toBeLessThanOrEqual(2);
  });

  it('evicts the least recently used statement, not the oldest prepared', async () => {
    const connection = await openConnection({ ...superuserConfig(), statementCacheSize: 2 });
    await rows(connection, 'SELECT 1 AS a');
    await rows(connection, 'SELECT 2 AS b');
    await rows(connection, 'SELECT 1 AS a');
    await rows(connection, 'SELECT 3 AS c');
    // Through the simple protocol, so that looking does not touch the cache.
    const [result] = await lastValueFrom(
      connection.simpleQuery("SELECT statement FROM pg_prepared_statements WHERE name LIKE 'rxpg_%' ORDER BY statement").pipe(toArray()),
    );
    expect(result!.rows.map(([statement]) => statement)).toEqual(['SELECT 1 AS a', 'SELECT 3 AS c']);
  });

  it('a cached statement decodes with the decoders in force when it runs, in every row mode', async () => {
    const connection = await openConnection(superuserConfig());
    const sql = 'SELECT $1::int4 AS n';
    const arrays = () => lastValueFrom(connection.query<unknown[]>(sql, [5], { rowMode: 'array' }).pipe(toArray()));
    expect(await rows(connection, sql, [5])).toEqual([{ n: 5 }]);
    expect(await rows(connection, sql, [5])).toEqual([{ n: 5 }]);
    expect(await arrays()).toEqual([[5]]);
    connection.types.setDecoder(23, (text) => `int4 ${text}`);
    expect(await rows(connection, sql, [5])).toEqual([{ n: 'int4 5' }]);
    expect(await arrays()).toEqual([['int4 5']]);
    connection.types.setArrayDecoder(1007, 23);
    expect(await rows(connection, 'SELECT $1::int4[] AS n', ['{1,2}'])).toEqual([{ n: ['int4 1', 'int4 2'] }]);
  });

  it('statementCacheSize 0 prepares nothing', async () => {
    const connection = await openConnection({ ...superuserConfig(), statementCacheSize: 0 });
    await rows(connection, 'SELECT 1 AS n');
    await rows(connection, 'SELECT 1 AS n');
    expect(await prepared(connection)).toEqual([]);
  });

  it('an invalid statementCacheSize is a ConfigError', async () => {
    const error = await errorOf(openConnection({ ...superuserConfig(), statementCacheSize: -1 }));
    expect(error.name).toBe('ConfigError');
  });
});

describe('statement cache under any mix of request kinds', () => {
  // Eviction, re-preparation and the Close of an evicted statement meet every request kind
  // (a CloseComplete once reached a batch that did not expect it and killed the connection).
  const texts = [0, 1, 2, 3, 4].map((k) => `SELECT $1::int + ${k} AS n`);
  const operation = fc.record({
    kind: fc.constantFrom('query', 'first', 'batch', 'execute'),
    text: fc.integer({ min: 0, max: texts.length - 1 }),
    value: fc.integer({ min: -1000, max: 1000 }),
    together: fc.boolean(),
  });

  it('every answer is right and the connection stays usable, with more statements than the cache holds', async () => {
    const connection = await openConnection({ ...superuserConfig(), statementCacheSize: 2 });
    const run = async (op: { kind: string; text: number; value: number }): Promise<unknown> => {
      const sql = texts[op.text]!;
      switch (op.kind) {
        case 'query':
          return (await rows(connection, sql, [op.value]))[0]?.n;
        case 'first':
          return (await connection.first<{ n: number }>(sql, [op.value]))?.n;
        case 'batch': {
          const sets = await lastValueFrom(connection.queryBatch<{ n: number }>(sql, [[op.value], [op.value + 1]]).pipe(toArray()));
          return sets.map((set) => set[0]?.n);
        }
        default:
          return (await lastValueFrom(connection.execute(sql, [op.value]))).rowCount;
      }
    };
    const expected = (op: { kind: string; text: number; value: number }): unknown => {
      if (op.kind === 'batch') return [op.value + op.text, op.value + 1 + op.text];
      if (op.kind === 'execute') return 'QueryShapeError';
      return op.value + op.text;
    };
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 12 }), async (ops) => {
        // Runs of `together` operations are made in one tick (pipelined); the others one by one.
        let pending: Promise<void>[] = [];
        for (const op of ops) {
          const outcome = run(op).then(
            (value) => expect(value).toEqual(expected(op)),
            (error: unknown) => expect((error as Error).name).toBe(expected(op)),
          );
          pending.push(outcome);
          if (!op.together) {
            await Promise.all(pending);
            pending = [];
          }
        }
        await Promise.all(pending);
        expect(connection.state).toBe('open');
      }),
      { numRuns: 40 },
    );
    expect(await rows(connection, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });
});
