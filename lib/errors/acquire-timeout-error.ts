import { TimeoutError } from './timeout-error';

/** The pool's counters when an {@link AcquireTimeoutError} was raised. */
export interface AcquireTimeoutState {
  readonly total: number;
  readonly idle: number;
  readonly busy: number;
  readonly waiting: number;
  readonly connecting: number;
  readonly max: number;
}

/**
 * A pool request waited longer than the pool's `acquireTimeout` for a connection. Nothing was
 * sent to the server. The message and `state` say how the pool stood (total, idle, busy,
 * waiting, connecting, max), so that a full pool is told apart from a server that cannot be
 * reached; `cause` is the last error of a connection attempt, if the pool was failing to
 * connect.
 */
export class AcquireTimeoutError extends TimeoutError {
  /** The pool's counters at the moment of the timeout. */
  readonly state: AcquireTimeoutState;

  constructor(message: string, timeout: number, state: AcquireTimeoutState, cause?: unknown) {
    super(message, timeout);
    this.state = state;
    if (cause !== undefined) Object.defineProperty(this, 'cause', { value: cause, enumerable: false, writable: true, configurable: true });
  }

  override get name(): string {
    return 'AcquireTimeoutError';
  }
}
