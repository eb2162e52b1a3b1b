/**
 * The server ended a transaction with ROLLBACK although rxpg asked it to commit: `COMMIT` came
 * back with the command tag `ROLLBACK` (a statement of the transaction had failed, and the work
 * went on without it), or a savepoint could not be released because the transaction had
 * failed (it was rolled back to the savepoint instead). Nothing of the transaction (or of the
 * savepoint) was committed.
 *
 * `code` is the failed statement's SQLSTATE when that is a transaction-rollback code (class
 * 40: 40001 serialization failure, 40P01 deadlock), so that a retry policy keyed on `code`
 * re-runs the transaction; otherwise `25P02` (in_failed_sql_transaction) — also when a
 * statement was cancelled (57014), which is no conflict that a retry would resolve. `cause` is
 * why the transaction failed, when rxpg saw it through the transaction's `tx`: the statement's
 * PostgresError, or a StatementCancelledError when a statement was abandoned while it ran (its
 * subscriber unsubscribed or its `timeout` fired, so rxpg cancelled it on the server and its
 * own error was never delivered). The message says the same.
 *
 * @example
 * if (error instanceof TransactionRolledBackError) console.log('nothing was committed', error.cause);
 */
export class TransactionRolledBackError extends Error {
  /** `40001` / `40P01` / other class-40 codes taken from the failure, else `25P02`. */
  readonly code: string;

  constructor(message: string, options: { readonly failure?: unknown } = {}) {
    super(message, options.failure === undefined ? undefined : { cause: options.failure });
    this.code = rollbackCodeOf(options.failure);
  }

  /** `'TransactionRolledBackError'`, the name that stack traces and `util.inspect` show (on the prototype, so not enumerable). */
  override get name(): string {
    return 'TransactionRolledBackError';
  }
}

function rollbackCodeOf(failure: unknown): string {
  const code = (failure as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('40') ? code : '25P02';
}
