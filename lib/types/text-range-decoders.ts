// The byte-range forms of the built-in text decoders: a text-format value read where it lies in
// the DataRow's buffer, without first making a string of it when the type allows (integers,
// plain decimals, bool). Each gives exactly the value its text decoder gives for the same
// bytes decoded as UTF-8, for any bytes (server output or not): anything off the fast path
// goes through the text decoder itself. (Strings are made with toString('utf8', start, end):
// Node's unchecked utf8Slice is about 15 % cheaper per short value, but declaring it would
// put an augmentation of the global Buffer type into the public API.)

import { decodeBigInt, decodeBool, decodeFloat, decodeInteger, decodeJson, decodeText } from './text-decoders';
import { decodeTimestamp, decodeTimestamptz } from './timestamp';
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
/** 10^0 .. 10^22: every one is an exact double. */
const powersOfTen = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** `decodeText` of the value: its UTF-8 text. */
export function decodeTextRange(bytes: Buffer, start: number, end: number): string {
  return bytes.toString('utf8', start, end);
}

/**
 * `decodeInteger` of the value: digits (with a `-`) are read in place; up to 15 of them are
 * exact in a double. Anything else (empty, spaces, more digits) goes through the text.
 */
export function decodeIntegerRange(bytes: Buffer, start: number, end: number): number {
  const negative = bytes[start] === minus;
  let at = negative ? start + 1 : start;
  if (at === end || end - at > 15) return decodeInteger(bytes.toString('utf8', start, end));
  let value = 0;
  for (; at < end; at++) {
    const digit = bytes[at]! - digitZero;
    if (digit < 0 || digit > 9) return decodeInteger(bytes.toString('utf8', start, end));
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
  if (at === end || end - at > 16) return decodeFloat(bytes.toString('utf8', start, end));
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
      return decodeFloat(bytes.toString('utf8', start, end));
    }
  }
  // `1.`, `.5` and `.` read as numbers or NaN by the text decoder: leave them to it.
  if (digits === 0 || digits > 15 || point === end - 1 || point === (negative ? start + 1 : start)) {
    return decodeFloat(bytes.toString('utf8', start, end));
  }
  const value = point < 0 ? mantissa : mantissa / powersOfTen[end - 1 - point]!;
  return negative ? -value : value;
}

/** `decodeBool` of the value: true for exactly `t`. */
export function decodeBoolRange(bytes: Buffer, start: number, end: number): boolean {
  return end - start === 1 && bytes[start] === 0x74;
}

/** `decodeTimestamptz` of the value. */
export function decodeTimestamptzRange(bytes: Buffer, start: number, end: number): Date {
  return decodeTimestamptz(bytes.toString('utf8', start, end));
}

/** `decodeTimestamp` of the value. */
export function decodeTimestampRange(bytes: Buffer, start: number, end: number): Date {
  return decodeTimestamp(bytes.toString('utf8', start, end));
}

/** The byte-range form of the built-in text decoders that have one of their own. */
const rangeForms = new Map<TextDecoder, ByteRangeDecoder>([
  [decodeText, decodeTextRange],
  [decodeInteger, decodeIntegerRange],
  [decodeFloat, decodeFloatRange],
  [decodeBool, decodeBoolRange],
  [decodeTimestamptz, decodeTimestamptzRange],
  [decodeTimestamp, decodeTimestampRange],
  [decodeBigInt, (bytes, start, end) => decodeBigInt(bytes.toString('utf8', start, end))],
  [decodeJson, (bytes, start, end) => decodeJson(bytes.toString('utf8', start, end))],
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
  return rangeForms.get(decoder) ?? ((bytes, start, end) => decoder(bytes.toString('utf8', start, end)));
}
