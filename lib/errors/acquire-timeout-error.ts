import type { PoolStats } from './pool-stats';
import { TimeoutError } from './timeout-error';

/**
 * A pool request waited longer than the pool's `acquireTimeout` for a connection. Nothing was
 * sent to the server. The message and `state` say how the pool stood (total, idle, busy,
 * waiting, connecting, max), so that a full pool is told apart from a server that cannot be
 * reached; `cause` is the last error of a connection attempt, if the pool was failing to
 * connect.
 */
export class AcquireTimeoutError extends TimeoutError {
  /** The pool's counters at the moment of the timeout. */
  readonly state: PoolStats;

  constructor(message: string, timeout: number, state: PoolStats, cause?: unknown) {
    super(message, timeout);
    this.state = state;
    if (cause !== undefined) Object.defineProperty(this, 'cause', { value: cause, enumerable: false, writable: true, configurable: true });
  }

  /** `'AcquireTimeoutError'`, the name that stack traces and `util.inspect` show (on the prototype, so not enumerable). */
  override get name(): string {
    return 'AcquireTimeoutError';
  }
}
