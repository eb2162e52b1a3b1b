// The pull bridges over real queries (integration: the harness's throwaway PostgreSQL).
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextMacrotask, setTimeout as sleep } from 'node:timers/promises';
import { firstValueFrom } from 'rxjs';
import { PostgresError, type Connection } from '../../lib';
import { toAsyncIterable, toReadable } from '../../lib/interop';
import { closeOpenedConnections, eventually, openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';

let connection: Connection;
beforeEach(async () => {
  connection = await openConnection(superuserConfig());
});
afterEach(closeOpenedConnections);

describe('toAsyncIterable over a query', () => {
  it('delivers every row in order to a consumer that yields now and then', async () => {
    const rows = toAsyncIterable(
      (pushback) => connection.query<{ g: number }>('SELECT g FROM generate_series(1, 200000) g', [], { pushback }),
      { highWaterMark: 500 },
    );
    let expected = 1;
    let inOrder = true;
    for await (const row of rows) {
      if (row.g !== expected) inOrder = false;
      expected += 1;
      if (expected % 1000 === 0) await nextMacrotask();
    }
    expect(inOrder).toBe(true);
    expect(expected - 1).toBe(200000);
  });

  it('cancels the query on break and leaves the connection usable', async () => {
    const rows = toAsyncIterable(
      (pushback) => connection.query<{ g: number }>('SELECT generate_series(1, 500000000) AS g', [], { pushback }),
      { highWaterMark: 100 },
    );
    const seen: number[] = [];
    for await (const row of rows) {
      seen.push(row.g);
      if (seen.length === 10) break;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Were the query still running, this would wait for 500 million rows.
    const started = Date.now();
    expect(await firstValueFrom(connection.query<{ one: number }>('SELECT 1 AS one'))).toEqual({ one: 1 });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('delivers the rows sent before a statement error, then the error', async () => {
    const seen: number[] = [];
    const iterate = async (): Promise<void> => {
      for await (const row of toAsyncIterable((pushback) =>
        connection.query<{ q: number }>('SELECT 1 / (500 - g) AS q, g FROM generate_series(1, 1000) g', [], { pushback }),
      )) {
        seen.push(row.q);
        await sleep(0);
      }
    };
    const error = await iterate().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(PostgresError);
    expect((error as PostgresError).code).toBe('22012');
    expect(seen.length).toBeLessThanOrEqual(499);
    expect(await firstValueFrom(connection.query<{ one: number }>('SELECT 1 AS one'))).toEqual({ one: 1 });
  });
});

describe('toReadable over a query', () => {
  it('pipes every row to a slow Writable', async () => {
    let count = 0;
    let sum = 0;
    await pipeline(
      toReadable((pushback) => connection.query<{ g: number }>('SELECT g FROM generate_series(1, 20000) g', [], { pushback }), {
        highWaterMark: 200,
      }),
      new Writable({
        objectMode: true,
        highWaterMark: 8,
        write(row: { g: number }, _encoding, callback) {
          count += 1;
          sum += row.g;
          if (count % 500 === 0) setTimeout(callback, 1);
          else callback();
        },
      }),
    );
    expect(count).toBe(20000);
    expect(sum).toBe((20000 * 20001) / 2);
  });

  it('cancels the query on destroy and leaves the connection usable', async () => {
    const readable = toReadable((pushback) => connection.query('SELECT generate_series(1, 500000000) AS g', [], { pushback }), {
      highWaterMark: 100,
    });
    readable.read(0);
    await eventually(() => readable.readableLength >= 100); // full: the socket is paused
    readable.destroy();
    const started = Date.now();
    expect(await firstValueFrom(connection.query<{ one: number }>('SELECT 1 AS one'))).toEqual({ one: 1 });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
