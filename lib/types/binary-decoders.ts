// Binary-format decoders for the built-in types whose binary form is cheaper to read than their
// text: each returns exactly the value the type's built-in text decoder (type-registry.ts)
// gives for the server's text output of the same value (DateStyle ISO, extra_float_digits ≥ 1,
// the defaults rxpg connects with), so that a column reads the same in either format.
//
// The bytes are one value of a DataRow, `bytes[start, end)`. The server always sends
// well-formed values; still, a decoder never reads outside its range: a value of the wrong
// length (or an array whose lengths do not add up) is a RangeError, never the bytes of the next
// column. Its message names the type and what is wrong (`int4 binary value of 3 bytes,
// expected 4`), never the value: the row builder makes it a ValueDecodeError naming the column.
import { arrayElementOids, TypeOid } from './oids';
import type { TypeRegistryOptions } from './type-registry';
import { infinityTime, minusInfinityTime } from './timestamp';
import { builtinTypeName } from './type-names';

/**
 * Turns the bytes `bytes[start, end)` of one value in binary format (never NULL: NULL is
 * handled before) into its JS value, the same value the type's built-in text decoder gives for
 * the text form. Called once per non-null value: a plain function that allocates only its
 * result.
 *
 * @example
 * const decodeInt4: BinaryDecoder = (bytes, start) => bytes.readInt32BE(start);
 */
export type BinaryDecoder = (bytes: Buffer, start: number, end: number) => unknown;

/**
 * The built-in binary decoders, by type OID, for a registry made with `options` (int8 as a
 * string or a bigint): int2, int4, int8, oid, float4, float8, bool, timestamp, timestamptz,
 * date, uuid, bytea and the arrays of each. A type without one is always asked for in text
 * format.
 *
 * Each decoder gives the value the built-in text decoder gives for the same value's text:
 * numbers (float4 as the double nearest the shortest decimal that reads back as the same
 * float4, as the server prints it), int8 as a string or bigint, booleans, Dates (microseconds
 * truncated towards the past to milliseconds, `±infinity` as the largest and smallest Dates,
 * an Invalid Date beyond the Date range), dates as ISO strings (`'2024-01-31'`,
 * `'0044-03-15 BC'`, `'infinity'`), lowercase hyphenated uuids, bytea as a new Buffer (a copy,
 * never a view of the received bytes), arrays as nested arrays with `null` for NULL.
 *
 * Errors: the map's decoders throw a RangeError when the bytes do not have the type's length,
 * or an array's header, dimensions, element OID or element lengths do not fit the value (never
 * for what the server sends). Its message names the type and the problem, never the value.
 *
 * @example
 * const decoders = builtinBinaryDecoders({ bigint: true });
 * decoders.get(TypeOid.int8)!(Buffer.from('000000000000002a', 'hex'), 0, 8); // 42n
 */
export function builtinBinaryDecoders(options: Pick<TypeRegistryOptions, 'bigint'>): ReadonlyMap<number, BinaryDecoder> {
  const decoders = new Map<number, BinaryDecoder>([
    [TypeOid.bool, decodeBinaryBool],
    [TypeOid.bytea, decodeBinaryBytea],
    [TypeOid.int2, decodeBinaryInt2],
    [TypeOid.int4, decodeBinaryInt4],
    [TypeOid.oid, decodeBinaryOid],
    [TypeOid.int8, options.bigint === true ? decodeBinaryInt8BigInt : decodeBinaryInt8String],
    [TypeOid.float4, decodeBinaryFloat4],
    [TypeOid.float8, decodeBinaryFloat8],
    [TypeOid.timestamp, decodeBinaryTimestamp],
    [TypeOid.timestamptz, decodeBinaryTimestamptz],
    [TypeOid.date, decodeBinaryDate],
    [TypeOid.uuid, decodeBinaryUuid],
  ]);
  for (const [arrayOid, elementOid] of arrayElementOids) {
    const element = decoders.get(elementOid);
    if (element !== undefined) decoders.set(arrayOid, binaryArrayDecoder(element, arrayOid));
  }
  return decoders;
}

function decodeBinaryBool(bytes: Buffer, start: number, end: number): boolean {
  checkLength('bool', start, end, 1);
  return bytes[start] !== 0;
}

function decodeBinaryInt2(bytes: Buffer, start: number, end: number): number {
  checkLength('int2', start, end, 2);
  return bytes.readInt16BE(start);
}

function decodeBinaryInt4(bytes: Buffer, start: number, end: number): number {
  checkLength('int4', start, end, 4);
  return bytes.readInt32BE(start);
}

function decodeBinaryOid(bytes: Buffer, start: number, end: number): number {
  checkLength('oid', start, end, 4);
  return bytes.readUInt32BE(start);
}

const twoToThe32 = 4294967296;

function decodeBinaryInt8String(bytes: Buffer, start: number, end: number): string {
  checkLength('int8', start, end, 8);
  const high = bytes.readInt32BE(start);
  // Within ±2^53 a double holds the value exactly and String() prints its digits.
  if (high >= -0x200000 && high < 0x200000) return String(high * twoToThe32 + bytes.readUInt32BE(start + 4));
  return bytes.readBigInt64BE(start).toString();
}

function decodeBinaryInt8BigInt(bytes: Buffer, start: number, end: number): bigint {
  checkLength('int8', start, end, 8);
  return bytes.readBigInt64BE(start);
}

function decodeBinaryFloat8(bytes: Buffer, start: number, end: number): number {
  checkLength('float8', start, end, 8);
  // The server prints the shortest text that reads back as the same double: the same number.
  return bytes.readDoubleBE(start);
}

function decodeBinaryFloat4(bytes: Buffer, start: number, end: number): number {
  checkLength('float4', start, end, 4);
  const value = bytes.readFloatBE(start);
  // Integers up to 2^24 are their own shortest decimal (as are -0, NaN and ±Infinity).
  if ((value <= 16777216 && value >= -16777216 && Number.isInteger(value)) || value !== value || value - value !== 0) return value;
  const exponentBits = (bytes[start]! & 0x7f) * 2 + (bytes[start + 1]! >> 7);
  const powerOfTwo = (bytes[start + 1]! & 0x7f) === 0 && bytes[start + 2] === 0 && bytes[start + 3] === 0;
  return value < 0 ? -shortestFloat4(-value, exponentBits, powerOfTwo) : shortestFloat4(value, exponentBits, powerOfTwo);
}

/**
 * The number the text decoder makes of the server's float4 text (`float4out`: PostgreSQL's Ryu,
 * the shortest decimal strictly between the midpoints to the neighbouring float4s, of those the
 * nearest to `value`, an even last digit on a tie), for a positive finite float4 `value`.
 */
function shortestFloat4(value: number, exponentBits: number, powerOfTwo: boolean): number {
  const fast = shortestFloat4Fast(value, exponentBits, powerOfTwo);
  return fast === fast ? fast : shortestFloat4Exact(value);
}

/** Exact powers of ten, 10^0 to 10^22 (the largest a double holds exactly). */
const powersOfTen = Array.from({ length: 23 }, (_, power) => 10 ** power);

/** The doubles nearest 10^0 to 10^60 (float4 decisions need up to about 10^46). */
const nearestPowersOfTen = Array.from({ length: 61 }, (_, power) => Number('1e' + String(power)));

/** 2^(k - 151) at index k: the half-spacings of float4s, from the denormals' 2^-150 up. */
const powersOfTwo = Array.from({ length: 256 }, (_, index) => 2 ** (index - 151));

/**
 * How close, relative to its size, a scaled bound may come to an integer (or, for rounding, to
 * a half) before the rounding errors of scaling (a few units in the last place of a double,
 * about 1e-16 each) could put it on the wrong side.
 */
const ambiguity = 1e-14;

/**
 * Ryu's answer in double arithmetic, without allocating: the float4's midpoints are exact
 * doubles, scaled by a power of ten they are off by a few units in the last place, so every
 * decision further than {@link ambiguity} from an integer (or, for rounding, a half) is exact.
 * NaN when one is closer: {@link shortestFloat4Exact} decides then. `exponentBits` is the
 * float4's biased exponent; `powerOfTwo` says its mantissa bits are all 0.
 */
function shortestFloat4Fast(value: number, exponentBits: number, powerOfTwo: boolean): number {
  // Denormals (exponent bits 0) are spaced as the smallest normals: half a spacing is 2^-150.
  const halfUp = powersOfTwo[exponentBits === 0 ? 1 : exponentBits]!;
  // Below a power of two the float4s are twice as dense (not below the smallest normal).
  const halfDown = powerOfTwo && exponentBits > 1 ? halfUp / 2 : halfUp;
  const low = value - halfDown;
  const high = value + halfUp;

  // The largest power of ten with a multiple strictly between the midpoints (the server never
  // prints a midpoint); a multiple of 10^(p+1) is one of 10^p, so start near the width's
  // power, log10(2^(exponent - 150)), and step.
  let power = Math.floor(((exponentBits === 0 ? 1 : exponentBits) - 150) * 0.30102999566398);
  let fits = multipleFits(low, high, power);
  if (fits !== fits) return NaN;
  if (fits === 1) {
    for (;;) {
      const above = multipleFits(low, high, power + 1);
      if (above !== above) return NaN;
      if (above === 0) break;
      power += 1;
    }
  } else {
    do {
      power -= 1;
      fits = multipleFits(low, high, power);
      if (fits !== fits) return NaN;
    } while (fits === 0);
  }

  // The multiple nearest to `value`, or the next one inward when that is out of range.
  const scaledValue = scaleByPowerOfTen(value, power);
  const floor = Math.floor(scaledValue);
  const fraction = scaledValue - floor;
  // Near an integer the nearest multiple is that integer whichever side the error fell on; near
  // a half, only exact arithmetic can tell (and a true tie goes to the even digit).
  if (Math.abs(fraction - 0.5) < scaledValue * ambiguity) return NaN;
  let digits = fraction > 0.5 ? floor + 1 : floor;
  if (digits <= scaleByPowerOfTen(low, power)) digits += 1;
  else if (digits >= scaleByPowerOfTen(high, power)) digits -= 1;
  // One correctly rounded operation on exact operands, as Number() reads the printed decimal.
  if (power >= 0) return power <= 22 ? digits * powersOfTen[power]! : Number(String(digits) + 'e' + String(power));
  return power >= -22 ? digits / powersOfTen[-power]! : Number(String(digits) + 'e' + String(power));
}

/** 1 when a multiple of 10^power lies strictly between `low` and `high`, 0 when none, NaN when too close to call. */
function multipleFits(low: number, high: number, power: number): number {
  const scaledLow = scaleByPowerOfTen(low, power);
  const scaledHigh = scaleByPowerOfTen(high, power);
  const floorLow = Math.floor(scaledLow);
  const floorHigh = Math.floor(scaledHigh);
  const lowMargin = scaledLow * ambiguity;
  const highMargin = scaledHigh * ambiguity;
  if (scaledLow - floorLow < lowMargin || floorLow + 1 - scaledLow < lowMargin) return NaN;
  if (scaledHigh - floorHigh < highMargin || floorHigh + 1 - scaledHigh < highMargin) return NaN;
  return floorHigh > floorLow ? 1 : 0;
}

/** `value` / 10^power: one rounding when the power is exact, two beyond 10^22. */
function scaleByPowerOfTen(value: number, power: number): number {
  if (power >= 0) return power <= 22 ? value / powersOfTen[power]! : value / nearestPowersOfTen[power]!;
  return power >= -22 ? value * powersOfTen[-power]! : value * nearestPowersOfTen[-power]!;
}

/**
 * The same answer with exact decisions (toPrecision and, on a float4 midpoint, BigInt), for the
 * rare values {@link shortestFloat4Fast} cannot call.
 */
function shortestFloat4Exact(value: number): number {
  // Whether some p-digit decimal would be printed for `value` only grows with p (9 digits
  // always do): a binary search over p, each step trying the p-digit decimals next to `value`.
  let low = 1;
  let high = 9;
  let found = float4Decimal(value, 9);
  while (low < high) {
    const digits = (low + high) >> 1;
    const candidate = float4Decimal(value, digits);
    if (candidate === candidate) {
      found = candidate;
      high = digits;
    } else {
      low = digits + 1;
    }
  }
  return found;
}

/**
 * The p-digit decimal Ryu would print for the float4 `value`, as the double the text decoder
 * makes of it, or NaN when no p-digit decimal reads back as `value`.
 */
function float4Decimal(value: number, digits: number): number {
  // toPrecision rounds the exact value, a tie away from zero.
  const nearest = value.toPrecision(digits);
  if (digits >= 8 && float4TieDigits(value) === digits + 1) {
    // `value` lies exactly halfway between two p-digit decimals (0.000244140625 = 2^-12 at 8
    // digits): Ryu takes the one with an even last digit, toPrecision the larger one.
    const below = neighbourDecimal(nearest, -1);
    const [even, odd] = lastDigitIsEven(nearest) ? [nearest, below] : [below, nearest];
    if (readsBackAsFloat4(even, value)) return +even;
    return readsBackAsFloat4(odd, value) ? +odd : NaN;
  }
  if (readsBackAsFloat4(nearest, value)) return +nearest;
  // At a power of two the floats below are twice as dense as those above, so the range that
  // reads back as `value` reaches further up than down: the nearest p-digit decimal may lie
  // just out of range below while the next one up is in range (Ryu picks that one).
  if (+nearest < value && isPowerOfTwoFloat4(value)) {
    const above = neighbourDecimal(nearest, 1);
    if (readsBackAsFloat4(above, value)) return +above;
  }
  return NaN;
}

/**
 * Whether the server would print the decimal `text` for the float4 `value`: it reads back as
 * `value` (strtof rounds the decimal once, to float4) and is not exactly halfway between two
 * float4s (PostgreSQL's Ryu never prints a midpoint, not trusting readers to round it to even).
 * Math.fround of the double rounds twice, which differs from strtof only when the double lies
 * exactly on a midpoint (7.038531e-26): then the decimal's side of it decides.
 */
function readsBackAsFloat4(text: string, value: number): boolean {
  const decimal = +text;
  const rounded = Math.fround(decimal);
  if (rounded === decimal) return rounded === value;
  const other = 2 * decimal - rounded;
  if (Math.fround(other) !== other) return rounded === value; // not a midpoint: fround is right
  if (rounded !== value && other !== value) return false;
  const side = compareDecimalWithDouble(text, decimal);
  return side !== 0 && side > 0 === value > decimal;
}

/** The sign of `text` − `double`, exactly (rare: only for a double on a float4 midpoint). */
function compareDecimalWithDouble(text: string, double: number): number {
  const [mantissa, exponent] = decimalParts(text);
  // double = integer * 2^power, exactly (a float4 midpoint has at most 25 significant bits).
  let integer = double;
  let power = 0;
  while (!Number.isInteger(integer)) {
    integer *= 2;
    power -= 1;
  }
  let left = BigInt(mantissa) << BigInt(-power);
  let right = BigInt(integer);
  if (exponent >= 0) left *= 10n ** BigInt(exponent);
  else right *= 10n ** BigInt(-exponent);
  return left === right ? 0 : left > right ? 1 : -1;
}

/** The decimal with as many digits one unit in the last place above (1) or below (-1) `text`. */
function neighbourDecimal(text: string, step: 1 | -1): string {
  const [mantissa, exponent] = decimalParts(text);
  return String(Number(mantissa) + step) + 'e' + String(exponent);
}

/** `text` (toPrecision's output) as integer digits and a power of ten. */
function decimalParts(text: string): [string, number] {
  const exponentAt = text.indexOf('e');
  const significand = exponentAt === -1 ? text : text.slice(0, exponentAt);
  const pointAt = significand.indexOf('.');
  const fractionDigits = pointAt === -1 ? 0 : significand.length - pointAt - 1;
  const exponent = exponentAt === -1 ? 0 : Number(text.slice(exponentAt + 1));
  return [pointAt === -1 ? significand : significand.slice(0, pointAt) + significand.slice(pointAt + 1), exponent - fractionDigits];
}

function lastDigitIsEven(text: string): boolean {
  const exponentAt = text.indexOf('e');
  const last = text.charCodeAt((exponentAt === -1 ? text.length : exponentAt) - 1);
  return (last & 1) === 0;
}

/**
 * How many significant digits the exact decimal value of the non-integer float4 `value` has
 * when that is at most 10 (only then can it lie halfway between two 8- or 9-digit decimals),
 * else 0. `value` = odd × 2^-n has n fraction digits ending in 5: odd × 5^n, then a point.
 */
function float4TieDigits(value: number): number {
  const shift = Math.min(149, 24 - Math.floor(Math.log2(value)));
  if (shift <= 0) return 0;
  const scaled = value * 2 ** shift; // an integer below 2^26
  const zeros = 31 - Math.clz32(scaled & -scaled);
  const fractionDigits = shift - zeros;
  if (fractionDigits <= 0 || fractionDigits > 14) return 0;
  const digits = (scaled / 2 ** zeros) * 5 ** fractionDigits;
  return digits < 1e10 ? String(digits).length : 0;
}

/** A float4 power of two above the smallest normal one (its range is asymmetric, as in Ryu). */
function isPowerOfTwoFloat4(value: number): boolean {
  return value >= 2 ** -125 && 2 ** Math.floor(Math.log2(value)) === value;
}

const millisecondsAt2000 = 946684800000;

/**
 * timestamp and timestamptz: microseconds since 2000-01-01 00:00 (UTC, or the wall clock for
 * timestamp, which the text decoder reads as UTC too), the int64 extremes for ±infinity.
 */
function decodeBinaryTimestamp(bytes: Buffer, start: number, end: number): Date {
  checkLength('timestamp', start, end, 8);
  return timestampAt(bytes, start);
}

function decodeBinaryTimestamptz(bytes: Buffer, start: number, end: number): Date {
  checkLength('timestamptz', start, end, 8);
  return timestampAt(bytes, start);
}

/** The timestamp of the 8 bytes at `start` (their length checked). */
function timestampAt(bytes: Buffer, start: number): Date {
  const high = bytes.readInt32BE(start);
  const low = bytes.readUInt32BE(start + 4);
  if (high === 0x7fffffff && low === 0xffffffff) return new Date(infinityTime);
  if (high === -0x80000000 && low === 0) return new Date(minusInfinityTime);
  // floor((high * 2^32 + low) / 1000) without losing digits: 2^32 = 1000 * 4294967 + 296. The
  // floor matches the text, whose fraction (after the wall-clock second) is cut to milliseconds.
  return new Date(millisecondsAt2000 + high * 4294967 + Math.floor((high * 296 + low) / 1000));
}

/** date: days since 2000-01-01, the int32 extremes for ±infinity; printed as in DateStyle ISO. */
function decodeBinaryDate(bytes: Buffer, start: number, end: number): string {
  checkLength('date', start, end, 4);
  const days = bytes.readInt32BE(start);
  if (days === 0x7fffffff) return 'infinity';
  if (days === -0x80000000) return '-infinity';
  // Proleptic Gregorian civil date from days (the era-of-400-years arithmetic), counted from
  // 0000-03-01 so that leap days end a year.
  const shifted = days + 730425; // 2000-01-01 is day 730425 after 0000-03-01
  const era = Math.floor(shifted / 146097);
  const dayOfEra = shifted - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  if (year >= 1000 && year <= 9999) {
    // The common case in one call that builds only the result: YYYY-MM-DD.
    return String.fromCharCode(
      digitZero + ((year / 1000) | 0),
      digitZero + (((year / 100) | 0) % 10),
      digitZero + (((year / 10) | 0) % 10),
      digitZero + (year % 10),
      hyphen,
      digitZero + ((month / 10) | 0),
      digitZero + (month % 10),
      hyphen,
      digitZero + ((day / 10) | 0),
      digitZero + (day % 10),
    );
  }
  const bc = year <= 0;
  const printedYear = bc ? 1 - year : year;
  return (
    (printedYear < 1000 ? (printedYear < 10 ? '000' : printedYear < 100 ? '00' : '0') : '') +
    String(printedYear) +
    (month < 10 ? '-0' : '-') +
    String(month) +
    (day < 10 ? '-0' : '-') +
    String(day) +
    (bc ? ' BC' : '')
  );
}

const digitZero = 0x30;

/** The character codes of '0'-'9', 'a'-'f'. */
const hexDigitCodes = [0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66];
const hyphen = 0x2d;

function decodeBinaryUuid(bytes: Buffer, start: number, end: number): string {
  checkLength('uuid', start, end, 16);
  const h = hexDigitCodes;
  const b = bytes;
  const s = start;
  // One call building only the result: 32 hex digits and four hyphens.
  return String.fromCharCode(
    h[b[s]! >> 4]!,
    h[b[s]! & 15]!,
    h[b[s + 1]! >> 4]!,
    h[b[s + 1]! & 15]!,
    h[b[s + 2]! >> 4]!,
    h[b[s + 2]! & 15]!,
    h[b[s + 3]! >> 4]!,
    h[b[s + 3]! & 15]!,
    hyphen,
    h[b[s + 4]! >> 4]!,
    h[b[s + 4]! & 15]!,
    h[b[s + 5]! >> 4]!,
    h[b[s + 5]! & 15]!,
    hyphen,
    h[b[s + 6]! >> 4]!,
    h[b[s + 6]! & 15]!,
    h[b[s + 7]! >> 4]!,
    h[b[s + 7]! & 15]!,
    hyphen,
    h[b[s + 8]! >> 4]!,
    h[b[s + 8]! & 15]!,
    h[b[s + 9]! >> 4]!,
    h[b[s + 9]! & 15]!,
    hyphen,
    h[b[s + 10]! >> 4]!,
    h[b[s + 10]! & 15]!,
    h[b[s + 11]! >> 4]!,
    h[b[s + 11]! & 15]!,
    h[b[s + 12]! >> 4]!,
    h[b[s + 12]! & 15]!,
    h[b[s + 13]! >> 4]!,
    h[b[s + 13]! & 15]!,
    h[b[s + 14]! >> 4]!,
    h[b[s + 14]! & 15]!,
    h[b[s + 15]! >> 4]!,
    h[b[s + 15]! & 15]!,
  );
}

/** bytea: the bytes themselves, copied (the received chunk is reused and must not be kept). */
function decodeBinaryBytea(bytes: Buffer, start: number, end: number): Buffer {
  if (end < start || end > bytes.length) throw new RangeError(`bytea binary value of ${end - start} bytes past its message's end`);
  const copy = Buffer.allocUnsafe(end - start);
  bytes.copy(copy, 0, start, end);
  return copy;
}

/** The most dimensions an array has (the server's MAXDIM). */
const maxDimensions = 6;

/** One closure per array type, made when the map is built (never per value). */
function binaryArrayDecoder(element: BinaryDecoder, arrayOid: number): BinaryDecoder {
  const type: ArrayType = { element, name: builtinTypeName(arrayOid) ?? `OID ${arrayOid}` };
  return (bytes, start, end) => decodeBinaryArray(bytes, start, end, type);
}

/** What the array decoder of one array type needs: its element decoder and its name for errors. */
interface ArrayType {
  readonly element: BinaryDecoder;
  readonly name: string;
}

/** The header before the dimensions: int32 dimensions, int32 has-NULL flag, uint32 element OID. */
const arrayHeaderLength = 12;

/**
 * The binary array format (`array_send`): int32 dimensions, int32 has-NULL flag, uint32 element
 * OID, per dimension int32 size and int32 lower bound, then each element in row-major order as
 * an int32 length (-1 for NULL) and its bytes. Lower bounds are dropped, as the text decoder
 * drops `[0:1]=`: JS arrays start at 0. No dimensions is the empty array.
 *
 * Every length is checked against the value's end before it is used: the header, the
 * dimensions, the element count the sizes need, each element's length, and no bytes after the
 * last element. Each element's decoder checks its own length. The element OID is not checked:
 * the column's type decides the element decoder, as it decides every other decoder.
 */
function decodeBinaryArray(bytes: Buffer, start: number, end: number, type: ArrayType): unknown[] {
  if (end > bytes.length) throw badArray(type, `value of ${end - start} bytes past its message's end`);
  if (end - start < arrayHeaderLength) throw badArray(type, `value of ${end - start} bytes, shorter than the 12-byte array header`);
  const dimensions = bytes.readInt32BE(start);
  if (dimensions < 0 || dimensions > maxDimensions)
    throw badArray(type, `value of ${dimensions} dimensions, expected 0 to ${maxDimensions}`);
  const elementsAt = start + arrayHeaderLength + dimensions * 8;
  if (elementsAt > end) {
    throw badArray(
      type,
      `value of ${end - start} bytes, shorter than the header of its ${dimensions} dimensions (${elementsAt - start} bytes)`,
    );
  }
  if (dimensions === 0) {
    if (end !== elementsAt) throw badArray(type, `value of 0 dimensions with ${end - elementsAt} bytes after its header`);
    return [];
  }
  // Every element takes at least its 4-byte length: refuse sizes the bytes cannot hold before
  // allocating anything.
  let count = 1;
  for (let dimension = 0; dimension < dimensions; dimension++) {
    const size = bytes.readInt32BE(start + arrayHeaderLength + dimension * 8);
    if (size < 0) throw badArray(type, `value whose dimension ${dimension + 1} has a negative size`);
    count *= size;
  }
  if (count * 4 > end - elementsAt) {
    const elements = count <= Number.MAX_SAFE_INTEGER ? String(count) : exactElementCount(bytes, start + arrayHeaderLength, dimensions);
    throw badArray(type, `value of ${elements} elements in ${end - elementsAt} bytes, fewer than their 4-byte lengths need`);
  }
  if (count === 0) {
    if (end !== elementsAt) throw badArray(type, `value of 0 elements with ${end - elementsAt} bytes after its header`);
    return [];
  }

  const result: unknown[] = new Array<unknown>(bytes.readInt32BE(start + arrayHeaderLength));
  const after = fillDimension(bytes, start + arrayHeaderLength, 0, dimensions, elementsAt, end, type, result);
  if (after !== end) throw badArray(type, `value with ${end - after} bytes after its last element`);
  return result;
}

/**
 * The product of the dimension sizes at `sizesAt`, in digits: beyond 2^53 the double product
 * is rounded (only an error message needs it).
 */
function exactElementCount(bytes: Buffer, sizesAt: number, dimensions: number): string {
  let count = 1n;
  for (let dimension = 0; dimension < dimensions; dimension++) count *= BigInt(bytes.readInt32BE(sizesAt + dimension * 8));
  return count.toString();
}

/**
 * Fills `target` (the array of dimension `dimension`, already of its size) from the elements
 * at `at`, recursing into the inner dimensions; returns where the next element starts.
 */
function fillDimension(
  bytes: Buffer,
  sizesAt: number,
  dimension: number,
  dimensions: number,
  at: number,
  end: number,
  type: ArrayType,
  target: unknown[],
): number {
  const size = target.length;
  if (dimension === dimensions - 1) {
    const element = type.element;
    for (let index = 0; index < size; index++) {
      if (at + 4 > end) throw badArray(type, 'value whose elements run past its end');
      const length = bytes.readInt32BE(at);
      at += 4;
      if (length === -1) {
        target[index] = null;
      } else {
        if (length < 0) throw badArray(type, `value with an element of length ${length}`);
        if (at + length > end) throw badArray(type, 'value whose elements run past its end');
        target[index] = element(bytes, at, at + length);
        at += length;
      }
    }
    return at;
  }
  const innerSize = bytes.readInt32BE(sizesAt + (dimension + 1) * 8);
  for (let index = 0; index < size; index++) {
    const child: unknown[] = new Array<unknown>(innerSize);
    target[index] = child;
    at = fillDimension(bytes, sizesAt, dimension + 1, dimensions, at, end, type, child);
  }
  return at;
}

/**
 * Throws unless the value is exactly `length` bytes; `type` names it in the message (a constant
 * per decoder, so the check costs a comparison).
 */
function checkLength(type: string, start: number, end: number, length: number): void {
  if (end - start !== length) throw new RangeError(`${type} binary value of ${end - start} bytes, expected ${length}`);
}

function badArray(type: ArrayType, problem: string): RangeError {
  return new RangeError(`${type.name} binary ${problem}`);
}
