/**
 * A pooled request left its connection in a state that the next user must not inherit: it
 * ended inside an open transaction (e.g. `pool.query('BEGIN')`). The statement ran; the pool
 * rolled the transaction back before reusing the connection. Run a transaction with
 * `pool.transaction(work)`, or hold one connection with `pool.withConnection(work)`.
 */
export class PoolMisuseError extends Error {
  /** The SQL text of the request that left the transaction open, if it was one statement (non-enumerable). */
  declare readonly sql: string | undefined;

  constructor(message: string, sql?: string) {
    super(message);
    Object.defineProperty(this, 'sql', { value: sql, enumerable: false });
  }

  /** `'PoolMisuseError'`, the name that stack traces and `util.inspect` show (on the prototype, so not enumerable). */
  override get name(): string {
    return 'PoolMisuseError';
  }
}
