import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { defineHidden } from './define-hidden';

/**
 * The `tls` option as the resolved config keeps it: its secrets non-enumerable, as `password`
 * and `sslpassword` are, so that `JSON.stringify`, `Object.keys`, `util.inspect` and
 * `console.log` of the config never show one. The secrets are every passphrase
 * (`tls.passphrase`, and the `passphrase` of each `{ pem, passphrase }` in `tls.key` and
 * `{ buf, passphrase }` in `tls.pfx`) and the private keys they guard, which need none when
 * unencrypted: `tls.key` and `tls.pfx` themselves. The values stay readable as properties,
 * which is how the TLS file check and the TLS request read them (a spread does not copy them).
 *
 * Options holding no enumerable secret are returned as they are; otherwise a shallow copy is
 * (frozen, with copied `key` / `pfx` arrays), and the caller's object is left untouched.
 *
 * @example
 * const tls = hideTlsPassphrases({ passphrase: 'secret', key: pem, servername: 'db' })!;
 * tls.passphrase;        // 'secret'
 * JSON.stringify(tls);   // '{"servername":"db"}'
 */
export function hideTlsPassphrases(tls: TlsConnectionOptions | undefined): TlsConnectionOptions | undefined {
  if (tls === undefined) return undefined;
  if (!shows(tls, 'passphrase') && !shows(tls, 'key') && !shows(tls, 'pfx')) return tls;
  const { passphrase, key, pfx, ...rest } = tls;
  hideGiven(rest, 'passphrase', passphrase);
  hideGiven(rest, 'key', Array.isArray(key) ? withHiddenEntries(key) : key);
  hideGiven(rest, 'pfx', Array.isArray(pfx) ? withHiddenEntries(pfx) : pfx);
  return Object.freeze(rest);
}

/** A frozen copy of a `key` / `pfx` array whose `{ ..., passphrase }` entries hide it. */
function withHiddenEntries(entries: readonly unknown[]): readonly unknown[] {
  return Object.freeze(entries.map((entry) => (showsPassphrase(entry) ? Object.freeze(withHiddenPassphrase(entry)) : entry)));
}

/** Whether `value` has an own, enumerable `name` that is set. */
function shows(value: object, name: string): boolean {
  return Object.prototype.propertyIsEnumerable.call(value, name) && (value as Record<string, unknown>)[name] !== undefined;
}

/** Whether `value` is a plain object with an own, enumerable `passphrase` (a Buffer is not). */
function showsPassphrase(value: unknown): value is { readonly passphrase?: unknown } {
  return typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && shows(value, 'passphrase');
}

/** A shallow copy of `value` whose `passphrase` (read once) is non-enumerable. */
function withHiddenPassphrase(value: object): Record<string, unknown> {
  const { passphrase, ...rest } = value as { passphrase?: unknown };
  hideGiven(rest, 'passphrase', passphrase);
  return rest;
}

/** {@link defineHidden}, unless `value` is undefined (the option was not given). */
function hideGiven(target: object, name: string, value: unknown): void {
  if (value !== undefined) defineHidden(target, name, value);
}
