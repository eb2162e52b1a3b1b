/**
 * How a pool stands. `total` = `idle` + `busy`: open connections for requests (the
 * notification listener is not counted). `busy` includes connections being returned (a
 * ROLLBACK of a transaction left open, a sync check after an unsubscribe). `waiting`:
 * requests queued for a connection. `connecting`: connection attempts in flight. `max`: the
 * pool's `max` option.
 */
export interface PoolStats {
  /** Open connections for requests: `idle` + `busy` (the notification listener is not counted). */
  readonly total: number;
  /** Open connections waiting for a request. */
  readonly idle: number;
  /** Connections lent to a request, or being returned (a ROLLBACK of a transaction left open, a sync check after an unsubscribe). */
  readonly busy: number;
  /** Requests queued for a connection. */
  readonly waiting: number;
  /** Connection attempts in flight. */
  readonly connecting: number;
  /** The pool's `max` option. */
  readonly max: number;
}

/** `total 5 (idle 0, busy 5), waiting 3, connecting 0, max 5`: for error messages. */
export function describePoolStats(stats: PoolStats): string {
  return `total ${stats.total} (idle ${stats.idle}, busy ${stats.busy}), waiting ${stats.waiting}, connecting ${stats.connecting}, max ${stats.max}`;
}

/** Whether two snapshots hold the same counts. */
export function samePoolStats(a: PoolStats, b: PoolStats): boolean {
  return a.total === b.total && a.idle === b.idle && a.busy === b.busy && a.waiting === b.waiting && a.connecting === b.connecting;
}
