/**
 * The fields of an ErrorResponse or NoticeResponse, named as in the PostgreSQL docs
 * ("Error and Notice Message Fields"). Absent fields are `undefined`.
 */
export interface ErrorFields {
  /** `S`: ERROR, FATAL, PANIC, WARNING, NOTICE, ... (possibly localized). */
  readonly severity?: string;
  /** `V`: the severity, never localized (PostgreSQL 9.6+). */
  readonly severityNonLocalized?: string;
  /** `C`: the SQLSTATE code. */
  readonly code?: string;
  /** `M`: the primary message. */
  readonly message?: string;
  /** `D`: detail. */
  readonly detail?: string;
  /** `H`: hint. */
  readonly hint?: string;
  /** `P`: 1-based character position in the original query string. */
  readonly position?: number;
  /** `p`: position in an internally generated query. */
  readonly internalPosition?: number;
  /** `q`: the internally generated query. */
  readonly internalQuery?: string;
  /** `W`: context (call stack). */
  readonly where?: string;
  /** `s`: schema name. */
  readonly schema?: string;
  /** `t`: table name. */
  readonly table?: string;
  /** `c`: column name. */
  readonly column?: string;
  /** `d`: data type name. */
  readonly dataType?: string;
  /** `n`: constraint name. */
  readonly constraint?: string;
  /** `F`: source file of the server. */
  readonly file?: string;
  /** `L`: source line of the server. */
  readonly line?: string;
  /** `R`: source routine of the server. */
  readonly routine?: string;
}

const fieldNames: Readonly<Record<string, keyof ErrorFields>> = {
  S: 'severity',
  V: 'severityNonLocalized',
  C: 'code',
  M: 'message',
  D: 'detail',
  H: 'hint',
  P: 'position',
  p: 'internalPosition',
  q: 'internalQuery',
  W: 'where',
  s: 'schema',
  t: 'table',
  c: 'column',
  d: 'dataType',
  n: 'constraint',
  F: 'file',
  L: 'line',
  R: 'routine',
};

/**
 * Names the one-letter field codes of an ErrorResponse or NoticeResponse body. Unknown codes
 * are ignored, as the protocol asks ("frontends should silently ignore fields of unrecognized
 * type"). Positions become numbers.
 *
 * @example
 * errorFieldsFromCodes({ S: 'ERROR', C: '42601', M: 'syntax error', P: '8' }).position // 8
 */
export function errorFieldsFromCodes(codes: Readonly<Record<string, string>>): ErrorFields {
  const fields: Record<string, string | number> = {};
  for (const code of Object.keys(codes)) {
    const name = fieldNames[code];
    if (name === undefined) continue;
    const value = codes[code]!;
    fields[name] = name === 'position' || name === 'internalPosition' ? Number(value) : value;
  }
  return fields;
}
