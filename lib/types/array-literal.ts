const openBrace = 0x7b;
const closeBrace = 0x7d;
const quote = 0x22;
const backslash = 0x5c;
const openBracket = 0x5b;

/**
 * Parses the text of a PostgreSQL array (`{1,2,3}`, `{{1,NULL},{3,4}}`, `{}`,
 * `[0:1]={a,b}`, `{"a \"b\"","c\\d",NULL,"NULL",""}`) into nested JS arrays, one level per
 * dimension, decoding each element's text with `decodeElement` (`null` keeps the strings).
 *
 * - An unquoted `NULL` (any case) is `null`; a quoted `"NULL"` is the string `NULL`.
 * - Quoted elements may contain `\"` and `\\`; any backslash makes the next character literal.
 * - Dimension decorations (`[0:1]=` or `[1:2][1:1]=`, printed when a lower bound is not 1) are
 *   skipped: JS arrays start at 0 whatever the bounds.
 * - Whitespace around elements is ignored, as the server does on input.
 * - `delimiter` is `,` for every built-in type except box (`;`).
 *
 * Errors: a SyntaxError when the text is not an array literal (never for server output;
 * the message does not quote the text); whatever `decodeElement` throws.
 *
 * @example
 * parseArrayLiteral('{{1,NULL},{3,4}}', Number); // [[1, null], [3, 4]]
 */
export function parseArrayLiteral(text: string, decodeElement: ((text: string) => unknown) | null, delimiter = ','): unknown[] {
  return parseArray(text, decodeElement, delimiter.charCodeAt(0));
}

/**
 * {@link parseArrayLiteral} with the delimiter as a character code, for decoders built once
 * per type (see `TypeRegistry.setArrayDecoder`).
 *
 * Errors: as {@link parseArrayLiteral}.
 *
 * @example
 * parseArray('{1;2}', Number, 0x3b); // [1, 2]
 */
export function parseArray(text: string, decodeElement: ((text: string) => unknown) | null, delimiter: number): unknown[] {
  const length = text.length;
  let at = 0;
  if (text.charCodeAt(0) === openBracket) {
    at = text.indexOf('=') + 1;
    if (at === 0) throw invalidArray();
  }
  at = skipSpaces(text, at);
  if (text.charCodeAt(at) !== openBrace) throw invalidArray();
  at += 1;

  let current: unknown[] = [];
  let parents: unknown[][] | undefined;
  for (;;) {
    if (at >= length) throw invalidArray();
    const code = text.charCodeAt(at);
    if (code === delimiter || code === 0x20 || (code >= 0x09 && code <= 0x0d)) {
      at += 1;
    } else if (code === closeBrace) {
      at += 1;
      if (parents === undefined || parents.length === 0) break;
      current = parents.pop()!;
    } else if (code === openBrace) {
      at += 1;
      const child: unknown[] = [];
      current.push(child);
      (parents ??= []).push(current);
      current = child;
    } else if (code === quote) {
      // A quoted element: up to the next unescaped quote.
      let start = at + 1;
      let end = start;
      let value = '';
      for (;;) {
        if (end >= length) throw invalidArray();
        const inner = text.charCodeAt(end);
        if (inner === quote) break;
        if (inner === backslash) {
          value += text.slice(start, end);
          start = end + 1; // the escaped character starts the next run
          end += 2;
        } else {
          end += 1;
        }
      }
      value += text.slice(start, end);
      at = end + 1;
      current.push(decodeElement === null ? value : decodeElement(value));
    } else {
      // An unquoted element: up to the delimiter or '}', without trailing whitespace.
      const start = at;
      let value: string | undefined;
      let runStart = at;
      let end = at;
      let contentEnd = at;
      for (;;) {
        if (end >= length) throw invalidArray();
        const inner = text.charCodeAt(end);
        if (inner === delimiter || inner === closeBrace) break;
        if (inner === quote || inner === openBrace) throw invalidArray();
        if (inner === backslash) {
          value = (value ?? '') + text.slice(runStart, end);
          runStart = end + 1;
          end += 2;
          contentEnd = end;
        } else {
          end += 1;
          if (!(inner === 0x20 || (inner >= 0x09 && inner <= 0x0d))) contentEnd = end;
        }
      }
      at = end;
      if (value === undefined) {
        const element = text.slice(start, contentEnd);
        current.push(isNull(element) ? null : decodeElement === null ? element : decodeElement(element));
      } else {
        const element = value + text.slice(runStart, contentEnd);
        current.push(decodeElement === null ? element : decodeElement(element));
      }
    }
  }
  if (skipSpaces(text, at) !== length) throw invalidArray();
  return current;
}

/**
 * Quotes a string as an array element: wraps it in double quotes and escapes `"` and `\`
 * with a backslash. Every string is quoted, so the empty string, `NULL`, and text with
 * delimiters, braces or spaces stay themselves.
 *
 * Errors: none.
 *
 * @example
 * quoteArrayElement('a"b'); // '"a\\"b"'
 */
export function quoteArrayElement(text: string): string {
  const length = text.length;
  let runStart = 0;
  let quoted = '"';
  for (let at = 0; at < length; at++) {
    const code = text.charCodeAt(at);
    if (code === quote || code === backslash) {
      quoted += text.slice(runStart, at) + '\\';
      runStart = at;
    }
  }
  return runStart === 0 && quoted.length === 1 ? '"' + text + '"' : quoted + text.slice(runStart) + '"';
}

function isNull(element: string): boolean {
  return (
    element.length === 4 &&
    (element.charCodeAt(0) | 0x20) === 0x6e &&
    (element.charCodeAt(1) | 0x20) === 0x75 &&
    (element.charCodeAt(2) | 0x20) === 0x6c &&
    (element.charCodeAt(3) | 0x20) === 0x6c
  );
}

function skipSpaces(text: string, at: number): number {
  for (;;) {
    const code = text.charCodeAt(at);
    if (!(code === 0x20 || (code >= 0x09 && code <= 0x0d))) return at;
    at += 1;
  }
}

function invalidArray(): SyntaxError {
  return new SyntaxError('invalid array literal');
}
