import { parseArray } from './array-literal';
import { decodeBytea } from './bytea';
import { decodeInterval } from './interval';
import { arrayElementOids, TypeOid } from './oids';
import { decodeBigInt, decodeBool, decodeFloat, decodeInteger, decodeJson, decodeText } from './text-decoders';
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
 * The text decoders of one connection, by type OID. Nothing is shared between registries:
 * overriding a decoder on one connection never affects another.
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
  #version = 0;

  constructor(options: TypeRegistryOptions = {}) {
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
    for (const [arrayOid, elementOid] of arrayElementOids) this.setArrayDecoder(arrayOid, elementOid);

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
    this.#version += 1;
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
    const element = this.decoderFor(elementOid);
    this.#decoders.set(arrayOid, arrayDecoder(element === decodeText ? null : element, delimiter.charCodeAt(0)));
    this.#version += 1;
    return this;
  }
}

/** One closure per array type, created when the decoder is set (never per value). */
function arrayDecoder(element: TextDecoder | null, delimiter: number): TextDecoder {
  return (text) => parseArray(text, element, delimiter);
}

function checkOid(oid: number): void {
  if (!Number.isInteger(oid) || oid < 0 || oid > 0xffffffff) throw new TypeError('a type OID is an integer from 0 to 4294967295');
}
