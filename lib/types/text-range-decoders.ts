import type {} from './buffer-slices';
// The byte-range forms of the built-in text decoders: a text-format value read where it lies in
// the DataRow's buffer, without first making a string of it when the type allows (integers,
// plain decimals, bool). Each gives exactly the value its text decoder gives for the same
// bytes decoded as UTF-8, for any bytes (server output or not): anything off the fast path
// goes through the text decoder itself.

import { decodeBigInt, decodeBool, decodeFloat, decodeInteger, decodeJson, decodeText } from './text-decoders';
import { daysFromCivil, decodeTimestamp, decodeTimestamptz } from './timestamp';
import type { TextDecoder } from './type-registry';

/**
 * Turns the bytes `bytes[start, end)` of one non-NULL value into its JS value; what the row
 * builder calls per value. The format (text or binary) is fixed by the decoder.
 *
 * @example
 * const decodeBool: ByteRangeDecoder = (bytes, start, end) => end - start === 1 && bytes[start] === 0x74;
 */
export type ByteRangeDecoder = (bytes: Buffer, start: number, end: number) => unknown;

const digitZero = 0x30;
const minus = 0x2d;
const dot = 0x2e;
const plus = 0x2b;
const colon = 0x3a;
const msPerDay = 86_400_000;
/** 10^0 .. 10^22: every one is an exact double. */
const powersOfTen = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** `decodeText` of the value: its UTF-8 text. */
export function decodeTextRange(bytes: Buffer, start: number, end: number): string {
  return bytes.utf8Slice(start, end);
}

/**
 * `decodeInteger` of the value: digits (with a `-`) are read in place; up to 15 of them are
 * exact in a double. Anything else (empty, spaces, more digits) goes through the text.
 */
export function decodeIntegerRange(bytes: Buffer, start: number, end: number): number {
  // `start < end`: an empty value must not read the next value's first byte.
  const negative = start < end && bytes[start] === minus;
  let at = negative ? start + 1 : start;
  if (at === end || end - at > 15) return decodeInteger(bytes.utf8Slice(start, end));
  let value = 0;
  for (; at < end; at++) {
    const digit = bytes[at]! - digitZero;
    if (digit < 0 || digit > 9) return decodeInteger(bytes.utf8Slice(start, end));
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

/**
 * `decodeFloat` of the value. A plain decimal (`-12.375`, no exponent) of at most 15 digits is
 * an integer below 2^53 divided by an exact power of ten, a division that IEEE rounds
 * correctly: the same double as `+text`. Anything else (more digits, exponents, `NaN`,
 * `Infinity`) goes through the text.
 */
export function decodeFloatRange(bytes: Buffer, start: number, end: number): number {
  const negative = bytes[start] === minus;
  let at = negative ? start + 1 : start;
  if (at === end || end - at > 16) return decodeFloat(bytes.utf8Slice(start, end));
  let mantissa = 0;
  let digits = 0;
  let point = -1;
  for (; at < end; at++) {
    const code = bytes[at]!;
    const digit = code - digitZero;
    if (digit >= 0 && digit <= 9) {
      mantissa = mantissa * 10 + digit;
      digits += 1;
    } else if (code === dot && point < 0) {
      point = at;
    } else {
      return decodeFloat(bytes.utf8Slice(start, end));
    }
  }
  // `1.`, `.5` and `.` read as numbers or NaN by the text decoder: leave them to it.
  if (digits === 0 || digits > 15 || point === end - 1 || point === (negative ? start + 1 : start)) {
    return decodeFloat(bytes.utf8Slice(start, end));
  }
  const value = point < 0 ? mantissa : mantissa / powersOfTen[end - 1 - point]!;
  return negative ? -value : value;
}

/** `decodeBool` of the value: true for exactly `t`. */
export function decodeBoolRange(bytes: Buffer, start: number, end: number): boolean {
  return end - start === 1 && bytes[start] === 0x74;
}

/**
 * `decodeTimestamptz` of the value. The server's usual form, `YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM[:SS]]`
 * with a four-digit year, is read in place with the text parser's arithmetic; anything else
 * (infinity, BC, other years, any other byte) goes through the text.
 */
export function decodeTimestamptzRange(bytes: Buffer, start: number, end: number): Date {
  return new Date(timestampMs(bytes, start, end, true));
}

/** `decodeTimestamp` of the value (as {@link decodeTimestamptzRange}, without the offset). */
export function decodeTimestampRange(bytes: Buffer, start: number, end: number): Date {
  return new Date(timestampMs(bytes, start, end, false));
}

/** The milliseconds `decodeTimestamp(tz)` gives for the value's text. */
function timestampMs(bytes: Buffer, start: number, end: number, withOffset: boolean): number {
  // `YYYY-MM-DD HH:MM:SS`: 19 bytes, separators where they belong.
  if (
    end - start < 19 ||
    bytes[start + 4] !== minus ||
    bytes[start + 7] !== minus ||
    bytes[start + 10] !== 0x20 ||
    bytes[start + 13] !== colon ||
    bytes[start + 16] !== colon
  ) {
    return slowTimestampMs(bytes, start, end, withOffset);
  }
  const year = digits(bytes, start, 4);
  const month = digits(bytes, start + 5, 2);
  const day = digits(bytes, start + 8, 2);
  const hours = digits(bytes, start + 11, 2);
  const minutes = digits(bytes, start + 14, 2);
  const seconds = digits(bytes, start + 17, 2);
  if (year < 0 || month < 0 || day < 0 || hours < 0 || minutes < 0 || seconds < 0) return slowTimestampMs(bytes, start, end, withOffset);
  let at = start + 19;
  // Fraction: up to six digits, truncated to milliseconds.
  let milliseconds = 0;
  if (at < end && bytes[at] === dot) {
    at += 1;
    let scale = 100;
    while (at < end) {
      const digit = bytes[at]! - digitZero;
      if (digit < 0 || digit > 9) break;
      milliseconds += digit * scale;
      scale = scale > 1 ? scale / 10 : 0;
      at += 1;
    }
  }
  let offsetSeconds = 0;
  if (withOffset) {
    const sign = bytes[at];
    const offsetHours = at + 3 <= end ? digits(bytes, at + 1, 2) : -1;
    if ((sign !== plus && sign !== minus) || offsetHours < 0) return slowTimestampMs(bytes, start, end, withOffset);
    offsetSeconds = offsetHours * 3600;
    at += 3;
    if (at < end && bytes[at] === colon) {
      const offsetMinutes = at + 3 <= end ? digits(bytes, at + 1, 2) : -1;
      if (offsetMinutes < 0) return slowTimestampMs(bytes, start, end, withOffset);
      offsetSeconds += offsetMinutes * 60;
      at += 3;
      if (at < end && bytes[at] === colon) {
        const offsetSecondsPart = at + 3 <= end ? digits(bytes, at + 1, 2) : -1;
        if (offsetSecondsPart < 0) return slowTimestampMs(bytes, start, end, withOffset);
        offsetSeconds += offsetSecondsPart;
        at += 3;
      }
    }
    if (sign === minus) offsetSeconds = -offsetSeconds;
  }
  // ` BC` and anything else after the time: the text parser decides.
  if (at !== end) return slowTimestampMs(bytes, start, end, withOffset);
  return (
    daysFromCivil(year, month, day) * msPerDay + hours * 3_600_000 + minutes * 60_000 + seconds * 1000 + milliseconds - offsetSeconds * 1000
  );
}

function slowTimestampMs(bytes: Buffer, start: number, end: number, withOffset: boolean): number {
  const text = bytes.utf8Slice(start, end);
  return (withOffset ? decodeTimestamptz(text) : decodeTimestamp(text)).getTime();
}

/** The number in `count` ASCII digits at `at`, or -1. */
function digits(bytes: Buffer, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const digit = bytes[i]! - digitZero;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** The byte-range form of the built-in text decoders that have one of their own. */
const rangeForms = new Map<TextDecoder, ByteRangeDecoder>([
  [decodeText, decodeTextRange],
  [decodeInteger, decodeIntegerRange],
  [decodeFloat, decodeFloatRange],
  [decodeBool, decodeBoolRange],
  [decodeTimestamptz, decodeTimestamptzRange],
  [decodeTimestamp, decodeTimestampRange],
  [decodeBigInt, (bytes, start, end) => decodeBigInt(bytes.utf8Slice(start, end))],
  [decodeJson, (bytes, start, end) => decodeJson(bytes.utf8Slice(start, end))],
]);

/**
 * The byte-range form of a text decoder: the built-in ones' own (see above; `decodeBool`
 * included), or, for any other (a user's, an array's), the decoder called with the value's
 * UTF-8 text. Made once per type and registry version, never per value.
 *
 * @example
 * textRangeDecoder(decodeInteger)(Buffer.from('-42'), 0, 3); // -42
 */
export function textRangeDecoder(decoder: TextDecoder): ByteRangeDecoder {
  return rangeForms.get(decoder) ?? ((bytes, start, end) => decoder(bytes.utf8Slice(start, end)));
}
