import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { SingleBar } from 'cli-progress';
import { lastValueFrom } from 'rxjs';
import { quoteIdentifier, withConnection, type ConnectionConfig } from '../lib';

/** Where the import connects: any server and role allowed to write the table. */
export interface CsvImportConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly password?: string;
}

/** What to import, and where the progress bar goes. */
export interface CsvImportOptions {
  /** The CSV file, read as a stream (never whole into memory). */
  readonly file: string;
  /** The table the rows go into; its columns in order must match the file's fields. */
  readonly table: string;
  /** Whether the file's first line is a header to skip (default false). */
  readonly header?: boolean;
  /**
   * Where the progress bar is drawn (default process.stderr). A terminal gets one line redrawn
   * in place; any other stream gets a new line per redraw and the final state as the last line.
   */
  readonly progressOutput?: Writable;
}

/**
 * Imports a CSV file into a table through `COPY ... FROM STDIN (FORMAT csv)`, drawing a
 * progress bar (status, bytes, lines, rate) with `cli-progress` as the file's chunks are handed to the
 * server. The file is read at the pace the server accepts it (the read stream is pulled, not
 * pushed), so memory stays flat whatever the file's size.
 *
 * Resolves with the number of rows the server imported (from COPY's command tag, which the
 * bar's last line also shows). A bad line makes the server reject the COPY: the promise
 * rejects with that PostgresError (e.g. 22P02 invalid_text_representation, with the line in
 * `where`), the file is closed and nothing is committed, since COPY is one statement.
 *
 * @example
 * const rows = await main({ host: 'localhost', port: 5432, user: 'app', database: 'app' }, { file: 'people.csv', table: 'people', header: true });
 */
export async function main(config: CsvImportConfig, options: CsvImportOptions): Promise<number> {
  const { size } = await stat(options.file);
  const settings: ConnectionConfig = { ...config, sslmode: 'disable', applicationName: 'rxpg-csv-import' };
  const bar = new SingleBar({
    stream: options.progressOutput ?? process.stderr,
    format: '{status} {bar} {percentage}% | {rows} rows | {transferred} of {size} | {rate}',
    // Redraw on a stream that is not a terminal too (a log file, a test), a line per redraw.
    noTTYOutput: true,
    notTTYSchedule: 1000,
    hideCursor: true,
    // A SIGINT handler would be process-wide state owned by an example: leave signals alone.
    gracefulExit: false,
  });

  const startedAt = Date.now();
  let bytes = 0;
  let lines = 0;
  let status = 'importing';
  const progress = (rows: number) => ({
    status,
    rows,
    transferred: formatBytes(bytes),
    size: formatBytes(size),
    rate: `${formatBytes(bytes / Math.max((Date.now() - startedAt) / 1000, 0.001))}/s`,
  });

  // Counts what passes on its way to the server. An async generator over the read stream is
  // pulled by COPY one chunk at a time; when the COPY fails, the generator is returned and
  // `for await` destroys the read stream.
  async function* counted(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      bytes += chunk.length;
      lines += countLineBreaks(chunk);
      bar.update(bytes, progress(options.header ? Math.max(lines - 1, 0) : lines));
      yield chunk;
    }
  }

  const format = options.header ? '(FORMAT csv, HEADER true)' : '(FORMAT csv)';
  bar.start(size, 0, progress(0));
  try {
    const result = await lastValueFrom(
      withConnection(settings, (connection) =>
        connection.copyIn(`COPY ${quoteIdentifier(options.table)} FROM STDIN ${format}`, counted(createReadStream(options.file))),
      ),
    );
    // The server's count is the truth: a quoted field may hold line breaks.
    status = 'imported';
    bar.update(bytes, progress(result.rowCount ?? lines));
    return result.rowCount ?? 0;
  } catch (error) {
    // The lines counted were sent, not committed: the bar's last line says so.
    status = 'failed';
    bar.update(bytes, progress(0));
    throw error;
  } finally {
    bar.stop();
  }
}

function countLineBreaks(chunk: Buffer): number {
  let count = 0;
  for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) count++;
  return count;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
