/**
 * The benchmark's PostgreSQL: a throwaway cluster tuned for measuring clients rather than
 * disks, the tables and files the workloads read, and the expected checksums, computed by the
 * server itself (through psql) so that no client under test checks its own answer.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startThrowawayCluster, type ThrowawayCluster } from '../spec/harness/throwaway-cluster';
import { checksumMismatches, expectedNotifyChecksum, expectedPointChecksum, type Checksum } from './checksums';
import { copyFileName, pgbenchScripts } from './limits/tool-client';
import { copyLine, copyLines, copyTables, streamTable, type RunMode, type WorkloadName, type WorkloadSpec } from './workloads';

/**
 * Server settings for benchmarking: nothing waits for the disk (fsync, synchronous_commit and
 * full-page writes off, minimal WAL), nothing runs in the background that could disturb a
 * measurement (autovacuum off; the orchestrator vacuums after loading), no JIT (its compile
 * time would vary between runs), and the tables fit in shared buffers.
 */
export const benchServerSettings: Readonly<Record<string, string>> = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  wal_level: 'minimal',
  max_wal_senders: '0',
  max_wal_size: '4GB',
  checkpoint_timeout: '1h',
  shared_buffers: '512MB',
  autovacuum: 'off',
  jit: 'off',
};

/** Starts the throwaway cluster with {@link benchServerSettings}. */
export function startBenchServer(): Promise<ThrowawayCluster> {
  return startThrowawayCluster({ settings: benchServerSettings });
}

/** The largest stream size among the given workloads, for the stream table. */
function streamRows(specs: readonly WorkloadSpec[], mode: RunMode): number {
  const streaming: readonly WorkloadName[] = ['stream-push', 'stream-backpressured', 'stream-raw', 'fetch-all'];
  return Math.max(1, ...specs.filter((spec) => streaming.includes(spec.name)).map((spec) => spec.size[mode]));
}

/**
 * Creates and fills the tables (the stream table with `i` = 1..N, the COPY targets unlogged),
 * vacuums them, and writes the pgbench scripts and COPY files into `workDir`.
 */
export async function prepareServer(
  cluster: ThrowawayCluster,
  specs: readonly WorkloadSpec[],
  mode: RunMode,
  workDir: string,
): Promise<void> {
  const rows = streamRows(specs, mode);
  await cluster.psql(`
    CREATE TABLE ${streamTable} (i int4 NOT NULL, t text NOT NULL, ts timestamptz NOT NULL, f float8 NOT NULL);
    INSERT INTO ${streamTable}
      SELECT i, 'row ' || i || ' ' || md5(i::text), timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second', i * 0.25
      FROM generate_series(1, ${rows}) AS i;
    CREATE UNLOGGED TABLE ${copyTables.measure} (id int4, t text, v float8);
    CREATE UNLOGGED TABLE ${copyTables.warmup} (id int4, t text, v float8);
    VACUUM ANALYZE;
  `);
  for (const script of Object.values(pgbenchScripts)) await writeFile(join(workDir, script.file), script.text);
  const copy = specs.find((spec) => spec.name === 'copy-in');
  if (copy !== undefined) {
    for (const size of new Set([copy.size[mode], copy.warmupSize[mode]])) {
      await writeFile(copyFileName(workDir, size), Array.from(copyLines(size)).join(''));
    }
  }
}

/** Empties the COPY target tables (before each copy-in measurement). */
export async function truncateCopyTables(cluster: ThrowawayCluster): Promise<void> {
  await cluster.psql(`TRUNCATE ${copyTables.measure}, ${copyTables.warmup}`);
}

/**
 * The expected checksum of one workload run over `size` rows / queries / notifications, as
 * the server computes it (stream workloads) or as arithmetic gives it (point queries,
 * notifications). Memoised per workload and size.
 */
export class ExpectedChecksums {
  readonly #cluster: ThrowawayCluster;
  readonly #cache = new Map<string, Promise<Checksum>>();

  constructor(cluster: ThrowawayCluster) {
    this.#cluster = cluster;
  }

  of(workload: WorkloadName, size: number): Promise<Checksum> {
    const key = `${workload}:${size}`;
    let expected = this.#cache.get(key);
    if (expected === undefined) {
      expected = this.#compute(workload, size);
      this.#cache.set(key, expected);
    }
    return expected;
  }

  async #compute(workload: WorkloadName, size: number): Promise<Checksum> {
    switch (workload) {
      case 'stream-push':
      case 'stream-backpressured':
      case 'fetch-all': {
        return this.#numbers(
          `SELECT count(*), sum(i), sum(length(t)),
                  sum((extract(epoch FROM ts - timestamptz '2024-01-01 00:00:00+00') * 1000)::int8), sum(f)
           FROM ${streamTable} WHERE i <= ${size}`,
          ['rows', 'sumI', 'sumTextLength', 'sumTsOffsetMs', 'sumF'],
        );
      }
      case 'stream-raw': {
        // The session defaults (DateStyle ISO, the server's TimeZone) are what rxpg gets too.
        return this.#numbers(
          `SELECT count(*), sum(length(i::text)), sum(length(t)), sum(length(ts::text)), sum(length(f::text)), sum(i)
           FROM ${streamTable} WHERE i <= ${size}`,
          ['rows', 'lengthI', 'lengthT', 'lengthTs', 'lengthF', 'sumI'],
        );
      }
      case 'point-seq':
      case 'point-concurrent':
      case 'point-batch':
      case 'point-pooled':
        return expectedPointChecksum(size);
      case 'notify':
        return expectedNotifyChecksum(size);
      case 'copy-in':
        return expectedCopyChecksum(size);
    }
  }

  /** Runs one query that returns one row of numbers, named in column order. */
  async #numbers(sql: string, names: readonly string[]): Promise<Checksum> {
    return numbersByName(await this.#cluster.psql(sql), names);
  }
}

/** What the COPY target holds after copying rows 1..`size` (see `copyLine`). */
function expectedCopyChecksum(size: number): Checksum {
  let textLength = 0;
  for (let i = 1; i <= size; i++) textLength += copyLine(i).split('\t')[1]?.length ?? 0;
  return { rows: size, sumId: (size * (size + 1)) / 2, sumTextLength: textLength, sumV: (size * (size + 1)) / 4 };
}

/**
 * Checks what a copy-in run left in its table against the expected checksum; returns the
 * differences (empty when right).
 */
export async function verifyCopyTable(cluster: ThrowawayCluster, table: string, size: number): Promise<string[]> {
  const line = await cluster.psql(`SELECT count(*), coalesce(sum(id), 0), coalesce(sum(length(t)), 0), coalesce(sum(v), 0) FROM ${table}`);
  return checksumMismatches(expectedCopyChecksum(size), numbersByName(line, ['rows', 'sumId', 'sumTextLength', 'sumV']));
}

/**
 * The numbers of one psql result line (`a|b|c`), named in column order; throws when the line
 * holds another count of values (a changed query would otherwise compare `undefined`).
 */
function numbersByName(line: string, names: readonly string[]): Checksum {
  const values = line.split('|').map(Number);
  if (values.length !== names.length) throw new Error(`expected ${names.length} numbers from psql, got "${line}"`);
  return Object.fromEntries(names.map((name, index) => [name, values[index]!]));
}
