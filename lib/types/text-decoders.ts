// Decoders for the scalar types whose text format needs no parsing of its own: numbers,
// booleans, JSON, and the types that stay strings. Timestamps, intervals, bytea and arrays
// have their own files.

/**
 * Returns the text unchanged: the decoder of every type without a better one (text, varchar,
 * uuid, date, time, numeric, money, unknown OIDs, ...). A row builder may compare a decoder
 * with `decodeText` to skip the call.
 *
 * Errors: none.
 *
 * @example
 * decodeText('2024-01-31'); // '2024-01-31'
 */
export function decodeText(text: string): string {
  return text;
}

/**
 * Decodes int2, int4 and oid text (`'-32768'`, `'4294967295'`) into a number; every value of
 * these types fits a double exactly.
 *
 * Errors: none; text that is not a number gives `NaN`.
 *
 * @example
 * decodeInteger('-42'); // -42
 */
export function decodeInteger(text: string): number {
  return +text;
}

/**
 * Decodes float4 and float8 text into a number, including `'NaN'`, `'Infinity'` and
 * `'-Infinity'` and `'-0'`. The server prints the shortest text that reads back as the same
 * float, so a float8 is exact; a float4 becomes the double nearest its decimal text
 * (`'1.1'` → 1.1, not `Math.fround(1.1)`).
 *
 * Errors: none; text that is not a number gives `NaN`.
 *
 * @example
 * decodeFloat('-Infinity'); // -Infinity
 */
export function decodeFloat(text: string): number {
  return +text;
}

/**
 * Decodes int8 text into a bigint (the `bigint: true` option of {@link TypeRegistry}; by
 * default int8 stays a string, because a number loses precision above 2^53).
 *
 * Errors: a SyntaxError when the text is not an integer (never for server output).
 *
 * @example
 * decodeBigInt('9223372036854775807'); // 9223372036854775807n
 */
export function decodeBigInt(text: string): bigint {
  return BigInt(text);
}

/**
 * Decodes bool text: `'t'` → true, anything else (`'f'`) → false.
 *
 * Errors: none.
 *
 * @example
 * decodeBool('t'); // true
 */
export function decodeBool(text: string): boolean {
  return text === 't';
}

/**
 * Decodes json and jsonb text with `JSON.parse`. Numbers become JS numbers, so a JSON number
 * beyond double precision is rounded (store it as a JSON string, or override the decoder).
 *
 * Errors: a SyntaxError for invalid JSON (never for server output).
 *
 * @example
 * decodeJson('{"a":[1,2]}'); // { a: [1, 2] }
 */
export function decodeJson(text: string): unknown {
  return JSON.parse(text);
}
