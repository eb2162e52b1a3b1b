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
  /** Its current users, to take it away from when the pool ends. */
  readonly holders = new HolderList();
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
  /**
   * The `progressAt` at which a stall check found its work still not moved: a slow statement
   * on the server, not a stall of this process. While `progressAt` stays there, statements
   * neither wait for another check nor are packed onto it.
   */
  judgedSlowAt = -1;

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

/** A user of a pooled connection that the pool can take it away from (see HolderList). */
export interface Holder {
  /** The pool takes the connection away (it ended with this work still running). */
  revoke(error: unknown): void;
  /** This holder's neighbours in its connection's HolderList; undefined when not in one. */
  previousHolder: Holder | undefined;
  nextHolder: Holder | undefined;
}

/**
 * The current users of one pooled connection, as a list threaded through the holders
 * themselves: joining and leaving allocate nothing (a pipelined connection gains and loses a
 * holder per statement, tens of thousands a second).
 */
export class HolderList {
  #first: Holder | undefined;

  /** Adds `holder` (not in any list). */
  add(holder: Holder): void {
    holder.previousHolder = undefined;
    holder.nextHolder = this.#first;
    if (this.#first !== undefined) this.#first.previousHolder = holder;
    this.#first = holder;
  }

  /** Removes `holder`, which is in this list. */
  delete(holder: Holder): void {
    const { previousHolder, nextHolder } = holder;
    if (previousHolder !== undefined) previousHolder.nextHolder = nextHolder;
    else if (this.#first === holder) this.#first = nextHolder;
    if (nextHolder !== undefined) nextHolder.previousHolder = previousHolder;
    holder.previousHolder = undefined;
    holder.nextHolder = undefined;
  }

  /** Takes every holder out of the list and returns them. */
  drain(): Holder[] {
    const holders: Holder[] = [];
    for (let holder = this.#first; holder !== undefined; holder = holder.nextHolder) holders.push(holder);
    for (const holder of holders) {
      holder.previousHolder = undefined;
      holder.nextHolder = undefined;
    }
    this.#first = undefined;
    return holders;
  }
}
