/**
 * The workloads as a postgres.js 3 user writes them, on an instance limited to one
 * connection (`max: 1`): `.forEach` for pushed rows, `.cursor(1000)` for bounded buffering,
 * tagged templates (prepared by default) for point queries, `.writable()` for COPY,
 * `sql.listen` / `sql.notify` (listen uses a connection of its own).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { countAndSum, StreamTally, type Checksum, type StreamRow } from '../checksums';
import { WorkloadUnavailable, type ChildContext } from '../child-protocol';
import {
  copyLines,
  copySql,
  copyTables,
  notifyChannel,
  numbers,
  pooledPointQueries,
  pooledPoolSize,
  streamStatement,
  type WorkloadName,
} from '../workloads';
import type { BenchSession, OpenSession, Phase } from './bench-session';
import { NotificationCounter } from './notification-counter';

type Sql = postgres.Sql;

/** Creates a one-connection postgres.js instance and makes it connect. */
export const openSession: OpenSession = async (workload, context) => {
  const { host, port, user, database } = context;
  if (workload === 'point-pooled') return pooledSession(context);
  const sql = postgres({ host, port, user, database, max: 1, ssl: false, onnotice: () => undefined });
  await sql`SELECT 1`;
  if (workload === 'notify') return notifySession(sql);
  const run = runners[workload];
  if (run === undefined) throw new WorkloadUnavailable(`postgres has no ${workload} workload`);
  return { run: (size, phase) => run(sql, size, phase), close: () => sql.end({ timeout: 5 }) };
};

type Runner = (sql: Sql, size: number, phase: Phase) => Promise<Checksum>;

const runners: Partial<Record<WorkloadName, Runner>> = {
  'stream-push': async (sql, size) => {
    const tally = new StreamTally();
    await sql.unsafe<StreamRow[]>(streamStatement, [size], { prepare: true }).forEach((row) => tally.add(row));
    return tally.result();
  },

  'stream-backpressured': async (sql, size) => {
    const tally = new StreamTally();
    for await (const rows of sql.unsafe<StreamRow[]>(streamStatement, [size], { prepare: true }).cursor(1000)) {
      for (const row of rows) tally.add(row);
    }
    return tally.result();
  },

  'fetch-all': async (sql, size) => {
    const rows = await sql.unsafe<StreamRow[]>(streamStatement, [size], { prepare: true });
    const tally = new StreamTally();
    for (const row of rows) tally.add(row);
    return tally.result();
  },

  'point-seq': async (sql, size) => {
    let sum = 0;
    for (let i = 1; i <= size; i++) {
      const rows = await sql<{ n: number }[]>`SELECT ${i}::int4 + 1 AS n`;
      sum += rows[0]!.n;
    }
    return countAndSum(size, sum);
  },

  'point-concurrent': async (sql, size) => {
    const results = await Promise.all(numbers(size).map((i) => sql<{ n: number }[]>`SELECT ${i}::int4 + 1 AS n`));
    let sum = 0;
    for (const rows of results) sum += rows[0]!.n;
    return countAndSum(results.length, sum);
  },

  'copy-in': async (sql, size, phase) => {
    const writable = await sql.unsafe(copySql(copyTables[phase])).writable();
    await pipeline(Readable.from(copyLines(size)), writable);
    // postgres.js does not report the COPY's row count; the orchestrator counts the table.
    return {};
  },
};

/** Notify: `sql.listen` once in `open`; each run sends one by one and waits for the last arrival. */
async function notifySession(sql: Sql): Promise<BenchSession> {
  const receiver = new NotificationCounter();
  const listening = await sql.listen(notifyChannel, (payload) => receiver.receive(payload));
  return {
    run: async (size) => {
      const arrived = receiver.expect(size);
      for (let i = 1; i <= size; i++) await sql.notify(notifyChannel, String(i));
      return arrived;
    },
    close: async () => {
      await listening.unlisten();
      await sql.end({ timeout: 5 });
    },
  };
}

/** point-pooled: an instance of `max: pooledPoolSize` connections, tagged-template point queries. */
async function pooledSession(context: ChildContext): Promise<BenchSession> {
  const { host, port, user, database } = context;
  const sql = postgres({ host, port, user, database, max: pooledPoolSize, ssl: false, onnotice: () => undefined });
  return {
    run: async (size) => {
      const sum = await pooledPointQueries(size, async (i) => {
        const rows = await sql<{ n: number }[]>`SELECT ${i}::int4 + 1 AS n`;
        return rows[0]!.n;
      });
      return countAndSum(size, sum);
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
