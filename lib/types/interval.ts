/**
 * A PostgreSQL interval, field by field as the server keeps it: months (shown as years and
 * months), days and time are independent, because a month has no fixed number of days and a
 * day no fixed number of hours across DST changes. Each field carries its own sign
 * (`'-1 days +02:00:00'` is `{ days: -1, hours: 2 }`); the time fields share the sign of the
 * time part. `milliseconds` keeps microseconds as a fraction (`0.5` is 500 µs).
 *
 * An infinite interval (PostgreSQL 17+) has every field `Infinity` or `-Infinity`.
 *
 * @example
 * const timeout: Interval = { years: 0, months: 0, days: 0, hours: 0, minutes: 5, seconds: 0, milliseconds: 0 };
 */
export interface Interval {
  /** Whole years of the month part (the server keeps years and months as one count of months). */
  readonly years: number;
  /** The months left over after `years` (same sign as `years`). */
  readonly months: number;
  /** Days, independent of the month and time parts. */
  readonly days: number;
  /** Hours of the time part (not capped at 24). */
  readonly hours: number;
  /** Minutes of the time part, 0 to 59 in magnitude. */
  readonly minutes: number;
  /** Whole seconds of the time part, 0 to 59 in magnitude. */
  readonly seconds: number;
  /** Milliseconds of the time part, with microseconds as a fraction (`0.5` is 500 µs). */
  readonly milliseconds: number;
}

const space = 0x20;
const plus = 0x2b;
const minus = 0x2d;
const dot = 0x2e;
const colon = 0x3a;
const digitZero = 0x30;

/**
 * Decodes interval text into an {@link Interval}. Reads every IntervalStyle the server can
 * print:
 *
 * - `postgres` (the default): `1 year 2 mons 3 days 04:05:06.789`, `-1 days +02:00:00`,
 *   `00:00:00`, `-00:00:01.5`, `100:00:00`;
 * - `iso_8601`: `P1Y2M3DT4H5M6.789S`, `P-1Y-2M3DT-4H-5M-6.5S`, `PT0S`;
 * - `postgres_verbose`: `@ 1 year 2 mons 3 days 4 hours 5 mins 6.789 secs ago`;
 * - `sql_standard`: `1-2 3 4:05:06.789`, `-1-2 -3 -4:05:06`, `+1-2 -3 +4:05:06`, `0`;
 * - `infinity` and `-infinity` (PostgreSQL 17+).
 *
 * Errors: a SyntaxError for text in no such format (never for server output). The message
 * does not quote the text.
 *
 * @example
 * decodeInterval('1 year 2 mons -3 days 04:05:06.5');
 * // { years: 1, months: 2, days: -3, hours: 4, minutes: 5, seconds: 6, milliseconds: 500 }
 */
export function decodeInterval(text: string): Interval {
  const first = text.charCodeAt(0);
  if (first === 0x50 /* P */) return decodeIso8601Interval(text);
  if (first === 0x69 /* i */ && text === 'infinity') return infiniteInterval(Infinity);
  if (first === minus && text === '-infinity') return infiniteInterval(-Infinity);

  let years = 0;
  let months = 0;
  let days = 0;
  let hours = 0;
  let minutes = 0;
  let seconds = 0;
  let milliseconds = 0;
  const length = text.length;
  let at = 0;
  while (at < length) {
    let code = text.charCodeAt(at);
    if (code === space || code === 0x40 /* @ */) {
      at += 1;
      continue;
    }
    if (code === 0x61 /* a */ && text.startsWith('ago', at)) {
      years = negate(years);
      months = negate(months);
      days = negate(days);
      hours = negate(hours);
      minutes = negate(minutes);
      seconds = negate(seconds);
      milliseconds = negate(milliseconds);
      at += 3;
      continue;
    }
    const negative = code === minus;
    if (negative || code === plus) at += 1;

    const start = at;
    let value = 0;
    for (;;) {
      const digit = text.charCodeAt(at) - digitZero;
      if (!(digit >= 0 && digit <= 9)) break;
      value = value * 10 + digit;
      at += 1;
    }
    if (at === start) throw invalidInterval();
    code = text.charCodeAt(at);

    if (code === colon) {
      // A time part: [+-]H+:MM:SS[.ffffff] (sql_standard also prints H:MM:SS).
      const minutePart = readDigits(text, at + 1);
      if (text.charCodeAt(at + 3) !== colon) throw invalidInterval();
      const secondPart = readDigits(text, at + 4);
      at += 6;
      let micro = 0;
      if (text.charCodeAt(at) === dot) {
        const fractionEnd = fractionEndOf(text, at + 1);
        micro = microsecondsOf(text, at + 1, fractionEnd);
        at = fractionEnd;
      }
      hours += sign(negative, value);
      minutes += sign(negative, minutePart);
      seconds += sign(negative, secondPart);
      milliseconds += sign(negative, micro / 1000);
      continue;
    }

    if (code === minus) {
      // sql_standard years-months: [+-]Y-M, one sign for both.
      const monthStart = at + 1;
      let monthValue = 0;
      at = monthStart;
      for (;;) {
        const digit = text.charCodeAt(at) - digitZero;
        if (!(digit >= 0 && digit <= 9)) break;
        monthValue = monthValue * 10 + digit;
        at += 1;
      }
      if (at === monthStart) throw invalidInterval();
      years += sign(negative, value);
      months += sign(negative, monthValue);
      continue;
    }

    let micro = 0;
    if (code === dot) {
      // Only verbose seconds have a fraction: `6.789 secs`.
      const fractionEnd = fractionEndOf(text, at + 1);
      micro = microsecondsOf(text, at + 1, fractionEnd);
      at = fractionEnd;
    }
    while (text.charCodeAt(at) === space) at += 1;
    const unitStart = at;
    for (;;) {
      const letter = text.charCodeAt(at) | 0x20;
      if (!(letter >= 0x61 && letter <= 0x7a)) break;
      at += 1;
    }
    const unitLength = at - unitStart;
    if (unitLength === 0 || (unitLength === 3 && text.startsWith('ago', unitStart))) {
      // sql_standard days: a bare number; the unit-less `ago` is read on the next turn.
      if (micro !== 0) throw invalidInterval();
      days += sign(negative, value);
      at = unitStart;
      continue;
    }
    const unit = text.charCodeAt(unitStart) | 0x20;
    const unit2 = text.charCodeAt(unitStart + 1) | 0x20;
    if (micro !== 0 && unit !== 0x73 /* s */) throw invalidInterval();
    if (unit === 0x79 /* y */) years += sign(negative, value);
    else if (unit === 0x6d /* m */ && unit2 === 0x6f /* o */) months += sign(negative, value);
    else if (unit === 0x64 /* d */) days += sign(negative, value);
    else if (unit === 0x68 /* h */) hours += sign(negative, value);
    else if (unit === 0x6d /* m */ && unit2 === 0x69 /* i */) minutes += sign(negative, value);
    else if (unit === 0x73 /* s */) {
      seconds += sign(negative, value);
      milliseconds += sign(negative, micro / 1000);
    } else throw invalidInterval();
  }
  return { years, months, days, hours, minutes, seconds, milliseconds };
}

/**
 * Formats an {@link Interval} as ISO 8601 text that PostgreSQL reads as the same interval
 * (whatever its IntervalStyle), e.g. `P1Y2M-3DT4H5M6.5S`. Use it to pass an interval as a
 * query parameter: a plain object would be sent as JSON.
 *
 * Errors: a RangeError when a field is not a finite number, unless every field is the same
 * infinity (written as `infinity` or `-infinity`, PostgreSQL 17+).
 *
 * @example
 * formatInterval({ years: 0, months: 0, days: 1, hours: 0, minutes: 30, seconds: 0, milliseconds: 0 }); // 'P0Y0M1DT0H30M0S'
 */
export function formatInterval(interval: Interval): string {
  const { years, months, days, hours, minutes, seconds, milliseconds } = interval;
  if (
    years === months &&
    months === days &&
    days === hours &&
    hours === minutes &&
    minutes === seconds &&
    seconds === milliseconds &&
    (years === Infinity || years === -Infinity)
  ) {
    return years > 0 ? 'infinity' : '-infinity';
  }
  if (!(
    isFinite(years) &&
    isFinite(months) &&
    isFinite(days) &&
    isFinite(hours) &&
    isFinite(minutes) &&
    isFinite(seconds) &&
    isFinite(milliseconds)
  )) {
    throw new RangeError('an interval field is not a finite number');
  }
  const totalSeconds = (seconds * 1000 + milliseconds) / 1000;
  let secondsText = totalSeconds.toFixed(6);
  if (secondsText.includes('.')) secondsText = secondsText.replace(/\.?0+$/, '');
  if (secondsText === '-0') secondsText = '0';
  return `P${years}Y${months}M${days}DT${hours}H${minutes}M${secondsText}S`;
}

/** ISO 8601 durations as PostgreSQL prints them: `P[nY][nM][nD][T[nH][nM][n[.f]S]]`. */
function decodeIso8601Interval(text: string): Interval {
  let years = 0;
  let months = 0;
  let days = 0;
  let hours = 0;
  let minutes = 0;
  let seconds = 0;
  let milliseconds = 0;
  let inTime = false;
  const length = text.length;
  let at = 1;
  while (at < length) {
    let code = text.charCodeAt(at);
    if (code === 0x54 /* T */) {
      inTime = true;
      at += 1;
      continue;
    }
    const negative = code === minus;
    if (negative || code === plus) at += 1;
    const start = at;
    let value = 0;
    for (;;) {
      const digit = text.charCodeAt(at) - digitZero;
      if (!(digit >= 0 && digit <= 9)) break;
      value = value * 10 + digit;
      at += 1;
    }
    if (at === start) throw invalidInterval();
    let micro = 0;
    code = text.charCodeAt(at);
    if (code === dot) {
      const fractionEnd = fractionEndOf(text, at + 1);
      micro = microsecondsOf(text, at + 1, fractionEnd);
      at = fractionEnd;
      code = text.charCodeAt(at);
    }
    at += 1;
    if (micro !== 0 && code !== 0x53 /* S */) throw invalidInterval();
    if (!inTime && code === 0x59 /* Y */) years += sign(negative, value);
    else if (!inTime && code === 0x4d /* M */) months += sign(negative, value);
    else if (!inTime && code === 0x57 /* W */) days += sign(negative, value * 7);
    else if (!inTime && code === 0x44 /* D */) days += sign(negative, value);
    else if (inTime && code === 0x48 /* H */) hours += sign(negative, value);
    else if (inTime && code === 0x4d /* M */) minutes += sign(negative, value);
    else if (inTime && code === 0x53 /* S */) {
      seconds += sign(negative, value);
      milliseconds += sign(negative, micro / 1000);
    } else throw invalidInterval();
  }
  return { years, months, days, hours, minutes, seconds, milliseconds };
}

function infiniteInterval(value: number): Interval {
  return { years: value, months: value, days: value, hours: value, minutes: value, seconds: value, milliseconds: value };
}

/** `value` with the sign, never -0. */
function sign(negative: boolean, value: number): number {
  return negative && value !== 0 ? -value : value;
}

/** `-value`, never -0. */
function negate(value: number): number {
  return value === 0 ? 0 : -value;
}

/** Two digits at `at` as a number; throws when they are not digits. */
function readDigits(text: string, at: number): number {
  const high = text.charCodeAt(at) - digitZero;
  const low = text.charCodeAt(at + 1) - digitZero;
  if (!(high >= 0 && high <= 9 && low >= 0 && low <= 9)) throw invalidInterval();
  return high * 10 + low;
}

/** Where the run of digits starting at `at` ends. */
function fractionEndOf(text: string, at: number): number {
  for (;;) {
    const digit = text.charCodeAt(at) - digitZero;
    if (!(digit >= 0 && digit <= 9)) return at;
    at += 1;
  }
}

/** The fraction digits in [start, end) as whole microseconds (digits past the sixth are dropped). */
function microsecondsOf(text: string, start: number, end: number): number {
  let micro = 0;
  let scale = 100_000;
  for (let at = start; at < end && scale >= 1; at++) {
    micro += (text.charCodeAt(at) - digitZero) * scale;
    scale /= 10;
  }
  return micro;
}

function invalidInterval(): SyntaxError {
  return new SyntaxError('invalid interval text: expected an IntervalStyle of postgres, postgres_verbose, sql_standard or iso_8601');
}
