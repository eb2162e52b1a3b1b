// Pushback and bounded memory. Seed case ported here (reference/postgres_async.md §3.4): T-Q9.
import { count, firstValueFrom, lastValueFrom, tap } from 'rxjs';
import type { Connection } from '../../lib';
import { closeOpenedConnections, errorOf, openConnection } from '../helpers/connections';
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

  it('unsubscribing while a pushback is pending releases the socket: the connection goes on', async () => {
    const never = new Promise<void>(() => undefined);
    let paused: () => void = () => undefined;
    const isPaused = new Promise<void>((resolve) => (paused = resolve));
    const subscription = connection
      .query<{ g: number }>('SELECT generate_series(1, 200000) AS g', [], {
        pushback: () => {
          paused();
          return never;
        },
      })
      .subscribe({ error: () => undefined });
    await isPaused;
    await ioRound();
    subscription.unsubscribe();
    expect(await firstValueFrom(connection.query<{ n: number }>('SELECT 5 AS n'))).toEqual({ n: 5 });
  });

  it('a pushback that throws or returns nonsense fails only its query', async () => {
    const thrown = new Error('pushback broke');
    const error = await errorOf(
      lastValueFrom(
        connection.query('SELECT generate_series(1, 100000) AS g', [], {
          pushback: () => {
            throw thrown;
          },
        }),
      ),
    );
    expect(error).toBe(thrown);
    const nonsense = await errorOf(
      lastValueFrom(connection.query('SELECT generate_series(1, 100000) AS g', [], { pushback: (() => 42) as never })),
    );
    expect(nonsense).toBeInstanceOf(TypeError);
    expect(nonsense.message).toContain('ObservableInput');
    const notAFunction = await errorOf(lastValueFrom(connection.copyOut('COPY (SELECT 1) TO STDOUT', [], { pushback: 'later' as never })));
    expect(notAFunction).toBeInstanceOf(TypeError);
    expect(await firstValueFrom(connection.query<{ n: number }>('SELECT 6 AS n'))).toEqual({ n: 6 });
  });
});
