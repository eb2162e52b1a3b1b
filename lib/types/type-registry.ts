import { parseArray } from './array-literal';
import { builtinBinaryDecoders, type BinaryDecoder } from './binary-decoders';
import { decodeBytea } from './bytea';
import { decodeInterval } from './interval';
import { arrayElementOids, TypeOid } from './oids';
import { decodeBigInt, decodeBool, decodeFloat, decodeInteger, decodeJson, decodeText } from './text-decoders';
import { textRangeDecoder, type ByteRangeDecoder } from './text-range-decoders';
import { decodeTimestamp, decodeTimestamptz } from './timestamp';

/**
 * Turns the text of one value (text format, never `null`: NULL is handled before) into its
 * JS value. Called once per non-null value, so it should be a plain function that allocates
 * only its result.
 *
 * @example
 * const decodePoint: TextDecoder = (text) => text.slice(1, -1).split(',').map(Number);
 */
export type TextDecoder = (text: string) => unknown;

/**
 * Options of {@link TypeRegistry}.
 *
 * @example
 * const options: TypeRegistryOptions = { bigint: true, overrides: { [TypeOid.numeric]: Number } };
 */
export interface TypeRegistryOptions {
  /**
   * Decode int8 (and int8[]) as `bigint` instead of `string`. Default `false`: strings, which
   * keep every digit and serialize to JSON. (numeric always stays a string: it is exact, a
   * number or bigint would not be.)
   */
  readonly bigint?: boolean;
  /**
   * Decoders that replace the built-in ones, by type OID, applied after the built-ins. As
   * with {@link TypeRegistry.setDecoder}, overriding an element type leaves its array type
   * alone; override the array OID too or call {@link TypeRegistry.setArrayDecoder}.
   */
  readonly overrides?: Readonly<Record<number, TextDecoder>>;
}

/**
 * Options of {@link TypeRegistry.setArrayDecoder}.
 *
 * @example
 * types.setArrayDecoder(1020, 603, { delimiter: ';' }); // box[]
 */
export interface ArrayDecoderOptions {
  /** The element delimiter (`pg_type.typdelim`): `,` for all built-in types except box (`;`). */
  readonly delimiter?: string;
}

/**
 * The decoders of one connection, by type OID and format. Nothing is shared between
 * registries: overriding a decoder on one connection never affects another.
 *
 * The text decoders ({@link decoderFor}, {@link setDecoder}) are the ones users see and set.
 * For the row data path, {@link valueDecoderFor} gives the decoder of a value's bytes in a
 * given format, and {@link resultFormatFor} says which format to ask the server for: binary
 * only for a built-in type with a built-in binary decoder (which gives the same values as the
 * text decoder) whose decoder the user has not set; text for everything else, so that a
 * user's text decoder always gets the text.
 *
 * Built in (text format, DateStyle ISO):
 *
 * | types | JS value |
 * |---|---|
 * | int2, int4, oid, float4, float8 | number (`NaN`, `±Infinity` included) |
 * | int8 | string, or bigint with `{ bigint: true }` |
 * | numeric, money | string (exact; money is formatted by `lc_monetary`) |
 * | bool | boolean |
 * | json, jsonb | `JSON.parse` |
 * | bytea | Buffer |
 * | timestamptz, timestamp | Date (see `decodeTimestamptz`: `±infinity` are the largest and smallest Dates; timestamp is read as UTC) |
 * | interval | {@link Interval} |
 * | date, time, timetz, text, varchar, bpchar, char, name, uuid, xml | string |
 * | arrays of all of these | nested arrays (multi-dimensional, `null` for NULL) |
 * | any other OID (enums, user types, ...) | string |
 *
 * `decoderFor` is a Map lookup, meant to be called once per column per RowDescription.
 * Changing a decoder affects the results whose RowDescription arrives later.
 *
 * Errors: the constructor throws a TypeError for an override that is not a function or keyed
 * by something that is not an OID.
 *
 * @example
 * import { TypeRegistry, TypeOid } from 'rxpg';
 * const types = new TypeRegistry({ bigint: true, overrides: { [TypeOid.timestamptz]: (text) => text } });
 * types.decoderFor(TypeOid.int8)('42'); // 42n
 * types.decoderFor(TypeOid.timestamptz)('2024-01-31 00:00:00+00'); // '2024-01-31 00:00:00+00'
 */
export class TypeRegistry {
  readonly #decoders = new Map<number, TextDecoder>();
  readonly #binaryDecoders: ReadonlyMap<number, BinaryDecoder>;
  /** The OIDs whose text decoder the user set (overrides, setDecoder, setArrayDecoder): always text. */
  readonly #userSet = new Set<number>();
  /** The byte-range forms of the text decoders, made on first use; emptied by every change. */
  readonly #textRangeDecoders = new Map<number, ByteRangeDecoder>();
  #version = 0;

  constructor(options: TypeRegistryOptions = {}) {
    this.#binaryDecoders = builtinBinaryDecoders({ bigint: options.bigint });
    const decoders = this.#decoders;
    decoders.set(TypeOid.bool, decodeBool);
    decoders.set(TypeOid.bytea, decodeBytea);
    decoders.set(TypeOid.int2, decodeInteger);
    decoders.set(TypeOid.int4, decodeInteger);
    decoders.set(TypeOid.oid, decodeInteger);
    decoders.set(TypeOid.int8, options.bigint === true ? decodeBigInt : decodeText);
    decoders.set(TypeOid.float4, decodeFloat);
    decoders.set(TypeOid.float8, decodeFloat);
    decoders.set(TypeOid.json, decodeJson);
    decoders.set(TypeOid.jsonb, decodeJson);
    decoders.set(TypeOid.timestamp, decodeTimestamp);
    decoders.set(TypeOid.timestamptz, decodeTimestamptz);
    decoders.set(TypeOid.interval, decodeInterval);
    for (const [arrayOid, elementOid] of arrayElementOids) decoders.set(arrayOid, arrayDecoder(this.#elementDecoder(elementOid), 0x2c));

    const overrides = options.overrides;
    if (overrides !== undefined) {
      for (const key of Object.keys(overrides)) this.setDecoder(Number(key), overrides[Number(key)]!);
    }
  }

  /**
   * The decoder for values of the type `oid`: the one set for it, or the text decoder (the
   * text unchanged) for an OID without one.
   *
   * Errors: none.
   *
   * @example
   * const decode = types.decoderFor(field.dataTypeId);
   * const value = text === null ? null : decode(text);
   */
  decoderFor(oid: number): TextDecoder {
    return this.#decoders.get(oid) ?? decodeText;
  }

  /**
   * The decoder of one value's bytes, `bytes[start, end)`, of the type `oid` in `format`:
   *
   * - text (0): the byte-range form of {@link decoderFor}'s decoder, the same value for the
   *   same bytes. The built-in decoders of numbers, bool, timestamps and text read the bytes
   *   in place; any other decoder (a user's) gets the value's UTF-8 text.
   * - binary (1): the built-in binary decoder of the type; for a type without one (the server
   *   sends binary only when asked, or for a binary cursor), a copy of the bytes as a Buffer.
   *
   * Meant to be called once per column per RowDescription (the result is cached per type
   * until a decoder changes), not per value.
   *
   * Errors: none.
   *
   * @example
   * const decode = types.valueDecoderFor(TypeOid.int4, 0);
   * decode(Buffer.from('42'), 0, 2); // 42
   */
  valueDecoderFor(oid: number, format: 0 | 1): ByteRangeDecoder {
    if (format === 1) return this.#binaryDecoders.get(oid) ?? copyBytes;
    let decoder = this.#textRangeDecoders.get(oid);
    if (decoder === undefined) {
      decoder = textRangeDecoder(this.decoderFor(oid));
      this.#textRangeDecoders.set(oid, decoder);
    }
    return decoder;
  }

  /**
   * The result format to ask the server for values of the type `oid`: 1 (binary) when a
   * built-in binary decoder exists for it and no decoder was set for it by the user (the
   * `overrides` option, {@link setDecoder}, {@link setArrayDecoder}); 0 (text) otherwise.
   *
   * Errors: none.
   *
   * @example
   * const formats = fields.map((field) => types.resultFormatFor(field.dataTypeId));
   */
  resultFormatFor(oid: number): 0 | 1 {
    return this.#binaryDecoders.has(oid) && !this.#userSet.has(oid) ? 1 : 0;
  }

  /**
   * Whether the text decoder of the type `oid` was set by the user (the `overrides` option,
   * {@link setDecoder}, {@link setArrayDecoder}) rather than built in. What such a decoder
   * throws fails its query as it is; a built-in decoder's refusal becomes a `ValueDecodeError`
   * naming the column.
   *
   * Errors: none.
   *
   * @example
   * new TypeRegistry({ overrides: { [TypeOid.numeric]: Number } }).hasUserDecoder(TypeOid.numeric); // true
   */
  hasUserDecoder(oid: number): boolean {
    return this.#userSet.has(oid);
  }

  /**
   * Sets the decoder of the type `oid` (a built-in or a user type, e.g. an enum or a domain's
   * base type OID). Only `oid` changes: the decoder of its array type stays as it was; call
   * {@link setArrayDecoder} afterwards to decode arrays with the new element decoder.
   * Returns the registry, for chaining.
   *
   * Errors: a TypeError when `oid` is not an integer from 0 to 4294967295 or `decoder` is
   * not a function.
   *
   * @example
   * types.setDecoder(TypeOid.numeric, Number).setArrayDecoder(TypeOid.numericArray, TypeOid.numeric);
   */
  setDecoder(oid: number, decoder: TextDecoder): this {
    checkOid(oid);
    if (typeof decoder !== 'function') throw new TypeError(`the decoder for type OID ${oid} is not a function`);
    this.#decoders.set(oid, decoder);
    this.#changed(oid);
    return this;
  }

  /**
   * Goes up with every change of a decoder, so that whoever keeps decoders looked up (the
   * row builders of cached statements) knows when to look again.
   */
  get version(): number {
    return this.#version;
  }

  /**
   * Makes `arrayOid` decode as an array (any number of dimensions, NULL elements as `null`)
   * whose elements are decoded by the current decoder of `elementOid` — e.g. for an enum or
   * another user type, whose OIDs come from
   * `SELECT oid, typarray FROM pg_type WHERE typname = 'mood'`. The element decoder is the one
   * set now; a later {@link setDecoder} of `elementOid` does not change this array decoder.
   * Returns the registry, for chaining.
   *
   * Errors: a TypeError when an OID is not an integer from 0 to 4294967295 or the delimiter
   * is not a single character.
   *
   * @example
   * types.setDecoder(moodOid, decodeText).setArrayDecoder(moodArrayOid, moodOid);
   * types.decoderFor(moodArrayOid)('{happy,sad}'); // ['happy', 'sad']
   */
  setArrayDecoder(arrayOid: number, elementOid: number, options: ArrayDecoderOptions = {}): this {
    checkOid(arrayOid);
    checkOid(elementOid);
    const delimiter = options.delimiter ?? ',';
    if (typeof delimiter !== 'string' || delimiter.length !== 1) throw new TypeError('an array delimiter is a single character');
    this.#decoders.set(arrayOid, arrayDecoder(this.#elementDecoder(elementOid), delimiter.charCodeAt(0)));
    this.#changed(arrayOid);
    return this;
  }

  /** The element decoder of an array type: `null` for text, which the array parser keeps as is. */
  #elementDecoder(elementOid: number): TextDecoder | null {
    const element = this.decoderFor(elementOid);
    return element === decodeText ? null : element;
  }

  /** The user set the decoder of `oid`: its values are asked for as text from now on. */
  #changed(oid: number): void {
    this.#userSet.add(oid);
    this.#textRangeDecoders.clear();
    this.#version += 1;
  }
}

/** The bytes of a binary value of a type without a binary decoder, as a Buffer of their own. */
function copyBytes(bytes: Buffer, start: number, end: number): Buffer {
  return Buffer.from(bytes.subarray(start, end));
}

/** One closure per array type, created when the decoder is set (never per value). */
function arrayDecoder(element: TextDecoder | null, delimiter: number): TextDecoder {
  return (text) => parseArray(text, element, delimiter);
}

function checkOid(oid: number): void {
  if (!Number.isInteger(oid) || oid < 0 || oid > 0xffffffff) throw new TypeError('a type OID is an integer from 0 to 4294967295');
}
