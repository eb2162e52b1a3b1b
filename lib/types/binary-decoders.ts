import type { TypeRegistryOptions } from './type-registry';

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
 * string or a bigint). A type without one is always asked for in text format.
 */
export function builtinBinaryDecoders(options: Pick<TypeRegistryOptions, 'bigint'>): ReadonlyMap<number, BinaryDecoder> {
  void options;
  return new Map();
}
