/**
 * The most bytes PostgreSQL keeps of a name: NAMEDATALEN (64 in every standard build) minus
 * the terminating NUL.
 */
export const maxChannelNameBytes = 63;

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Quotes `name` as a PostgreSQL identifier: wrapped in double quotes, every `"` inside doubled.
 * The result names exactly `name` — case, dots, spaces and quotes are kept, no keyword or
 * schema splitting applies — so it can be spliced into SQL text such as `LISTEN ${quoted}`.
 *
 * Length is not checked here: the server cuts every identifier to 63 bytes, consistently for
 * table and column names, so a long one still works there. Channel names are different: LISTEN
 * cuts a long one while `pg_notify()` rejects it, so rxpg refuses channel names over 63 bytes.
 *
 * Errors (TypeError): not a string, empty (PostgreSQL has no zero-length identifier), a NUL
 * character (it cannot travel in the protocol's C strings), or a lone UTF-16 surrogate (it has
 * no UTF-8 form, so the server would see a different name).
 *
 * @example
 * quoteIdentifier('Orders.v2');   // '"Orders.v2"'
 * quoteIdentifier('say "hi"');    // '"say ""hi"""'
 */
export function quoteIdentifier(name: string): string {
  checkName(name, 'an identifier');
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Checks that `name` can be used as a notification channel, as given: everything
 * {@link quoteIdentifier} checks, plus at most {@link maxChannelNameBytes} bytes of UTF-8.
 *
 * Why longer names are refused rather than sent: `LISTEN` silently cuts a long channel name to
 * 63 bytes (a NOTICE aside), so notifications would arrive under a name nobody subscribed to,
 * while `pg_notify()` rejects the same name with "channel name too long". Refusing it up front
 * gives one clear error instead of a LISTEN that never hears anything. (The server counts bytes
 * in its own encoding; for a UTF8 database — the common case — that is exactly this limit. For
 * a single-byte server encoding this check is stricter than the server.)
 *
 * Errors: TypeError as for {@link quoteIdentifier}; RangeError when the name is too long.
 */
export function validateChannelName(name: string): void {
  checkName(name, 'a channel name');
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > maxChannelNameBytes) {
    throw new RangeError(
      `the channel name ${JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}...` : name)} is ${bytes} bytes long; ` +
        `PostgreSQL keeps at most ${maxChannelNameBytes} bytes of a channel name (LISTEN would truncate it, pg_notify rejects it)`,
    );
  }
}

/** {@link validateChannelName}, then {@link quoteIdentifier}: the channel as an SQL identifier. */
export function quoteChannelName(name: string): string {
  validateChannelName(name);
  return quoteIdentifier(name);
}

function checkName(name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string') throw new TypeError(`${what} must be a string, got ${name === null ? 'null' : typeof name}`);
  if (name.length === 0) throw new TypeError(`${what} must not be empty`);
  if (name.includes('\0')) throw new TypeError(`${what} must not contain a NUL character`);
  if (loneSurrogate.test(name)) throw new TypeError(`${what} must not contain a lone UTF-16 surrogate`);
}
