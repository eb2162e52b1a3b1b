import { TimeoutError } from './timeout-error';

/** The pool's counters when an {@link AcquireTimeoutError} was raised. */
export interface AcquireTimeoutState {
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

  /** `'AcquireTimeoutError'`, the name that stack traces and `util.inspect` show (on the prototype, so not enumerable). */
  override get name(): string {
    return 'AcquireTimeoutError';
  }
}
