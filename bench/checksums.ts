/**
 * What every measurement hands back so that the orchestrator can verify it: named numbers
 * (row counts and column sums) compared exactly with what the server computed independently.
 * The tallies here are also how every consumer "touches every column", the same code for
 * every client.
 */
import { baseTimestampMs } from './workloads';

/** Named totals of one run, e.g. `{ rows: 1000000, sumI: 500000500000, ... }`. */
export type Checksum = Readonly<Record<string, number>>;

/** A row of the stream workloads as decoded by a client. */
export interface StreamRow {
  readonly i: number;
  readonly t: string;
  readonly ts: Date;
  readonly f: number;
}

/**
 * Adds up decoded stream rows. Every column is read: `i` and `f` are summed, `t` by length,
 * `ts` as milliseconds after {@link baseTimestampMs} (exact in a double for a million rows).
 */
export class StreamTally {
  rows = 0;
  sumI = 0;
  sumTextLength = 0;
  sumTsOffsetMs = 0;
  sumF = 0;

  add(row: StreamRow): void {
    this.rows += 1;
    this.sumI += row.i;
    this.sumTextLength += row.t.length;
    this.sumTsOffsetMs += row.ts.getTime() - baseTimestampMs;
    this.sumF += row.f;
  }

  result(): Checksum {
    return { rows: this.rows, sumI: this.sumI, sumTextLength: this.sumTextLength, sumTsOffsetMs: this.sumTsOffsetMs, sumF: this.sumF };
  }
}

/**
 * Adds up raw stream rows (text values, no decoding): every value is read by its length,
 * which the server's `length(col::text)` checks.
 */
export class RawStreamTally {
  rows = 0;
  lengthI = 0;
  lengthT = 0;
  lengthTs = 0;
  lengthF = 0;

  add(values: readonly (string | null)[]): void {
    this.rows += 1;
    this.lengthI += (values[0] as string).length;
    this.lengthT += (values[1] as string).length;
    this.lengthTs += (values[2] as string).length;
    this.lengthF += (values[3] as string).length;
  }

  result(): Checksum {
    return { rows: this.rows, lengthI: this.lengthI, lengthT: this.lengthT, lengthTs: this.lengthTs, lengthF: this.lengthF };
  }
}

/** The checksum of point queries / notifications numbered 1..n: how many, and the sum of what came back. */
export function countAndSum(rows: number, sum: number): Checksum {
  return { rows, sum };
}

/** What the point workloads must return for `n` queries: each `$1 + 1` for `$1` = 1..n. */
export function expectedPointChecksum(n: number): Checksum {
  return countAndSum(n, (n * (n + 1)) / 2 + n);
}

/** What the notify workload must receive for `n` notifications whose payloads are 1..n. */
export function expectedNotifyChecksum(n: number): Checksum {
  return countAndSum(n, (n * (n + 1)) / 2);
}

/** The row count alone: what the limit tools can report. */
export function rowsOnly(checksum: Checksum): Checksum {
  return { rows: checksum['rows'] ?? Number.NaN };
}

/**
 * Compares a run's checksum with the expected one, key by key (a key missing from `actual`
 * is a mismatch; extra keys in `actual` are ignored). Returns a readable list of
 * differences, empty when they agree.
 */
export function checksumMismatches(expected: Checksum, actual: Checksum): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(expected)) {
    const got = actual[key];
    if (got !== value) problems.push(`${key}: expected ${value}, got ${got === undefined ? 'nothing' : got}`);
  }
  return problems;
}
