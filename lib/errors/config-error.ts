/**
 * A connection setting is invalid: a malformed URL, an unknown `sslmode`, a port out of range,
 * a missing certificate file. Raised before any I/O. Messages never contain the password.
 */
export class ConfigError extends Error {
  /** The setting at fault, e.g. `sslmode` or `port`. */
  readonly setting: string | undefined;

  constructor(message: string, options: { readonly setting?: string; readonly cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.setting = options.setting;
  }

  /** `'ConfigError'`, the name that stack traces and `util.inspect` show (on the prototype, so not enumerable). */
  override get name(): string {
    return 'ConfigError';
  }
}
