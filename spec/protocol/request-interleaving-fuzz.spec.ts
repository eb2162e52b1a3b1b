// Random interleavings of subscribe, unsubscribe and timeout over pipelined requests on one
// real connection (issue 10's fuzzing layer): a row never reaches another request's
// subscriber, a CancelRequest never hits a request that is still wanted (it would fail with
// 57014), and the connection is usable afterwards.
import fc from 'fast-check';
import { lastValueFrom, type Observable, type Subscription } from 'rxjs';
import { TimeoutError, type Connection } from '../../lib';
import { closeOpenedConnections, openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';

afterAll(closeOpenedConnections);

type Kind = 'query' | 'execute' | 'simpleQuery';
type Ending =
  | { readonly type: 'complete' }
  | { readonly type: 'unsubscribe-at-once' }
  | { readonly type: 'unsubscribe-after'; readonly ms: number }
  | { readonly type: 'unsubscribe-after-first-row' }
  | { readonly type: 'timeout'; readonly ms: number };

interface Step {
  readonly kind: Kind;
  readonly rows: number;
  /** Server-side sleep in milliseconds before the rows, so that cancels find it running. */
  readonly sleep: number;
  readonly ending: Ending;
  /** Milliseconds to wait before the next request is made (0: same tick). */
  readonly gap: number;
}

const step: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom<Kind>('query', 'execute', 'simpleQuery'),
  rows: fc.integer({ min: 0, max: 300 }),
  sleep: fc.constantFrom(0, 0, 0, 5, 20),
  ending: fc.oneof(
    { weight: 4, arbitrary: fc.constant<Ending>({ type: 'complete' }) },
    { weight: 1, arbitrary: fc.constant<Ending>({ type: 'unsubscribe-at-once' }) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 15 }).map<Ending>((ms) => ({ type: 'unsubscribe-after', ms })) },
    { weight: 1, arbitrary: fc.constant<Ending>({ type: 'unsubscribe-after-first-row' }) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 15 }).map<Ending>((ms) => ({ type: 'timeout', ms })) },
  ),
  gap: fc.constantFrom(0, 0, 0, 1, 3),
});

/** The request for step `id`: every row it returns carries `id`. */
function request(connection: Connection, id: number, { kind, rows, sleep, ending }: Step): Observable<unknown> {
  const timeout = ending.type === 'timeout' ? ending.ms : undefined;
  const sql = `SELECT $1::int AS id, g FROM pg_sleep($3::float8 / 1000), generate_series(1, $2::int) g`;
  switch (kind) {
    case 'query':
      return connection.query(sql, [id, rows, sleep], { timeout });
    case 'execute':
      return connection.execute(`DO $$BEGIN PERFORM pg_sleep(${sleep} / 1000.0); END$$`, [], { timeout });
    case 'simpleQuery':
      return connection.simpleQuery(
        `SELECT ${id} AS id, g FROM pg_sleep(${sleep} / 1000.0), generate_series(1, ${rows}) g; SELECT ${id} AS id`,
      );
  }
}

/** The ids found in what a request emitted (rows, or simple-query result sets). */
function idsIn(kind: Kind, value: unknown): number[] {
  if (kind === 'query') return [(value as { id: number }).id];
  if (kind === 'simpleQuery') return (value as { rows: (string | null)[][] }).rows.map((row) => Number(row[0]));
  return [];
}

describe('random interleavings of subscribe, unsubscribe and timeout on one connection', () => {
  it('deliver every row to its own subscriber, cancel only what was abandoned, and leave the connection usable', async () => {
    const connection = await openConnection(superuserConfig());
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 16 }), async (steps) => {
        const problems: string[] = [];
        const settled: Promise<void>[] = [];
        for (const [id, current] of steps.entries()) {
          const { kind, ending } = current;
          let subscription: Subscription | undefined;
          let emitted = 0;
          let expectedRows = kind === 'query' ? current.rows : kind === 'simpleQuery' ? 2 : 1;
          settled.push(
            new Promise<void>((resolve) => {
              const finish = () => {
                clearTimeout(timer);
                resolve();
              };
              let timer: NodeJS.Timeout | undefined;
              subscription = request(connection, id, current).subscribe({
                next: (value) => {
                  emitted += 1;
                  for (const seen of idsIn(kind, value)) if (seen !== id) problems.push(`request ${id} received a row of request ${seen}`);
                  if (ending.type === 'unsubscribe-after-first-row') {
                    subscription?.unsubscribe();
                    expectedRows = -1;
                    finish();
                  }
                },
                error: (error: unknown) => {
                  if (!(ending.type === 'timeout' && error instanceof TimeoutError)) {
                    problems.push(`request ${id} (${kind}, ${ending.type}) failed: ${String(error)}`);
                  }
                  finish();
                },
                complete: () => {
                  if (expectedRows >= 0 && emitted !== expectedRows) {
                    problems.push(`request ${id} (${kind}) emitted ${emitted}, expected ${expectedRows}`);
                  }
                  finish();
                },
              });
              if (ending.type === 'unsubscribe-at-once') {
                subscription.unsubscribe();
                finish();
              } else if (ending.type === 'unsubscribe-after') {
                timer = setTimeout(() => {
                  subscription?.unsubscribe();
                  finish();
                }, ending.ms);
              }
            }),
          );
          if (current.gap > 0) await new Promise((resolve) => setTimeout(resolve, current.gap));
        }
        await Promise.all(settled);
        expect(problems).toEqual([]);
        const after = await lastValueFrom(connection.query<{ n: number }>('SELECT $1::int AS n', [steps.length]));
        expect(after.n).toBe(steps.length);
        expect(connection.state).toBe('open');
      }),
      { numRuns: 100 },
    );
  }, 120_000);
});
