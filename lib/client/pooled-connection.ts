import type { Subscription } from 'rxjs';
import type { Connection } from './connection';

/**
 * A pool's record of one of its connections: where it is in the pool (`idle`, `busy` with a
 * user, `returning` while it is brought back to a clean state), when it expires, and the
 * timers and subscriptions the pool holds for it.
 */
export class PooledConnection {
  state: 'idle' | 'busy' | 'returning' = 'busy';
  /** Reaps the connection when it stays idle too long or outlives its lifetime. */
  idleTimer: NodeJS.Timeout | undefined;
  /** The sync check and ROLLBACK that bring a returned connection back to a clean state. */
  restoring: Subscription | undefined;
  /** Watches `closed$`, so that a connection dying while idle is dropped at once. */
  watch: Subscription | undefined;
  /** How to take the connection away from each of its current users (when the pool ends). */
  readonly revokers = new Set<{ revoke(error: unknown): void }>();
  /** How many users hold it: 1, or more while single statements are pipelined on it (option `pipeline`). */
  leases = 0;
  /** Whether more single statements may be pipelined on it: every current user is one. */
  shared = false;
  /** Whether a user since it was lent left requests possibly still running (an unsubscribe). */
  unsure = false;
  /**
   * `Date.now()` when its work last moved: when it was lent, or when one of the statements
   * pipelined on it ended. The pool packs more statements onto it only while this is recent,
   * so none is queued behind a statement that has been running for a while.
   */
  progressAt = 0;

  constructor(
    readonly connection: Connection,
    /** `Date.now()` after which the connection is replaced (at its next release, or while idle). */
    readonly expiresAt: number,
  ) {}

  /** Whether the connection can still serve requests. */
  get usable(): boolean {
    return this.connection.state === 'open';
  }

  /** Whether it has outlived its lifetime. */
  expired(now = Date.now()): boolean {
    return now >= this.expiresAt;
  }
}
