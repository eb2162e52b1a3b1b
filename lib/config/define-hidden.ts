/**
 * Sets `target[name]` to `value` as a non-enumerable property: how the config keeps secrets
 * (password, sslpassword, TLS keys and passphrases) readable by the code that needs them while
 * `console.log`, `JSON.stringify`, `util.inspect`, spreads and `Object.keys` never show them.
 *
 * @example
 * defineHidden(resolved, 'password', password);
 * JSON.stringify(resolved); // no "password"
 */
export function defineHidden(target: object, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, enumerable: false });
}
