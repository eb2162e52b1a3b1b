// The config layer validates `hostaddr` and the client skips DNS for numeric hosts; both need to
// know whether a string is an IP literal, a pure string check that must not pull in node:net
// (sockets belong to lib/transport). It accepts exactly what Node's net.isIP accepts.

/** One IPv4 part: 0 to 255 in decimal, without leading zeros. */
const ipv4Part = /^(?:0|[1-9]\d{0,2})$/;
/** One IPv6 group: one to four hex digits. */
const ipv6Group = /^[0-9a-fA-F]{1,4}$/;
/** An IPv6 zone id (`%eth0`, `%3`), as far as Node accepts one. */
const zoneId = /^[0-9a-zA-Z.:-]+$/;

/**
 * Which IP version `text` is a literal of: 4 (`10.0.0.1`), 6 (`::1`, `fe80::1%eth0`,
 * `::ffff:10.0.0.1`), or 0 when it is not an IP address (a host name, a path, anything else).
 * Accepts exactly what Node's `net.isIP` accepts: no leading zeros in IPv4 parts, no
 * surrounding spaces, a zone id only on IPv6.
 *
 * @example
 * ipAddressVersion('192.168.0.1'); // 4
 * ipAddressVersion('fe80::1%eth0'); // 6
 * ipAddressVersion('db.example.com'); // 0
 */
export function ipAddressVersion(text: string): 0 | 4 | 6 {
  if (isIPv4(text)) return 4;
  if (isIPv6(text)) return 6;
  return 0;
}

function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((part) => ipv4Part.test(part) && Number(part) <= 255);
}

function isIPv6(text: string): boolean {
  const percent = text.indexOf('%');
  if (percent >= 0 && !zoneId.test(text.slice(percent + 1))) return false;
  const address = percent >= 0 ? text.slice(0, percent) : text;
  // At most one `::`, standing for one or more zero groups.
  const halves = address.split('::');
  if (halves.length > 2) return false;
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')));
  const all = groups.flat();
  // An embedded IPv4 address may end the address (not before a `::`), in place of its last two groups.
  const lastHalf = groups[groups.length - 1]!;
  const last = lastHalf[lastHalf.length - 1];
  const embeddedIPv4 = last !== undefined && isIPv4(last);
  const hexGroups = embeddedIPv4 ? all.slice(0, -1) : all;
  if (!hexGroups.every((group) => ipv6Group.test(group))) return false;
  const width = hexGroups.length + (embeddedIPv4 ? 2 : 0);
  return halves.length === 2 ? width <= 7 : width === 8;
}
