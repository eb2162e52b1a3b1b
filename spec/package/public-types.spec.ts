// The public API's types tell the truth: each row mode's rows have the type its rows have at
// run time, on Connection, Pool and Transaction, for query, all and first; the bridges, execute,
// run and transaction carry their element types; wrong calls do not compile. ts-jest only
// transpiles (isolatedModules), so the first test type-checks this file with the compiler.
import * as path from 'node:path';
import { lastValueFrom, of, toArray, type Observable } from 'rxjs';
import * as ts from 'typescript';
import {
  createPool,
  toAsyncIterable,
  toReadable,
  type CommandResult,
  type ConnectionConfig,
  type Connection,
  type ObjectReadable,
  type Pool,
  type PoolOptions,
  type QueryOptions,
  type QueryRow,
  type Queryable,
  type RawRow,
  type Transaction,
} from '../../lib';
import { closeOpenedConnections, openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';
import { compileOnly, expectType } from './expect-type';

type Row = Record<string, unknown>;
const sql = "SELECT 1::int AS n, 'x'::text AS s";
const runtimeMode = (arrays: boolean): QueryOptions => ({ rowMode: arrays ? 'array' : 'object' });

let connection: Connection;
let pool: Pool;

beforeAll(async () => {
  connection = await openConnection(superuserConfig());
  pool = createPool(superuserConfig(), { max: 2, acquireTimeout: 10_000 });
});

afterAll(async () => {
  await pool.end();
  await closeOpenedConnections();
});

describe('the compiler', () => {
  const repositoryRoot = path.resolve(__dirname, '..', '..');
  const mismatches = path.join(__dirname, 'public-types.mismatches.ts');
  // Each line marked `// wrong` must be an error; the unmarked expectType line must not.
  const mismatchesText = `import type { Observable } from 'rxjs';
import type { Connection, RawRow } from '../../lib';
import { expectType } from './expect-type';
declare const connection: Connection;
expectType<Observable<Record<string, unknown>>>()(connection.query('SELECT 1', [], { rowMode: 'array' })); // wrong
expectType<Observable<unknown[]>>()(connection.query('SELECT 1', [], { rowMode: 'raw' })); // wrong
expectType<Observable<unknown>>()(connection.query('SELECT 1')); // wrong
expectType<Observable<RawRow | undefined>>()(connection.query('SELECT 1', [], { rowMode: 'raw' })); // wrong
expectType<Observable<any>>()(connection.query('SELECT 1', [], { rowMode: 'raw' })); // wrong
expectType<Observable<RawRow>>()(connection.query('SELECT 1', [], { rowMode: 'raw' }));
`;
  let diagnostics: readonly ts.Diagnostic[];

  beforeAll(() => {
    const parsed = ts.getParsedCommandLineOfConfigFile(
      path.join(repositoryRoot, 'tsconfig.json'),
      { noEmit: true },
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
          throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
        },
      },
    );
    if (parsed === undefined) throw new Error('tsconfig.json could not be read');
    const host = ts.createCompilerHost(parsed.options);
    const getSourceFile = host.getSourceFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    host.getSourceFile = (fileName, languageVersion, ...rest) =>
      path.resolve(fileName) === mismatches
        ? ts.createSourceFile(fileName, mismatchesText, languageVersion)
        : getSourceFile(fileName, languageVersion, ...rest);
    host.fileExists = (fileName) => path.resolve(fileName) === mismatches || fileExists(fileName);
    const program = ts.createProgram([__filename, mismatches], parsed.options, host);
    // Only these two files: the library's own errors are `npm run typecheck`'s (and checking
    // every file would take seconds more).
    diagnostics = [__filename, mismatches].flatMap((file) => {
      const source = program.getSourceFile(file)!;
      return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    });
  }, 30_000);

  const describeDiagnostics = (file: string): string[] =>
    diagnostics
      .filter((diagnostic) => diagnostic.file !== undefined && path.resolve(diagnostic.file.fileName) === file)
      .map((diagnostic) => {
        const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
        return `${line + 1}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`;
      });

  test('type-checks this spec: every expectType holds and every @ts-expect-error marks an error', () => {
    expect(describeDiagnostics(path.resolve(__filename))).toEqual([]);
  });

  test('rejects an expectType whose type is not exactly the value’s (a supertype, a union, any)', () => {
    const wrongLines = mismatchesText.split('\n').flatMap((line, index) => (line.endsWith('// wrong') ? [index + 1] : []));
    const errorLines = [...new Set(describeDiagnostics(mismatches).map((text) => Number(text.split(':')[0])))];
    expect(wrongLines).toHaveLength(5);
    expect(errorLines).toEqual(wrongLines);
  });
});

describe('Connection', () => {
  test('query: object rows by default (typed by T), arrays, raw rows, QueryRow for a run-time mode', async () => {
    const objects = await lastValueFrom(expectType<Observable<Row>>()(connection.query(sql)).pipe(toArray()));
    expect(objects).toEqual([{ n: 1, s: 'x' }]);
    const typed = expectType<Observable<{ n: number; s: string }>>()(
      connection.query<{ n: number; s: string }>(sql, [], { rowMode: 'object' }),
    );
    expect(await lastValueFrom(typed)).toEqual({ n: 1, s: 'x' });
    const arrays = await lastValueFrom(expectType<Observable<unknown[]>>()(connection.query(sql, [], { rowMode: 'array' })));
    expect(arrays).toEqual([1, 'x']);
    const tuples = await lastValueFrom(
      expectType<Observable<[number, string]>>()(connection.query<[number, string]>(sql, undefined, { rowMode: 'array' })),
    );
    expect(tuples).toEqual([1, 'x']);
    const raw = await lastValueFrom(expectType<Observable<RawRow>>()(connection.query(sql, [], { rowMode: 'raw', timeout: 5000 })));
    expect(raw).toEqual({ columnNames: ['n', 's'], values: ['1', 'x'] });
    const either = await lastValueFrom(expectType<Observable<QueryRow>>()(connection.query(sql, [], runtimeMode(true))));
    expect(Array.isArray(either)).toBe(true);
  });

  test('all and first follow the row mode, and first may be undefined', async () => {
    expect(expectType<Row[]>()(await connection.all(sql))).toEqual([{ n: 1, s: 'x' }]);
    expect(expectType<{ n: number }[]>()(await connection.all<{ n: number }>('SELECT 1::int AS n'))).toEqual([{ n: 1 }]);
    expect(expectType<unknown[][]>()(await connection.all(sql, [], { rowMode: 'array' }))).toEqual([[1, 'x']]);
    expect(expectType<[number, string][]>()(await connection.all<[number, string]>(sql, [], { rowMode: 'array' }))).toEqual([[1, 'x']]);
    expect(expectType<RawRow[]>()(await connection.all(sql, [], { rowMode: 'raw' }))).toEqual([
      { columnNames: ['n', 's'], values: ['1', 'x'] },
    ]);
    expect(expectType<QueryRow[]>()(await connection.all(sql, [], runtimeMode(false)))).toEqual([{ n: 1, s: 'x' }]);
    expect(expectType<Row | undefined>()(await connection.first(sql))).toEqual({ n: 1, s: 'x' });
    expect(expectType<{ s: string } | undefined>()(await connection.first<{ s: string }>("SELECT 'x' AS s WHERE false"))).toBeUndefined();
    expect(
      expectType<unknown[] | undefined>()(await connection.first(sql, [], { rowMode: 'array', signal: new AbortController().signal })),
    ).toEqual([1, 'x']);
    expect(expectType<RawRow | undefined>()(await connection.first(sql, [], { rowMode: 'raw' }))).toEqual({
      columnNames: ['n', 's'],
      values: ['1', 'x'],
    });
    expect(expectType<QueryRow | undefined>()(await connection.first(sql, [], runtimeMode(true)))).toEqual([1, 'x']);
  });

  test('execute and run give a CommandResult; transaction gives the work’s values', async () => {
    expect(await lastValueFrom(expectType<Observable<CommandResult>>()(connection.execute('SELECT 1 WHERE false')))).toEqual({
      command: 'SELECT 0',
      rowCount: 0,
    });
    expect(expectType<CommandResult>()(await connection.run('SELECT 1 WHERE false'))).toEqual({ command: 'SELECT 0', rowCount: 0 });
    const values = connection.transaction((tx) => {
      expectType<Transaction>()(tx);
      return tx.query<[number]>('SELECT 2', [], { rowMode: 'array' });
    });
    expect(await lastValueFrom(expectType<Observable<[number]>>()(values))).toEqual([2]);
    const mixed = expectType<Observable<number | string>>()(connection.transaction(() => of(1, 'two'), { isolation: 'serializable' }));
    expect(await lastValueFrom(mixed.pipe(toArray()))).toEqual([1, 'two']);
  });
});

describe('Pool', () => {
  test('query follows the row mode', async () => {
    expect(await lastValueFrom(expectType<Observable<Row>>()(pool.query(sql)))).toEqual({ n: 1, s: 'x' });
    expect(await lastValueFrom(expectType<Observable<{ n: number }>>()(pool.query<{ n: number }>('SELECT 1::int AS n')))).toEqual({ n: 1 });
    expect(await lastValueFrom(expectType<Observable<unknown[]>>()(pool.query(sql, [], { rowMode: 'array' })))).toEqual([1, 'x']);
    expect(
      await lastValueFrom(expectType<Observable<[number, string]>>()(pool.query<[number, string]>(sql, [], { rowMode: 'array' }))),
    ).toEqual([1, 'x']);
    expect(await lastValueFrom(expectType<Observable<RawRow>>()(pool.query(sql, [], { rowMode: 'raw' })))).toEqual({
      columnNames: ['n', 's'],
      values: ['1', 'x'],
    });
    expect(await lastValueFrom(expectType<Observable<QueryRow>>()(pool.query(sql, [], runtimeMode(false))))).toEqual({ n: 1, s: 'x' });
  });

  test('all and first follow the row mode', async () => {
    expect(expectType<Row[]>()(await pool.all(sql))).toEqual([{ n: 1, s: 'x' }]);
    expect(expectType<unknown[][]>()(await pool.all(sql, [], { rowMode: 'array' }))).toEqual([[1, 'x']]);
    expect(expectType<RawRow[]>()(await pool.all(sql, [], { rowMode: 'raw' }))).toEqual([{ columnNames: ['n', 's'], values: ['1', 'x'] }]);
    expect(expectType<QueryRow[]>()(await pool.all(sql, [], runtimeMode(true)))).toEqual([[1, 'x']]);
    expect(expectType<{ n: number } | undefined>()(await pool.first<{ n: number }>('SELECT 1::int AS n'))).toEqual({ n: 1 });
    expect(expectType<[number, string] | undefined>()(await pool.first<[number, string]>(sql, [], { rowMode: 'array' }))).toEqual([1, 'x']);
    expect(expectType<RawRow | undefined>()(await pool.first(sql, [], { rowMode: 'raw' }))).toEqual({
      columnNames: ['n', 's'],
      values: ['1', 'x'],
    });
    expect(expectType<QueryRow | undefined>()(await pool.first(sql, [], runtimeMode(false)))).toEqual({ n: 1, s: 'x' });
  });

  test('execute, run and transaction; createPool takes PoolOptions', async () => {
    expect(await lastValueFrom(expectType<Observable<CommandResult>>()(pool.execute('SELECT 1 WHERE false')))).toEqual({
      command: 'SELECT 0',
      rowCount: 0,
    });
    expect(expectType<CommandResult>()(await pool.run('SELECT 1 WHERE false'))).toEqual({ command: 'SELECT 0', rowCount: 0 });
    const total = pool.transaction(async (tx) => {
      const rows = await tx.all<[number]>('SELECT 3', [], { rowMode: 'array' });
      return rows.length + (rows[0]?.[0] ?? 0);
    });
    expect(await lastValueFrom(expectType<Observable<number>>()(total))).toBe(4);
    expectType<(config: ConnectionConfig | string, options?: PoolOptions) => Pool>()(createPool);
  });
});

describe('Transaction', () => {
  test('query, all and first inside a transaction follow the row mode', async () => {
    const work = (tx: Transaction) =>
      (async () => {
        const objects = await lastValueFrom(expectType<Observable<Row>>()(tx.query(sql)));
        const typed = await lastValueFrom(expectType<Observable<{ s: string }>>()(tx.query<{ s: string }>("SELECT 'x' AS s")));
        const arrays = await lastValueFrom(expectType<Observable<unknown[]>>()(tx.query(sql, [], { rowMode: 'array' })));
        const raw = await lastValueFrom(expectType<Observable<RawRow>>()(tx.query(sql, [], { rowMode: 'raw' })));
        const either = await lastValueFrom(expectType<Observable<QueryRow>>()(tx.query(sql, [], runtimeMode(true))));
        const all = expectType<[number, string][]>()(await tx.all<[number, string]>(sql, [], { rowMode: 'array' }));
        const allRaw = expectType<RawRow[]>()(await tx.all(sql, [], { rowMode: 'raw' }));
        const first = expectType<Row | undefined>()(await tx.first(sql));
        const firstRaw = expectType<RawRow | undefined>()(await tx.first(sql, [], { rowMode: 'raw' }));
        const firstArray = expectType<unknown[] | undefined>()(await tx.first(sql, [], { rowMode: 'array' }));
        const firstEither = expectType<QueryRow | undefined>()(await tx.first(sql, [], runtimeMode(false)));
        const ran = expectType<CommandResult>()(await tx.run('SELECT 1 WHERE false'));
        return { objects, typed, arrays, raw, either, all, allRaw, first, firstRaw, firstArray, firstEither, ran };
      })();
    const raw = { columnNames: ['n', 's'], values: ['1', 'x'] };
    expect(await lastValueFrom(connection.transaction(work))).toEqual({
      objects: { n: 1, s: 'x' },
      typed: { s: 'x' },
      arrays: [1, 'x'],
      raw,
      either: [1, 'x'],
      all: [[1, 'x']],
      allRaw: [raw],
      first: { n: 1, s: 'x' },
      firstRaw: raw,
      firstArray: [1, 'x'],
      firstEither: { n: 1, s: 'x' },
      ran: { command: 'SELECT 0', rowCount: 0 },
    });
    const nested = connection.transaction((tx) => tx.transaction((savepoint) => savepoint.query<{ n: number }>('SELECT 5 AS n')));
    expect(await lastValueFrom(expectType<Observable<{ n: number }>>()(nested))).toEqual({ n: 5 });
  });
});

describe('Queryable', () => {
  test('Connection, Pool and Transaction are Queryables whose all, first and run follow the row mode', async () => {
    const read = async (db: Queryable) => ({
      objects: expectType<{ n: number }[]>()(await db.all<{ n: number }>('SELECT 1::int AS n')),
      arrays: expectType<unknown[][]>()(await db.all(sql, [], { rowMode: 'array' })),
      raw: expectType<RawRow | undefined>()(await db.first(sql, [], { rowMode: 'raw' })),
      either: expectType<QueryRow | undefined>()(await db.first(sql, [], runtimeMode(true))),
      ran: expectType<CommandResult>()(await db.run('SELECT 1 WHERE false')),
      rows: await lastValueFrom(
        expectType<Observable<[number, string]>>()(db.query<[number, string]>(sql, [], { rowMode: 'array' })).pipe(toArray()),
      ),
    });
    const expected = {
      objects: [{ n: 1 }],
      arrays: [[1, 'x']],
      raw: { columnNames: ['n', 's'], values: ['1', 'x'] },
      either: [1, 'x'],
      ran: { command: 'SELECT 0', rowCount: 0 },
      rows: [[1, 'x']],
    };
    expect(await read(connection)).toEqual(expected);
    expect(await read(pool)).toEqual(expected);
    expect(await lastValueFrom(connection.transaction((tx) => read(tx)))).toEqual(expected);
  });
});

describe('the interop bridges', () => {
  test('toReadable gives an ObjectReadable of the rows, toAsyncIterable an AsyncIterable of them', async () => {
    const readable = expectType<ObjectReadable<RawRow>>()(
      toReadable((pushback) => connection.query(sql, [], { rowMode: 'raw', pushback })),
    );
    expect(expectType<RawRow[]>()(await readable.toArray())).toEqual([{ columnNames: ['n', 's'], values: ['1', 'x'] }]);
    const objects = toReadable(pool.query<{ n: number }>('SELECT 1::int AS n'));
    for await (const row of objects) expect(expectType<{ n: number }>()(row)).toEqual({ n: 1 });
    const rows = expectType<AsyncIterable<[number, string]>>()(
      toAsyncIterable((pushback) => connection.query<[number, string]>(sql, [], { rowMode: 'array', pushback }), { highWaterMark: 10 }),
    );
    const seen: [number, string][] = [];
    for await (const row of rows) seen.push(expectType<[number, string]>()(row));
    expect(seen).toEqual([[1, 'x']]);
  });
});

// Wrong calls: each is an error, or its @ts-expect-error is itself one (the compiler test).
const pending = new AbortController().signal;
compileOnly(() => [
  // @ts-expect-error an object row type with rowMode 'array'
  connection.query<{ n: number }>(sql, [], { rowMode: 'array' }),
  // @ts-expect-error an array row type with rowMode 'raw'
  connection.query<unknown[]>(sql, [], { rowMode: 'raw' }),
  // @ts-expect-error an unknown row mode
  pool.query(sql, [], { rowMode: 'arrays' }),
  // @ts-expect-error query takes no signal (all/first do)
  connection.query(sql, [], { signal: pending }),
  // @ts-expect-error rows of rowMode 'array' are not objects
  expectType<Promise<Row[]>>()(pool.all(sql, [], { rowMode: 'array' })),
  // @ts-expect-error a raw row is not an array
  connection.first<unknown[]>(sql, [], { rowMode: 'raw' }),
  // @ts-expect-error an object row type with rowMode 'array' on a transaction
  (tx: Transaction) => tx.all<{ n: number }>(sql, [], { rowMode: 'array' }),
  // @ts-expect-error execute has no rowMode
  connection.execute(sql, [], { rowMode: 'array' }),
  // @ts-expect-error an object row type with rowMode 'array' through Queryable
  (db: Queryable) => db.first<{ n: number }>(sql, [], { rowMode: 'array' }),
  // @ts-expect-error run has no onFields
  pool.run(sql, [], { onFields: () => undefined }),
  // @ts-expect-error parameters are an array
  connection.query(sql, 1),
  // @ts-expect-error a pool option that does not exist
  createPool(superuserConfig(), { maxConnections: 2 }),
  // @ts-expect-error a pool option of the wrong type
  createPool(superuserConfig(), { max: '2' }),
  // @ts-expect-error an isolation level that does not exist
  connection.transaction(() => of(1), { isolation: 'snapshot' }),
  // @ts-expect-error a readable's values are the source's
  expectType<ObjectReadable<string>>()(toReadable(of(1))),
  // @ts-expect-error an async iterable's values are the source's
  expectType<AsyncIterable<string>>()(toAsyncIterable(of(1))),
]);
