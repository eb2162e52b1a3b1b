// examples/csv-import.ts run for real: a generated CSV through COPY with its progress bar
// drawn into a collecting stream, and a bad line that aborts the COPY with nothing committed.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../examples/csv-import';
import { PostgresError } from '../../lib';
import { superuserConfig, superuserPsql } from '../helpers/test-servers';

const table = `csv_import_example_${process.pid}`;
let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rxpg-csv-import-'));
  await superuserPsql(`CREATE TABLE ${table} (id int PRIMARY KEY, name text NOT NULL, score numeric)`);
});

afterAll(async () => {
  await superuserPsql(`DROP TABLE ${table}`);
  await rm(directory, { recursive: true, force: true });
});

beforeEach(() => superuserPsql(`TRUNCATE ${table}`));

/** Writes `rows` CSV lines (with a header), `badRow`'s id replaced by text that is not an int. */
async function csvFile(name: string, rows: number, badRow?: number): Promise<string> {
  const lines = ['id,name,score'];
  for (let id = 1; id <= rows; id++) lines.push(`${id === badRow ? 'forty-two' : id},"person ${id}, ""the ${id}th""",${id / 4}`);
  const file = join(directory, name);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** A Writable that keeps what the progress bar draws. */
function collectingStream(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
}

function lastLine(text: string): string {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  return lines[lines.length - 1] ?? '';
}

async function rowsInTable(): Promise<number> {
  return Number(await superuserPsql(`SELECT count(*) FROM ${table}`));
}

describe('examples/csv-import', () => {
  it('imports every row of a 50,000-row CSV and ends its progress bar on the row count', async () => {
    const file = await csvFile('good.csv', 50_000);
    const output = collectingStream();
    const { host, port, user, database } = superuserConfig();
    const imported = await main({ host, port, user, database }, { file, table, header: true, progressOutput: output.stream });
    expect(imported).toBe(50_000);
    expect(await rowsInTable()).toBe(50_000);
    expect(Number(await superuserPsql(`SELECT count(*) FROM ${table} WHERE name = 'person 777, "the 777th"'`))).toBe(1);
    expect(lastLine(output.text())).toMatch(/^imported =+ 100% \| 50000 rows \| [\d.]+ MiB of [\d.]+ MiB \| [\d.]+ (B|KiB|MiB)\/s$/);
  });

  it('rejects with the server error for a bad line at row 30,000 and commits nothing', async () => {
    const file = await csvFile('bad.csv', 50_000, 30_000);
    const output = collectingStream();
    const { host, port, user, database } = superuserConfig();
    const failure = await main({ host, port, user, database }, { file, table, header: true, progressOutput: output.stream }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(PostgresError);
    expect(failure).toMatchObject({ code: '22P02' });
    // The header is line 1, so row 30,000 is line 30,001.
    expect((failure as PostgresError).where).toMatch(/line 30001/);
    expect(await rowsInTable()).toBe(0);
    // The bar's last line says that nothing was imported, however much was sent.
    expect(lastLine(output.text())).toMatch(/^failed .* \| 0 rows \|/);
  });

  it('rejects with the file system error for a missing file, before connecting', async () => {
    const { host, port, user, database } = superuserConfig();
    await expect(
      main({ host, port, user, database }, { file: join(directory, 'missing.csv'), table, progressOutput: collectingStream().stream }),
    ).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
