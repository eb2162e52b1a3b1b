import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';

/**
 * The `tls` option as the resolved config keeps it: every passphrase in it non-enumerable, as
 * `password` and `sslpassword` are, so that `JSON.stringify`, `Object.keys`, `util.inspect` and
 * `console.log` of the config never show one. That is `tls.passphrase`, and the `passphrase` of
 * each `{ pem, passphrase }` in `tls.key` and `{ buf, passphrase }` in `tls.pfx`. The values stay
 * readable as properties, which is how the TLS file check and Node's secure context read them.
 *
 * Options holding no enumerable passphrase are returned as they are; otherwise a shallow copy is
 * (frozen, with copied `key` / `pfx` arrays), and the caller's object is left untouched.
 *
 * @example
 * const tls = hideTlsPassphrases({ passphrase: 'secret', servername: 'db' })!;
 * tls.passphrase;        // 'secret'
 * JSON.stringify(tls);   // '{"servername":"db"}'
 */
export function hideTlsPassphrases(tls: TlsConnectionOptions | undefined): TlsConnectionOptions | undefined {
  if (tls === undefined) return undefined;
  const { key, pfx } = tls;
  if (!showsPassphrase(tls) && !anyShowsPassphrase(key) && !anyShowsPassphrase(pfx)) return tls;
  const copy: Record<string, unknown> = withHiddenPassphrase(tls);
  if (Array.isArray(key)) copy.key = withHiddenEntries(key);
  if (Array.isArray(pfx)) copy.pfx = withHiddenEntries(pfx);
  return Object.freeze(copy);
}

/** A frozen copy of a `key` / `pfx` array whose `{ ..., passphrase }` entries hide it. */
function withHiddenEntries(entries: readonly unknown[]): readonly unknown[] {
  return Object.freeze(entries.map((entry) => (showsPassphrase(entry) ? Object.freeze(withHiddenPassphrase(entry)) : entry)));
}

/** Whether `value` is a plain object with an own, enumerable `passphrase` (a Buffer is not). */
function showsPassphrase(value: unknown): value is { readonly passphrase?: unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !ArrayBuffer.isView(value) &&
    Object.prototype.propertyIsEnumerable.call(value, 'passphrase')
  );
}

function anyShowsPassphrase(value: unknown): boolean {
  return Array.isArray(value) && value.some(showsPassphrase);
}

/** A shallow copy of `value` whose `passphrase` (read once) is non-enumerable. */
function withHiddenPassphrase(value: object): Record<string, unknown> {
  const { passphrase, ...rest } = value as { passphrase?: unknown };
  if (passphrase !== undefined) Object.defineProperty(rest, 'passphrase', { value: passphrase, enumerable: false });
  return rest;
}
