import { quoteArrayElement } from './array-literal';
import { ParameterError } from './parameter-error';
import { formatTimestamptz } from './timestamp';

/** PostgreSQL's MAXDIM: arrays have at most 6 dimensions. */
const maxDimensions = 6;
/** How many `toPostgres()` / `toJSON()` results may themselves be objects to unwrap. */
const maxUnwraps = 8;

/**
 * Encodes one query parameter for Bind: a string in the text format, a Uint8Array sent in
 * binary format, or `null` for SQL NULL. The server parses the text with the input function
 * of the parameter's type (inferred from the SQL, e.g. `$1::int4`), so the same value works
 * for every type that accepts its text.
 *
 * | JS value | sent as |
 * |---|---|
 * | `null` | NULL |
 * | string | itself |
 * | number | `String(n)`, `-0` as `-0`; `NaN`, `Infinity`, `-Infinity` as the server spells them |
 * | bigint | its decimal digits |
 * | boolean | `t` / `f` |
 * | Date | ISO 8601 in UTC with an offset, to the millisecond, ` BC` for years before 1 AD; the largest and smallest Dates as `infinity` / `-infinity` (see `formatTimestamptz`) |
 * | Buffer, Uint8Array | the bytes, binary format (for bytea; for text, the UTF-8 text) |
 * | array | an array literal, `{1,NULL,"a \"b\""}`, nested arrays as dimensions, each element encoded by these rules (strings always quoted, NULL for null, Buffers as `\x` hex, objects as JSON) |
 * | plain object (`{}` or `Object.create(null)`) | `JSON.stringify` |
 * | object with `toPostgres()` | its result, encoded by these rules |
 * | object with `toJSON()` | its result: a primitive result as itself (`Decimal` → `1.5`, Luxon `DateTime` → ISO text), an object result as JSON |
 *
 * A JS array is always an array literal; to send a JSON array (to a json or jsonb parameter)
 * pass `JSON.stringify(array)`. Other objects (Map, Set, Promise, class instances without
 * `toPostgres()` or `toJSON()`) are rejected rather than silently sent as `{}`.
 *
 * @param value the parameter value.
 * @param index its 0-based index in the parameter list; the error names it `$${index + 1}`.
 * @returns text, bytes (binary format) or null.
 *
 * Errors: a {@link ParameterError} (naming `$n` and the JS type, never the value) for
 * `undefined` (alone or in an array), symbols, functions, an Invalid Date, typed arrays other
 * than Uint8Array, ArrayBuffers, unsupported objects, arrays nested more than 6 deep (or
 * circular), plain objects JSON cannot encode (circular, BigInt inside), a `toPostgres()` or
 * `toJSON()` that throws.
 *
 * @example
 * encodeParameter([1, null, 'a"b'], 0); // '{1,NULL,"a\\"b"}'
 * encodeParameter(new Date(0), 1); // '1970-01-01T00:00:00.000+00:00'
 * encodeParameter(undefined, 2); // throws ParameterError: parameter $3: undefined is not a value; pass null for NULL
 */
export function encodeParameter(value: unknown, index: number): string | Uint8Array | null {
  if (typeof value === 'string') return value;
  return encodeValue(value, index + 1, 0);
}

function encodeValue(value: unknown, position: number, unwraps: number): string | Uint8Array | null {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return encodeNumber(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 't' : 'f';
    case 'object':
      if (value === null) return null;
      if (value instanceof Uint8Array) return value;
      if (value instanceof Date) return encodeDate(value, position);
      if (Array.isArray(value)) return encodeArray(value, position, 1);
      return encodeValue(unwrap(value, position, unwraps), position, unwraps + 1);
    case 'undefined':
      throw new ParameterError(position, 'undefined is not a value; pass null for NULL');
    default:
      throw new ParameterError(position, `${describe(value)} cannot be sent as a parameter`);
  }
}

function encodeArray(values: readonly unknown[], position: number, dimension: number): string {
  if (dimension > maxDimensions) {
    throw new ParameterError(position, `an array nested more than ${maxDimensions} levels deep (or circular) cannot be sent`);
  }
  const length = values.length;
  if (length === 0) return '{}';
  let text = '{' + encodeElement(values[0], position, dimension, 0);
  for (let i = 1; i < length; i++) text += ',' + encodeElement(values[i], position, dimension, 0);
  return text + '}';
}

function encodeElement(value: unknown, position: number, dimension: number, unwraps: number): string {
  switch (typeof value) {
    case 'string':
      return quoteArrayElement(value);
    case 'number':
      return encodeNumber(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 't' : 'f';
    case 'object':
      if (value === null) return 'NULL';
      if (Array.isArray(value)) return encodeArray(value, position, dimension + 1);
      // `"\\x..."`: the element text `\x...`, its backslash escaped inside quotes.
      if (value instanceof Uint8Array) return '"\\\\x' + hexOf(value) + '"';
      // ISO text has no quote or backslash to escape; quoted for the space of ` BC`.
      if (value instanceof Date) return '"' + encodeDate(value, position) + '"';
      return encodeElement(unwrap(value, position, unwraps), position, dimension, unwraps + 1);
    case 'undefined':
      throw new ParameterError(position, 'an array element is undefined; use null for NULL');
    default:
      throw new ParameterError(position, `an array element that is ${describe(value)} cannot be sent`);
  }
}

function encodeNumber(value: number): string {
  return value === 0 && 1 / value < 0 ? '-0' : String(value);
}

function encodeDate(value: Date, position: number): string {
  if (Number.isNaN(value.getTime())) throw new ParameterError(position, 'an Invalid Date cannot be sent');
  return formatTimestamptz(value);
}

function hexOf(bytes: Uint8Array): string {
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('hex');
}

/**
 * What an object other than an array, Date or Uint8Array stands for: the result of its
 * `toPostgres()`, JSON text for a plain object, the result of its `toJSON()` (JSON text when
 * that is an object).
 */
function unwrap(value: object, position: number, unwraps: number): unknown {
  if (unwraps >= maxUnwraps) {
    throw new ParameterError(position, `${describe(value)} kept returning objects from toPostgres() or toJSON() (${maxUnwraps} times)`);
  }
  const candidate = value as { toPostgres?: unknown; toJSON?: unknown };
  if (typeof candidate.toPostgres === 'function') {
    try {
      return (candidate.toPostgres as () => unknown).call(value);
    } catch (error) {
      throw new ParameterError(position, `toPostgres() of ${describe(value)} threw`, { cause: error });
    }
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  // Object.prototype of any realm (its own prototype is null), or no prototype at all.
  if (prototype === null || Object.getPrototypeOf(prototype) === null) return stringifyJson(value, position, 'a plain object');
  if (typeof candidate.toJSON === 'function') {
    let result: unknown;
    try {
      result = (candidate.toJSON as () => unknown).call(value);
    } catch (error) {
      throw new ParameterError(position, `toJSON() of ${describe(value)} threw`, { cause: error });
    }
    return typeof result === 'object' && result !== null && !Array.isArray(result)
      ? stringifyJson(result, position, `the toJSON() result of ${describe(value)}`)
      : result;
  }
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    throw new ParameterError(position, `${describe(value)} cannot be sent; pass a Buffer or Uint8Array for bytea`);
  }
  throw new ParameterError(
    position,
    `${describe(value)} cannot be sent as a parameter; give it a toPostgres() or toJSON() method, or pass a string (JSON.stringify for json)`,
  );
}

function stringifyJson(value: unknown, position: number, what: string): string {
  let json: string | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- typed string, but undefined for undefined, a function or a symbol
    json = JSON.stringify(value) as string | undefined;
  } catch (error) {
    throw new ParameterError(position, `${what} cannot be encoded as JSON (a circular reference or a BigInt inside?)`, { cause: error });
  }
  if (json === undefined) throw new ParameterError(position, `${what} encodes to no JSON at all (its toJSON() returned undefined?)`);
  return json;
}

/** The JS type of a value for an error message, never the value itself. */
function describe(value: unknown): string {
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'function') return 'a function';
  if (typeof value !== 'object' || value === null) return typeof value;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype === null) return 'an object without a prototype';
  const name: unknown = (prototype as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof name !== 'string' || name === '') return 'an object';
  return /^[AEIOU]/i.test(name) ? `an ${name}` : `a ${name}`;
}
