import { ParameterError } from './parameter-error';

/**
 * A value cannot be written as a field of COPY text: everything that makes a
 * {@link ParameterError} for a query parameter (`undefined`, a symbol or function, an Invalid
 * Date, an unsupported object, ...), plus text holding a NUL character, which no PostgreSQL
 * text value can contain (the server would reject the whole COPY).
 *
 * It is a ParameterError (same `code` 22023, `cause` linking an error thrown while encoding),
 * whose message names the row and column by their 0-based indexes instead of `$n`, and never
 * the value, so it is safe to log. `position` is the column's 1-based position.
 *
 * @example
 * encodeCopyTextRow([1, undefined], 7);
 * // throws CopyValueError: COPY row index 7, column index 1: undefined is not a value; pass null for NULL
 */
export class CopyValueError extends ParameterError {
  /** The 0-based index of the row, when the encoder was told it. */
  readonly row: number | undefined;
  /** The 0-based index of the column in the row. */
  readonly column: number;

  /**
   * @param row the 0-based row index, or undefined when unknown.
   * @param column the 0-based column index.
   * @param problem what is wrong, without the value.
   */
  constructor(row: number | undefined, column: number, problem: string, options: { readonly cause?: unknown } = {}) {
    super(column + 1, problem, options);
    this.message = `COPY ${row === undefined ? '' : `row index ${row}, `}column index ${column}: ${problem}`;
    this.row = row;
    this.column = column;
  }

  /** `'CopyValueError'`, the name that stack traces and `util.inspect` show (on the prototype, so not enumerable). */
  override get name(): string {
    return 'CopyValueError';
  }
}
