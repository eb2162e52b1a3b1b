// Exact value comparison for decoded column values (binary against text decoding), where
// toEqual is too lenient: -0 and 0, NaN, a string and a bigint, Dates by their time.

/** Same value: Object.is for primitives (-0, NaN, string vs bigint), Dates by time, Buffers by content, arrays element by element. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date) return b instanceof Date && Object.is(a.getTime(), b.getTime());
  if (Buffer.isBuffer(a)) return Buffer.isBuffer(b) && a.equals(b);
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  return Object.is(a, b);
}

/** A decoded value as a failure message shows it (Dates by time, Buffers in hex, bigints with `n`, -0). */
export function showValue(value: unknown): string {
  if (value instanceof Date) return `Date(${value.getTime()})`;
  if (Buffer.isBuffer(value)) return `Buffer(${value.toString('hex')})`;
  if (Array.isArray(value)) return `[${value.map(showValue).join(', ')}]`;
  if (typeof value === 'bigint') return `${value}n`;
  if (Object.is(value, -0)) return '-0';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
