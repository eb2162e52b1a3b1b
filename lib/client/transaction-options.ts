/** The isolation levels `transaction` accepts (PostgreSQL runs `read uncommitted` as `read committed`). */
export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

/**
 * How `transaction` begins: `BEGIN` with these modes. Unset options keep the session's
 * defaults (`default_transaction_isolation`, `default_transaction_read_only`,
 * `default_transaction_deferrable`).
 */
export interface TransactionOptions {
  /** `ISOLATION LEVEL READ COMMITTED | REPEATABLE READ | SERIALIZABLE`. */
  readonly isolation?: IsolationLevel;
  /** `READ ONLY` when true, `READ WRITE` when false. */
  readonly readOnly?: boolean;
  /**
   * `DEFERRABLE` when true, `NOT DEFERRABLE` when false. PostgreSQL honours it only for a
   * serializable, read-only transaction (it waits for a snapshot that cannot fail).
   */
  readonly deferrable?: boolean;
}

const isolationClauses: Readonly<Record<IsolationLevel, string>> = {
  'read committed': 'ISOLATION LEVEL READ COMMITTED',
  'repeatable read': 'ISOLATION LEVEL REPEATABLE READ',
  serializable: 'ISOLATION LEVEL SERIALIZABLE',
};

const knownOptions = new Set(['isolation', 'readOnly', 'deferrable']);

/**
 * The BEGIN statement for `options`, built only from fixed clauses (never from the values'
 * text). Throws a TypeError naming the option when `options` is not valid: an unknown key (a
 * typo would otherwise silently run with the defaults), an isolation level not in the list, or
 * a non-boolean flag.
 */
export function beginStatementFor(options: TransactionOptions | undefined): string {
  const clauses = transactionModeClauses(options);
  return clauses.length === 0 ? 'BEGIN' : `BEGIN ${clauses.join(', ')}`;
}

/** Throws as {@link beginStatementFor} when `options` is not valid; returns whether any mode is set. */
export function hasTransactionModes(options: TransactionOptions | undefined): boolean {
  return transactionModeClauses(options).length > 0;
}

function transactionModeClauses(options: TransactionOptions | undefined): string[] {
  if (options === undefined) return [];
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(
      `transaction options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!knownOptions.has(key))
      throw new TypeError(`unknown transaction option ${JSON.stringify(key)} (known: isolation, readOnly, deferrable)`);
  }
  const clauses: string[] = [];
  const { isolation, readOnly, deferrable } = options;
  if (isolation !== undefined) {
    const clause = typeof isolation === 'string' && Object.hasOwn(isolationClauses, isolation) ? isolationClauses[isolation] : undefined;
    if (clause === undefined) {
      throw new TypeError(
        `transaction option isolation must be 'read committed', 'repeatable read' or 'serializable', got ${describe(isolation)}`,
      );
    }
    clauses.push(clause);
  }
  if (readOnly !== undefined) {
    if (typeof readOnly !== 'boolean') throw new TypeError(`transaction option readOnly must be a boolean, got ${describe(readOnly)}`);
    clauses.push(readOnly ? 'READ ONLY' : 'READ WRITE');
  }
  if (deferrable !== undefined) {
    if (typeof deferrable !== 'boolean')
      throw new TypeError(`transaction option deferrable must be a boolean, got ${describe(deferrable)}`);
    clauses.push(deferrable ? 'DEFERRABLE' : 'NOT DEFERRABLE');
  }
  return clauses;
}

/** A bad option value as the message shows it: a string quoted (cut to 40 characters), else its type. */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return value === null ? 'null' : typeof value;
}
