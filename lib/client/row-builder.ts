import { ValueDecodeError } from '../errors/value-decode-error';
import type { TypeRegistry } from '../types';
import { builtinTypeName } from '../types/type-names';
import { dataRowTexts, type DataRow, type FieldDescription, type FormatCode } from '../wire';

/** How `query` shapes each row. */
export type RowMode = 'object' | 'array' | 'raw';

/**
 * The row mode of a request's options (default `'object'`), checked once when the request is
 * made: a mode from plain JavaScript (`'arrays'`, `'__proto__'`) must not pick a builder.
 *
 * @throws TypeError for anything but `'object'`, `'array'` or `'raw'`.
 * @example
 * rowModeOf({ rowMode: 'array' }); // 'array'
 */
export function rowModeOf(options: { readonly rowMode?: unknown }): RowMode {
  const mode = options.rowMode ?? 'object';
  if (mode !== 'object' && mode !== 'array' && mode !== 'raw') {
    throw new TypeError(
      `rowMode must be 'object', 'array' or 'raw', not ${typeof mode === 'string' ? JSON.stringify(mode.slice(0, 20)) : typeof mode}`,
    );
  }
  return mode;
}

/**
 * postgres_async's row shape: the column names (one array shared by every row of a result)
 * and the text values as the server sent them, `null` for NULL. No decoding.
 */
export interface RawRow {
  /** The result's column names in order, the same frozen array for every row. */
  readonly columnNames: readonly string[];
  /** The text values in column order, `null` for NULL. */
  readonly values: readonly (string | null)[];
}

/**
 * A row of any row mode: what `query` emits when its options' `rowMode` is only known at run
 * time (a `QueryOptions` value). A literal `rowMode` in the options gives the exact row type.
 */
export type QueryRow = Record<string, unknown> | unknown[] | RawRow;

/** Turns one DataRow (its values still bytes) into the row the subscriber gets. */
export type RowBuilder = (row: DataRow) => unknown;

/**
 * Makes the row builder for one RowDescription: the decoders are looked up once here, by type
 * OID and format, not per row; each value is decoded from its bytes in the DataRow. Object rows
 * are plain objects whose keys are the column names in order (a later column with the same
 * name wins); a column named `__proto__` becomes an ordinary own property, never the
 * prototype. Raw rows get the values as text, whatever `formats` says.
 *
 * `formats` are the result formats asked for in the Bind, as the protocol has them: none (all
 * text), one for every column, or one per column. Without them, each field's own `format`
 * (what a RowDescription of the portal reports) is used.
 *
 * Errors: the builder throws what a user's decoder throws, as it is; when a built-in decoder
 * refuses a value (a binary value of the wrong length, text it cannot read: never from a real
 * server) a ValueDecodeError naming the column, its type and format, never the value. Either
 * fails only the row's query.
 *
 * @example
 * const build = rowBuilder(fields, connection.types, 'array');
 * const row = build(dataRow); // [42, 'text', null]
 */
export function rowBuilder(
  fields: readonly FieldDescription[],
  types: TypeRegistry,
  mode: RowMode,
  formats?: readonly FormatCode[],
): RowBuilder {
  const count = fields.length;
  if (mode === 'raw') {
    const columnNames = Object.freeze(fields.map((field) => field.name));
    return (row) => ({ columnNames, values: dataRowTexts(row) });
  }
  const columnFormats = fields.map((field, i) => formatOf(field, i, formats));
  const decoders = fields.map((field, i) => types.valueDecoderFor(field.dataTypeId, columnFormats[i]!));
  // Whose decoder each column has, as it is now (the registry may change before a row fails).
  const userDecoders = fields.map((field, i) => columnFormats[i] === 0 && types.hasUserDecoder(field.dataTypeId));
  // Only a failing row pays for naming its column: one try/catch around each row, not per value.
  const failure = (error: unknown, i: number): unknown => decodeFailure(error, fields[i]!, i, columnFormats[i]!, userDecoders[i]!);
  if (mode === 'array') {
    return ({ bytes, start }) => {
      const values: unknown[] = new Array(count);
      // The decoder has checked the layout: the count (skipped) and count values, each an
      // int32 length (-1 for NULL) and its bytes.
      let at = start + 2;
      let i = 0;
      try {
        for (; i < count; i++) {
          const length = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
          at += 4;
          if (length < 0) {
            values[i] = null;
          } else {
            values[i] = decoders[i]!(bytes, at, at + length);
            at += length;
          }
        }
      } catch (error) {
        throw failure(error, i);
      }
      return values;
    };
  }
  const names = fields.map((field) => field.name);
  if (names.includes('__proto__')) {
    return ({ bytes, start }) => {
      const row: Record<string, unknown> = {};
      let at = start + 2;
      let i = 0;
      try {
        for (; i < count; i++) {
          const length = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
          at += 4;
          let value: unknown = null;
          if (length >= 0) {
            value = decoders[i]!(bytes, at, at + length);
            at += length;
          }
          Object.defineProperty(row, names[i]!, { value, enumerable: true, writable: true, configurable: true });
        }
      } catch (error) {
        throw failure(error, i);
      }
      return row;
    };
  }
  return ({ bytes, start }) => {
    const row: Record<string, unknown> = {};
    let at = start + 2;
    let i = 0;
    try {
      for (; i < count; i++) {
        const length = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
        at += 4;
        if (length < 0) {
          row[names[i]!] = null;
        } else {
          row[names[i]!] = decoders[i]!(bytes, at, at + length);
          at += length;
        }
      }
    } catch (error) {
      throw failure(error, i);
    }
    return row;
  };
}

/**
 * What a row whose column `index` failed to decode fails its query with. A user's decoder keeps
 * its own error, as it threw it. A built-in decoder's refusal (a hostile server or a broken
 * proxy: a real server sends well-formed values) becomes a ValueDecodeError naming the column,
 * its type and format. Its problem is the decoder's message only for a RangeError (rxpg's
 * decoders, whose messages never quote the value); a SyntaxError (JSON.parse, BigInt) may quote
 * the value, so only its class is said and it is not kept as the cause.
 */
function decodeFailure(error: unknown, field: FieldDescription, index: number, format: FormatCode, userDecoder: boolean): unknown {
  if (userDecoder) return error;
  const typeOid = field.dataTypeId;
  const typeName = builtinTypeName(typeOid);
  const context = { columnName: field.name, columnIndex: index, typeOid, typeName, format: format === 1 ? 'binary' : 'text' } as const;
  if (error instanceof RangeError) return new ValueDecodeError(context, error.message, { cause: error });
  const kind = error instanceof Error ? error.name : typeof error;
  return new ValueDecodeError(
    context,
    `the built-in decoder refused the value (${kind}; its message is left out, as it may quote the value)`,
  );
}

/** The format of column `i`: from the Bind's result formats when given, else the field's own. */
function formatOf(field: FieldDescription, i: number, formats: readonly FormatCode[] | undefined): FormatCode {
  if (formats === undefined) return field.format;
  if (formats.length === 0) return 0;
  return formats.length === 1 ? formats[0]! : (formats[i] ?? 0);
}

/**
 * The row builders made for one RowDescription, per row mode and format choice, and the
 * registry version they match.
 */
interface BuiltRows {
  readonly typesVersion: number;
  /** The result formats to ask for (undefined: all text); null until computed. */
  resultFormats: readonly FormatCode[] | undefined | null;
  object?: RowBuilder;
  array?: RowBuilder;
  raw?: RowBuilder;
  /** The builders for rows asked for in `resultFormats`. */
  formattedObject?: RowBuilder;
  formattedArray?: RowBuilder;
}

/**
 * Keeps the row builders of the RowDescriptions a connection sees again — a cached prepared
 * statement hands out the same fields array on every execution — so a repeated statement skips
 * the decoder lookups. Builders are remade after the registry changes a decoder; the fields
 * arrays are held weakly, so evicted statements take their builders with them.
 *
 * @example
 * const formats = cache.resultFormatsFor(fields); // for the Bind of a described statement
 * const build = cache.builderFor(fields, 'object', formats);
 */
export class RowBuilderCache {
  readonly #types: TypeRegistry;
  readonly #built = new WeakMap<readonly FieldDescription[], BuiltRows>();

  constructor(types: TypeRegistry) {
    this.#types = types;
  }

  /**
   * The result formats to ask the server for the columns `fields` (one per column, from the
   * registry's {@link TypeRegistry.resultFormatFor}), or undefined when every column is text.
   * The same array for the same fields until the registry changes.
   */
  resultFormatsFor(fields: readonly FieldDescription[]): readonly FormatCode[] | undefined {
    const built = this.#builtFor(fields);
    if (built.resultFormats === null) {
      const types = this.#types;
      const formats = fields.map((field) => types.resultFormatFor(field.dataTypeId));
      built.resultFormats = formats.includes(1) ? Object.freeze(formats) : undefined;
    }
    return built.resultFormats;
  }

  /**
   * The row builder for `fields` in `mode`, as {@link rowBuilder} makes it, for rows in
   * `formats` (the Bind's result formats; by default each field's own format).
   */
  builderFor(fields: readonly FieldDescription[], mode: RowMode, formats?: readonly FormatCode[]): RowBuilder {
    const built = this.#builtFor(fields);
    if (formats === undefined || mode === 'raw') return (built[mode] ??= rowBuilder(fields, this.#types, mode));
    // Formats from another registry version (a decoder changed after the Bind was written) are
    // still what the server sends: a builder of their own, not kept.
    if (formats !== built.resultFormats) return rowBuilder(fields, this.#types, mode, formats);
    return mode === 'object'
      ? (built.formattedObject ??= rowBuilder(fields, this.#types, mode, formats))
      : (built.formattedArray ??= rowBuilder(fields, this.#types, mode, formats));
  }

  #builtFor(fields: readonly FieldDescription[]): BuiltRows {
    const typesVersion = this.#types.version;
    let built = this.#built.get(fields);
    if (built === undefined || built.typesVersion !== typesVersion) {
      built = { typesVersion, resultFormats: null };
      this.#built.set(fields, built);
    }
    return built;
  }
}
