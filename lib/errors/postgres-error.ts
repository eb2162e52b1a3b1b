import { DatabaseError } from 'pg-protocol';
import type { ErrorFields } from './error-fields';

/** What the client knows about the statement that failed, beyond the server's fields. */
export interface PostgresErrorContext {
  /** The SQL text that failed. Kept non-enumerable: it is not logged by accident. */
  readonly sql?: string;
  /** How many parameters were bound (never their values). */
  readonly parameterCount?: number;
}

type DatabaseErrorBase = Omit<DatabaseError, 'name' | 'position' | 'internalPosition' | 'length'>;

// DatabaseError types `position` as a string and `name` as a message-name union; PostgresError
// keeps the prototype chain (so `instanceof DatabaseError` holds) but types those fields as
// the numbers and the class name they really are here.
const DatabaseErrorClass = DatabaseError as unknown as new (message: string, length: number, name: string) => DatabaseErrorBase & Error;

const sqlAroundPositionWidth = 60;

/**
 * An ErrorResponse from the server: a failed statement, a constraint violation, a FATAL that
 * ended the session. Extends `pg-protocol`'s `DatabaseError`, so `err instanceof DatabaseError`
 * and `err.code` work as with `pg`. Every ErrorResponse field is a property, including the
 * non-localized severity (`severityNonLocalized`, field `V`) and a numeric `position`.
 *
 * The failing SQL is kept in the non-enumerable `sql` property and quoted in the message only
 * around `position`. Parameter values never appear; only their count does.
 *
 * @example
 * import { PostgresError } from 'rxpg';
 * if (err instanceof PostgresError && err.code === '23505') { ... } // unique_violation
 */
export class PostgresError extends DatabaseErrorClass implements ErrorFields {
  declare readonly severity: string | undefined;
  declare readonly code: string | undefined;
  readonly severityNonLocalized: string | undefined;
  readonly position: number | undefined;
  readonly internalPosition: number | undefined;
  /** How many parameters the failing statement had, when it was a parameterised statement. */
  readonly parameterCount: number | undefined;
  /** The SQL text that failed (non-enumerable). */
  declare readonly sql: string | undefined;

  constructor(fields: ErrorFields, context: PostgresErrorContext = {}) {
    super(describe(fields, context.sql), 0, 'error');
    Object.defineProperty(this, 'name', { value: 'PostgresError', enumerable: false, configurable: true, writable: true });
    Object.defineProperty(this, 'length', { value: undefined, enumerable: false });
    Object.defineProperty(this, 'sql', { value: context.sql, enumerable: false });
    const self = this as unknown as Record<string, unknown>;
    self.severity = fields.severity;
    self.code = fields.code;
    self.detail = fields.detail;
    self.hint = fields.hint;
    self.internalQuery = fields.internalQuery;
    self.where = fields.where;
    self.schema = fields.schema;
    self.table = fields.table;
    self.column = fields.column;
    self.dataType = fields.dataType;
    self.constraint = fields.constraint;
    self.file = fields.file;
    self.line = fields.line;
    self.routine = fields.routine;
    this.severityNonLocalized = fields.severityNonLocalized;
    this.position = fields.position;
    this.internalPosition = fields.internalPosition;
    this.parameterCount = context.parameterCount;
  }

  /** The SQLSTATE class: the first two characters of `code` (e.g. `23` for integrity). */
  get sqlstateClass(): string | undefined {
    return this.code?.slice(0, 2);
  }
}

function describe(fields: ErrorFields, sql: string | undefined): string {
  const message = fields.message ?? 'unknown server error';
  if (sql === undefined || fields.position === undefined) return message;
  return `${message} (at position ${fields.position}: ${excerptAround(sql, fields.position)})`;
}

/** A window of the SQL around a 1-based character position, with the spot marked. */
function excerptAround(sql: string, position: number): string {
  const characters = Array.from(sql);
  const at = Math.min(Math.max(position - 1, 0), characters.length);
  const half = sqlAroundPositionWidth / 2;
  const start = Math.max(0, at - half);
  const end = Math.min(characters.length, at + half);
  const before = characters.slice(start, at).join('');
  const after = characters.slice(at, end).join('');
  return `${start > 0 ? '…' : ''}${before}⟨here⟩${after}${end < characters.length ? '…' : ''}`.replace(/\s+/g, ' ');
}
