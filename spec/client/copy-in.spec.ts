// COPY FROM STDIN. Seed cases ported here (reference/postgres_async.md §3.4): T-S2 and T-CI1..T-CI9
// (copy_in_rows cases use copyInRows; T-CI3's NUL byte case is an error on a UTF8 server, so it
// checks that instead), T-Q6 step 9 (COPY after refused COPYs in query).
import { Readable } from 'node:stream';
import { Observable, firstValueFrom, from, interval, lastValueFrom, map, take, throwError, concat, of } from 'rxjs';
import { CopyAbortedError, PostgresError, QueryShapeError, type Connection } from '../../lib';
import { closeOpenedConnections, errorOf, openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';

let connection: Connection;
beforeEach(async () => {
  connection = await openConnection(superuserConfig());
});
afterEach(closeOpenedConnections);

const run = (sql: string) => lastValueFrom(connection.execute(sql));
const arrays = (sql: string) =>
  lastValueFrom(
    connection.query<unknown[]>(sql, [], { rowMode: 'array' }).pipe(
      (source) =>
        new Observable<unknown[][]>((s) => {
          const rows: unknown[][] = [];
          return source.subscribe({
            next: (r) => rows.push(r),
            error: (e) => s.error(e),
            complete: () => {
              s.next(rows);
              s.complete();
            },
          });
        }),
    ),
  );
const count = async (table: string) => (await arrays(`SELECT count(*)::int FROM ${table}`))[0]![0] as number;
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('copyIn: feeding', () => {
  it('takes chunks that ignore row boundaries (T-CI6)', async () => {
    await run('CREATE TEMPORARY TABLE x (y int PRIMARY KEY, z text NOT NULL)');
    const result = await lastValueFrom(connection.copyIn('COPY x (y, z) FROM STDIN', ['1\tone\n', '2\t', 'two', '\n']));
    expect(result).toEqual({ command: 'COPY 2', rowCount: 2 });
    expect(await arrays('SELECT * FROM x ORDER BY y')).toEqual([
      [1, 'one'],
      [2, 'two'],
    ]);
  });

  it('accepts an Observable, an async generator, a Readable and Uint8Arrays', async () => {
    await run('CREATE TEMPORARY TABLE x (y int)');
    await lastValueFrom(
      connection.copyIn(
        'COPY x FROM STDIN',
        interval(1).pipe(
          take(3),
          map((i) => `${i}\n`),
        ),
      ),
    );
    async function* lines() {
      for (let i = 10; i < 13; i++) {
        await tick();
        yield `${i}\n`;
      }
    }
    await lastValueFrom(connection.copyIn('COPY x FROM STDIN', lines()));
    await lastValueFrom(connection.copyIn('COPY x FROM STDIN', Readable.from(['20\n', '21\n'])));
    await lastValueFrom(connection.copyIn('COPY x FROM STDIN', [Buffer.from('30\n'), new TextEncoder().encode('31\n')]));
    expect((await arrays('SELECT y FROM x ORDER BY y')).map((row) => row[0])).toEqual([0, 1, 2, 10, 11, 12, 20, 21, 30, 31]);
  });

  it('copies lots of data with waits in between (T-CI5)', async () => {
    await run('CREATE TEMPORARY TABLE x (y int PRIMARY KEY, z text)');
    const kib = 'a'.repeat(1024);
    async function* rows() {
      for (let i = 1; i <= 8192; i++) {
        if (i % 256 === 0) await tick();
        yield `${i}\t${kib}\n`;
      }
    }
    await lastValueFrom(connection.copyIn('COPY x FROM STDIN', rows()));
    expect(await arrays('SELECT count(*)::int, min(y), max(y), sum(y)::int8, min(length(z)) FROM x')).toEqual([
      [8192, 1, 8192, '33558528', 1024],
    ]);
  });

  it('splits a large chunk into several CopyData messages', async () => {
    await run('CREATE TEMPORARY TABLE x (y int, z text)');
    const big = Array.from({ length: 20_000 }, (_, i) => `${i}\t${'b'.repeat(100)}\n`).join('');
    expect(big.length).toBeGreaterThan(1024 * 1024);
    expect((await lastValueFrom(connection.copyIn('COPY x FROM STDIN', [big]))).rowCount).toBe(20_000);
  });

  it('takes csv and binary formats; parameters reach the server (which refuses them in COPY)', async () => {
    await run('CREATE TEMPORARY TABLE x (y int, z text)');
    await lastValueFrom(connection.copyIn("COPY x FROM STDIN WITH (FORMAT csv, DELIMITER ';')", ['1;"a;b"\n2;\n']));
    expect(await arrays('SELECT * FROM x ORDER BY y')).toEqual([
      [1, 'a;b'],
      [2, null],
    ]);
    const binary = await lastValueFrom(
      connection.copyOut("COPY (SELECT 3::int, 'bin'::text) TO STDOUT (FORMAT binary)").pipe(
        (source) =>
          new Observable<Buffer>((s) => {
            const chunks: Buffer[] = [];
            return source.subscribe({
              next: (c) => chunks.push(c),
              error: (e) => s.error(e),
              complete: () => {
                s.next(Buffer.concat(chunks));
                s.complete();
              },
            });
          }),
      ),
    );
    await lastValueFrom(connection.copyIn('COPY x FROM STDIN (FORMAT binary)', [binary]));
    expect(await arrays('SELECT * FROM x WHERE y = 3')).toEqual([[3, 'bin']]);
    const withParameter = await errorOf(lastValueFrom(connection.copyIn('COPY x FROM STDIN', ['4\tp\n'], { params: ['unused'] })));
    expect(withParameter).toBeInstanceOf(PostgresError);
    expect(await count('x')).toBe(3);
  });
});

describe('copyIn: failures', () => {
  it('a source error aborts with CopyFail: nothing committed, error carries the cause (T-CI7)', async () => {
    await run('CREATE TEMPORARY TABLE x (y int, z text)');
    const cause = new Error('user reason');
    let pulledAfterError = false;
    const source = concat(
      of('1\tone\n'),
      of('2\ttwo\n'),
      throwError(() => cause),
      new Observable<string>(() => {
        pulledAfterError = true;
      }),
    );
    const error = await errorOf(lastValueFrom(connection.copyIn('COPY x FROM STDIN', source)));
    expect(error).toBeInstanceOf(CopyAbortedError);
    expect(error.cause).toBe(cause);
    expect((error as CopyAbortedError).serverError?.code).toBe('57014');
    expect(pulledAfterError).toBe(false);
    expect(await count('x')).toBe(0);
  });

  it('bad data in the middle stops the source early with 22P02; nothing committed (T-CI9)', async () => {
    await run('CREATE TEMPORARY TABLE x (y int, z bool)');
    let pulled = 0;
    async function* calls() {
      for (let n = 1; n < 1_000_000; n++) {
        pulled = n;
        if (n % 2 === 0) await tick();
        else yield n === 901 ? 'not-a-number\ttrue\n' : `${n}\ttrue\n`;
      }
    }
    const error = await errorOf(lastValueFrom(connection.copyIn('COPY x FROM STDIN', calls())));
    expect(error).toBeInstanceOf(PostgresError);
    expect((error as PostgresError).code).toBe('22P02');
    expect(pulled).toBeLessThan(100_000);
    expect(await count('x')).toBe(0);
  });

  it('a statement that is not COPY FROM STDIN is a clear error and the connection stays usable', async () => {
    await run('CREATE TEMPORARY TABLE x (y int)');
    await run('INSERT INTO x VALUES (1)');
    for (const sql of ['SELECT 1', 'INSERT INTO x VALUES (2)', 'COPY x TO STDOUT', '']) {
      const error = await errorOf(lastValueFrom(connection.copyIn(sql, ['5\n'])));
      expect(error).toBeInstanceOf(QueryShapeError);
      expect(await arrays('SELECT 1')).toEqual([[1]]);
    }
    const syntax = await errorOf(lastValueFrom(connection.copyIn('COPY nowhere FROM STDIN', ['5\n'])));
    expect((syntax as PostgresError).code).toBe('42P01');
    expect(await count('x')).toBe(2);
  });

  it('unsubscribing mid-copy sends CopyFail: nothing committed, the connection usable', async () => {
    await run('CREATE TEMPORARY TABLE x (y int)');
    let pulled = 0;
    async function* slow() {
      for (let i = 0; ; i++) {
        pulled = i;
        await tick();
        yield `${i}\n`;
      }
    }
    const subscription = connection.copyIn('COPY x FROM STDIN', slow()).subscribe({ error: () => undefined });
    while (pulled < 100) await tick();
    subscription.unsubscribe();
    const stoppedAt = pulled;
    expect(await count('x')).toBe(0);
    await tick();
    expect(pulled).toBeLessThanOrEqual(stoppedAt + 1);
  });

  it('a push source that outruns the socket is stopped with a clear error', async () => {
    await run('CREATE TEMPORARY TABLE x (y int, z text)');
    const chunk = `1\t${'z'.repeat(1024 * 1024)}\n`;
    const flood = new Observable<string>((subscriber) => {
      for (let i = 0; i < 200 && !subscriber.closed; i++) subscriber.next(chunk);
      subscriber.complete();
    });
    const error = await errorOf(lastValueFrom(connection.copyIn('COPY x FROM STDIN', flood, { maxBufferedBytes: 8 * 1024 * 1024 })));
    expect(error).toBeInstanceOf(CopyAbortedError);
    expect((error.cause as Error).message).toContain('AsyncIterable');
    expect(await count('x')).toBe(0);
  });

  it('an invalid source or maxBufferedBytes is a clear error before the COPY starts', async () => {
    await run('CREATE TEMPORARY TABLE x (y int)');
    const bare = await errorOf(lastValueFrom(connection.copyIn('COPY x FROM STDIN', '1\n')));
    expect(bare).toBeInstanceOf(TypeError);
    const nothing = await errorOf(lastValueFrom(connection.copyIn('COPY x FROM STDIN', null as never)));
    expect(nothing).toBeInstanceOf(TypeError);
    const bound = await errorOf(lastValueFrom(connection.copyIn('COPY x FROM STDIN', ['1\n'], { maxBufferedBytes: 0 })));
    expect(bound).toBeInstanceOf(RangeError);
    expect(await count('x')).toBe(0);
    expect(await arrays('SELECT 1')).toEqual([[1]]);
  });

  it('a chunk that is neither text nor bytes aborts the copy', async () => {
    await run('CREATE TEMPORARY TABLE x (y int)');
    const error = await errorOf(lastValueFrom(connection.copyIn('COPY x FROM STDIN', from([1 as unknown as string]))));
    expect(error).toBeInstanceOf(CopyAbortedError);
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  it('COPY after refused COPYs through query works (T-Q6 step 9)', async () => {
    await run('CREATE TEMPORARY TABLE c (x int)');
    await errorOf(lastValueFrom(connection.query('COPY c FROM STDIN')));
    await lastValueFrom(connection.copyIn('COPY c FROM STDIN', ['10\n']));
    expect(await arrays('SELECT * FROM c')).toEqual([[10]]);
  });

  it('delivers notifications that arrive during a copy', async () => {
    await run('CREATE TEMPORARY TABLE x (y int)');
    const received = firstValueFrom(connection.notifications('copy_channel'));
    await firstValueFrom(connection.channelEvents('copy_channel'));
    const other = await openConnection(superuserConfig());
    async function* rows() {
      for (let i = 0; i < 2000; i++) {
        if (i === 1000) await lastValueFrom(other.notify('copy_channel', 'during copy'));
        if (i % 100 === 0) await tick();
        yield `${i}\n`;
      }
    }
    await lastValueFrom(connection.copyIn('COPY x FROM STDIN', rows()));
    expect((await received).payload).toBe('during copy');
  });
});
