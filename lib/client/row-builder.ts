import type { TypeRegistry } from '../types';
import type { FieldDescription } from '../wire';

/** How `query` shapes each row. */
export type RowMode = 'object' | 'array' | 'raw';

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

/** Turns one DataRow's text values into the row the subscriber gets. */
export type RowBuilder = (values: (string | null)[]) => unknown;

/**
 * Makes the row builder for one RowDescription: the decoders are looked up once here, not per
 * row. Object rows are plain objects whose keys are the column names in order (a later column
 * with the same name wins); a column named `__proto__` becomes an ordinary own property, never
 * the prototype.
 */
export function rowBuilder(fields: readonly FieldDescription[], types: TypeRegistry, mode: RowMode): RowBuilder {
  const count = fields.length;
  if (mode === 'raw') {
    const columnNames = Object.freeze(fields.map((field) => field.name));
    return (values) => ({ columnNames, values });
  }
  const decoders = fields.map((field) => types.decoderFor(field.dataTypeId));
  if (mode === 'array') {
    return (values) => {
      const row: unknown[] = new Array(count);
      for (let i = 0; i < count; i++) {
        const text = values[i];
        row[i] = text === null ? null : decoders[i]!(text!);
      }
      return row;
    };
  }
  const names = fields.map((field) => field.name);
  if (names.includes('__proto__')) {
    return (values) => {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < count; i++) {
        const text = values[i];
        Object.defineProperty(row, names[i]!, {
          value: text === null ? null : decoders[i]!(text!),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return row;
    };
  }
  return (values) => {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      const text = values[i];
      row[names[i]!] = text === null ? null : decoders[i]!(text!);
    }
    return row;
  };
}

/** The row builders made for one RowDescription, per row mode, and the registry version they match. */
interface BuiltRows {
  readonly typesVersion: number;
  object?: RowBuilder;
  array?: RowBuilder;
  raw?: RowBuilder;
}

/**
 * Keeps the row builders of the RowDescriptions a connection sees again — a cached prepared
 * statement hands out the same fields array on every execution — so a repeated statement skips
 * the decoder lookups. Builders are remade after the registry changes a decoder; the fields
 * arrays are held weakly, so evicted statements take their builders with them.
 */
export class RowBuilderCache {
  readonly #types: TypeRegistry;
  readonly #built = new WeakMap<readonly FieldDescription[], BuiltRows>();

  constructor(types: TypeRegistry) {
    this.#types = types;
  }

  /** The row builder for `fields` in `mode`, as {@link rowBuilder} makes it. */
  builderFor(fields: readonly FieldDescription[], mode: RowMode): RowBuilder {
    const typesVersion = this.#types.version;
    let built = this.#built.get(fields);
    if (built === undefined || built.typesVersion !== typesVersion) {
      built = { typesVersion };
      this.#built.set(fields, built);
    }
    return (built[mode] ??= rowBuilder(fields, this.#types, mode));
  }
}
