// Seed cases ported here (reference/postgres_async.md §3.4): T-S1, T-Q1 (column names and
// order), T-Q3 (parameters), T-Q4 (no result set), T-Q5 (empty query), T-Q6 (failures keep the
// connection; COPY through query; steps 9 and 11 need copyIn and come with the COPY issue),
// T-Q7 (autocommit), T-Q8 (transactions across connections), T-Q10 (execute = query_expect_no_data),
// T-Q11 (too many parameters; here the connection survives), T-Q13 (handle_columns = onFields),
// T-Q14 (onFields throwing).
import { firstValueFrom, lastValueFrom, tap, toArray } from 'rxjs';
import { ConnectionError, PostgresError, QueryShapeError, type Connection, type RawRow, type ResultField } from '../../lib';
import { closeOpenedConnections, errorOf, openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';

let connection: Connection;
beforeEach(async () => {
  connection = await openConnection(superuserConfig());
});
afterEach(closeOpenedConnections);

const rows = <T = Record<string, unknown>>(sql: string, params?: unknown[], c: Connection = connection) =>
  lastValueFrom(c.query<T>(sql, params).pipe(toArray()));
const arrays = (sql: string, params?: unknown[]) =>
  lastValueFrom(connection.query<unknown[]>(sql, params, { rowMode: 'array' }).pipe(toArray()));
const raw = (sql: string, params?: unknown[]) => lastValueFrom(connection.query<RawRow>(sql, params, { rowMode: 'raw' }).pipe(toArray()));
const run = (sql: string, params?: unknown[]) => lastValueFrom(connection.execute(sql, params));

const nasty = 'nasty\nstring\t\'",x';

describe('query: rows and columns', () => {
  it('returns one row for SELECT $1::int (T-S1)', async () => {
    expect(await arrays('SELECT $1::int', ['1234'])).toEqual([[1234]]);
    expect(await raw('SELECT $1::int', ['1234'])).toEqual([{ columnNames: ['int4'], values: ['1234'] }]);
  });

  it('keeps column names and order, in every row mode (T-Q1)', async () => {
    await run('CREATE TEMPORARY TABLE a (x timestamp, y integer PRIMARY KEY, z text)');
    await run(
      "INSERT INTO a VALUES ('2000-01-01 00:00:00', 1, 'test string'), ('2000-01-01 00:00:00', 5, $1), ('2019-03-14 00:00:00', 10, NULL)",
      [nasty],
    );
    const rawRows = await raw('SELECT * FROM a ORDER BY y');
    expect(rawRows.map((row) => row.values)).toEqual([
      ['2000-01-01 00:00:00', '1', 'test string'],
      ['2000-01-01 00:00:00', '5', nasty],
      ['2019-03-14 00:00:00', '10', null],
    ]);
    expect(rawRows[0]!.columnNames).toEqual(['x', 'y', 'z']);
    expect(rawRows[1]!.columnNames).toBe(rawRows[0]!.columnNames);
    expect((await raw('SELECT z, x FROM a ORDER BY y'))[0]!.columnNames).toEqual(['z', 'x']);
    expect(Object.keys((await rows('SELECT x AS moo, y FROM a ORDER BY y'))[0]!)).toEqual(['moo', 'y']);
    const objects = await rows('SELECT y, z FROM a ORDER BY y');
    expect(objects).toEqual([
      { y: 1, z: 'test string' },
      { y: 5, z: nasty },
      { y: 10, z: null },
    ]);
  });

  it('binds parameters, types inferred by the server (T-Q3)', async () => {
    expect(
      await arrays(
        'WITH b AS (SELECT 1 AS s, $1::int AS x, $2::int AS y UNION SELECT 2, $2, $3 UNION SELECT 3, $4, $4) SELECT x, y FROM b ORDER BY s',
        ['1', '-5', null, '1000000'],
      ),
    ).toEqual([
      [1, -5],
      [-5, null],
      [1000000, 1000000],
    ]);
    expect(await arrays('SELECT $1::text', [nasty])).toEqual([[nasty]]);
    await run('CREATE TEMPORARY TABLE c (x integer, y text)');
    await run('INSERT INTO c (x, y) VALUES ($1, $2), ($3, $4)', ['5', 'five', '10', null]);
    expect(await arrays('SELECT * FROM c ORDER BY x')).toEqual([
      [5, 'five'],
      [10, null],
    ]);
    expect(await arrays("UPDATE c SET y = 'ten' WHERE x = $1 RETURNING x, y", ['10'])).toEqual([[10, 'ten']]);
  });

  it('a statement without rows and an empty query complete with no values (T-Q4, T-Q5)', async () => {
    expect(await rows('CREATE TEMPORARY TABLE d (x integer)')).toEqual([]);
    expect(await rows('')).toEqual([]);
    expect(await rows('-- comment')).toEqual([]);
  });

  it('reports columns before the first row, also with no rows (T-Q13)', async () => {
    await run('CREATE TEMPORARY TABLE a (x timestamp, y int PRIMARY KEY, z text)');
    await run('CREATE TEMPORARY TABLE b (x timestamp, y int PRIMARY KEY, z text)');
    await run('CREATE TEMPORARY VIEW vw_a AS SELECT * FROM a');
    await run("INSERT INTO a VALUES (now(), 1, 'one'), (now(), 2, 'two')");
    await run("INSERT INTO b VALUES (now(), 1, 'b-one')");
    const columns = async (sql: string) => {
      const order: string[] = [];
      let fields: readonly ResultField[] = [];
      await lastValueFrom(
        connection
          .query(sql, [], {
            onFields: (reported) => {
              fields = reported;
              order.push('fields');
            },
          })
          .pipe(
            tap(() => order.push('row')),
            toArray(),
          ),
      );
      return { fields: fields.map((f) => [f.name, f.dataTypeId]), order };
    };
    expect(await columns('SELECT * FROM a ORDER BY y')).toEqual({
      fields: [
        ['x', 1114],
        ['y', 23],
        ['z', 25],
      ],
      order: ['fields', 'row', 'row'],
    });
    expect((await columns('SELECT z, x FROM a')).fields).toEqual([
      ['z', 25],
      ['x', 1114],
    ]);
    expect(await columns('SELECT * FROM a LIMIT 0')).toEqual({
      fields: [
        ['x', 1114],
        ['y', 23],
        ['z', 25],
      ],
      order: ['fields'],
    });
    expect((await columns('SELECT * FROM vw_a LIMIT 0')).fields).toHaveLength(3);
    expect((await columns('SELECT vw_a.x, vw_a.y, b.y, b.z FROM vw_a JOIN b ON vw_a.y = b.y')).fields).toEqual([
      ['x', 1114],
      ['y', 23],
      ['y', 23],
      ['z', 25],
    ]);
  });

  it('an onFields that throws fails the query, never delivers rows, and keeps the connection (T-Q14)', async () => {
    let delivered = 0;
    const failure = new Error('Intentionally raising in onFields');
    const error = await errorOf(
      lastValueFrom(
        connection.query('SELECT * FROM pg_type', [], {
          onFields: () => {
            throw failure;
          },
        }),
      ).then(() => (delivered += 1)),
    );
    expect(error).toBe(failure);
    expect(delivered).toBe(0);
    expect(await arrays('SELECT 1')).toEqual([[1]]);
  });

  it('reports the command tag and row count', async () => {
    await run('CREATE TEMPORARY TABLE t (x int)');
    expect(await run('INSERT INTO t SELECT generate_series(1, 5)')).toEqual({ command: 'INSERT 0 5', rowCount: 5 });
    let completed: unknown;
    await lastValueFrom(connection.query('SELECT * FROM t', [], { onComplete: (c) => (completed = c) }).pipe(toArray()));
    expect(completed).toEqual({ command: 'SELECT 5', rowCount: 5 });
  });

  it('an onComplete that throws fails its request, query or execute, and keeps the connection', async () => {
    const failure = new Error('Intentionally raising in onComplete');
    const throwing = {
      onComplete: () => {
        throw failure;
      },
    };
    const rows: unknown[] = [];
    const queryError = await errorOf(lastValueFrom(connection.query('SELECT 1 AS one', [], throwing).pipe(tap((row) => rows.push(row)))));
    expect(queryError).toBe(failure);
    expect(rows).toEqual([{ one: 1 }]);
    expect(await errorOf(lastValueFrom(connection.execute('SELECT 1 WHERE FALSE', [], throwing)))).toBe(failure);
    expect(connection.state).toBe('open');
    expect(await arrays('SELECT 2')).toEqual([[2]]);
  });

  it('makes __proto__ and constructor ordinary own properties', async () => {
    const [row] = await rows<Record<string, unknown>>('SELECT 1 AS "__proto__", 2 AS "constructor", 3 AS "toString"');
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe(1);
    expect(row!.constructor).toBe(2);
    expect(Object.keys(row!)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('query: laziness', () => {
  it('runs once per subscription, and not at all without one', async () => {
    await run('CREATE TEMPORARY TABLE hits (x int)');
    const insert$ = connection.execute('INSERT INTO hits VALUES (1)');
    const unused = connection.query('INSERT INTO hits VALUES (100)');
    void unused;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await arrays('SELECT count(*)::int FROM hits')).toEqual([[0]]);
    await lastValueFrom(insert$);
    await lastValueFrom(insert$);
    expect(await arrays('SELECT count(*)::int FROM hits')).toEqual([[2]]);
  });
});

describe('query: failures keep the connection (T-Q6)', () => {
  it('refuses an unknown rowMode before anything is sent', async () => {
    for (const rowMode of ['arrays', '__proto__', 'constructor', 42]) {
      const error = await errorOf(lastValueFrom(connection.query('SELECT 1', [], { rowMode: rowMode as never })));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toMatch(/rowMode must be 'object', 'array' or 'raw'/);
    }
    expect(await arrays('SELECT 1')).toEqual([[1]]);
  });

  it('reports each failure with its SQLSTATE and goes on', async () => {
    const syntax = await errorOf(rows('syntactically invalid'));
    expect(syntax).toBeInstanceOf(PostgresError);
    expect((syntax as PostgresError).code).toBe('42601');
    expect((syntax as PostgresError).sql).toBe('syntactically invalid');
    expect((syntax as PostgresError).position).toBe(1);
    expect(Object.keys(syntax)).not.toContain('sql');
    expect(await arrays('SELECT 1')).toEqual([[1]]);

    const secret = 'not-a-number-secret';
    const binding = await errorOf(rows('SELECT $1::int', [secret]));
    expect((binding as PostgresError).code).toBe('22P02');
    expect((binding as PostgresError).parameterCount).toBe(1);
    expect(JSON.stringify(binding)).not.toContain(secret);
    expect(Object.values(binding).map(String).join(' ')).not.toContain(secret);

    const raised = await errorOf(rows("DO $$ BEGIN RAISE 'hi'; END $$"));
    expect((raised as PostgresError).code).toBe('P0001');
    expect(await arrays("SELECT 'everything is fine'")).toEqual([['everything is fine']]);
  });

  it('refuses COPY through query and execute, and the connection stays usable (T-Q6, T-Q10)', async () => {
    await run('CREATE TEMPORARY TABLE c (x integer)');
    await run('INSERT INTO c VALUES (10)');
    for (const sql of ['COPY c FROM STDIN', 'COPY c TO STDOUT', '/* a comment */ copy c from stdin']) {
      const error = await errorOf(rows(sql));
      expect(error).toBeInstanceOf(QueryShapeError);
      expect(error.message).toMatch(/COPY (FROM STDIN|TO STDOUT)/);
      expect(await arrays('SELECT 1')).toEqual([[1]]);
    }
    const copyOut = await errorOf(rows('COPY (INSERT INTO c (x) VALUES (20) RETURNING x) TO STDOUT'));
    expect(copyOut).toBeInstanceOf(QueryShapeError);
    expect(await errorOf(run('COPY c TO STDOUT'))).toBeInstanceOf(QueryShapeError);
    expect(await arrays('SELECT x FROM c ORDER BY x')).toEqual([[10], [20]]);
  });

  it('a decoder that throws fails only its query, whose remaining rows are discarded', async () => {
    const own = await openConnection(superuserConfig());
    const failure = new Error('Intentionally raising in a decoder');
    own.types.setDecoder(23, (text) => {
      if (text === '3') throw failure;
      return Number(text);
    });
    const delivered: unknown[] = [];
    const error = await errorOf(
      lastValueFrom(own.query<{ g: number }>('SELECT g::int4 FROM generate_series(1, 100000) g').pipe(tap((row) => delivered.push(row.g)))),
    );
    expect(error).toBe(failure);
    expect(delivered).toEqual([1, 2]);
    expect(own.state).toBe('open');
    expect(await lastValueFrom(own.query('SELECT 7::int4 AS seven'))).toEqual({ seven: 7 });
  });

  it('a NUL byte in the SQL is a clear error, nothing is sent, the connection stays usable', async () => {
    const error = await errorOf(rows('SELECT 1\0'));
    expect(error.message).toMatch(/NUL/);
    expect(await arrays('SELECT 2')).toEqual([[2]]);
  });

  it('more than 65535 parameters is a RangeError and the connection stays usable (T-Q11)', async () => {
    const error = await errorOf(run('', new Array(100_000).fill(null)));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toContain('65535');
    expect(await arrays('SELECT 3')).toEqual([[3]]);
  });

  it('SQL that is not a string and parameters that are not an array are clear errors', async () => {
    const notSql = await errorOf(rows(42 as unknown as string));
    expect(notSql).toBeInstanceOf(TypeError);
    const notArray = await errorOf(lastValueFrom(connection.query('SELECT $1::text', 'x' as unknown as unknown[])));
    expect(notArray).toBeInstanceOf(TypeError);
    expect(notArray.message).toContain('array');
    expect(await arrays('SELECT 8')).toEqual([[8]]);
  });

  it('undefined as a parameter is an error, not NULL', async () => {
    const error = await errorOf(rows('SELECT $1::text', [undefined]));
    expect(error.message).toMatch(/\$1/);
    expect(await arrays('SELECT 4')).toEqual([[4]]);
  });

  it('a query on a closed or failed connection errors at once with a ConnectionError', async () => {
    await connection.close();
    const error = await errorOf(rows('SELECT 1'));
    expect(error).toBeInstanceOf(ConnectionError);
  });
});

describe('execute (query_expect_no_data, T-Q10)', () => {
  it('completes for statements without rows, errors after statements that returned some', async () => {
    expect(await run('SELECT 1 WHERE FALSE')).toEqual({ command: 'SELECT 0', rowCount: 0 });
    await run('CREATE TEMPORARY TABLE c (x integer)');
    await run('SELECT * FROM c');
    await run('INSERT INTO c (x) VALUES (10)');
    expect(await errorOf(run('SELECT 1'))).toBeInstanceOf(QueryShapeError);
    expect(await errorOf(run('INSERT INTO c (x) VALUES (20) RETURNING x'))).toBeInstanceOf(QueryShapeError);
    expect(await arrays('SELECT x FROM c ORDER BY x')).toEqual([[10], [20]]);
  });

  it('an empty statement is a heartbeat', async () => {
    expect(await run('')).toEqual({ command: '', rowCount: undefined });
  });
});

describe('transactions (T-Q7, T-Q8)', () => {
  it('each statement autocommits outside BEGIN', async () => {
    await run('CREATE TEMPORARY TABLE x (y integer) ON COMMIT DELETE ROWS');
    expect(await arrays('INSERT INTO x VALUES (1) RETURNING y')).toEqual([[1]]);
    expect(await arrays('SELECT count(*)::int FROM x')).toEqual([[0]]);
    await run('BEGIN');
    await arrays('INSERT INTO x VALUES (1) RETURNING y');
    expect(await arrays('SELECT count(*)::int FROM x')).toEqual([[1]]);
    await run('COMMIT');
    expect(await arrays('SELECT count(*)::int FROM x')).toEqual([[0]]);
  });

  it('another connection sees committed rows only', async () => {
    const other = await openConnection(superuserConfig());
    const table = `transaction_test_${process.pid}`;
    const count = async () => (await rows<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`, [], other))[0]!.n;
    await run(`CREATE TABLE ${table} (y integer)`);
    try {
      await run(`INSERT INTO ${table} VALUES (1)`);
      expect(await count()).toBe(1);
      await run('BEGIN');
      await run(`INSERT INTO ${table} VALUES (2)`);
      expect(await count()).toBe(1);
      await run('COMMIT');
      expect(await count()).toBe(2);
      await run('BEGIN');
      await run(`INSERT INTO ${table} VALUES (3)`);
      expect((await rows<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n).toBe(3);
      await run('ROLLBACK');
      expect(await count()).toBe(2);
    } finally {
      await run(`DROP TABLE ${table}`);
    }
  });
});

describe('first row', () => {
  it('firstValueFrom unsubscribes after the first row and the connection stays in sync', async () => {
    expect(await firstValueFrom(connection.query<{ g: number }>('SELECT g FROM generate_series(1, 100000) g'))).toEqual({ g: 1 });
    expect(await arrays('SELECT 5')).toEqual([[5]]);
  });
});
