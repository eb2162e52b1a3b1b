/**
 * The benchmark's workloads (issue 6), the clients that run them and the SQL they share.
 * Everything here is plain data, imported by both the orchestrator and the measuring child.
 */

/** The libraries compared. */
export type LibraryName = 'rxpg' | 'pg' | 'postgres';

/** The "limit" rows: what the server can do for a client with (almost) no overhead. */
export type LimitName = 'bare-socket' | 'pgbench' | 'psql' | 'server-alone';

/** Anything a measuring child can run. */
export type ClientName = LibraryName | LimitName;

export type WorkloadName =
  | 'stream-push'
  | 'stream-backpressured'
  | 'stream-raw'
  | 'fetch-all'
  | 'point-seq'
  | 'point-concurrent'
  | 'point-batch'
  | 'point-pooled'
  | 'copy-in'
  | 'notify';

/** Whether a run is the full benchmark or the one-minute `--quick` version. */
export type RunMode = 'full' | 'quick';

/** What one workload measures and with whom. */
export interface WorkloadSpec {
  readonly name: WorkloadName;
  /** One line for the table's legend and the README. */
  readonly description: string;
  /** What the throughput counts. */
  readonly unit: 'rows' | 'queries' | 'notifications';
  /** How many rows / queries / notifications one measurement handles. */
  readonly size: Readonly<Record<RunMode, number>>;
  /** The size of the warm-up run that precedes the measurement in the same child. */
  readonly warmupSize: Readonly<Record<RunMode, number>>;
  /** The libraries that run it, in the order of the first repetition. */
  readonly libraries: readonly LibraryName[];
  /** The limit row that "of limit" and the targets compare with, if the workload has one. */
  readonly limit?: LimitName;
  /** Further limit rows, shown for context only. */
  readonly extraLimits?: readonly LimitName[];
}

/** point-pooled: how many callers share the pool, and its maximum size. */
export const pooledCallers = 100;
export const pooledPoolSize = 10;

/** The order in which clients appear in tables and charts. */
export const clientOrder: readonly ClientName[] = ['rxpg', 'pg', 'postgres', 'bare-socket', 'pgbench', 'psql', 'server-alone'];

const allLibraries: readonly LibraryName[] = ['rxpg', 'pg', 'postgres'];

/** The workloads of issue 6, in table order. */
export const workloads: readonly WorkloadSpec[] = [
  {
    name: 'stream-push',
    description: 'rows (int4, text, timestamptz, float8) pushed to a consumer that touches every column, one statement',
    unit: 'rows',
    size: { full: 1_000_000, quick: 100_000 },
    warmupSize: { full: 100_000, quick: 20_000 },
    libraries: allLibraries,
    // The server producing the same rows with nothing sent (an aggregate over the same SELECT).
    limit: 'server-alone',
    extraLimits: ['bare-socket'],
  },
  {
    name: 'stream-backpressured',
    description: 'the same rows with bounded buffering (rxpg toAsyncIterable, pg-query-stream, postgres .cursor(1000))',
    unit: 'rows',
    size: { full: 1_000_000, quick: 100_000 },
    warmupSize: { full: 100_000, quick: 20_000 },
    libraries: allLibraries,
  },
  {
    name: 'stream-raw',
    description: "the same rows in rxpg's raw row mode (text values, no decoding)",
    unit: 'rows',
    size: { full: 1_000_000, quick: 100_000 },
    warmupSize: { full: 100_000, quick: 20_000 },
    libraries: ['rxpg'],
    limit: 'bare-socket',
    extraLimits: ['server-alone'],
  },
  {
    name: 'fetch-all',
    description: 'rows collected into one array, then every column touched',
    unit: 'rows',
    size: { full: 100_000, quick: 20_000 },
    warmupSize: { full: 20_000, quick: 5_000 },
    libraries: allLibraries,
    limit: 'psql',
  },
  {
    name: 'point-seq',
    description: '`SELECT $1::int4 + 1`, each awaited before the next',
    unit: 'queries',
    size: { full: 20_000, quick: 2_000 },
    warmupSize: { full: 2_000, quick: 500 },
    libraries: allLibraries,
    limit: 'pgbench',
    // What Node itself can do one round trip at a time (a prepared statement, Bind/Execute/Sync).
    extraLimits: ['bare-socket'],
  },
  {
    name: 'point-concurrent',
    description: 'the same queries all issued at once on one connection',
    unit: 'queries',
    size: { full: 20_000, quick: 2_000 },
    warmupSize: { full: 2_000, quick: 500 },
    libraries: allLibraries,
    limit: 'bare-socket',
  },
  {
    name: 'point-batch',
    description: "the same queries as one batch on one connection (rxpg queryBatch with its default sync: 'once')",
    unit: 'queries',
    size: { full: 20_000, quick: 2_000 },
    warmupSize: { full: 2_000, quick: 500 },
    libraries: ['rxpg'],
    // The bare socket's row of point-concurrent: every Bind/Execute/Sync written at once.
    limit: 'bare-socket',
  },
  {
    name: 'point-pooled',
    description: `the same queries from ${pooledCallers} concurrent callers, each awaiting its own one by one, over a pool of ${pooledPoolSize} connections`,
    unit: 'queries',
    size: { full: 10_000, quick: 2_000 },
    warmupSize: { full: 2_000, quick: 500 },
    libraries: allLibraries,
  },
  {
    name: 'copy-in',
    description: 'COPY FROM STDIN of rows (int4, text, float8) from a lazy generator of 100-line text chunks',
    unit: 'rows',
    size: { full: 1_000_000, quick: 100_000 },
    warmupSize: { full: 100_000, quick: 20_000 },
    libraries: allLibraries,
    limit: 'psql',
  },
  {
    name: 'notify',
    description: 'NOTIFY sent one by one on one connection, delivered to a listener on another (first send to last receipt)',
    unit: 'notifications',
    size: { full: 20_000, quick: 2_000 },
    warmupSize: { full: 2_000, quick: 500 },
    libraries: allLibraries,
    limit: 'pgbench',
  },
];

/** Looks a workload up by name; throws for an unknown one. */
export function workloadNamed(name: string): WorkloadSpec {
  const found = workloads.find((workload) => workload.name === name);
  if (found === undefined) throw new Error(`unknown workload ${JSON.stringify(name)}; known: ${workloads.map((w) => w.name).join(', ')}`);
  return found;
}

/** The table every stream workload reads: `i` runs from 1 to the row count. */
export const streamTable = 'bench_stream';

/** The tables COPY writes to: the measured run and the warm-up use different ones. */
export const copyTables = { measure: 'bench_copy', warmup: 'bench_copy_warmup' } as const;

/** The channel the notify workload uses. */
export const notifyChannel = 'bench_notify';

/** `ts` of row `i` is this instant plus `i` seconds. */
export const baseTimestampMs = Date.UTC(2024, 0, 1);

/**
 * The statement the clients run in the stream and fetch workloads: the first `$1` rows of
 * {@link streamTable}. The row count is a parameter, as an application would write it, so the
 * warm-up and the measured run are the same statement: a client that prepares statements
 * (rxpg, postgres.js) runs the measured one prepared (rxpg then asks for binary values).
 */
export const streamStatement = `SELECT i, t, ts, f FROM ${streamTable} WHERE i <= $1`;

/** {@link streamStatement} with the row count written in, for the limit rows (psql, the bare socket, the server alone). */
export function streamSql(rows: number): string {
  return `SELECT i, t, ts, f FROM ${streamTable} WHERE i <= ${rows}`;
}

/** The point query; `$1` runs from 1 to the number of queries. */
export const pointSql = 'SELECT $1::int4 + 1 AS n';

/** The COPY statement of the copy-in workload. */
export function copySql(table: string): string {
  return `COPY ${table} (id, t, v) FROM STDIN`;
}

/** Row `i` of the copy-in workload in COPY text format. */
export function copyLine(i: number): string {
  return `${i}\tcopy row ${i}\t${i * 0.5}\n`;
}

/** How many COPY text lines the copy-in source puts into one chunk (about 2.5 KB). */
export const copyRowsPerChunk = Number(process.env['RXPG_BENCH_COPY_ROWS_PER_CHUNK'] ?? 100);

/**
 * The lazy source of the copy-in workload: a generator that builds each chunk of
 * {@link copyRowsPerChunk} lines only when it is asked for (nothing is materialised up front).
 */
export function* copyLines(rows: number, rowsPerChunk = copyRowsPerChunk): Generator<string, void, undefined> {
  for (let first = 1; first <= rows; first += rowsPerChunk) {
    let chunk = '';
    for (let i = first, last = Math.min(rows, first + rowsPerChunk - 1); i <= last; i++) chunk += copyLine(i);
    yield chunk;
  }
}

/** The numbers 1..n as an array: the parameters of the point workloads. */
export function numbers(n: number): number[] {
  const result = new Array<number>(n);
  for (let i = 0; i < n; i++) result[i] = i + 1;
  return result;
}

/**
 * Runs `size` point queries from `pooledCallers` concurrent callers, each awaiting its own
 * queries one by one (caller k runs the numbers k+1, k+1+callers, ...), and returns their sum.
 */
export async function pooledPointQueries(size: number, query: (i: number) => Promise<number>): Promise<number> {
  let sum = 0;
  const caller = async (first: number): Promise<void> => {
    for (let i = first; i <= size; i += pooledCallers) {
      // Not `sum += await ...`: that reads `sum` before the await and loses the others' adds.
      const n = await query(i);
      sum += n;
    }
  };
  await Promise.all(Array.from({ length: Math.min(pooledCallers, size) }, (_, k) => caller(k + 1)));
  return sum;
}
