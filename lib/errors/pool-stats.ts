// The pool's counters live with the errors because AcquireTimeoutError carries them; the
// pool (lib/client) reports the same shape on `stats` and `stats$`.

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
