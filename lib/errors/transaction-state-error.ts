/**
 * A transaction helper was used where it cannot do what it promises; nothing was sent:
 *
 * - `transaction(...)` on a connection that is already inside a transaction (its
 *   `transactionStatus` is not `idle`): code `25001` (active_sql_transaction);
 * - a request made through a transaction's `tx` after that transaction (or savepoint) has
 *   ended — it would otherwise run outside of it: code `25000` (invalid_transaction_state).
 *
 * @example
 * connection.transaction((tx) => tx.query('SELECT 1')).subscribe({ error: (e) => e instanceof TransactionStateError });
 */
export class TransactionStateError extends Error {
  /** `25001` (a transaction is already open) or `25000` (the transaction has ended). */
  readonly code: '25000' | '25001';

  constructor(message: string, code: '25000' | '25001') {
    super(message);
    this.code = code;
  }

  /** `'TransactionStateError'`, the name that stack traces and `util.inspect` show (on the prototype, so not enumerable). */
  override get name(): string {
    return 'TransactionStateError';
  }
}
