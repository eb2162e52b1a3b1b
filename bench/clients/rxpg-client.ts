/**
 * The workloads as an rxpg user writes them: cold query Observables subscribed directly,
 * `toArray` for fetch-all, `lastValueFrom` per point query (all at once with `Promise.all`),
 * the `toAsyncIterable` bridge for bounded buffering, `copyIn` and `channelEvents`.
 */
import { firstValueFrom, lastValueFrom, tap, toArray, type Observable, type ObservableInput, type Subscription } from 'rxjs';
import { connect, createPool, toAsyncIterable, type Connection, type RawRow } from '../../lib';
import { countAndSum, RawStreamTally, StreamTally, type Checksum, type StreamRow } from '../checksums';
import { WorkloadUnavailable, type ChildContext } from '../child-protocol';
import {
  copyLines,
  copySql,
  copyTables,
  notifyChannel,
  numbers,
  pointSql,
  pooledPointQueries,
  pooledPoolSize,
  streamStatement,
  type WorkloadName,
} from '../workloads';
import type { BenchSession, OpenSession, Phase } from './bench-session';
import { NotificationCounter } from './notification-counter';

/** `connection.copyIn` as the COPY issue defines it; looked up at run time so the bench builds without it. */
type CopyIn = (
  sql: string,
  source: ObservableInput<string | Uint8Array>,
) => Observable<{ readonly command: string; readonly rowCount: number | undefined }>;

/** Opens an rxpg connection (two for notify: a listener and a sender). */
export const openSession: OpenSession = async (workload, context) => {
  if (workload === 'point-pooled') return pooledSession(context);
  const connection = await openConnection(context);
  if (workload === 'notify') return notifySession(connection, await openConnection(context));
  const run = runners[workload];
  if (run === undefined) throw new WorkloadUnavailable(`rxpg has no ${workload} workload`);
  return { run: (size, phase) => run(connection, size, phase), close: () => connection.close() };
};

function openConnection(context: ChildContext): Promise<Connection> {
  const { host, port, user, database } = context;
  return firstValueFrom(connect({ host, port, user, database, sslmode: 'disable' }));
}

type Runner = (connection: Connection, size: number, phase: Phase) => Promise<Checksum>;

const runners: Partial<Record<WorkloadName, Runner>> = {
  'stream-push': (connection, size) => {
    const tally = new StreamTally();
    return new Promise((resolve, reject) => {
      connection.query<StreamRow>(streamStatement, [size]).subscribe({
        next: (row) => tally.add(row),
        error: reject,
        complete: () => resolve(tally.result()),
      });
    });
  },

  'stream-backpressured': async (connection, size) => {
    const tally = new StreamTally();
    const rows = toAsyncIterable((pushback) => connection.query<StreamRow>(streamStatement, [size], { pushback }), { highWaterMark: 1000 });
    for await (const row of rows) tally.add(row);
    return tally.result();
  },

  'stream-raw': (connection, size) => {
    const tally = new RawStreamTally();
    return new Promise((resolve, reject) => {
      connection.query<RawRow>(streamStatement, [size], { rowMode: 'raw' }).subscribe({
        next: (row) => tally.add(row.values),
        error: reject,
        complete: () => resolve(tally.result()),
      });
    });
  },

  'fetch-all': async (connection, size) => {
    const rows = await lastValueFrom(connection.query<StreamRow>(streamStatement, [size]).pipe(toArray()));
    const tally = new StreamTally();
    for (const row of rows) tally.add(row);
    return tally.result();
  },

  'point-seq': async (connection, size) => {
    let sum = 0;
    for (let i = 1; i <= size; i++) {
      const row = (await connection.first<{ n: number }>(pointSql, [i]))!;
      sum += row.n;
    }
    return countAndSum(size, sum);
  },

  'point-concurrent': async (connection, size) => {
    // Issued at once like the peers' Promise.all. Not through mergeMap: RxJS removes each
    // finished inner subscription from the array of all live ones, which is quadratic at this
    // fan-out (a third of the CPU with 20,000 inners); see the README on bounding concurrency.
    // connection.first: the Promise convenience a Promise caller uses (lastValueFrom(query(...))
    // runs the same request inside an Observable, about a fifth slower at this fan-out).
    const rows = (await Promise.all(numbers(size).map((i) => connection.first<{ n: number }>(pointSql, [i])))) as { n: number }[];
    let sum = 0;
    for (const row of rows) sum += row.n;
    return countAndSum(rows.length, sum);
  },

  'point-batch': async (connection, size) => {
    // One Observable for all the queries: one array of rows per parameter set, in order.
    let sum = 0;
    let count = 0;
    await lastValueFrom(
      connection
        .queryBatch<{ n: number }>(
          pointSql,
          numbers(size).map((i) => [i]),
        )
        .pipe(
          tap((rows) => {
            count += 1;
            sum += rows[0]!.n;
          }),
        ),
      { defaultValue: undefined },
    );
    return countAndSum(count, sum);
  },

  'copy-in': async (connection, size, phase) => {
    const copyIn = (connection as unknown as { copyIn?: CopyIn }).copyIn;
    if (typeof copyIn !== 'function') throw new WorkloadUnavailable('this rxpg has no connection.copyIn yet');
    const result = await lastValueFrom(copyIn.call(connection, copySql(copyTables[phase]), copyLines(size)));
    return { rows: result.rowCount ?? Number.NaN };
  },
};

/**
 * Notify: the listener subscribes to `channelEvents` once (LISTEN, outside the timing); each
 * run sends `size` notifications one by one and resolves when the last has arrived.
 */
async function notifySession(listener: Connection, sender: Connection): Promise<BenchSession> {
  const receiver = new NotificationCounter();
  let subscription: Subscription | undefined;
  await new Promise<void>((resolve, reject) => {
    subscription = listener.channelEvents(notifyChannel).subscribe({
      next: (event) => (event.type === 'listening' ? resolve() : receiver.receive(event.notification.payload)),
      error: (error: unknown) => {
        reject(error);
        receiver.fail(error);
      },
    });
  });
  return {
    run: async (size) => {
      const arrived = receiver.expect(size);
      for (let i = 1; i <= size; i++) await lastValueFrom(sender.notify(notifyChannel, String(i)), { defaultValue: undefined });
      return arrived;
    },
    close: async () => {
      subscription?.unsubscribe();
      await Promise.all([listener.close(), sender.close()]);
    },
  };
}

/**
 * point-pooled: a pool of `pooledPoolSize`, `pool.first` per point query. `pipeline: 100`
 * lets a connection take up to 100 point queries at once, as postgres.js's pool does by
 * default (its `max_pipeline`); rxpg packs them onto the busiest connection with room.
 */
async function pooledSession(context: ChildContext): Promise<BenchSession> {
  const { host, port, user, database } = context;
  const pool = createPool({ host, port, user, database, sslmode: 'disable' }, { max: pooledPoolSize, pipeline: 100 });
  return {
    run: async (size) => {
      const sum = await pooledPointQueries(size, async (i) => ((await pool.first<{ n: number }>(pointSql, [i])) as { n: number }).n);
      return countAndSum(size, sum);
    },
    close: () => pool.end(),
  };
}
