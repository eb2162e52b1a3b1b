import { PostgresError, ProtocolError, QueryShapeError } from '../errors';
import { copyFail, dataRowLength, dataRowTexts, query, type BackendMessage, type FieldDescription } from '../wire';
import type { Conversation, ConversationChannel } from './conversation';

/** A column of a result set, from RowDescription. */
export interface ResultField {
  /** The column's name (its alias, or `?column?` for an unnamed expression). */
  readonly name: string;
  /** The OID of the column's type. */
  readonly dataTypeId: number;
  /** The OID of the table the column comes from, or 0. */
  readonly tableId: number;
  /** The column's attribute number in that table, or 0. */
  readonly columnId: number;
  /** The type's size in bytes (`pg_type.typlen`); negative for variable-length types. */
  readonly dataTypeSize: number;
  /** The type modifier (`pg_attribute.atttypmod`, e.g. a varchar's length + 4); -1 when none. */
  readonly dataTypeModifier: number;
}

/** One statement's result from a simple Query: its columns, text rows and command tag. */
export interface ResultSet {
  /** The statement's columns, in order; empty for a statement that returns no rows. */
  readonly fields: readonly ResultField[];
  /** Text values as the server sent them, `null` for NULL. */
  readonly rows: readonly (readonly (string | null)[])[];
  /** The CommandComplete tag, e.g. `SELECT 3` or `INSERT 0 1`; empty for an empty query. */
  readonly command: string;
  /** The row count from the tag, when the tag has one. */
  readonly rowCount: number | undefined;
}

/** Receives what a simple Query produces. */
export interface SimpleQueryObserver {
  resultSet(result: ResultSet): void;
  error(error: Error): void;
  complete(): void;
}

/**
 * A simple-protocol Query: the whole text, possibly several statements (`BEGIN; ...; COMMIT`),
 * one result set per statement. A DataRow whose field count is not its RowDescription's fails
 * the connection (a ProtocolError). A statement error ends the exchange (the server skips the
 * rest); the observer gets the PostgresError at ReadyForQuery, so the connection is back in
 * sync before anyone reacts. COPY is refused: the server's CopyInResponse is answered with
 * CopyFail and CopyOut data is discarded, and the observer gets an error.
 */
export class SimpleQueryConversation implements Conversation {
  readonly exclusive: boolean;
  readonly #sql: string;
  readonly #observer: SimpleQueryObserver;
  #fields: ResultField[] = [];
  /** The current result set's column count; -1 outside a result set (before its RowDescription). */
  #columnCount = -1;
  #rows: (string | null)[][] = [];
  #error: Error | undefined;
  /** A statement's CommandComplete or EmptyQueryResponse has arrived. */
  #answered = false;
  #ended = false;

  constructor(sql: string, observer: SimpleQueryObserver, options: { readonly exclusive?: boolean } = {}) {
    this.exclusive = options.exclusive === true;
    this.#sql = sql;
    this.#observer = observer;
  }

  /** Stops delivering results; the replies are still consumed up to ReadyForQuery. */
  detach(): void {
    this.#ended = true;
  }

  start(channel: ConversationChannel): void {
    channel.write(query(this.#sql));
  }

  handle(message: BackendMessage, channel: ConversationChannel): boolean {
    switch (message.name) {
      case 'RowDescription':
        this.#fields = message.fields.map(toResultField);
        this.#columnCount = message.fields.length;
        this.#rows = [];
        return false;
      case 'DataRow': {
        // A row that does not match its description cannot be trusted to belong to it.
        const count = dataRowLength(message);
        if (count !== this.#columnCount) {
          channel.failConnection(
            new ProtocolError(
              this.#columnCount < 0
                ? `DataRow with ${count} values outside a result set in reply to a simple Query`
                : `DataRow with ${count} values for a RowDescription of ${this.#columnCount} columns`,
            ),
          );
          return false;
        }
        // A simple query's results are text, kept as strings of their own; a detached query's
        // are dropped, so draining a huge result after an unsubscribe keeps nothing.
        if (!this.#ended) this.#rows.push(dataRowTexts(message));
        return false;
      }
      case 'CommandComplete':
        this.#emit(message.tag);
        return false;
      case 'EmptyQueryResponse':
        this.#emit('');
        return false;
      case 'ErrorResponse':
        this.#error ??= new PostgresError(message.fields, { sql: this.#sql });
        return false;
      case 'CopyInResponse':
        this.#error ??= new QueryShapeError('COPY FROM STDIN cannot run through simpleQuery(); use copyIn()', this.#sql);
        channel.write(copyFailMessage);
        return false;
      case 'CopyOutResponse':
        this.#error ??= new QueryShapeError('COPY TO STDOUT cannot run through simpleQuery(); use copyOut()', this.#sql);
        return false;
      case 'CopyData':
      case 'CopyDone':
        return false;
      case 'ReadyForQuery':
        if (!this.#answered && this.#error === undefined) {
          // A Query is answered with CommandComplete, EmptyQueryResponse or an error before its
          // ReadyForQuery: this one belongs to no request we know of.
          channel.failConnection(new ProtocolError('ReadyForQuery before any reply to a simple Query'));
          return false;
        }
        if (!this.#ended) {
          this.#ended = true;
          if (this.#error !== undefined) this.#observer.error(this.#error);
          else this.#observer.complete();
        }
        return true;
      default:
        channel.failConnection(new ProtocolError(`unexpected ${message.name} in reply to a simple Query`));
        return false;
    }
  }

  fail(error: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    // Even after a statement's own ErrorResponse: the connection is gone, and that is what
    // the caller must handle (a server's FATAL is the ConnectionError's cause).
    this.#observer.error(error);
  }

  #emit(tag: string): void {
    this.#answered = true;
    const result: ResultSet = { fields: this.#fields, rows: this.#rows, command: tag, rowCount: rowCountOf(tag) };
    this.#fields = [];
    this.#columnCount = -1;
    this.#rows = [];
    if (!this.#ended && this.#error === undefined) this.#observer.resultSet(result);
  }
}

const copyFailMessage = copyFail('COPY is not supported through this operation');

/** The public description of a column, from a RowDescription field. */
export function toResultField(field: FieldDescription): ResultField {
  return {
    name: field.name,
    dataTypeId: field.dataTypeId,
    tableId: field.tableId,
    columnId: field.columnId,
    dataTypeSize: field.dataTypeSize,
    dataTypeModifier: field.dataTypeModifier,
  };
}

/** The row count at the end of a CommandComplete tag (`INSERT 0 5` → 5), if any. */
export function rowCountOf(tag: string): number | undefined {
  const match = /(\d+)$/.exec(tag);
  return match === null ? undefined : Number(match[1]);
}
