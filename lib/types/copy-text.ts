// The text format of COPY (PostgreSQL docs, "COPY", File Formats → Text Format): one row per
// line ending in a newline, fields separated by a tab, `\N` for NULL, and backslash escapes
// for the characters that would otherwise end a field or a line.
import { CopyValueError } from './copy-value-error';
import { encodeParameter } from './encode-parameter';
import { ParameterError } from './parameter-error';

const tab = 0x09;
const newline = 0x0a;
const carriageReturn = 0x0d;
const backslash = 0x5c;
const period = 0x2e;
const letterN = 0x4e;
const letterX = 0x78;

/** A row of COPY text: each field's text, or null for `\N`. */
export type CopyTextRow = (string | null)[];

/** Default for {@link CopyTextEncoder} and {@link encodeCopyTextRows}: 64 Ki UTF-16 units. */
export const defaultCopyChunkLength = 65536;

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Encodes one row as a line of COPY text (text format, default options: tab delimiter,
 * `\N` for NULL), newline included.
 *
 * Each value is first turned into text exactly as a query parameter is (see
 * `encodeParameter`: strings as they are, numbers, bigint, booleans as `t` / `f`, Dates as ISO
 * 8601, arrays as array literals, plain objects as JSON, `toPostgres()` / `toJSON()`), except
 * that a Buffer or Uint8Array becomes bytea hex text `\x0a0b...` (COPY text has no binary
 * fields). Then backslash, backspace, tab, newline, vertical tab, form feed and carriage
 * return are escaped as `\\`, `\b`, `\t`, `\n`, `\v`, `\f`, `\r` — the same escapes
 * `COPY ... TO` prints, so a row of text values encodes to exactly the server's own output.
 * `null` (or a `toPostgres()` returning null) is `\N`; the empty string is an empty field.
 *
 * An empty `values` gives an empty line (a row of a zero-column table).
 *
 * @param values the row's values, one per column, in the COPY column order.
 * @param rowIndex the row's 0-based index, only used to name the row in errors.
 * @returns the line, ending in `\n`.
 *
 * Errors: a {@link CopyValueError} (a ParameterError naming the row and column indexes, never
 * the value) for what `encodeParameter` rejects (`undefined`, symbols, functions, Invalid Date,
 * unsupported objects, ...) and for text containing a NUL character; a TypeError when
 * `values` is not an array.
 *
 * @example
 * encodeCopyTextRow(['a\tb', null, '', 42, true]); // 'a\\tb\t\\N\t\t42\tt\n'
 * encodeCopyTextRow([Buffer.from([1, 255])]);     // '\\\\x01ff\n' (the field text `\\x01ff`)
 */
export function encodeCopyTextRow(values: readonly unknown[], rowIndex?: number): string {
  if (!Array.isArray(values)) {
    throw new TypeError(`a COPY row must be an array of values${rowIndex === undefined ? '' : ` (row index ${rowIndex})`}`);
  }
  const length = values.length;
  if (length === 0) return '\n';
  let line = encodeField(values[0], rowIndex, 0);
  for (let column = 1; column < length; column++) line += '\t' + encodeField(values[column], rowIndex, column);
  return line + '\n';
}

function encodeField(value: unknown, row: number | undefined, column: number): string {
  if (typeof value === 'string') return escapeField(value, row, column);
  if (value === null) return '\\N';
  let text: string | Uint8Array | null;
  try {
    text = encodeParameter(value, column);
  } catch (error) {
    throw copyValueError(error, row, column);
  }
  if (text === null) return '\\N';
  if (typeof text !== 'string') return '\\\\x' + hexOf(text); // bytea hex, its backslash escaped
  return escapeField(text, row, column);
}

/** Restates a ParameterError from encodeParameter with the row and column instead of `$n`. */
function copyValueError(error: unknown, row: number | undefined, column: number): unknown {
  if (!(error instanceof ParameterError)) return error;
  const prefix = `parameter $${column + 1}: `;
  const problem = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return new CopyValueError(row, column, problem, { cause: error.cause });
}

function hexOf(bytes: Uint8Array): string {
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('hex');
}

/**
 * The field text with COPY's escapes. The scan is all that runs for text without special
 * characters (the common case): the same string comes back.
 */
function escapeField(text: string, row: number | undefined, column: number): string {
  const length = text.length;
  for (let at = 0; at < length; at++) {
    const code = text.charCodeAt(at);
    // Special: backslash, NUL, and 0x08..0x0d (\b \t \n \v \f \r).
    if (code > carriageReturn ? code === backslash : code >= 0x08 || code === 0) return escapeFrom(text, at, row, column);
  }
  return text;
}

function escapeFrom(text: string, first: number, row: number | undefined, column: number): string {
  const length = text.length;
  let escaped = '';
  let runStart = 0;
  for (let at = first; at < length; at++) {
    const code = text.charCodeAt(at);
    if (code > carriageReturn ? code !== backslash : code < 0x08 && code !== 0) continue;
    escaped += text.slice(runStart, at) + escapeOf(code, row, column);
    runStart = at + 1;
  }
  return escaped + text.slice(runStart);
}

function escapeOf(code: number, row: number | undefined, column: number): string {
  switch (code) {
    case backslash:
      return '\\\\';
    case 0x08:
      return '\\b';
    case tab:
      return '\\t';
    case newline:
      return '\\n';
    case 0x0b:
      return '\\v';
    case 0x0c:
      return '\\f';
    case carriageReturn:
      return '\\r';
    default:
      throw new CopyValueError(row, column, 'text with a NUL character cannot be sent (PostgreSQL text cannot hold NUL)');
  }
}

/**
 * Batches rows of COPY text into chunks of about `maxChunkLength` characters, for writers
 * that send each chunk as one or more CopyData messages. Feed it row by row with
 * {@link push}; take what is left with {@link flush} at the end.
 *
 * A chunk is returned as soon as it holds at least `maxChunkLength` UTF-16 code units (one
 * byte each for ASCII; a chunk of other text is up to three times as many bytes), so it
 * always ends at a row boundary and is shorter than `maxChunkLength` plus its last row.
 * Nothing is buffered after a chunk is returned. Errors name a row by its index among the
 * rows encoded so far (counted from 0 over the encoder's life).
 *
 * @example
 * const encoder = new CopyTextEncoder();
 * for (const row of rows) {
 *   const chunk = encoder.push(row);
 *   if (chunk !== undefined) send(chunk);
 * }
 * const rest = encoder.flush();
 * if (rest !== undefined) send(rest);
 */
export class CopyTextEncoder {
  /** The chunk length at which {@link push} returns a chunk. */
  readonly maxChunkLength: number;
  #chunk = '';
  #rowCount = 0;

  /**
   * Errors: a RangeError when `maxChunkLength` is not a positive integer.
   */
  constructor(maxChunkLength: number = defaultCopyChunkLength) {
    if (!Number.isSafeInteger(maxChunkLength) || maxChunkLength < 1) {
      throw new RangeError(`maxChunkLength must be a positive integer, got ${String(maxChunkLength)}`);
    }
    this.maxChunkLength = maxChunkLength;
  }

  /** How many rows have been encoded (pushed without an error). */
  get rowCount(): number {
    return this.#rowCount;
  }

  /**
   * Encodes `row` (see {@link encodeCopyTextRow}) and adds it to the current chunk.
   *
   * @returns the chunk when it has reached `maxChunkLength`, else undefined (the row waits).
   *
   * Errors: a {@link CopyValueError} for a value that cannot be encoded; the row is then not
   * added and the encoder can go on.
   */
  push(row: readonly unknown[]): string | undefined {
    const line = encodeCopyTextRow(row, this.#rowCount);
    this.#rowCount += 1;
    const chunk = this.#chunk + line;
    if (chunk.length < this.maxChunkLength) {
      this.#chunk = chunk;
      return undefined;
    }
    this.#chunk = '';
    return chunk;
  }

  /** @returns the rows not yet returned, or undefined when there are none. Errors: none. */
  flush(): string | undefined {
    const chunk = this.#chunk;
    this.#chunk = '';
    return chunk === '' ? undefined : chunk;
  }
}

/**
 * Encodes rows lazily as chunks of COPY text (see {@link CopyTextEncoder}): each chunk is
 * built only when the previous one has been taken, so a lazy source stays lazy.
 *
 * Errors: a {@link CopyValueError} (from `next()`) for a value that cannot be encoded;
 * whatever the source throws. A RangeError for a bad `maxChunkLength`, on the first `next()`.
 *
 * @example
 * for (const chunk of encodeCopyTextRows([[1, 'a'], [2, null]])) send(chunk); // '1\ta\n2\t\\N\n'
 */
export function* encodeCopyTextRows(
  rows: Iterable<readonly unknown[]>,
  maxChunkLength: number = defaultCopyChunkLength,
): Generator<string, void, undefined> {
  const encoder = new CopyTextEncoder(maxChunkLength);
  for (const row of rows) {
    const chunk = encoder.push(row);
    if (chunk !== undefined) yield chunk;
  }
  const rest = encoder.flush();
  if (rest !== undefined) yield rest;
}

/**
 * {@link encodeCopyTextRows} for an AsyncIterable (or Iterable) source: pulls rows only as
 * the chunks are consumed, so a pull-based COPY writer keeps memory bounded.
 *
 * Errors: as {@link encodeCopyTextRows}, as rejections of `next()`.
 */
export async function* encodeCopyTextRowsAsync(
  rows: AsyncIterable<readonly unknown[]> | Iterable<readonly unknown[]>,
  maxChunkLength: number = defaultCopyChunkLength,
): AsyncGenerator<string, void, undefined> {
  const encoder = new CopyTextEncoder(maxChunkLength);
  for await (const row of rows) {
    const chunk = encoder.push(row);
    if (chunk !== undefined) yield chunk;
  }
  const rest = encoder.flush();
  if (rest !== undefined) yield rest;
}

// ---------------------------------------------------------------------------------------------
// Parsing

/**
 * A streaming parser of COPY text (default options: tab delimiter, `\N` for NULL), as
 * `COPY ... TO STDOUT` sends it: push the chunks in order, get back the rows they complete.
 * Chunks need not end at a row, nor even at a UTF-8 character: the incomplete last line is
 * kept as bytes, and only complete lines are decoded from UTF-8.
 *
 * Fields come back as text (no type decoding) or null:
 * - a field that is exactly `\N` is null; the empty field is the empty string;
 * - `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, `\v` are the usual characters; `\` followed by 1-3
 *   octal digits or by `x` and 1-2 hex digits is that byte, and such bytes are decoded as
 *   UTF-8 together with the text around them; a backslash before any other character stands
 *   for that character (so `\x` without a hex digit is `x`), as the server reads it;
 * - a backslash before a newline (or a carriage return) makes it part of the field, as the
 *   server reads it (the docs discourage writing that; COPY TO never does);
 * - lines end with `\n`; a `\r\n` ending (files written on Windows) is accepted too;
 * - a line that is exactly `\.` marks the end of the data: it and everything after it are
 *   ignored (COPY TO STDOUT does not send it; files written by psql may end with it).
 *
 * Invalid UTF-8 (never in server output with client_encoding UTF8, but possible through
 * `\x` escapes) decodes to U+FFFD. An empty line is a row of one empty field — COPY text
 * cannot tell it apart from a row of a zero-column table.
 *
 * The incomplete line is the only thing kept between pushes; its size is bounded by the
 * longest row.
 *
 * @example
 * const parser = new CopyTextParser();
 * parser.push(Buffer.from('1\ta\\tb\n2\t\\N\n3\t')); // [['1', 'a\tb'], ['2', null]]
 * parser.push(Buffer.from('c\n'));                     // [['3', 'c']]
 * parser.end();
 */
export class CopyTextParser {
  /** The incomplete line: bytes after the last newline, in push order (copies). */
  #pending: Buffer[] = [];
  #pendingLength = 0;
  /** Set by the end marker: the rest is ignored. */
  #ended = false;
  /** Set by end(). */
  #closed = false;
  #rowCount = 0;

  /** How many rows have been returned so far. */
  get rowCount(): number {
    return this.#rowCount;
  }

  /**
   * Takes the next chunk of COPY text.
   *
   * @returns the rows that this chunk completes (often none, often several), in order.
   *
   * Errors: a TypeError when `chunk` is not a Uint8Array; an Error after {@link end}.
   */
  push(chunk: Uint8Array): CopyTextRow[] {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('CopyTextParser.push takes a Buffer or Uint8Array');
    if (this.#closed) throw new Error('CopyTextParser.push was called after end()');
    const rows: CopyTextRow[] = [];
    if (this.#ended || chunk.length === 0) return rows;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let lineStart = 0;
    if (this.#pendingLength > 0) {
      // Complete the pending line, if this chunk ends it.
      let end = bytes.indexOf(newline);
      while (end !== -1 && this.#escapedAcrossPending(bytes, end)) end = bytes.indexOf(newline, end + 1);
      if (end === -1) {
        this.#keep(bytes, 0);
        return rows;
      }
      this.#pending.push(bytes.subarray(0, end));
      const line = Buffer.concat(this.#pending, this.#pendingLength + end);
      this.#pending = [];
      this.#pendingLength = 0;
      if (!this.#take(line.toString('utf8'), rows, line, 0, line.length)) return rows;
      lineStart = end + 1;
    }
    // The whole lines that follow are decoded at once; the last unescaped newline ends them.
    let end = bytes.lastIndexOf(newline);
    while (end >= lineStart && isEscaped(bytes, end, lineStart)) end = end === 0 ? -1 : bytes.lastIndexOf(newline, end - 1);
    if (end >= lineStart) {
      const text = bytes.toString('utf8', lineStart, end);
      if (text.indexOf('\ufffd') === -1) {
        // Valid UTF-8 (or U+FFFD itself, which re-encodes to the same bytes): a line's text
        // gives its bytes back exactly when an octal or hex escape needs them.
        let from = 0;
        let search = 0;
        for (;;) {
          let at = text.indexOf('\n', search);
          if (at !== -1 && text.charCodeAt(at - 1) === backslash && isEscapedText(text, at, from)) {
            search = at + 1;
            continue;
          }
          if (at === -1) at = text.length;
          if (!this.#take(text.slice(from, at), rows, undefined, 0, 0)) return rows;
          if (at === text.length) break;
          from = search = at + 1;
        }
      } else {
        // Invalid UTF-8 somewhere: decode line by line, keeping each line's bytes at hand.
        let from = lineStart;
        let search = lineStart;
        for (;;) {
          let at = bytes.indexOf(newline, search);
          if (at === -1 || at > end) at = end;
          else if (at < end && isEscaped(bytes, at, from)) {
            search = at + 1;
            continue;
          }
          if (!this.#take(bytes.toString('utf8', from, at), rows, bytes, from, at)) return rows;
          if (at === end) break;
          from = search = at + 1;
        }
      }
      lineStart = end + 1;
    }
    this.#keep(bytes, lineStart);
    return rows;
  }

  /**
   * Says that the data is complete.
   *
   * Errors: a SyntaxError when the data ends inside a row (bytes after the last newline,
   * other than a `\.` end marker); the message gives the byte count, not the bytes. Calling
   * it again does nothing.
   */
  end(): void {
    this.#closed = true;
    if (this.#ended || this.#pendingLength === 0) {
      this.#ended = true;
      return;
    }
    const rest = Buffer.concat(this.#pending, this.#pendingLength);
    this.#pending = [];
    this.#pendingLength = 0;
    this.#ended = true;
    const size =
      rest.length > 0 && rest[rest.length - 1] === carriageReturn && !isEscaped(rest, rest.length - 1, 0) ? rest.length - 1 : rest.length;
    if (size === 2 && rest[0] === backslash && rest[1] === period) return;
    throw new SyntaxError(`COPY text data ends inside a row (${rest.length} bytes after the last newline)`);
  }

  /**
   * Parses one complete line (without its newline) into `rows`; false for the end marker,
   * after which everything is ignored. `bytes[start, end)` are its bytes, when it may not
   * re-encode to them.
   */
  #take(line: string, rows: CopyTextRow[], bytes: Buffer | undefined, start: number, end: number): boolean {
    const row = parseLine(line, bytes, start, end);
    if (row === undefined) {
      this.#ended = true;
      this.#pending = [];
      this.#pendingLength = 0;
      return false;
    }
    rows.push(row);
    this.#rowCount += 1;
    return true;
  }

  /** Keeps `bytes[from..]`, the start of a line, as a copy: the caller may reuse its buffer. */
  #keep(bytes: Buffer, from: number): void {
    if (from >= bytes.length) return;
    const rest = Buffer.from(bytes.subarray(from));
    this.#pending.push(rest);
    this.#pendingLength += rest.length;
  }

  /**
   * Whether the newline at `bytes[at]`, on the line that started in the pending bytes, is
   * escaped: preceded by an odd run of backslashes, which may go back into the pending bytes.
   */
  #escapedAcrossPending(bytes: Buffer, at: number): boolean {
    let count = 0;
    let index = at - 1;
    while (index >= 0 && bytes[index] === backslash) {
      count += 1;
      index -= 1;
    }
    if (index < 0) {
      for (let p = this.#pending.length - 1; p >= 0; p--) {
        const part = this.#pending[p]!;
        let j = part.length - 1;
        while (j >= 0 && part[j] === backslash) {
          count += 1;
          j -= 1;
        }
        if (j >= 0) break;
      }
    }
    return (count & 1) === 1;
  }
}

/** Whether `bytes[at]` follows an odd run of backslashes that starts at or after `start`. */
function isEscaped(bytes: Buffer, at: number, start: number): boolean {
  let index = at - 1;
  while (index >= start && bytes[index] === backslash) index -= 1;
  return ((at - 1 - index) & 1) === 1;
}

/** Whether `text[at]` follows an odd run of backslashes that starts at or after `start`. */
function isEscapedText(text: string, at: number, start: number): boolean {
  let index = at - 1;
  while (index >= start && text.charCodeAt(index) === backslash) index -= 1;
  return ((at - 1 - index) & 1) === 1;
}

/**
 * Parses one line (without its newline) into fields; undefined for the end marker `\.`.
 * `bytes[start, end)` are the line's bytes, or undefined when its text re-encodes to them.
 */
function parseLine(line: string, bytes: Buffer | undefined, start: number, end: number): CopyTextRow | undefined {
  let length = line.length;
  if (length > 0 && line.charCodeAt(length - 1) === carriageReturn && !isEscapedText(line, length - 1, 0)) {
    line = line.slice(0, length - 1);
    length -= 1;
    end -= 1;
  }
  if (line.indexOf('\\') === -1) return line.split('\t');
  if (length === 2 && line.charCodeAt(1) === period) return undefined;
  // With an octal or hex escape, the line's bytes: the escaped bytes are decoded as UTF-8
  // together with the bytes around them.
  const fields = parseEscapedText(line);
  if (fields !== undefined) return fields;
  if (bytes !== undefined) return parseEscapedBytes(bytes, start, end);
  const encoded = Buffer.from(line, 'utf8');
  return parseEscapedBytes(encoded, 0, encoded.length);
}

/**
 * Parses a line with escapes from its decoded text. Undefined when it has an octal or hex
 * escape: those are bytes, to be decoded as UTF-8 with their neighbours (parseEscapedBytes).
 */
function parseEscapedText(text: string): CopyTextRow | undefined {
  const fields: CopyTextRow = [];
  const length = text.length;
  let fieldStart = 0;
  let runStart = 0;
  let value = '';
  let at = 0;
  for (;;) {
    if (at >= length || text.charCodeAt(at) === tab) {
      if (at - fieldStart === 2 && text.charCodeAt(fieldStart) === backslash && text.charCodeAt(fieldStart + 1) === letterN) {
        fields.push(null);
      } else {
        fields.push(value + text.slice(runStart, at));
      }
      if (at >= length) return fields;
      at += 1;
      fieldStart = runStart = at;
      value = '';
    } else if (text.charCodeAt(at) !== backslash) {
      at += 1;
    } else {
      value += text.slice(runStart, at);
      const next = text.charCodeAt(at + 1); // NaN after a trailing backslash, which is dropped
      const control = controlEscape(next);
      if (control !== undefined) {
        value += control;
        runStart = at + 2;
      } else if ((next >= 0x30 && next <= 0x37) || (next === letterX && isHexDigit(text.charCodeAt(at + 2)))) {
        return undefined;
      } else {
        runStart = at + 1; // any other character stands for itself
      }
      at += 2;
    }
  }
}

/** parseEscapedText on bytes: octal and hex escapes as bytes, each field decoded as UTF-8. */
function parseEscapedBytes(bytes: Buffer, start: number, end: number): CopyTextRow {
  const fields: CopyTextRow = [];
  const out = Buffer.allocUnsafe(end - start); // unescaping never lengthens
  let size = 0;
  let fieldStart = start;
  let at = start;
  for (;;) {
    if (at >= end || bytes[at] === tab) {
      if (at - fieldStart === 2 && bytes[fieldStart] === backslash && bytes[fieldStart + 1] === letterN) {
        fields.push(null);
      } else {
        fields.push(out.toString('utf8', 0, size));
      }
      if (at >= end) return fields;
      at += 1;
      fieldStart = at;
      size = 0;
      continue;
    }
    const byte = bytes[at]!;
    if (byte !== backslash) {
      out[size++] = byte;
      at += 1;
      continue;
    }
    at += 1;
    if (at >= end) continue; // a trailing backslash is dropped
    const next = bytes[at]!;
    const control = controlByte(next);
    if (control !== undefined) {
      out[size++] = control;
      at += 1;
    } else if (next >= 0x30 && next <= 0x37) {
      let value = next - 0x30;
      at += 1;
      for (let digits = 1; digits < 3 && at < end && bytes[at]! >= 0x30 && bytes[at]! <= 0x37; digits++) {
        value = (value << 3) + bytes[at]! - 0x30;
        at += 1;
      }
      out[size++] = value & 0xff;
    } else if (next === letterX && at + 1 < end && isHexDigit(bytes[at + 1]!)) {
      let value = hexValue(bytes[at + 1]!);
      at += 2;
      if (at < end && isHexDigit(bytes[at]!)) {
        value = (value << 4) + hexValue(bytes[at]!);
        at += 1;
      }
      out[size++] = value;
    } else {
      out[size++] = next; // stands for itself
      at += 1;
    }
  }
}

function controlEscape(code: number): string | undefined {
  switch (code) {
    case 0x62:
      return '\b';
    case 0x66:
      return '\f';
    case 0x6e:
      return '\n';
    case 0x72:
      return '\r';
    case 0x74:
      return '\t';
    case 0x76:
      return '\v';
    default:
      return undefined;
  }
}

function controlByte(code: number): number | undefined {
  switch (code) {
    case 0x62:
      return 0x08;
    case 0x66:
      return 0x0c;
    case 0x6e:
      return newline;
    case 0x72:
      return carriageReturn;
    case 0x74:
      return tab;
    case 0x76:
      return 0x0b;
    default:
      return undefined;
  }
}

function isHexDigit(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x66);
}

function hexValue(code: number): number {
  return code <= 0x39 ? code - 0x30 : (code | 0x20) - 0x61 + 10;
}
