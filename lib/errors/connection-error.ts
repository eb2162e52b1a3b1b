/** Options common to the errors that end or prevent a connection. */
export interface ConnectionErrorOptions {
  /** SQLSTATE-style code; defaults to `08006` (connection_failure). */
  readonly code?: string;
  /** The underlying error (a socket error, a server ErrorResponse, ...). */
  readonly cause?: unknown;
}

/**
 * The connection could not be established or is no longer usable: refused, reset, closed,
 * timed out, failed by a fatal server error or by the client itself. The `code` is an
 * SQLSTATE of class 08 unless a subclass says otherwise; `cause` links the original problem
 * (for a backend killed by `pg_terminate_backend`, a {@link PostgresError} with code 57P01).
 *
 * Every request on a connection that has failed errors at once with a ConnectionError whose
 * `cause` is the error that ended the connection.
 */
export class ConnectionError extends Error {
  /** SQLSTATE-style code, e.g. `08001` (unable to connect) or `08006` (connection failure). */
  readonly code: string;

  constructor(message: string, options: ConnectionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? '08006';
  }

  /** `'ConnectionError'`, the name that stack traces and `util.inspect` show (on the prototype, so not enumerable). */
  override get name(): string {
    return 'ConnectionError';
  }
}
