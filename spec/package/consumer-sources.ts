/**
 * The programs a user of the installed package would write, as source text for a scratch
 * project (they import 'rxpg', which only resolves there, so they cannot live in this repo's
 * TypeScript project).
 *
 * Each connects with the settings in RXPG_CONSUMER_CONFIG (JSON), runs `SELECT 1`, streams three
 * rows through `toReadable`, checks that a division by zero arrives as the package's own
 * `PostgresError`, and prints what it saw as one JSON line. The `@ts-expect-error` lines fail
 * the type check if the package's types go loose (`any` rows, a deep import that `exports`
 * should refuse).
 */

/** The settings variable the consumers read their connection config from. */
export const consumerConfigVariable = 'RXPG_CONSUMER_CONFIG';

/** What each consumer prints when everything worked. */
export const expectedConsumerOutput = { rows: [{ one: 1 }], streamed: [1, 2, 3], code: '22012' };

const imports = `import { connect, Connection, Pool, PostgresError, toReadable, Transaction, type ConnectionConfig, type CopyChunk, type CopyTextRow, type ObjectReadable } from 'rxpg';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
// @ts-expect-error the package exports only its barrel, not its files
import type { Connection as DeepConnection } from 'rxpg/dist/client/connection';

// Type checks only (never called): what toReadable's stream gives out is typed.
export async function typedStream(stream: ObjectReadable<{ n: number }>): Promise<number[]> {
  stream.on('data', (row) => {
    // @ts-expect-error a data event's value is the row type
    void row.missing;
  });
  stream.on('error', (error) => void error.message);
  stream.once('end', () => undefined);
  const first: { n: number } | null = stream.read();
  const all: { n: number }[] = await stream.toArray();
  await pipeline(stream, new Writable({ objectMode: true, write: (_row, _encoding, done) => done() }));
  return [first?.n ?? 0, ...all.map((row) => row.n)];
}

// Type checks only: classes that only the package makes offer no constructor to call.
export function noPublicConstructors(): void {
  // @ts-expect-error Connection comes from connect()
  void new Connection();
  // @ts-expect-error Transaction comes from transaction()
  void new Transaction();
  // @ts-expect-error Pool comes from createPool()
  void new Pool();
}
`;

const body = `const config = JSON.parse(process.env['${consumerConfigVariable}'] ?? '') as ConnectionConfig;
const connection = await firstValueFrom(connect(config));
try {
  const rows = await lastValueFrom(connection.query<{ one: number }>('SELECT 1 AS one').pipe(toArray()));
  const stream: ObjectReadable<{ n: number }> = toReadable((pushback) =>
    connection.query<{ n: number }>('SELECT generate_series(1, 3) AS n', [], { pushback }),
  );
  const streamed: number[] = [];
  for await (const row of stream) {
    // @ts-expect-error the rows of toReadable are typed, not any
    void row.missing;
    streamed.push(row.n);
  }
  const chunk: CopyChunk = 'a\\tb\\n';
  const copyRow: CopyTextRow = ['a', null];
  void [chunk, copyRow];
  const failure = await lastValueFrom(connection.query('SELECT 1/0')).then(
    () => undefined,
    (error: unknown) => error,
  );
  const code = failure instanceof PostgresError ? failure.code : \`not a PostgresError: \${String(failure)}\`;
  process.stdout.write(JSON.stringify({ rows, streamed, code }));
} finally {
  await connection.close();
}
`;

function indent(text: string): string {
  return text.replace(/^(?=.)/gm, '  ');
}

/** An ES module consumer (`.mts`): top-level await, named imports from the CJS build. */
export const esmConsumer = `${imports}
${body}`;

/** A CommonJS consumer (`.cts`): TypeScript turns its imports into `require` calls. */
export const cjsConsumer = `${imports}
async function main(): Promise<void> {
${indent(body)}}

main().catch((error: unknown) => {
  process.stderr.write(\`\${String(error)}\\n\`);
  process.exitCode = 1;
});
`;
