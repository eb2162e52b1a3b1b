/**
 * A request took longer than its `timeout` option allowed. The request was abandoned like an
 * unsubscribe: its remaining replies are discarded and, where that is safe, a CancelRequest
 * stopped it on the server. The connection stays usable.
 */
export class TimeoutError extends Error {
  /** The limit that was exceeded, in milliseconds. */
  readonly timeout: number;

  constructor(message: string, timeout: number) {
    super(message);
    this.timeout = timeout;
  }

  /** `'TimeoutError'`, the name that stack traces and `util.inspect` show (on the prototype, so not enumerable). */
  override get name(): string {
    return 'TimeoutError';
  }
}
