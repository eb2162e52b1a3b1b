import { randomBytes } from 'node:crypto';
import type { ErrorFields } from '../errors';
import { close } from '../wire';
import type { FieldDescription, FormatCode } from '../wire';
import { BindTemplate } from '../wire/frontend-messages';

/** A named prepared statement the server holds for this connection. */
export interface CachedStatement {
  readonly name: string;
  /** The columns, once the leader's Describe has reported them (empty for NoData); undefined until then. */
  fields: readonly FieldDescription[] | undefined;
  /**
   * How many parameters the statement takes, once the leader's Describe has reported them
   * (ParameterDescription); undefined until then.
   */
  parameterCount: number | undefined;
  /**
   * Whether every execution describes its portal rather than taking `fields`: the server fixes
   * the columns of a prepared statement only for planned statements (SELECT, INSERT, ...); a
   * FETCH, EXECUTE or CALL can give different columns on each execution.
   */
  describesPortal: boolean;
  /**
   * The result formats of its Binds: none (the default) means all text, one applies to every
   * column, otherwise one per column. Set with {@link setResultFormats}, which rebuilds the
   * Bind template.
   */
  resultFormats: readonly FormatCode[];
  /** Its Bind with the name and result formats encoded once; see {@link bindTemplateOf}. */
  bindTemplate: BindTemplate | undefined;
  /** Why preparing it failed, for the requests that were pipelined behind the Parse. */
  failure: Error | undefined;
  /** When it was last used, on the cache's own clock (for least-recently-used eviction). */
  lastUse: number;
}

/**
 * The connection's prepared statements, by SQL text, least recently used first out. A
 * statement seen again skips Parse and Describe: its execution is Bind/Execute/Sync, the
 * server reuses its plan, and the columns come from the cache.
 *
 * Evicted statements are closed on the server with the next request's write (Close travels
 * after every request that could still use the name, since writes are FIFO).
 */
export class StatementCache {
  readonly #capacity: number;
  readonly #entries = new Map<string, CachedStatement>();
  #pendingCloses: Buffer[] = [];
  #counter = 0;
  /**
   * Part of every name, random per connection: behind a pooler in transaction mode (PgBouncer)
   * many clients share one server session, where `rxpg_1` of another client is another
   * statement. With unique names a statement is at worst missing there (26000, prepared again
   * and retried), never someone else's.
   */
  readonly #namePrefix = `rxpg_${randomBytes(8).toString('hex')}_`;
  #clock = 0;

  /** @param capacity how many statements to keep; 0 turns caching off. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The statement registered for `sql` — prepared, or with its Parse in flight ahead of the
   * caller — marked as recently used; undefined when there is none.
   */
  use(sql: string): CachedStatement | undefined {
    const entry = this.#entries.get(sql);
    // A stamp rather than re-inserting into the Map: hits are the hot path, evictions are rare.
    if (entry !== undefined) entry.lastUse = ++this.#clock;
    return entry;
  }

  /**
   * How many parameters the statement registered for `sql` takes, when its Describe has
   * reported it; undefined otherwise. Does not count as a use.
   */
  parameterCountOf(sql: string): number | undefined {
    return this.#entries.get(sql)?.parameterCount;
  }

  /**
   * Registers a statement to prepare for `sql`, or returns undefined when caching is off or
   * `sql` is already registered.
   */
  prepare(sql: string): CachedStatement | undefined {
    if (this.#capacity === 0 || this.#entries.has(sql)) return undefined;
    if (this.#entries.size >= this.#capacity) this.#evictLeastRecentlyUsed();
    const entry: CachedStatement = {
      name: `${this.#namePrefix}${(this.#counter += 1)}`,
      fields: undefined,
      parameterCount: undefined,
      describesPortal: true,
      resultFormats: allText,
      bindTemplate: undefined,
      failure: undefined,
      lastUse: ++this.#clock,
    };
    this.#entries.set(sql, entry);
    return entry;
  }

  #evictLeastRecentlyUsed(): void {
    let oldestSql: string | undefined;
    let oldest: CachedStatement | undefined;
    for (const [sql, entry] of this.#entries) {
      if (oldest === undefined || entry.lastUse < oldest.lastUse) {
        oldestSql = sql;
        oldest = entry;
      }
    }
    if (oldestSql === undefined || oldest === undefined) return;
    this.#entries.delete(oldestSql);
    this.#pendingCloses.push(close('statement', oldest.name));
  }

  /** Forgets a statement that failed to prepare or that the server no longer has. */
  forget(sql: string, entry: CachedStatement): void {
    if (this.#entries.get(sql) !== entry) return;
    this.#entries.delete(sql);
    if (entry.fields !== undefined) this.#pendingCloses.push(close('statement', entry.name));
  }

  /** Forgets every statement (the server dropped them: DISCARD ALL, DEALLOCATE ALL). */
  clear(): void {
    this.#entries.clear();
  }

  /** Close messages for evicted statements, to prepend to the next write; empties the list. */
  takeCloses(): Buffer[] {
    if (this.#pendingCloses.length === 0) return noCloses;
    const closes = this.#pendingCloses;
    this.#pendingCloses = [];
    return closes;
  }
}

const noCloses: Buffer[] = [];
const allText: readonly FormatCode[] = Object.freeze([]);

/**
 * The Bind template of a cached statement (built on first use): a request's Bind is the
 * template plus its parameter values.
 *
 * @example
 * channel.write(bindTemplateOf(entry).encode(parameters, executeSync));
 */
export function bindTemplateOf(entry: CachedStatement): BindTemplate {
  return (entry.bindTemplate ??= new BindTemplate({ statement: entry.name, resultFormats: entry.resultFormats }));
}

/**
 * Sets the result formats of a cached statement's later Binds (none: all text; one: every
 * column; otherwise one per column), e.g. binary for the columns that have a binary decoder,
 * once its columns are known. The next Bind uses a template built with them.
 *
 * @example
 * setResultFormats(entry, entry.fields.map((field) => (hasBinaryDecoder(field.dataTypeId) ? 1 : 0)));
 */
export function setResultFormats(entry: CachedStatement, resultFormats: readonly FormatCode[]): void {
  entry.resultFormats = resultFormats;
  entry.bindTemplate = undefined;
}

/**
 * Whether `code` is how the server refuses a cached statement: one it no longer has (26000,
 * after DEALLOCATE or DISCARD ran through SQL, or a pooler moved the session) or can no longer
 * use as prepared (0A000 "cached plan must not change result type", after DDL). Such a
 * statement is forgotten, so the next request prepares it again.
 */
export function isStaleStatementCode(code: string | undefined): boolean {
  return code === '26000' || code === '0A000';
}

/**
 * The server's error fields for a request that bound a cached statement, except that "prepared
 * statement "rxpg_…" does not exist" says what happened without naming rxpg's internal
 * statement.
 */
export function cachedStatementErrorFields(fields: ErrorFields): ErrorFields {
  if (fields.code !== '26000') return fields;
  return {
    ...fields,
    message:
      'the statement prepared for this query no longer exists on the server (DEALLOCATE or DISCARD ran, or a pooler moved the session); the next request prepares it again',
  };
}
