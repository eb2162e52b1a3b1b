import type { PostgresError } from './postgres-error';

/**
 * A COPY FROM STDIN was aborted by the client because its source failed: rxpg sent CopyFail,
 * so nothing of the COPY is committed. `cause` is the source's error; `serverError` is the
 * server's acknowledgement (SQLSTATE 57014) when it arrived. The connection stays usable.
 */
export class CopyAbortedError extends Error {
  /** The server's ErrorResponse for the CopyFail, if it arrived. */
  readonly serverError: PostgresError | undefined;

  constructor(message: string, options: { readonly cause: unknown; readonly serverError?: PostgresError }) {
    super(message, { cause: options.cause });
    this.serverError = options.serverError;
  }

  /** `'CopyAbortedError'`, the name that stack traces and `util.inspect` show (on the prototype, so not enumerable). */
  override get name(): string {
    return 'CopyAbortedError';
  }
}
