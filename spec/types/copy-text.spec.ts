import fc from 'fast-check';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { connect, type Connection } from '../../lib';
import type { RawRow } from '../../lib/client';
import {
  CopyTextEncoder,
  CopyTextParser,
  CopyValueError,
  decodeBytea,
  encodeCopyTextRow,
  encodeCopyTextRows,
  encodeCopyTextRowsAsync,
  encodeParameter,
  ParameterError,
  type CopyTextRow,
} from '../../lib/types';
import { superuserConfig, testServers } from '../helpers/test-servers';

function copyValueError(values: readonly unknown[], rowIndex?: number): CopyValueError {
  try {
    encodeCopyTextRow(values, rowIndex);
  } catch (error) {
    expect(error).toBeInstanceOf(CopyValueError);
    expect(error).toBeInstanceOf(ParameterError);
    return error as CopyValueError;
  }
  throw new Error('expected a CopyValueError');
}

/** Parses `data` pushed in the given pieces, then ends. */
function parseChunks(chunks: readonly Uint8Array[]): CopyTextRow[] {
  const parser = new CopyTextParser();
  const rows: CopyTextRow[] = [];
  for (const chunk of chunks) rows.push(...parser.push(chunk));
  parser.end();
  expect(parser.rowCount).toBe(rows.length);
  return rows;
}

const parse = (text: string | Buffer) => parseChunks([typeof text === 'string' ? Buffer.from(text, 'utf8') : text]);

/** `bytes` cut at the given offsets. */
function cut(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const sorted = [...offsets].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const offset of sorted) {
    pieces.push(bytes.subarray(from, offset));
    from = offset;
  }
  pieces.push(bytes.subarray(from));
  return pieces;
}

/** Text the server can store: no NUL, well-formed UTF-16 (a lone surrogate has no UTF-8 form). */
const storable = (text: string) => !text.includes('\u0000') && Buffer.from(text, 'utf8').toString('utf8') === text;

const nastyText = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom(
        '\\',
        '\t',
        '\n',
        '\r',
        '\r\n',
        '\b',
        '\f',
        '\v',
        '\\N',
        'N',
        '\\.',
        '.',
        'x',
        'x4',
        '0',
        '7',
        '\u0001',
        '\u001f',
        '\u007f',
      ),
      fc.constantFrom('é', '中', '😀', '\u00a0', '\u2028', '"', "'", ',', '{', ' '),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    maxLength: 12,
  })
  .filter(storable);

/** Rows of one or more text-or-null fields (a zero-column row reads back as one empty field). */
const textRows = fc.array(fc.array(fc.option(nastyText, { nil: null, freq: 4 }), { minLength: 1, maxLength: 5 }), { maxLength: 8 });

describe('encodeCopyTextRow: escaping (docs: COPY, File Formats, Text Format)', () => {
  it('separates fields by tabs, ends the line with a newline, writes NULL as \\N', () => {
    expect(encodeCopyTextRow(['a', 'b', null, 'c'])).toBe('a\tb\t\\N\tc\n');
    expect(encodeCopyTextRow([null])).toBe('\\N\n');
  });

  it('keeps the empty string apart from NULL', () => {
    expect(encodeCopyTextRow([''])).toBe('\n');
    expect(encodeCopyTextRow(['', null, ''])).toBe('\t\\N\t\n');
  });

  it('writes a zero-column row as an empty line', () => {
    expect(encodeCopyTextRow([])).toBe('\n');
  });

  it('escapes backslash, tab, newline and carriage return', () => {
    expect(encodeCopyTextRow(['a\tb'])).toBe('a\\tb\n');
    expect(encodeCopyTextRow(['line 1\nline 2'])).toBe('line 1\\nline 2\n');
    expect(encodeCopyTextRow(['\r\n'])).toBe('\\r\\n\n');
    expect(encodeCopyTextRow(['C:\\dir\\'])).toBe('C:\\\\dir\\\\\n');
    expect(encodeCopyTextRow(['\\\\'])).toBe('\\\\\\\\\n');
  });

  it('keeps the strings \\N and \\. apart from NULL and the end marker', () => {
    expect(encodeCopyTextRow(['\\N'])).toBe('\\\\N\n');
    expect(encodeCopyTextRow(['N'])).toBe('N\n');
    expect(encodeCopyTextRow(['\\.'])).toBe('\\\\.\n');
    expect(encodeCopyTextRow(['NULL', 'null'])).toBe('NULL\tnull\n');
  });

  it('escapes backspace, vertical tab and form feed as COPY TO does, and keeps other control characters', () => {
    expect(encodeCopyTextRow(['\b\v\f'])).toBe('\\b\\v\\f\n');
    expect(encodeCopyTextRow(['\u0001\u001b\u001f\u007f'])).toBe('\u0001\u001b\u001f\u007f\n');
  });

  it('follows the escape table for every ASCII character', () => {
    const escapes: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 92: '\\\\' };
    for (let code = 1; code < 128; code++) {
      const character = String.fromCharCode(code);
      expect([code, encodeCopyTextRow([`a${character}z`])]).toEqual([code, `a${escapes[code] ?? character}z\n`]);
    }
  });

  it('keeps non-ASCII text as it is', () => {
    expect(encodeCopyTextRow(['héllo', '中文', '😀', '\u2028'])).toBe('héllo\t中文\t😀\t\u2028\n');
  });

  it('encodes non-strings as query parameters are', () => {
    expect(encodeCopyTextRow([42, -0, 1.5, NaN, -Infinity, 12345678901234567890n, true, false])).toBe(
      '42\t-0\t1.5\tNaN\t-Infinity\t12345678901234567890\tt\tf\n',
    );
    expect(encodeCopyTextRow([new Date('2024-01-31T07:04:56.789Z'), new Date('-000043-03-15T12:00:00.000Z')])).toBe(
      '2024-01-31T07:04:56.789+00:00\t0044-03-15T12:00:00.000+00:00 BC\n',
    );
    expect(encodeCopyTextRow([new Date(8.64e15)])).toBe('infinity\n');
  });

  it('writes Buffers and Uint8Arrays as bytea hex, its backslash escaped', () => {
    expect(encodeCopyTextRow([Buffer.from([0x0a, 0x0b, 0xff])])).toBe('\\\\x0a0bff\n');
    expect(encodeCopyTextRow([new Uint8Array([0, 9, 92])])).toBe('\\\\x00095c\n');
    const view = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
    expect(encodeCopyTextRow([view, Buffer.alloc(0)])).toBe('\\\\x0203\t\\\\x\n');
  });

  it('writes arrays as array literals, escaped for COPY', () => {
    expect(encodeCopyTextRow([[1, null, 3]])).toBe('{1,NULL,3}\n');
    // The literal {"a\"b","c\\d","x\ty"}: its backslashes doubled, its tab escaped.
    expect(encodeCopyTextRow([['a"b', 'c\\d', 'x\ty']])).toBe('{"a\\\\"b","c\\\\\\\\d","x\\ty"}\n');
    expect(
      encodeCopyTextRow([
        [
          [1, 2],
          [3, 4],
        ],
        [],
      ]),
    ).toBe('{{1,2},{3,4}}\t{}\n');
    expect(encodeCopyTextRow([[Buffer.from([1])]])).toBe('{"\\\\\\\\x01"}\n');
  });

  it('writes objects as JSON, escaped for COPY', () => {
    // JSON text {"a":"x\ny","b":"q\""}: every backslash of it doubled.
    expect(encodeCopyTextRow([{ a: 'x\ny', b: 'q"' }])).toBe('{"a":"x\\\\ny","b":"q\\\\""}\n');
    expect(encodeCopyTextRow([{ text: 'tab\there' }])).toBe('{"text":"tab\\\\there"}\n');
  });

  it('follows toPostgres(): null is NULL, bytes are bytea', () => {
    expect(encodeCopyTextRow([{ toPostgres: () => null }, { toPostgres: () => Buffer.from('A') }, { toPostgres: () => 'a\tb' }])).toBe(
      '\\N\t\\\\x41\ta\\tb\n',
    );
  });

  it('gives the field text that, unescaped, is the parameter text', () => {
    const values = ['a\\b\tc', 7, [['x\n']], { k: '\\' }, new Date(0), true, 1n];
    const [row] = parse(encodeCopyTextRow(values));
    expect(row).toEqual(values.map((value, i) => encodeParameter(value, i)));
  });
});

describe('encodeCopyTextRow: bad values', () => {
  it('rejects undefined with a ParameterError naming the row and column, never the value', () => {
    const error = copyValueError(['secret', undefined], 7);
    expect(error.message).toBe('COPY row index 7, column index 1: undefined is not a value; pass null for NULL');
    expect(error.name).toBe('CopyValueError');
    expect(error.code).toBe('22023');
    expect([error.row, error.column, error.position]).toEqual([7, 1, 2]);
  });

  it('leaves the row out of the message when it is not known', () => {
    const error = copyValueError([undefined]);
    expect(error.message).toBe('COPY column index 0: undefined is not a value; pass null for NULL');
    expect(error.row).toBeUndefined();
  });

  it.each<[string, unknown]>([
    ['a symbol', Symbol('secret')],
    ['a function', () => 'secret'],
    ['an Invalid Date', new Date('nope')],
    ['a Map', new Map([['secret', 'secret']])],
    ['an array holding undefined', ['secret', undefined]],
    ['an ArrayBuffer', new ArrayBuffer(2)],
    ['a Uint16Array', new Uint16Array(2)],
  ])('rejects %s without quoting it', (_what, value) => {
    const error = copyValueError([1, 'x', value], 0);
    expect(error.message).toMatch(/^COPY row index 0, column index 2: /);
    expect(error.message).not.toContain('secret');
  });

  it('keeps the cause of a toJSON() that throws', () => {
    const cause = new Error('boom');
    class Thing {
      toJSON(): never {
        throw cause;
      }
    }
    const error = copyValueError([new Thing()], 3);
    expect(error.message).toBe('COPY row index 3, column index 0: toJSON() of a Thing threw');
    expect(error.cause).toBe(cause);
  });

  it('rejects text with a NUL character, alone or inside an array or a toPostgres() result', () => {
    for (const value of ['a\u0000b', ['ok', '\u0000'], { toPostgres: () => '\u0000' }]) {
      const error = copyValueError(['fine', value], 2);
      expect(error.message).toBe(
        'COPY row index 2, column index 1: text with a NUL character cannot be sent (PostgreSQL text cannot hold NUL)',
      );
    }
    // JSON escapes NUL as \u0000, which is fine text.
    expect(encodeCopyTextRow([{ a: '\u0000' }])).toBe('{"a":"\\\\u0000"}\n');
  });

  it('rejects a row that is not an array', () => {
    expect(() => encodeCopyTextRow('abc' as unknown as unknown[], 4)).toThrow(
      new TypeError('a COPY row must be an array of values (row index 4)'),
    );
  });
});

describe('CopyTextEncoder and encodeCopyTextRows', () => {
  const rows = Array.from({ length: 200 }, (_, i) => [i, `name ${i}`, i % 3 === 0 ? null : 'x'.repeat(i % 17)]);
  const all = rows.map((row) => encodeCopyTextRow(row)).join('');

  it('batches rows into chunks that end at rows and reach the chunk length', () => {
    const encoder = new CopyTextEncoder(100);
    const chunks: string[] = [];
    for (const row of rows) {
      const chunk = encoder.push(row);
      if (chunk !== undefined) chunks.push(chunk);
    }
    const rest = encoder.flush();
    expect(rest).toBeDefined();
    expect(encoder.flush()).toBeUndefined();
    expect(chunks.join('') + rest).toBe(all);
    expect(encoder.rowCount).toBe(200);
    for (const chunk of chunks) {
      expect(chunk.endsWith('\n')).toBe(true);
      expect(chunk.length).toBeGreaterThanOrEqual(100);
      const lastRow = chunk.slice(chunk.lastIndexOf('\n', chunk.length - 2) + 1);
      expect(chunk.length - lastRow.length).toBeLessThan(100);
    }
    expect(rest!.length).toBeLessThan(100);
  });

  it('returns a row longer than the chunk length at once', () => {
    const encoder = new CopyTextEncoder(10);
    expect(encoder.push(['a'])).toBeUndefined();
    expect(encoder.push(['x'.repeat(50)])).toBe(`a\n${'x'.repeat(50)}\n`);
    expect(encoder.flush()).toBeUndefined();
  });

  it('names the row index in errors, and goes on after a bad row', () => {
    const encoder = new CopyTextEncoder(1000);
    encoder.push([1]);
    encoder.push([2]);
    expect(() => encoder.push([3, undefined])).toThrow('COPY row index 2, column index 1: undefined is not a value; pass null for NULL');
    encoder.push([4]);
    expect(encoder.flush()).toBe('1\n2\n4\n');
  });

  it('rejects a chunk length that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, NaN, Infinity]) expect(() => new CopyTextEncoder(bad)).toThrow(RangeError);
  });

  it('encodeCopyTextRows gives the same chunks, pulling rows only as chunks are taken', () => {
    let pulled = 0;
    function* source(): Generator<unknown[]> {
      for (const row of rows) {
        pulled += 1;
        yield row;
      }
    }
    const chunks = encodeCopyTextRows(source(), 100);
    const first = chunks.next();
    expect(first.done).toBe(false);
    expect(pulled).toBeLessThan(20);
    const rest = [...chunks];
    expect(pulled).toBe(200);
    expect((first.value as string) + rest.join('')).toBe(all);
    expect([...encodeCopyTextRows([])]).toEqual([]);
    expect([...encodeCopyTextRows([['a'], ['b']])]).toEqual(['a\nb\n']);
  });

  it('encodeCopyTextRowsAsync works from an async source', async () => {
    async function* source(): AsyncGenerator<unknown[]> {
      for (const row of rows) yield row;
    }
    const chunks: string[] = [];
    for await (const chunk of encodeCopyTextRowsAsync(source(), 100)) chunks.push(chunk);
    expect(chunks.join('')).toBe(all);
    expect(chunks.length).toBeGreaterThan(10);
  });
});

describe('CopyTextParser', () => {
  it('reads rows, NULLs and empty strings', () => {
    expect(parse('1\ta\t\\N\t\n2\t\t\t\\N\n')).toEqual([
      ['1', 'a', null, ''],
      ['2', '', '', null],
    ]);
  });

  it('reads an empty line as one empty field', () => {
    expect(parse('\n\n')).toEqual([[''], ['']]);
    expect(parse('')).toEqual([]);
  });

  it('unescapes \\\\ \\b \\f \\n \\r \\t \\v', () => {
    expect(parse('a\\\\b\\bc\\fd\\ne\\rf\\tg\\vh\n')).toEqual([['a\\b\bc\fd\ne\rf\tg\vh']]);
  });

  it('reads octal and hex escapes as bytes, decoded as UTF-8 with the text around them', () => {
    expect(parse('\\101\\x41\\7\\x9\\0101\n')).toEqual([['AA\u0007\t\u00081']]);
    expect(parse('caf\\xc3\\xa9\t\\303\\251t\\xC3\\xA9\n')).toEqual([['café', 'été']]);
    // An escaped byte completes a character with raw bytes around it.
    expect(parse(Buffer.concat([Buffer.from('\\xc3'), Buffer.of(0xa9, 0x09, 0xe2), Buffer.from('\\202\\xac\n')]))).toEqual([['é', '€']]);
    expect(parse('\\777\t\\xff\t\\x\n')).toEqual([['\ufffd', '\ufffd', 'x']]); // 0o777 & 0xff = 0xff: no UTF-8 alone
    expect(parse(Buffer.of(0x61, 0xff, 0x0a))).toEqual([['a\ufffd']]);
  });

  it('takes a backslash before any other character as that character, as the server does', () => {
    expect(parse('\\x\\xg\\8\\N\\a\\.\\é\n')).toEqual([['xxg8Na.é']]);
    expect(parse('a\\N\t\\Nb\t\\\\N\n')).toEqual([['aN', 'Nb', '\\N']]);
  });

  it('reads an escaped tab as data, not as a field separator', () => {
    expect(parse('a\\\tb\tc\n')).toEqual([['a\tb', 'c']]);
    expect(parse('a\\\\\tb\n')).toEqual([['a\\', 'b']]);
  });

  it('reads a backslash before a newline or carriage return as data', () => {
    expect(parse('a\\\nb\tc\n')).toEqual([['a\nb', 'c']]);
    expect(parse('a\\\\\nb\n')).toEqual([['a\\'], ['b']]);
    expect(parse('a\\\r\n')).toEqual([['a\r']]);
  });

  it('accepts \\r\\n line endings', () => {
    expect(parse('a\tb\r\n\\N\r\n')).toEqual([['a', 'b'], [null]]);
  });

  it('stops at the \\. end marker and ignores what follows', () => {
    expect(parse('a\n\\.\nb\nc')).toEqual([['a']]);
    expect(parse('a\n\\.\r\n')).toEqual([['a']]);
    expect(parse('a\n\\.')).toEqual([['a']]);
    expect(parse('\\.\n')).toEqual([]);
    expect(parse('\\\\.\n')).toEqual([['\\.']]);
  });

  it('fails at end() inside a row, without quoting the data', () => {
    const parser = new CopyTextParser();
    expect(parser.push(Buffer.from('a\nsecret'))).toEqual([['a']]);
    expect(() => parser.end()).toThrow(new SyntaxError('COPY text data ends inside a row (6 bytes after the last newline)'));
    expect(() => parser.end()).not.toThrow();
    const escaped = new CopyTextParser();
    escaped.push(Buffer.from('a\\\n'));
    expect(() => escaped.end()).toThrow(SyntaxError);
  });

  it('refuses pushes after end() and chunks that are not bytes', () => {
    const parser = new CopyTextParser();
    expect(() => parser.push('a\n' as unknown as Buffer)).toThrow(TypeError);
    parser.end();
    expect(() => parser.push(Buffer.from('a\n'))).toThrow('CopyTextParser.push was called after end()');
  });

  it('takes Uint8Array views and keeps its own copy of a partial line', () => {
    const parser = new CopyTextParser();
    const backing = new Uint8Array(Buffer.from('xxa\tb\ncdxx'));
    const chunk = backing.subarray(2, 8);
    expect(parser.push(chunk)).toEqual([['a', 'b']]);
    backing.fill(0x7a); // the caller reuses its buffer
    expect(parser.push(Buffer.from('e\n'))).toEqual([['cde']]);
    parser.end();
  });

  it('gives the same rows at every chunk boundary (multi-byte UTF-8, escapes, continued lines)', () => {
    const sample = Buffer.from(
      [
        '1\tcafé\t\\N\t',
        '2\t中文 😀\t\\\\N\ta\\tb',
        '3\t\\x41\\303\\251\t\\\nx\t',
        '\t\t',
        '4\t\\\\\\\\\tend\\r\r',
        '5\t€\\\\',
        '\\.',
        'ignored',
      ].join('\n'),
      'utf8',
    );
    const expected = parse(sample);
    expect(expected).toEqual([
      ['1', 'café', null, ''],
      ['2', '中文 😀', '\\N', 'a\tb'],
      ['3', 'Aé', '\nx', ''],
      ['', '', ''],
      ['4', '\\\\', 'end\r'],
      ['5', '€\\'],
    ]);
    for (let i = 0; i <= sample.length; i++) {
      for (let j = i; j <= sample.length; j++) {
        expect([i, j, parseChunks(cut(sample, [i, j]))]).toEqual([i, j, expected]);
      }
    }
    expect(parseChunks([...sample].map((byte) => Buffer.of(byte)))).toEqual(expected);
  });

  it('gives the same rows at every chunk boundary with invalid UTF-8 next to escaped bytes', () => {
    const sample = Buffer.concat([
      Buffer.from('a\\xc3'),
      Buffer.of(0xa9, 0xff),
      Buffer.from('\t\\N\n\\342\\x82'),
      Buffer.of(0xac, 0x0a, 0xc3, 0x0a),
    ]);
    const expected = parse(sample);
    expect(expected).toEqual([['aé\ufffd', null], ['€'], ['\ufffd']]);
    for (let i = 0; i <= sample.length; i++) {
      for (let j = i; j <= sample.length; j++) expect([i, j, parseChunks(cut(sample, [i, j]))]).toEqual([i, j, expected]);
    }
  });

  it('round trips random rows of text and NULLs through the encoder, cut anywhere', () => {
    fc.assert(
      fc.property(textRows, fc.array(fc.nat(), { maxLength: 6 }), (rows, offsets) => {
        const bytes = Buffer.from(rows.map((row) => encodeCopyTextRow(row)).join(''), 'utf8');
        expect(
          parseChunks(
            cut(
              bytes,
              offsets.map((offset) => offset % (bytes.length + 1)),
            ),
          ),
        ).toEqual(rows);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws from push on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 }), (chunks) => {
        const parser = new CopyTextParser();
        for (const chunk of chunks) {
          for (const row of parser.push(chunk)) for (const field of row) expect(field === null || typeof field === 'string').toBe(true);
        }
        try {
          parser.end();
        } catch (error) {
          expect(error).toBeInstanceOf(SyntaxError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

// Against the real server, without the client's COPY support: the server's own COPY TO / COPY
// FROM work on files in its data directory, read and written with pg_read_binary_file and
// lo_export. Only on the throwaway clusters (superuser, and files nobody else sees).
const throwaway = (() => {
  try {
    return !testServers().external;
  } catch {
    return false;
  }
})();

// An external server (RXPG_USE_PG_ENV) gives no file access; under CI the harness's own is used.
(throwaway || process.env.CI === 'true' ? describe : describe.skip)('COPY text against the server', () => {
  let connection: Connection;
  let directory: string;
  let fileNumber = 0;

  beforeAll(async () => {
    connection = await firstValueFrom(connect(superuserConfig()));
    directory = (await textValues('SHOW data_directory'))[0]![0]!;
  });
  afterAll(() => connection.close());

  async function textValues(sql: string, params: readonly unknown[] = []): Promise<(string | null)[][]> {
    const rows = await lastValueFrom(connection.query<RawRow>(sql, params, { rowMode: 'raw' }).pipe(toArray()));
    return rows.map((row) => [...row.values]);
  }

  async function run(sql: string, params: readonly unknown[] = []): Promise<void> {
    await lastValueFrom(connection.execute(sql, params));
  }

  const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;
  const nextFile = () => `${directory}/rxpg-copy-text-spec-${process.pid}-${(fileNumber += 1)}.copy`;

  /** The bytes the server's COPY TO writes for `query`. */
  async function serverCopyOut(query: string): Promise<Buffer> {
    const file = nextFile();
    await run(`COPY (${query}) TO ${literal(file)}`);
    const hex = (await textValues('SELECT pg_read_binary_file($1)', [file]))[0]![0];
    return decodeBytea(hex!);
  }

  /** Loads `bytes` into `table` with the server's COPY FROM (text format). */
  async function serverCopyIn(table: string, bytes: Buffer): Promise<void> {
    const file = nextFile();
    const oid = (await textValues('SELECT lo_from_bytea(0, $1)', [bytes]))[0]![0];
    try {
      await textValues(`SELECT lo_export(${Number(oid)}, ${literal(file)})`);
    } finally {
      await textValues(`SELECT lo_unlink(${Number(oid)})`);
    }
    await run(`COPY ${table} FROM ${literal(file)}`);
  }

  /** Stores rows of text through parameters, returns the server's COPY TO text of them. */
  async function copyOutOf(rows: readonly (string | null)[][], columns: number): Promise<Buffer> {
    await run('DROP TABLE IF EXISTS pg_temp.copy_text_out');
    const names = Array.from({ length: columns }, (_, i) => `c${i}`);
    await run(`CREATE TEMP TABLE copy_text_out (id int, ${names.map((name) => `${name} text`).join(', ')})`);
    for (const [id, row] of rows.entries()) {
      await run(`INSERT INTO copy_text_out VALUES ($1, ${names.map((_, i) => `$${i + 2}`).join(', ')})`, [id, ...row]);
    }
    return serverCopyOut(`SELECT ${names.join(', ')} FROM copy_text_out ORDER BY id`);
  }

  const nastyRows: (string | null)[][] = [
    ['plain', '', null],
    ['tab\there', 'new\nline', 'cr\rlf\r\n'],
    ['back\\slash', '\\N', '\\.'],
    ['\b\f\v', '\u0001\u001f\u007f', 'é中😀\u2028'],
    ['NULL', 'null', '\\x41'],
  ];

  it('the encoder writes exactly what COPY TO writes, and the parser reads it back', async () => {
    const bytes = await copyOutOf(nastyRows, 3);
    expect(bytes.toString('utf8')).toBe(nastyRows.map((row) => encodeCopyTextRow(row)).join(''));
    expect(parse(bytes)).toEqual(nastyRows);
  });

  it('the parser reads COPY TO output of typed columns as their text', async () => {
    const query =
      "SELECT 1::int4, 't'::bool, NULL::text, '\\x00ff5c'::bytea, ARRAY['a\"b', 'c\\d', NULL]::text[], " +
      `'{"k": "v\\n\\\\"}'::jsonb, '2024-01-31 07:04:56.789+00'::timestamptz, E'x\\ty'::text`;
    const bytes = await serverCopyOut(query);
    expect(parse(bytes)).toEqual(await textValues(query));
  });

  it('random rows: the encoder matches COPY TO and the parser reads it back', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.option(nastyText, { nil: null }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
        async (rows) => {
          const bytes = await copyOutOf(rows, 3);
          expect(bytes.toString('utf8')).toBe(rows.map((row) => encodeCopyTextRow(row)).join(''));
          expect(parse(bytes)).toEqual(rows);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('COPY FROM loads encoded values as the same parameters would store them', async () => {
    const columns: [string, unknown][] = [
      ['text', 'a\tb\\c\nd\re \\N'],
      ['text', ''],
      ['text', null],
      ['int8', 12345678901234567890n % 9223372036854775807n],
      ['float8', -0],
      ['float8', NaN],
      ['numeric', 1.5],
      ['bool', false],
      ['timestamptz', new Date('2024-01-31T07:04:56.789Z')],
      ['timestamptz', new Date('-000043-03-15T12:00:00.000Z')],
      ['bytea', Buffer.from([0, 9, 10, 13, 92, 255])],
      ['text[]', ['a"b', 'c\\d', null, 'tab\t', '']],
      [
        'int4[]',
        [
          [1, 2],
          [3, null],
        ],
      ],
      ['jsonb', { s: 'x\ny\\"', n: [1, null] }],
      ['json', { toPostgres: () => '{"raw": "\\t"}' }],
    ];
    await run('DROP TABLE IF EXISTS pg_temp.copy_text_in');
    await run(`CREATE TEMP TABLE copy_text_in (${columns.map(([type], i) => `c${i} ${type}`).join(', ')})`);
    const values = columns.map(([, value]) => value);
    await serverCopyIn('copy_text_in', Buffer.from(encodeCopyTextRow(values) + encodeCopyTextRow(values), 'utf8'));

    const loaded = await textValues(`SELECT ${columns.map((_, i) => `c${i}::text`).join(', ')} FROM copy_text_in`);
    const viaParameters = await textValues(`SELECT ${columns.map(([type], i) => `$${i + 1}::${type}::text`).join(', ')}`, values);
    expect(loaded).toEqual([viaParameters[0], viaParameters[0]]);
    expect(loaded[0]![0]).toBe('a\tb\\c\nd\re \\N');
    expect(loaded[0]![2]).toBeNull();
  });

  it('COPY FROM reads random encoded rows back exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.option(nastyText, { nil: null }), { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 5 }),
        async (rows) => {
          await run('DROP TABLE IF EXISTS pg_temp.copy_text_random');
          await run('CREATE TEMP TABLE copy_text_random (id serial, a text, b text)');
          await serverCopyIn('copy_text_random (a, b)', Buffer.from([...encodeCopyTextRows(rows, 16)].join(''), 'utf8'));
          expect(await textValues('SELECT a, b FROM copy_text_random ORDER BY id')).toEqual(rows);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('the field text round trips through a text parameter', async () => {
    for (const row of nastyRows) {
      const [parsed] = parse(encodeCopyTextRow(row));
      const [echoed] = await textValues(`SELECT ${row.map((_, i) => `$${i + 1}::text`).join(', ')}`, row);
      expect(parsed).toEqual(echoed);
    }
  });
});
