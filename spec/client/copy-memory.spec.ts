// COPY at scale: bounded memory for big lazy sources and slow consumers, early stop on bad
// data, nothing committed on a failing source (issue 4 acceptance).
import { count, lastValueFrom, tap } from 'rxjs';
import { CopyAbortedError, PostgresError, type Connection } from '../../lib';
import { closeOpenedConnections, errorOf, openConnection } from '../helpers/connections';
import { MemoryGrowth } from '../helpers/memory';
import { superuserConfig } from '../helpers/test-servers';

jest.setTimeout(180_000);

let connection: Connection;
beforeEach(async () => {
  connection = await openConnection(superuserConfig());
});
afterEach(closeOpenedConnections);

const arrays = (sql: string) => lastValueFrom(connection.query<unknown[]>(sql, [], { rowMode: 'array' }));

async function* rows(total: number, onPull?: (index: number) => void): AsyncGenerator<unknown[]> {
  for (let i = 1; i <= total; i++) {
    onPull?.(i);
    yield [i, `name ${i}`, i / 4];
  }
}

/** Checks count and sums of `big` on the server: every row arrived, exactly. */
async function expectBigTable(total: number): Promise<void> {
  const digitsTotal = Array.from({ length: 8 }, (_, d) => d).reduce((sum, d) => {
    const low = 10 ** d;
    const high = Math.min(total, 10 ** (d + 1) - 1);
    return sum + (high >= low ? (high - low + 1) * (5 + d + 1) : 0);
  }, 0);
  expect(await arrays('SELECT count(*)::int8, sum(i)::int8, sum(f)::float8, sum(length(t))::int8 FROM big')).toEqual([
    String(total),
    String((total * (total + 1)) / 2),
    (total * (total + 1)) / 2 / 4,
    String(digitsTotal),
  ]);
}

describe('COPY at scale', () => {
  it('copies 5,000,000 rows from a lazy AsyncIterable with RSS growth under 100 MB', async () => {
    const total = 5_000_000;
    await lastValueFrom(connection.execute('CREATE TEMPORARY TABLE big (i int, t text, f float8)'));
    // The baseline is taken once 250,000 rows have flowed (by then V8 has sized its young
    // generation for this allocation rate), after a full collection, as every later sample:
    // what is measured is growth with the size of the COPY, not garbage V8 has yet to collect.
    const growth = new MemoryGrowth();
    /** Text lines, 1000 rows a chunk, made only when the COPY asks for more. */
    async function* lines() {
      for (let start = 1; start <= total; start += 1000) {
        let chunk = '';
        for (let i = start; i < start + 1000 && i <= total; i++) chunk += `${i}\tname ${i}\t${i / 4}\n`;
        if (start === 250_001) growth.start();
        else if (start % 500_000 === 1) growth.sample();
        yield chunk;
      }
    }
    const started = process.hrtime.bigint();
    const result = await lastValueFrom(connection.copyIn('COPY big (i, t, f) FROM STDIN', lines()));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    expect(result.rowCount).toBe(total);
    await expectBigTable(total);
    console.log(`copyIn: ${total} rows in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} rows/s; ${growth.describe()}`);
    expect(growth.liveGrowthMb).toBeLessThan(20);
    expect(growth.rssGrowthMb).toBeLessThan(100);
  });

  it('copyInRows: 1,000,000 rows from a lazy AsyncIterable of value arrays, RSS growth under 100 MB', async () => {
    const total = 1_000_000;
    await lastValueFrom(connection.execute('CREATE TEMPORARY TABLE big (i int, t text, f float8)'));
    const growth = new MemoryGrowth();
    const started = process.hrtime.bigint();
    const result = await lastValueFrom(
      connection.copyInRows(
        { table: 'big', columns: ['i', 't', 'f'] },
        rows(total, (i) => {
          if (i === 100_000) growth.start();
          else if (i % 100_000 === 0) growth.sample();
        }),
      ),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    expect(result.rowCount).toBe(total);
    await expectBigTable(total);
    console.log(`copyInRows: ${total} rows in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} rows/s; ${growth.describe()}`);
    expect(growth.liveGrowthMb).toBeLessThan(20);
    expect(growth.rssGrowthMb).toBeLessThan(100);
  });

  it('a source that errors after 100,000 rows commits nothing; the error is the cause', async () => {
    await lastValueFrom(connection.execute('CREATE TEMPORARY TABLE x (i int, t text, f float8)'));
    const failure = new Error('source broke');
    async function* failing() {
      yield* rows(100_000);
      throw failure;
    }
    const error = await errorOf(lastValueFrom(connection.copyInRows({ table: 'x', columns: ['i', 't', 'f'] }, failing())));
    expect(error).toBeInstanceOf(CopyAbortedError);
    expect(error.cause).toBe(failure);
    expect(await arrays('SELECT count(*)::int FROM x')).toEqual([0]);
  });

  it('a bad row at row 10 of a 10,000,000-row source stops the feeding early', async () => {
    await lastValueFrom(connection.execute('CREATE TEMPORARY TABLE x (i int, t text, f float8)'));
    let pulled = 0;
    async function* withBadRow() {
      for (let i = 1; i <= 10_000_000; i++) {
        pulled = i;
        yield i === 10 ? `not-a-number\tx\t1\n` : `${i}\tname\t${i}\n`;
      }
    }
    const error = await errorOf(lastValueFrom(connection.copyIn('COPY x FROM STDIN', withBadRow())));
    expect((error as PostgresError).code).toBe('22P02');
    console.log(`bad row at 10: the source was pulled ${pulled} times`);
    expect(pulled).toBeLessThan(1_000_000);
    expect(await arrays('SELECT count(*)::int FROM x')).toEqual([0]);
  });

  it('COPY OUT of 5,000,000 rows to a slow consumer keeps RSS growth under 100 MB', async () => {
    const growth = new MemoryGrowth();
    let pending: Promise<void> | undefined;
    let chunks = 0;
    let bytes = 0;
    const total = await lastValueFrom(
      connection
        .copyOut("COPY (SELECT generate_series(1, 5000000) AS i, 'some text to make the row longer' AS t) TO STDOUT", [], {
          pushback: () => pending,
        })
        .pipe(
          tap((chunk) => {
            bytes += chunk.length;
            chunks += 1;
            if (chunks === 100_000) growth.start();
            else if (chunks % 500_000 === 0) growth.sample();
            if (chunks % 50 === 0) {
              pending = new Promise<void>((resolve) => setTimeout(resolve, 1)).then(() => {
                pending = undefined;
              });
            }
          }),
          count(),
        ),
    );
    expect(total).toBe(chunks);
    expect(bytes).toBeGreaterThan(5_000_000 * 30);
    console.log(`copyOut: ${bytes} bytes in ${chunks} chunks; ${growth.describe()}`);
    expect(growth.liveGrowthMb).toBeLessThan(20);
    expect(growth.rssGrowthMb).toBeLessThan(100);
  });
});
