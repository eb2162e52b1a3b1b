/**
 * What the orchestrator and a measuring child say to each other. The child gets
 * `<workload> <client> <context JSON>` as arguments and answers with one
 * {@link MeasurementReply} over the fork IPC channel.
 */
import type { Checksum } from './checksums';

/** Where the benchmark server is and what the child needs besides workload and client. */
export interface ChildContext {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** Rows / queries / notifications of the measured run. */
  readonly size: number;
  /** Of the warm-up run before it (0: no warm-up). */
  readonly warmupSize: number;
  /** Directory of the PostgreSQL programs (pgbench, psql) for the limit rows. */
  readonly binDir: string;
  /** Scratch directory of this benchmark run (pgbench scripts, the COPY file). */
  readonly workDir: string;
}

/** Timings and resource use of one measured run. */
export interface Measurement {
  /** Wall time of the measured run. */
  readonly elapsedMs: number;
  /** Client CPU (user + system) during the measured run; null when it cannot be known. */
  readonly cpuMs: number | null;
  /** Peak resident set size of the whole child (warm-up included); null for external tools. */
  readonly maxRssMb: number | null;
  readonly checksum: Checksum;
  readonly warmupChecksum?: Checksum;
}

/** The child's one message. */
export type MeasurementReply =
  | ({ readonly status: 'ok' } & Measurement)
  /** The client cannot run this workload yet (e.g. rxpg without copyIn): shown as n/a. */
  | { readonly status: 'unavailable'; readonly reason: string }
  | { readonly status: 'failed'; readonly error: string };

/** Thrown by a client when it cannot run a workload: the table shows "n/a" instead of failing. */
export class WorkloadUnavailable extends Error {
  override readonly name = 'WorkloadUnavailable';
}
