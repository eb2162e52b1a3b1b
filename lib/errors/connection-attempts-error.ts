import { ConnectionError } from './connection-error';

/** One server that `connect` tried, and why it was not used. */
export interface ConnectionAttempt {
  /** The host as configured (a name, an IP address or a socket directory). */
  readonly host: string;
  /** The port tried (for a socket directory, the number in the socket's file name). */
  readonly port: number;
  /** The IP address or socket path tried, when the host was resolved to one. */
  readonly address: string | undefined;
  /**
   * Why it failed: a ConnectionError for an unreachable address, a timeout, or a server that
   * did not match `targetSessionAttrs` (which was closed gracefully).
   */
  readonly error: Error;
}

/**
 * No host of the list gave a suitable connection: every address was unreachable or timed out,
 * or every server that answered did not match `targetSessionAttrs`. The message names each
 * attempt and its cause, in order; `attempts` has them as data, `errors` as an
 * AggregateError-like list, and `cause` is the last one. Code `08001`. Never contains a
 * password.
 *
 * Raised only when more than one attempt was made; a single failed attempt keeps its own error.
 *
 * @example
 * connect('postgres://db1,db2/app?target_session_attrs=read-write').subscribe({
 *   error: (error) => {
 *     if (error instanceof ConnectionAttemptsError) for (const a of error.attempts) console.log(a.host, a.error.message);
 *   },
 * });
 */
export class ConnectionAttemptsError extends ConnectionError {
  /** Every attempt, in the order made, with its host, address and error (frozen). */
  readonly attempts: readonly ConnectionAttempt[];

  constructor(attempts: readonly ConnectionAttempt[]) {
    const list = attempts.map((attempt) => attempt.error.message).join('; ');
    super(`could not connect to a suitable server (${attempts.length} attempts): ${list}`, {
      code: '08001',
      cause: attempts[attempts.length - 1]?.error,
    });
    this.attempts = Object.freeze([...attempts]);
  }

  /** Each attempt's error, in order (as AggregateError's `errors`). */
  get errors(): readonly Error[] {
    return this.attempts.map((attempt) => attempt.error);
  }

  /** `'ConnectionAttemptsError'`, the name that stack traces and `util.inspect` show (on the prototype, so not enumerable). */
  override get name(): string {
    return 'ConnectionAttemptsError';
  }
}
