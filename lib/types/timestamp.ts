// The text format of timestamp and timestamptz under DateStyle ISO (which rxpg's startup
// sets): `YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM[:SS]]][ BC]`, `infinity`, `-infinity`.
// Years may have more than four digits; BC years count from 1 BC (astronomical year 0).

/**
 * The Date that stands for `'infinity'`: the largest time a JS Date holds
 * (+275760-09-13T00:00:00Z, 8.64e15 ms). {@link decodeTimestamptz} returns it for
 * `infinity` and {@link formatTimestamptz} writes it back as `infinity`.
 *
 * @example
 * if (row.expires.getTime() === infinityTime) { ... } // never expires
 */
export const infinityTime = 8.64e15;

/**
 * The Date that stands for `'-infinity'`: the smallest time a JS Date holds
 * (-271821-04-20T00:00:00Z, -8.64e15 ms).
 *
 * @example
 * if (row.since.getTime() === minusInfinityTime) { ... }
 */
export const minusInfinityTime = -8.64e15;

const msPerDay = 86_400_000;
const digitZero = 0x30;
const space = 0x20;
const plus = 0x2b;
const minus = 0x2d;
const colon = 0x3a;
const dot = 0x2e;

/**
 * Decodes timestamptz text (DateStyle ISO) into a Date.
 *
 * - `'infinity'` / `'-infinity'` become `new Date(8.64e15)` / `new Date(-8.64e15)`, the
 *   largest and smallest Dates ({@link infinityTime}, {@link minusInfinityTime}); a real
 *   timestamp at exactly those instants is indistinguishable from them.
 * - Fractional seconds are truncated to milliseconds (a Date holds no microseconds).
 * - Offsets with seconds (`+00:19:32`, local mean time before 1900) and BC years
 *   (`0044-03-15 12:00:00+00 BC` is the astronomical year -43) are read exactly.
 * - A finite timestamp outside the Date range (after +275760-09-13, PostgreSQL allows up to
 *   294276 AD) gives an Invalid Date.
 *
 * Errors: none. Text in another DateStyle gives an Invalid Date.
 *
 * @example
 * decodeTimestamptz('2024-01-31 12:34:56.789123+05:30').toISOString(); // '2024-01-31T07:04:56.789Z'
 */
export function decodeTimestamptz(text: string): Date {
  return new Date(parseTimestampMs(text, true));
}

/**
 * Decodes timestamp (without time zone) text into a Date, reading the wall-clock time as UTC:
 * `'2024-01-31 12:00:00'` becomes `2024-01-31T12:00:00.000Z` whatever the process's time zone,
 * so `getUTC*()` give back the stored fields. Otherwise as {@link decodeTimestamptz}
 * (infinity, BC, millisecond truncation, Invalid Date out of range).
 *
 * Errors: none. Text in another DateStyle gives an Invalid Date.
 *
 * @example
 * decodeTimestamp('2024-01-31 12:00:00').toISOString(); // '2024-01-31T12:00:00.000Z'
 */
export function decodeTimestamp(text: string): Date {
  return new Date(parseTimestampMs(text, false));
}

/**
 * Formats a Date as timestamptz text that PostgreSQL reads back to the same millisecond:
 * ISO 8601 in UTC with an explicit offset, `2024-01-31T07:04:56.789+00:00`, with four-digit
 * (or longer) years and a ` BC` suffix for years before 1 AD (which `toISOString` would
 * write as `-000043`, unreadable by the server). `new Date(8.64e15)` and `new Date(-8.64e15)`
 * become `infinity` and `-infinity`, mirroring {@link decodeTimestamptz}.
 *
 * For a `timestamp` (without time zone) column the server drops the offset and stores the UTC
 * wall-clock time, which {@link decodeTimestamp} reads back as the same Date.
 *
 * Errors: a RangeError for an Invalid Date.
 *
 * @example
 * formatTimestamptz(new Date(Date.UTC(2024, 0, 31))); // '2024-01-31T00:00:00.000+00:00'
 */
export function formatTimestamptz(date: Date): string {
  const time = date.getTime();
  if (time !== time) throw new RangeError('Invalid Date');
  if (time === infinityTime) return 'infinity';
  if (time === minusInfinityTime) return '-infinity';
  const fullYear = date.getUTCFullYear();
  const bc = fullYear <= 0;
  const year = bc ? 1 - fullYear : fullYear;
  return (
    (year < 1000 ? (year < 10 ? '000' : year < 100 ? '00' : '0') + year : String(year)) +
    '-' +
    pad2(date.getUTCMonth() + 1) +
    '-' +
    pad2(date.getUTCDate()) +
    'T' +
    pad2(date.getUTCHours()) +
    ':' +
    pad2(date.getUTCMinutes()) +
    ':' +
    pad2(date.getUTCSeconds()) +
    '.' +
    pad3(date.getUTCMilliseconds()) +
    (bc ? '+00:00 BC' : '+00:00')
  );
}

function pad2(value: number): string {
  return value < 10 ? '0' + value : String(value);
}

function pad3(value: number): string {
  return value < 10 ? '00' + value : value < 100 ? '0' + value : String(value);
}

/** Milliseconds since the epoch, or NaN when the text is not an ISO timestamp. */
function parseTimestampMs(text: string, withOffset: boolean): number {
  const length = text.length;
  const first = text.charCodeAt(0);
  if (first === 0x69 /* i */ && text === 'infinity') return infinityTime;
  if (first === minus && text === '-infinity') return minusInfinityTime;

  // Year: four or more digits up to the first '-'.
  let at = 0;
  let year = 0;
  for (;;) {
    const code = text.charCodeAt(at);
    if (code === minus && at >= 4) break;
    const digit = code - digitZero;
    if (!(digit >= 0 && digit <= 9)) return NaN; // also at the end of the text (NaN)
    year = year * 10 + digit;
    at += 1;
  }
  // `-MM-DD HH:MM:SS`
  if (length < at + 15) return NaN;
  const month = twoDigits(text, at + 1);
  const day = twoDigits(text, at + 4);
  const separator = text.charCodeAt(at + 6);
  if (separator !== space && separator !== 0x54 /* T */) return NaN;
  if (text.charCodeAt(at + 9) !== colon || text.charCodeAt(at + 12) !== colon || text.charCodeAt(at + 3) !== minus) return NaN;
  const hours = twoDigits(text, at + 7);
  const minutes = twoDigits(text, at + 10);
  const seconds = twoDigits(text, at + 13);
  at += 15;

  // Fraction: up to six digits, truncated to milliseconds.
  let milliseconds = 0;
  if (at < length && text.charCodeAt(at) === dot) {
    at += 1;
    let scale = 100;
    for (;;) {
      const digit = text.charCodeAt(at) - digitZero;
      if (!(digit >= 0 && digit <= 9)) break; // also at the end of the text (NaN)
      milliseconds += digit * scale;
      scale = scale > 1 ? scale / 10 : 0;
      at += 1;
    }
  }

  // Offset: ±HH[:MM[:SS]].
  let offsetSeconds = 0;
  if (withOffset) {
    const sign = text.charCodeAt(at);
    if (sign !== plus && sign !== minus) return NaN;
    offsetSeconds = twoDigits(text, at + 1) * 3600;
    at += 3;
    if (text.charCodeAt(at) === colon) {
      offsetSeconds += twoDigits(text, at + 1) * 60;
      at += 3;
      if (text.charCodeAt(at) === colon) {
        offsetSeconds += twoDigits(text, at + 1);
        at += 3;
      }
    }
    if (sign === minus) offsetSeconds = -offsetSeconds;
  }

  if (at !== length) {
    // ` BC`
    if (length !== at + 3 || text.charCodeAt(at) !== space || text.charCodeAt(at + 1) !== 0x42 || text.charCodeAt(at + 2) !== 0x43) {
      return NaN;
    }
    year = 1 - year;
  }

  return (
    daysFromCivil(year, month, day) * msPerDay + hours * 3_600_000 + minutes * 60_000 + seconds * 1000 + milliseconds - offsetSeconds * 1000
  );
}

/** The number in two ASCII digits at `at`, or NaN. */
function twoDigits(text: string, at: number): number {
  const high = text.charCodeAt(at) - digitZero;
  const low = text.charCodeAt(at + 1) - digitZero;
  return high >= 0 && high <= 9 && low >= 0 && low <= 9 ? high * 10 + low : NaN;
}

/**
 * Days from 1970-01-01 to the proleptic Gregorian date (astronomical year, month 1-12, day
 * 1-31), for any year (the usual era-of-400-years arithmetic). Shared with the byte-range
 * timestamp decoders, which must compute exactly the same times.
 *
 * @example
 * daysFromCivil(1970, 1, 2); // 1
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const shiftedMonth = month > 2 ? month - 3 : month + 9;
  const dayOfYear = Math.floor((153 * shiftedMonth + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}
