/**
 * Which value of a result row could not be decoded: its column and type, and the format the
 * server sent it in. Never the value.
 */
export interface ValueDecodeErrorContext {
  /** The column's name, as in the RowDescription. */
  readonly columnName: string;
  /** The column's 0-based position in the row (its index in an array row). */
  readonly columnIndex: number;
  /** The column's type OID (`ResultField.dataTypeId`). */
  readonly typeOid: number;
  /** The type's name when rxpg knows it (`'int4'`, `'int4[]'`), else undefined. */
  readonly typeName?: string;
  /** The format the value was sent in. */
  readonly format: 'text' | 'binary';
}

/**
 * A value of a result row that rxpg's built-in decoder for its type refuses: a binary value of
 * the wrong length (an int4 of 3 bytes), a binary array whose lengths do not add up, a text
 * value the type's text decoder cannot read. A real PostgreSQL never sends one; a hostile
 * server or a broken proxy can. It fails only its query: the rest of the query's rows are
 * discarded and the connection stays usable (it is not a {@link ConnectionError}).
 *
 * The message names the column (name and index), the type (name and OID), the format and what
 * is wrong, never the value's bytes or text, so it is safe to log. `code` is SQLSTATE `22P03`
 * (invalid_binary_representation) or `22P02` (invalid_text_representation). `cause` links the
 * decoder's own error when its message cannot quote the value (a RangeError); a decoder set by
 * the user is never wrapped: what it throws fails the query as it is.
 *
 * @example
 * import { ValueDecodeError } from 'rxpg';
 * connection.query('SELECT n FROM t').subscribe({
 *   error: (err) => err instanceof ValueDecodeError && err.columnName, // 'n'
 * });
 * // err.message: column "n" (index 0) of type int4 (OID 23), binary format: int4 binary value of 3 bytes, expected 4
 */
export class ValueDecodeError extends Error {
  /** SQLSTATE-style code: `22P03` for a binary value, `22P02` for a text value. */
  readonly code: '22P02' | '22P03';
  /** The column's name. */
  readonly columnName: string;
  /** The column's 0-based position in the row. */
  readonly columnIndex: number;
  /** The column's type OID. */
  readonly typeOid: number;
  /** The type's name when rxpg knows it, else undefined. */
  readonly typeName: string | undefined;
  /** The format the value was sent in. */
  readonly format: 'text' | 'binary';

  /**
   * @param context the column, its type and the format.
   * @param problem what is wrong, without the value, e.g. `int4 binary value of 3 bytes, expected 4`.
   */
  constructor(context: ValueDecodeErrorContext, problem: string, options: { readonly cause?: unknown } = {}) {
    const type = context.typeName === undefined ? `OID ${context.typeOid}` : `${context.typeName} (OID ${context.typeOid})`;
    super(
      `column ${JSON.stringify(context.columnName)} (index ${context.columnIndex}) of type ${type}, ${context.format} format: ${problem}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = context.format === 'binary' ? '22P03' : '22P02';
    this.columnName = context.columnName;
    this.columnIndex = context.columnIndex;
    this.typeOid = context.typeOid;
    this.typeName = context.typeName;
    this.format = context.format;
  }

  /** `'ValueDecodeError'`, the name that stack traces and `util.inspect` show (on the prototype, so not enumerable). */
  override get name(): string {
    return 'ValueDecodeError';
  }
}
