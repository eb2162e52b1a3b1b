/**
 * Why a transaction failed when none of its statements delivered an error: one of them was
 * abandoned before it ended — its subscriber unsubscribed (`takeUntil`, an aborted `signal`)
 * or its `timeout` fired — so rxpg cancelled it on the server (a CancelRequest), where it
 * failed with 57014 (query_canceled) and took the transaction with it. That server error
 * belonged to a request nobody listened to any more, so it was not delivered; this error
 * describes it instead. It is the `cause` of the TransactionRolledBackError that the COMMIT
 * (or a savepoint's RELEASE) then ends with.
 *
 * `code` is `57014`, as the server's error would have; `reason` says what abandoned the
 * statement; the statement's SQL text is the non-enumerable `sql` (parameter values never
 * appear). For a timeout, `cause` is the TimeoutError that the statement's subscriber got.
 *
 * @example
 * if (error instanceof TransactionRolledBackError && error.cause instanceof StatementCancelledError) {
 *   console.log(`nothing was committed: a statement was cancelled (${error.cause.reason})`);
 * }
 */
export class StatementCancelledError extends Error {
  /** `57014` (query_canceled), the SQLSTATE the server fails a cancelled statement with. */
  readonly code = '57014';
  /** What abandoned the statement: its subscriber left (`unsubscribed`), or its `timeout` option fired. */
  readonly reason: 'unsubscribed' | 'timeout';
  /** The SQL text of the cancelled statement (non-enumerable). */
  declare readonly sql: string | undefined;

  constructor(message: string, options: { readonly reason: 'unsubscribed' | 'timeout'; readonly sql?: string; readonly cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options.reason;
    Object.defineProperty(this, 'sql', { value: options.sql, enumerable: false });
  }

  /** `'StatementCancelledError'`, the name that stack traces and `util.inspect` show (on the prototype, so not enumerable). */
  override get name(): string {
    return 'StatementCancelledError';
  }
}
