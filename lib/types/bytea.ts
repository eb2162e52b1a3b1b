const backslash = 0x5c;
const digitZero = 0x30;

/**
 * Decodes bytea text into a Buffer. Reads the hex format the server prints by default
 * (`\x00ff`, `bytea_output = 'hex'`) and, for servers configured with
 * `bytea_output = 'escape'`, the legacy escape format (`\000\377`, `\\` for a backslash, other
 * bytes as themselves).
 *
 * Errors: none. Malformed hex stops at the first non-hex digit (as `Buffer.from(_, 'hex')`);
 * never the case for server output.
 *
 * @example
 * decodeBytea('\\x00ff'); // <Buffer 00 ff>
 */
export function decodeBytea(text: string): Buffer {
  if (text.length >= 2 && text.charCodeAt(0) === backslash && text.charCodeAt(1) === 0x78 /* x */) {
    return Buffer.from(text.substring(2), 'hex');
  }
  return decodeEscapedBytea(text);
}

function decodeEscapedBytea(text: string): Buffer {
  const length = text.length;
  const bytes = Buffer.allocUnsafe(length);
  let size = 0;
  let i = 0;
  while (i < length) {
    const code = text.charCodeAt(i);
    if (code !== backslash) {
      bytes[size++] = code;
      i += 1;
    } else if (i + 1 < length && text.charCodeAt(i + 1) === backslash) {
      bytes[size++] = backslash;
      i += 2;
    } else if (i + 3 < length && isOctal(text, i + 1) && isOctal(text, i + 2) && isOctal(text, i + 3)) {
      bytes[size++] =
        ((text.charCodeAt(i + 1) - digitZero) << 6) | ((text.charCodeAt(i + 2) - digitZero) << 3) | (text.charCodeAt(i + 3) - digitZero);
      i += 4;
    } else {
      // A lone backslash is never printed by the server; keep it as a byte rather than fail.
      bytes[size++] = backslash;
      i += 1;
    }
  }
  return bytes.subarray(0, size);
}

function isOctal(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  return code >= digitZero && code <= 0x37;
}
