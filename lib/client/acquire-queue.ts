/** One request waiting for a pooled connection. */
export interface AcquireWaiter<T> {
  /** Called with the connection handed to this waiter; it is then out of the queue. */
  grant(value: T): void;
  /** Called when the waiter cannot be served (acquire timeout, pool ended); it is then out of the queue. */
  fail(error: unknown): void;
  /** Whether the waiter may share a connection with others (a pipelined single statement). */
  readonly shareable?: boolean;
}

/**
 * The requests waiting for a connection, served strictly first come, first served. A waiter
 * that gives up (unsubscribes, times out) leaves at once, in constant time, wherever it
 * stands: a Set keeps insertion order and deletes without shifting.
 */
export class AcquireQueue<T> {
  readonly #waiters = new Set<AcquireWaiter<T>>();
  #shareable = 0;

  /** How many are waiting. */
  get size(): number {
    return this.#waiters.size;
  }

  /** How many of the waiters are single statements that may share a connection. */
  get shareableSize(): number {
    return this.#shareable;
  }

  /** Puts `waiter` at the back of the queue. */
  push(waiter: AcquireWaiter<T>): void {
    this.#waiters.add(waiter);
    if (waiter.shareable === true) this.#shareable += 1;
  }

  /** Takes `waiter` out of the queue; false when it was no longer in it. */
  delete(waiter: AcquireWaiter<T>): boolean {
    if (!this.#waiters.delete(waiter)) return false;
    if (waiter.shareable === true) this.#shareable -= 1;
    return true;
  }

  /** The longest-waiting waiter, left in the queue. */
  peek(): AcquireWaiter<T> | undefined {
    for (const waiter of this.#waiters) return waiter;
    return undefined;
  }

  /** Takes the longest-waiting waiter out of the queue, if any. */
  shift(): AcquireWaiter<T> | undefined {
    for (const waiter of this.#waiters) {
      this.delete(waiter);
      return waiter;
    }
    return undefined;
  }

  /** Empties the queue and returns the waiters in order (to fail them all). */
  drain(): AcquireWaiter<T>[] {
    const all = [...this.#waiters];
    this.#waiters.clear();
    this.#shareable = 0;
    return all;
  }
}
