/**
 * The shape every client adapter (rxpg, pg, postgres.js, the limit tools) gives the
 * measuring child: open once, run the workload for the warm-up and then for the measurement,
 * close.
 */
import type { Checksum } from '../checksums';
import type { ChildContext } from '../child-protocol';
import type { WorkloadName } from '../workloads';

/** `warmup` runs first in the same process; only `measure` is timed. */
export type Phase = 'warmup' | 'measure';

/** One client, connected and ready for one workload. */
export interface BenchSession {
  /**
   * Runs the workload once over `size` rows / queries / notifications and resolves with its
   * checksum. The child times exactly this call, so everything that is not the workload
   * itself (connecting, LISTEN) happens in `open`.
   */
  run(size: number, phase: Phase): Promise<Checksum>;
  /**
   * For clients that measure themselves (external tools): the wall and CPU time of the last
   * `run`, which then replace the child's own numbers.
   */
  readonly selfTimed?: () => { readonly elapsedMs: number; readonly cpuMs: number | null };
  close(): Promise<void>;
}

/** What each client module exports. */
export type OpenSession = (workload: WorkloadName, context: ChildContext) => Promise<BenchSession>;
