/**
 * What the leading keyword of one statement's SQL text says about it, read without parsing
 * the rest: whether it is a COPY (which runs alone), whether the server fixes its result
 * columns when it is prepared, and whether it may open a transaction block.
 */

/** Statements whose prepared form has fixed result columns (the server refuses a change with 0A000). */
const plannedStatementKeywords: ReadonlySet<string> = new Set(['select', 'with', 'insert', 'update', 'delete', 'merge', 'values', 'table']);

/**
 * Where the first keyword of SQL text starts, after white space, `-- ...` comments and nested
 * `/* ... *\/` comments: `sql.length` when nothing but those is there, -1 inside a block
 * comment that never ends.
 */
export function firstKeywordAt(sql: string): number {
  let i = 0;
  const n = sql.length;
  for (;;) {
    while (i < n && /\s/.test(sql[i]!)) i++;
    if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      if (end < 0) return n;
      i = end + 1;
      continue;
    }
    if (sql.startsWith('/*', i)) {
      let depth = 1;
      i += 2;
      while (depth > 0) {
        if (i >= n) return -1;
        if (sql.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else i++;
      }
      continue;
    }
    return i;
  }
}

/**
 * Whether SQL text is a COPY statement: its first keyword is COPY. Such a statement runs
 * exclusively (see Conversation.exclusive).
 *
 * @example
 * startsWithCopy('-- load\n COPY t FROM STDIN'); // true
 */
export function startsWithCopy(sql: string): boolean {
  // The common case, decided by the first character: a letter other than c, e.g. SELECT.
  const first = sql.charCodeAt(0) | 0x20;
  if (first >= 0x61 && first <= 0x7a && first !== 0x63) return false;
  const i = firstKeywordAt(sql);
  return i >= 0 && /^copy\b/i.test(sql.slice(i, i + 5));
}

/**
 * Whether the server keeps a prepared statement's columns fixed: only for planned statements.
 * Any other statement, or text whose first keyword is not recognised (a parenthesised SELECT
 * too), has its portal described on every execution.
 *
 * @example
 * hasPlannedColumns('FETCH 3 FROM c'); // false
 */
export function hasPlannedColumns(sql: string): boolean {
  const start = firstKeywordAt(sql);
  if (start < 0) return false;
  const keyword = /^[a-z]+/i.exec(sql.slice(start, start + 7));
  return keyword !== null && plannedStatementKeywords.has(keyword[0].toLowerCase());
}

/**
 * Whether one statement of the extended protocol may open a transaction block: it starts with
 * `BEGIN` or `START TRANSACTION`, in any case. The extended protocol runs exactly one
 * statement, and no other statement leaves a transaction block open, so a pool may pipeline
 * every statement for which this is false without one landing inside another's transaction.
 * Errs towards true: text inside a comment that never ends counts as opening one.
 *
 * @example
 * opensTransaction('  /* x *\/ begin isolation level serializable'); // true
 * opensTransaction('SELECT 1');                                       // false
 */
export function opensTransaction(sql: string): boolean {
  const i = firstKeywordAt(sql);
  if (i < 0) return true;
  return /^(?:begin|start\s+transaction)\b/i.test(sql.slice(i, i + 40));
}
