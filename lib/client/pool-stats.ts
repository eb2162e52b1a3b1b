import type { PoolStats } from '../errors/pool-stats';

export type { PoolStats };

/** `total 5 (idle 0, busy 5), waiting 3, connecting 0, max 5`: for error messages. */
export function describePoolStats(stats: PoolStats): string {
  return `total ${stats.total} (idle ${stats.idle}, busy ${stats.busy}), waiting ${stats.waiting}, connecting ${stats.connecting}, max ${stats.max}`;
}

/** Whether two snapshots hold the same counts. */
export function samePoolStats(a: PoolStats, b: PoolStats): boolean {
  return a.total === b.total && a.idle === b.idle && a.busy === b.busy && a.waiting === b.waiting && a.connecting === b.connecting;
}
