// examples/search-as-you-type.ts run for real: terms typed quickly, a slow query for a stale
// term abandoned by switchMap and gone from pg_stat_activity, only the last term's hits
// delivered; and the search's errors.
import { setTimeout as sleep } from 'node:timers/promises';
import { concat, defer, ignoreElements, lastValueFrom, map, of, toArray, type Observable } from 'rxjs';
import { exampleProducts, main, ProductSearch } from '../../examples/search-as-you-type';
import { createPool, PostgresError } from '../../lib';
import { superuserConfig, superuserPsql } from '../helpers/test-servers';

const latencySeconds = 1.5;

afterAll(() => superuserPsql('DROP TABLE IF EXISTS example_products'));

function exampleConfig() {
  const { host, port, user, database } = superuserConfig();
  return { host, port, user, database };
}

/** The `pid|query_start` of the example's search queries running on the server. */
async function activeSearches(): Promise<string[]> {
  const rows = await superuserPsql(
    "SELECT pid || '|' || query_start FROM pg_stat_activity WHERE application_name = 'rxpg-search-example' AND state = 'active' AND query LIKE '%pg_sleep%'",
  );
  return rows === '' ? [] : rows.split('\n');
}

/** Polls `check` every 20 ms until it holds; fails after `withinMs`. */
async function until(what: string, withinMs: number, check: () => Promise<boolean>): Promise<number> {
  const startedAt = Date.now();
  while (!(await check())) {
    if (Date.now() - startedAt > withinMs) throw new Error(`${what} did not happen within ${withinMs} ms`);
    await sleep(20);
  }
  return Date.now() - startedAt;
}

/** Emits nothing, and completes once `work` has resolved: a pause in the typing. */
function waitFor(work: () => Promise<unknown>): Observable<never> {
  return defer(work).pipe(ignoreElements());
}

/** `term`, typed `ms` after the previous one. */
function typedAfter(ms: number, term: string): Observable<string> {
  return defer(() => sleep(ms)).pipe(map(() => term));
}

describe('examples/search-as-you-type', () => {
  it('cancels the abandoned query on the server and delivers only the last term', async () => {
    let abandoned: string | undefined;
    let goneAfterMs: number | undefined;
    const terms$ = concat(
      // Typed quickly: debounced into one search for "mar", which is slow on the server.
      of('m', 'ma', 'mar'),
      waitFor(async () => {
        await until('the search for "mar" running on the server', 5000, async () => (await activeSearches()).length === 1);
        abandoned = (await activeSearches())[0];
      }),
      // The user goes on typing: switchMap drops "mar" for "jup", rxpg cancels it on the server.
      defer(() => {
        const gone = until(
          'the abandoned query leaving pg_stat_activity',
          700,
          async () => !(await activeSearches()).includes(abandoned ?? ''),
        ).then((ms) => (goneAfterMs = ms));
        return concat(
          of('ju', 'jup '),
          waitFor(() => gone),
        );
      }),
    );

    const hits = await main(exampleConfig(), terms$, { debounceMs: 50, latencySeconds });

    expect(abandoned).toMatch(/^\d+\|/);
    // Well before its pg_sleep would have ended: cancelled, not finished.
    expect(goneAfterMs).toBeLessThan(700);
    expect(hits).toEqual([
      [
        { id: 1, name: 'Jupiter lamp' },
        { id: 2, name: 'Jupiter poster' },
      ],
    ]);
  });

  it('answers an empty term without a query and escapes LIKE wildcards in a term', async () => {
    const hits = await main(exampleConfig(), concat(of('mer'), typedAfter(150, '  '), typedAfter(150, '%')), {
      debounceMs: 50,
    });
    expect(hits).toEqual([[{ id: exampleProducts.indexOf('Mercury thermometer') + 1, name: 'Mercury thermometer' }], [], []]);
  });

  it('ends the result stream with the server error when the query fails', async () => {
    const pool = createPool({ ...superuserConfig(), applicationName: 'rxpg-search-example' }, { max: 1 });
    try {
      const search = new ProductSearch(pool, { debounceMs: 10, table: 'no_such_products' });
      const failure = await lastValueFrom(search.search(of('mars')).pipe(toArray())).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(PostgresError);
      expect(failure).toMatchObject({ code: '42P01' });
    } finally {
      await pool.end();
    }
  });
});
