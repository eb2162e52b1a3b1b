// Pushback and bounded memory. Seed case ported here (reference/postgres_async.md §3.4): T-Q9.
import { count, lastValueFrom, tap } from 'rxjs';
import type { Connection } from '../../lib';
import { closeOpenedConnections, openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';

let connection: Connection;
beforeEach(async () => {
  connection = await openConnection(superuserConfig());
});
afterEach(closeOpenedConnections);

/** One full event-loop round with real I/O. */
const ioRound = () => new Promise<void>((resolve) => setImmediate(() => setTimeout(resolve, 20)));

describe('pushback', () => {
  it('pauses reading while pending: no rows arrive until it settles (T-Q9)', async () => {
    const kib = 'a'.repeat(1024);
    let handled = 0;
    let calls = 0;
    let countAtBlock = -1;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let blocked: () => void = () => undefined;
    const isBlocked = new Promise<void>((resolve) => (blocked = resolve));
    const total = lastValueFrom(
      connection
        .query<{ y: number; z: string }>('SELECT g AS y, repeat($1, 1024) AS z FROM generate_series(0, 65535) g ORDER BY g', ['a'], {
          pushback: () => {
            calls += 1;
            if (handled <= 10_000 || countAtBlock >= 0) return undefined;
            countAtBlock = handled;
            blocked();
            return released;
          },
        })
        .pipe(
          tap((row) => {
            if (row.y !== handled || row.z !== kib) throw new Error(`row ${handled} is wrong`);
            handled += 1;
          }),
          count(),
        ),
    );
    await isBlocked;
    expect(countAtBlock).toBeLessThan(20_000);
    await ioRound();
    await ioRound();
    expect(handled).toBe(countAtBlock);
    release();
    expect(await total).toBe(65_536);
    expect(calls).toBeGreaterThan(10);
  });

  it('accepts Observables and a pushback that errors still resumes', async () => {
    let calls = 0;
    const rows = await lastValueFrom(
      connection
        .query('SELECT g FROM generate_series(1, 50000) g', [], {
          pushback: () => {
            calls += 1;
            return calls % 2 === 0 ? Promise.reject(new Error('ignored')) : new Promise((resolve) => setTimeout(resolve, 1));
          },
        })
        .pipe(count()),
    );
    expect(rows).toBe(50_000);
  });
});
