// Memory stays bounded by the consumer (DESIGN.md "Semantics" 5): a slow consumer over a large
// result keeps the process's RSS growth small when it uses pushback.
import { count, lastValueFrom, tap } from 'rxjs';
import { toAsyncIterable, type Connection } from '../../lib';
import { closeOpenedConnections, openConnection } from '../helpers/connections';
import { MemoryGrowth } from '../helpers/memory';
import { superuserConfig } from '../helpers/test-servers';

jest.setTimeout(120_000);

let connection: Connection;
beforeEach(async () => {
  connection = await openConnection(superuserConfig());
});
afterEach(closeOpenedConnections);

const rowCount = 2_000_000;
// ~230 bytes per row: 460 MB would pile up in memory if the socket were not paused.
const bigResult = `SELECT g, repeat('x', 200) AS padding FROM generate_series(1, ${rowCount}) g`;
/** The consumer sleeps 1 ms every `sleepEvery` rows: slower than the server can send. */
const sleepEvery = 500;
const sleep = () => new Promise<void>((resolve) => setTimeout(resolve, 1));
/** Memory is sampled (after a full collection) from this row on, every `sampleEvery` rows. */
const sampleStart = 100_000;
const sampleEvery = 250_000;

describe('memory with a slow consumer', () => {
  it('pushback keeps RSS growth under 64 MB over 2,000,000 rows', async () => {
    const growth = new MemoryGrowth();
    let pending: Promise<void> | undefined;
    let handled = 0;
    const rows = await lastValueFrom(
      connection
        .query<{ g: number; padding: string }>(bigResult, [], {
          pushback: () => pending,
        })
        .pipe(
          tap(() => {
            handled += 1;
            if (handled === sampleStart) growth.start();
            else if (handled % sampleEvery === 0) growth.sample();
            if (handled % sleepEvery === 0) {
              pending = sleep().then(() => {
                pending = undefined;
              });
            }
          }),
          count(),
        ),
    );
    expect(rows).toBe(rowCount);
    console.log(`pushback: ${growth.describe()} over ${rowCount} rows`);
    expect(growth.liveGrowthMb).toBeLessThan(20);
    expect(growth.rssGrowthMb).toBeLessThan(64);
  });

  it('a for await consumer over the AsyncIterable bridge keeps RSS growth under 64 MB over 2,000,000 rows', async () => {
    const growth = new MemoryGrowth();
    let handled = 0;
    let sum = 0;
    const rows = toAsyncIterable((pushback) => connection.query<{ g: number; padding: string }>(bigResult, [], { pushback }), {
      highWaterMark: 1000,
    });
    for await (const row of rows) {
      handled += 1;
      sum += row.g;
      if (handled === sampleStart) growth.start();
      else if (handled % sampleEvery === 0) growth.sample();
      if (handled % sleepEvery === 0) await sleep();
    }
    expect(handled).toBe(rowCount);
    expect(sum).toBe((rowCount * (rowCount + 1)) / 2);
    console.log(`for await: ${growth.describe()} over ${rowCount} rows`);
    expect(growth.liveGrowthMb).toBeLessThan(20);
    expect(growth.rssGrowthMb).toBeLessThan(64);
  });
});
