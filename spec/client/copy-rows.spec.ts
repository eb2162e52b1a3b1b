// copyInRows and copyOut / copyOutRows. Seed cases ported here (reference/postgres_async.md
// §3.4): T-S2, T-CI1, T-CI2, T-CI3 (its NUL byte row is refused on a UTF8 server), T-CI4,
// T-CI8, T-CO1, T-CO2 (without hstore), T-CO3 (text and binary round trips).
import { Observable, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { CopyAbortedError, PostgresError, QueryShapeError, type Connection } from '../../lib';
import { closeOpenedConnections, errorOf, eventually, openConnection } from '../helpers/connections';
import { superuserConfig, superuserPsql } from '../helpers/test-servers';

let connection: Connection;
beforeEach(async () => {
  connection = await openConnection(superuserConfig());
});
afterEach(closeOpenedConnections);

const run = (sql: string, c: Connection = connection) => lastValueFrom(c.execute(sql));
const arrays = (sql: string, c: Connection = connection) =>
  lastValueFrom(c.query<unknown[]>(sql, [], { rowMode: 'array' }).pipe(toArray()));
const bytesOf = (source: Observable<Buffer>) => lastValueFrom(source.pipe(toArray())).then((chunks) => Buffer.concat(chunks));

describe('copyInRows', () => {
  it('copies rows and reads them back (T-S2)', async () => {
    await run('CREATE TEMPORARY TABLE x (y integer PRIMARY KEY, z text)');
    const rows = Array.from({ length: 10 }, (_, k) => {
      const i = 10 - k;
      return [String(i), i % 2 === 0 ? `asdf-${i}` : null];
    });
    expect(await lastValueFrom(connection.copyInRows({ table: 'x', columns: ['y', 'z'] }, rows))).toEqual({
      command: 'COPY 10',
      rowCount: 10,
    });
    const back = await lastValueFrom(connection.query('SELECT * FROM x ORDER BY y', [], { rowMode: 'raw' }).pipe(toArray()));
    expect(back.map((row) => row.values)).toEqual(
      Array.from({ length: 10 }, (_, k) => [String(k + 1), (k + 1) % 2 === 0 ? `asdf-${k + 1}` : null]),
    );
  });

  it('takes columns in any order (T-CI1) and a schema with an odd table name (T-CI2, T-CI8)', async () => {
    await run('CREATE TEMPORARY TABLE "test.table" (y integer PRIMARY KEY, z text)');
    await lastValueFrom(
      connection.copyInRows({ schema: 'pg_temp', table: 'test.table', columns: ['z', 'y'] }, [
        ['one', 1],
        [null, 2],
        ['three', 3],
      ]),
    );
    expect(await arrays('SELECT * FROM pg_temp."test.table" ORDER BY y')).toEqual([
      [1, 'one'],
      [2, null],
      [3, 'three'],
    ]);
    const schema = `my_schema_${process.pid}`;
    await run(`CREATE SCHEMA ${schema}`);
    try {
      await run(`CREATE TABLE ${schema}.x (y integer)`);
      await lastValueFrom(connection.copyInRows({ schema, table: 'x', columns: ['y'] }, [[1], [2]]));
      expect(await arrays(`SELECT y FROM ${schema}.x ORDER BY y`)).toEqual([[1], [2]]);
    } finally {
      await run(`DROP SCHEMA ${schema} CASCADE`);
    }
  });

  it('keeps awkward characters exactly (T-CI3)', async () => {
    await run('CREATE TEMPORARY TABLE x (y int PRIMARY KEY, z text, w bytea)');
    const texts = ['\n', '\\N', '\t', '\\t', ',', '', '\\', '\\x61', '\r\n'];
    const rows: unknown[][] = texts.map((z, i) => [i + 1, z, null]);
    const blobs = [Buffer.from('asdf'), Buffer.from('\n'), Buffer.from('\\x00'), Buffer.from([0x61])];
    blobs.forEach((w, i) => rows.push([20 + i, null, w]));
    await lastValueFrom(connection.copyInRows({ table: 'x', columns: ['y', 'z', 'w'] }, rows));
    const back = await arrays('SELECT y, z, w FROM x ORDER BY y');
    expect(back.slice(0, texts.length).map((row) => row[1])).toEqual(texts);
    expect(back.slice(texts.length).map((row) => row[2])).toEqual(blobs);
    const nul = await errorOf(lastValueFrom(connection.copyInRows({ table: 'x', columns: ['y', 'z'] }, [[99, 'a\0b']])));
    expect(nul).toBeInstanceOf(CopyAbortedError);
    expect((nul.cause as Error).message).not.toContain('a\0b');
  });

  it('quotes mixed-case, spaced and quoted column names (T-CI4)', async () => {
    await run(
      'CREATE TEMPORARY TABLE "table-name " (k integer PRIMARY KEY, "y space" text, "z""quote" text, "year" text, LOWERCASE1 text, "UPPERCASE2" text)',
    );
    await lastValueFrom(
      connection.copyInRows({ table: 'table-name ', columns: ['k', 'y space', 'z"quote', 'year', 'lowercase1', 'UPPERCASE2'] }, [
        [1, 'A', 'B', 'C', 'D', 'E'],
      ]),
    );
    const [row] = await lastValueFrom(connection.query('SELECT * FROM "table-name "').pipe(toArray()));
    expect(row).toEqual({ k: 1, 'y space': 'A', 'z"quote': 'B', year: 'C', lowercase1: 'D', UPPERCASE2: 'E' });
  });

  it('cannot be injected through names', async () => {
    await run('CREATE TEMPORARY TABLE victim (y int)');
    const error = await errorOf(
      lastValueFrom(connection.copyInRows({ table: 'victim (y) FROM STDIN; DROP TABLE victim; --', columns: ['y'] }, [[1]])),
    );
    expect(error).toBeInstanceOf(PostgresError);
    expect((error as PostgresError).code).toBe('42P01');
    expect(await arrays('SELECT count(*)::int FROM victim')).toEqual([[0]]);
  });

  it('encodes numbers, bigint, booleans, dates, arrays and JSON as parameters are', async () => {
    await run('CREATE TEMPORARY TABLE x (a int8, b bool, c timestamptz, d int4[], e jsonb, f float8)');
    const when = new Date('2020-05-06T07:08:09.123Z');
    await lastValueFrom(
      connection.copyInRows({ table: 'x', columns: ['a', 'b', 'c', 'd', 'e', 'f'] }, [
        [12345678901234567n, true, when, [1, null, 3], { k: ['v\t'] }, -1.5],
      ]),
    );
    expect(await arrays('SELECT * FROM x')).toEqual([['12345678901234567', true, when, [1, null, 3], { k: ['v\t'] }, -1.5]]);
  });

  it('an unencodable value aborts the copy and names the row and column, never the value', async () => {
    await run('CREATE TEMPORARY TABLE x (y int)');
    const error = await errorOf(lastValueFrom(connection.copyInRows({ table: 'x', columns: ['y'] }, [[1], [undefined]])));
    expect(error).toBeInstanceOf(CopyAbortedError);
    expect((error.cause as Error).message).toMatch(/row index 1, column index 0/);
    expect(await arrays('SELECT count(*)::int FROM x')).toEqual([[0]]);
  });
});

describe('copyOut', () => {
  it('gives the exact bytes of an empty row, text and binary (T-CO1)', async () => {
    expect(await bytesOf(connection.copyOut('COPY (SELECT) TO STDOUT'))).toEqual(Buffer.from([0x0a]));
    const binary = await bytesOf(connection.copyOut('COPY (SELECT) TO STDOUT (FORMAT binary)'));
    expect(binary).toEqual(
      Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8), Buffer.from([0, 0]), Buffer.from([0xff, 0xff])]),
    );
  });

  it('gives the text line of a row of many types (T-CO2)', async () => {
    const text = (
      await bytesOf(
        connection.copyOut(
          "COPY (SELECT NULL::text, B'101'::bit(3), 'x'::char, 2::int2, 4::int4, 8::int8, 1.5::float4, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 1.25::numeric, ARRAY[1,2], '10.1.0.0/16'::cidr, '{\"a\":1}'::jsonb, E'tab\\there', '\\x00deadbeef00'::bytea) TO STDOUT",
        ),
      )
    ).toString('utf8');
    expect(text).toBe(
      '\\N\t101\tx\t2\t4\t8\t1.5\ta0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\t1.25\t{1,2}\t10.1.0.0/16\t{"a": 1}\ttab\\there\t\\\\x00deadbeef00\n',
    );
    const rows = await lastValueFrom(
      connection.copyOutRows("COPY (SELECT NULL::text, E'tab\\there', '\\x00ff'::bytea) TO STDOUT").pipe(toArray()),
    );
    expect(rows).toEqual([[null, 'tab\there', '\\x00ff']]);
  });

  it('round-trips a table between two connections, text and binary (T-CO3)', async () => {
    const table = `copy_round_trip_${process.pid}`;
    const other = await openConnection(superuserConfig());
    await run(`CREATE TABLE ${table} (i int, t text, f float8, b bytea, j jsonb, a text[], ts timestamptz)`);
    try {
      await run(
        `INSERT INTO ${table} SELECT g, 'row ' || g || E'\\t\\n\\\\', g / 3.0, decode(md5(g::text), 'hex'), jsonb_build_object('g', g), ARRAY['x', NULL, g::text], now() FROM generate_series(1, 5000) g`,
      );
      for (const format of ['text', 'binary']) {
        await run(`TRUNCATE ${table}_copy`, other).catch(() => run(`CREATE TABLE ${table}_copy (LIKE ${table})`, other));
        await lastValueFrom(
          other.copyIn(
            `COPY ${table}_copy FROM STDIN (FORMAT ${format})`,
            connection.copyOut(`COPY ${table} TO STDOUT (FORMAT ${format})`),
          ),
        );
        const difference = await arrays(
          `SELECT count(*)::int FROM ((TABLE ${table} EXCEPT ALL TABLE ${table}_copy) UNION ALL (TABLE ${table}_copy EXCEPT ALL TABLE ${table})) d`,
        );
        expect(difference).toEqual([[0]]);
        expect(await arrays(`SELECT count(*)::int FROM ${table}_copy`)).toEqual([[5000]]);
      }
    } finally {
      await run(`DROP TABLE IF EXISTS ${table}, ${table}_copy`);
    }
  });

  it('refuses a statement that is not COPY TO STDOUT, and the connection stays usable', async () => {
    await run('CREATE TEMPORARY TABLE x (y int)');
    for (const sql of ['SELECT 1', 'COPY x FROM STDIN', 'INSERT INTO x VALUES (1)']) {
      expect(await errorOf(bytesOf(connection.copyOut(sql)))).toBeInstanceOf(QueryShapeError);
      expect(await arrays('SELECT 1')).toEqual([[1]]);
    }
  });

  it('unsubscribing stops the COPY on the server and keeps the connection usable', async () => {
    const marker = `copy_out_marker_${process.pid}`;
    const first = await firstValueFrom(connection.copyOut(`COPY (SELECT generate_series(1, 100000000) AS ${marker}) TO STDOUT`));
    expect(first.length).toBeGreaterThan(0);
    await eventually(
      async () =>
        Number(
          await superuserPsql(
            `SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%${marker}%' AND application_name <> 'rxpg-test-harness'`,
          ),
        ) === 0,
      2000,
    );
    expect(await arrays('SELECT 2')).toEqual([[2]]);
  });
});
