import { ConnectionError } from './connection-error';

/**
 * Login failed: the server rejected the credentials (its ErrorResponse is the `cause`), it
 * asked for an authentication method rxpg does not support, or it failed to prove it knows
 * the password (SCRAM server signature). The code is an SQLSTATE of class 28: `28P01`
 * (invalid_password) or `28000` (invalid_authorization_specification).
 *
 * Never carries the password, in its message or in any field.
 */
export class AuthenticationError extends ConnectionError {
  constructor(message: string, options: { readonly code?: string; readonly cause?: unknown } = {}) {
    super(message, { code: options.code ?? '28000', cause: options.cause });
  }

  /** `'AuthenticationError'`, the name that stack traces and `util.inspect` show (on the prototype, so not enumerable). */
  override get name(): string {
    return 'AuthenticationError';
  }
}
