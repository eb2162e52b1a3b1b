/**
 * A query parameter cannot be sent: `undefined` (use `null` for NULL), a symbol or function,
 * an Invalid Date, an object without a known encoding, an array nested deeper than
 * PostgreSQL's 6 dimensions, a plain object that JSON cannot represent. Raised before
 * anything is written, so the connection is unaffected.
 *
 * The message names the parameter (`$1`, `$2`, ...) and the JS type, never the value, so it
 * is safe to log. `code` is SQLSTATE `22023` (invalid_parameter_value); `cause` links an
 * error thrown while encoding (by `JSON.stringify`, `toPostgres()` or `toJSON()`).
 *
 * @example
 * import { ParameterError } from 'rxpg';
 * connection.query('SELECT $1::int', [undefined]).subscribe({
 *   error: (err) => err instanceof ParameterError && err.position, // 1
 * });
 */
export class ParameterError extends TypeError {
  /** SQLSTATE-style code: always `22023` (invalid_parameter_value). */
  readonly code = '22023';
  /** The parameter's 1-based position, as in `$1`. */
  readonly position: number;

  /**
   * @param position the 1-based parameter position.
   * @param problem what is wrong, without the value, e.g. `undefined is not a value`.
   */
  constructor(position: number, problem: string, options: { readonly cause?: unknown } = {}) {
    super(`parameter $${position}: ${problem}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.position = position;
  }

  /** `'ParameterError'`, the name that stack traces and `util.inspect` show (on the prototype, so not enumerable). */
  override get name(): string {
    return 'ParameterError';
  }
}
