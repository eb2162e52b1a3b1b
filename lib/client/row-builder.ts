import type { TypeRegistry } from '../types';
import type { FieldDescription } from '../wire';

/** How `query` shapes each row. */
export type RowMode = 'object' | 'array' | 'raw';

/**
 * postgres_async's row shape: the column names (one array shared by every row of a result)
 * and the text values as the server sent them, `null` for NULL. No decoding.
 */
export interface RawRow {
  readonly columnNames: readonly string[];
  readonly values: readonly (string | null)[];
}

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
        row[i] = text === null ? null : decoders[i](text);
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
        Object.defineProperty(row, names[i], {
          value: text === null ? null : decoders[i](text),
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
      row[names[i]] = text === null ? null : decoders[i](text);
    }
    return row;
  };
}
