/**
 * Whether one statement of the extended protocol may open a transaction block: it starts,
 * after white space and comments (`-- ...` and nested `/* ... *\/`), with `BEGIN` or
 * `START TRANSACTION`, in any case. The extended protocol runs exactly one statement, and no
 * other statement leaves a transaction block open, so a pool may pipeline every statement for
 * which this is false without one landing inside another's transaction. Errs towards true:
 * text it cannot skip (an unterminated comment) counts as opening one.
 *
 * @example
 * opensTransaction('  /* x *\/ begin isolation level serializable'); // true
 * opensTransaction('SELECT 1');                                       // false
 */
export function opensTransaction(sql: string): boolean {
  let i = 0;
  for (;;) {
    while (i < sql.length && /\s/.test(sql[i]!)) i++;
    if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      if (end === -1) return false; // only a comment: nothing runs
      i = end + 1;
    } else if (sql.startsWith('/*', i)) {
      let depth = 0;
      do {
        if (sql.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else {
          i++;
        }
        if (i >= sql.length && depth > 0) return true;
      } while (depth > 0);
    } else {
      break;
    }
  }
  return /^(?:begin|start\s+transaction)\b/i.test(sql.slice(i, i + 40));
}
