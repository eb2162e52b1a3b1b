/**
 * The workloads as a `pg` 8 user writes them: `Query` row events for pushed rows,
 * `pg-query-stream` for bounded buffering, `client.query` promises (unnamed statements, pg's
 * default) for point queries and fetch-all, `pg-copy-streams` for COPY, `LISTEN` plus the
 * `notification` event.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client, Pool, Query } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import QueryStream from 'pg-query-stream';
import { countAndSum, StreamTally, type Checksum, type StreamRow } from '../checksums';
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

/** Opens a pg Client (two for notify: a listener and a sender). */
export const openSession: OpenSession = async (workload, context) => {
  if (workload === 'point-pooled') return pooledSession(context);
  const client = await openClient(context);
  if (workload === 'notify') return notifySession(client, await openClient(context));
  const run = runners[workload];
  if (run === undefined) throw new WorkloadUnavailable(`pg has no ${workload} workload`);
  return { run: (size, phase) => run(client, size, phase), close: () => client.end() };
};

async function openClient(context: ChildContext): Promise<Client> {
  const { host, port, user, database } = context;
  const client = new Client({ host, port, user, database, ssl: false });
  await client.connect();
  return client;
}

type Runner = (client: Client, size: number, phase: Phase) => Promise<Checksum>;

const runners: Partial<Record<WorkloadName, Runner>> = {
  'stream-push': (client, size) => {
    const tally = new StreamTally();
    return new Promise((resolve, reject) => {
      const query = client.query(new Query<StreamRow>(streamStatement, [size]));
      query.on('row', (row: StreamRow) => tally.add(row));
      query.on('error', reject);
      query.on('end', () => resolve(tally.result()));
    });
  },

  'stream-backpressured': async (client, size) => {
    const tally = new StreamTally();
    const stream = client.query(new QueryStream(streamStatement, [size], { batchSize: 1000, highWaterMark: 1000 }));
    for await (const row of stream) tally.add(row as StreamRow);
    return tally.result();
  },

  'fetch-all': async (client, size) => {
    const { rows } = await client.query<StreamRow>(streamStatement, [size]);
    const tally = new StreamTally();
    for (const row of rows) tally.add(row);
    return tally.result();
  },

  'point-seq': async (client, size) => {
    let sum = 0;
    for (let i = 1; i <= size; i++) {
      const { rows } = await client.query<{ n: number }>(pointSql, [i]);
      sum += rows[0]!.n;
    }
    return countAndSum(size, sum);
  },

  'point-concurrent': async (client, size) => {
    const results = await Promise.all(numbers(size).map((i) => client.query<{ n: number }>(pointSql, [i])));
    let sum = 0;
    for (const { rows } of results) sum += rows[0]!.n;
    return countAndSum(results.length, sum);
  },

  'copy-in': async (client, size, phase) => {
    const stream = client.query(copyFrom(copySql(copyTables[phase])));
    await pipeline(Readable.from(copyLines(size)), stream);
    return { rows: stream.rowCount };
  },
};

/** Notify: LISTEN once in `open`; each run sends one by one and waits for the last arrival. */
async function notifySession(listener: Client, sender: Client): Promise<BenchSession> {
  const receiver = new NotificationCounter();
  listener.on('notification', (message) => receiver.receive(message.payload ?? ''));
  listener.on('error', (error) => receiver.fail(error));
  await listener.query(`LISTEN ${notifyChannel}`);
  return {
    run: async (size) => {
      const arrived = receiver.expect(size);
      for (let i = 1; i <= size; i++) await sender.query('SELECT pg_notify($1, $2)', [notifyChannel, String(i)]);
      return arrived;
    },
    close: async () => {
      await Promise.all([listener.end(), sender.end()]);
    },
  };
}

/** point-pooled: a pg.Pool of `pooledPoolSize`, `pool.query` per point query. */
async function pooledSession(context: ChildContext): Promise<BenchSession> {
  const { host, port, user, database } = context;
  const pool = new Pool({ host, port, user, database, ssl: false, max: pooledPoolSize });
  return {
    run: async (size) => {
      const sum = await pooledPointQueries(size, async (i) => {
        const { rows } = await pool.query<{ n: number }>(pointSql, [i]);
        return rows[0]!.n;
      });
      return countAndSum(size, sum);
    },
    close: () => pool.end(),
  };
}
