/**
 * A statement ran but its result does not fit the operation: rows from an operation that
 * expects none (`execute`), or a COPY through an operation that cannot carry COPY data. The
 * statement may have had its effect; the connection stays usable.
 */
export class QueryShapeError extends Error {
  /** The SQL text (non-enumerable). */
  declare readonly sql: string | undefined;

  constructor(message: string, sql?: string) {
    super(message);
    Object.defineProperty(this, 'sql', { value: sql, enumerable: false });
  }

  /** `'QueryShapeError'`, the name that stack traces and `util.inspect` show (on the prototype, so not enumerable). */
  override get name(): string {
    return 'QueryShapeError';
  }
}
