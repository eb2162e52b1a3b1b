import type { ObservableInput } from 'rxjs';
import type { ResultField } from '../protocol';
import type { RowMode } from './row-builder';

/**
 * postgres_async's pushback: called after each socket chunk's worth of rows has been
 * delivered; while what it returns is pending (a Promise not settled, an Observable that has
 * neither emitted nor ended), the connection stops reading from its socket, so TCP pushes back
 * on the server. Returning nothing goes on at once.
 */
export type Pushback = () => ObservableInput<unknown> | void;

/** What a statement reported when it finished (CommandComplete). */
export interface CommandResult {
  /** The command tag: `SELECT 3`, `INSERT 0 1`, `UPDATE 7`, ... (`''` for an empty query). */
  readonly command: string;
  /** The row count at the end of the tag, where it has one. */
  readonly rowCount: number | undefined;
}

/**
 * Options of `query` with any row mode. Passing a `QueryOptions` whose `rowMode` is only known
 * at run time makes `query` emit `QueryRow`s; a literal mode picks the exact row type
 * (see {@link ObjectQueryOptions}, {@link ArrayQueryOptions}, {@link RawQueryOptions}).
 */
export interface QueryOptions {
  /** `object` (default): rows keyed by column name; `array`: value arrays; `raw`: see RawRow. */
  readonly rowMode?: RowMode;
  /** See {@link Pushback}. */
  readonly pushback?: Pushback;
  /**
   * Milliseconds the request may take from subscribe to its end; past that it is abandoned
   * like an unsubscribe and errors with a TimeoutError.
   */
  readonly timeout?: number;
  /** Called with the columns before the first row, also for results with no rows (postgres_async's handle_columns). */
  readonly onFields?: (fields: readonly ResultField[]) => void;
  /** Called with the command tag and row count just before completion. */
  readonly onComplete?: (result: CommandResult) => void;
}

/**
 * Options of `query` that keep the default row shape: objects keyed by column name with
 * decoded values. The rows are typed by `query<T>`'s type parameter (not checked).
 */
export interface ObjectQueryOptions extends QueryOptions {
  /** Absent or `object`. */
  readonly rowMode?: 'object';
}

/**
 * Options of `query` for rows as arrays of decoded values in column order: `query<T>` takes an
 * array or tuple type, `unknown[]` by default.
 *
 * @example
 * connection.query<[number, string]>('SELECT id, name FROM users', [], { rowMode: 'array' });
 */
export interface ArrayQueryOptions extends QueryOptions {
  /** Rows as value arrays. */
  readonly rowMode: 'array';
}

/**
 * Options of `query` for postgres_async's raw rows (`RawRow`): shared column names and
 * the text values as the server sent them, no decoding.
 */
export interface RawQueryOptions extends QueryOptions {
  /** Rows as `RawRow`s. */
  readonly rowMode: 'raw';
}
