import { debounceTime, distinctUntilChanged, lastValueFrom, map, of, switchMap, toArray, type Observable } from 'rxjs';
import { createPool, quoteIdentifier, type ConnectionConfig, type Pool } from '../lib';

/** One search hit. */
export interface Product {
  readonly id: number;
  readonly name: string;
}

/** How {@link ProductSearch} behaves; an Angular app would provide these with its DI. */
export interface ProductSearchOptions {
  /** How long the user must stop typing before a term is searched, in milliseconds (default 250). */
  readonly debounceMs?: number;
  /**
   * Seconds each query sleeps on the server before it answers (default 0), standing in for a
   * slow query so that abandoned ones are visible in pg_stat_activity.
   */
  readonly latencySeconds?: number;
  /** The table searched, with columns `id int` and `name text` (default `example_products`). */
  readonly table?: string;
  /** The most hits returned per term (default 20). */
  readonly limit?: number;
}

/**
 * A search-as-you-type service in the shape of an Angular service (plain RxJS, no Angular):
 * give it the stream of what is in the search box, get back the stream of hit lists.
 */
export class ProductSearch {
  readonly #pool: Pool;
  readonly #debounceMs: number;
  readonly #latencySeconds: number;
  readonly #sql: string;

  constructor(pool: Pool, options: ProductSearchOptions = {}) {
    this.#pool = pool;
    this.#debounceMs = options.debounceMs ?? 250;
    this.#latencySeconds = options.latencySeconds ?? 0;
    // The latency is a materialized CTE behind an uncorrelated EXISTS, which the planner runs
    // once, before the scan, whether or not any row matches.
    this.#sql = `WITH latency AS MATERIALIZED (SELECT pg_sleep($2))
      SELECT id, name FROM ${quoteIdentifier(options.table ?? 'example_products')}
      WHERE name ILIKE $1 AND EXISTS (SELECT FROM latency)
      ORDER BY name LIMIT ${options.limit ?? 20}`;
  }

  /**
   * The hits for each term the user settles on: a term is searched once typing has paused for
   * `debounceMs` and only if it differs from the previous one (trimmed); an empty term gives
   * an empty list without a query. A new term abandons the query still running for the old
   * one: `switchMap` unsubscribes it, and rxpg cancels it on the server, so a slow query for
   * a stale term neither occupies a pooled connection nor delivers stale hits.
   *
   * Unsubscribing stops the search and cancels its running query. Errors: the query's
   * (PostgresError, ConnectionError, AcquireTimeoutError from the pool) end the stream; an
   * Angular template would `catchError` to show them. Completes when `terms$` completes and the
   * last query has answered.
   *
   * @example
   * const search = new ProductSearch(pool);
   * search.search(fromEvent(input, 'input').pipe(map(() => input.value))).subscribe((hits) => render(hits));
   */
  search(terms$: Observable<string>): Observable<Product[]> {
    return terms$.pipe(
      map((term) => term.trim()),
      debounceTime(this.#debounceMs),
      distinctUntilChanged(),
      switchMap((term) =>
        term === '' ? of([]) : this.#pool.query<Product>(this.#sql, [`%${escapeLikePattern(term)}%`, this.#latencySeconds]).pipe(toArray()),
      ),
    );
  }
}

/** Where the example connects: any server and role allowed to create a table. */
export interface SearchExampleConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly password?: string;
}

/** The products `main` searches, put in `example_products` if not there yet. */
export const exampleProducts: readonly string[] = [
  'Jupiter lamp',
  'Jupiter poster',
  'Mars bar',
  'Mars rover kit',
  'Marble run',
  'Mercury thermometer',
  'Neptune globe',
  'Saturn rings earrings',
  'Venus flytrap',
];

/**
 * Runs {@link ProductSearch} over `terms$` with a pool of its own (application_name
 * `rxpg-search-example`), after making sure `example_products` exists with
 * {@link exampleProducts}, and resolves with every hit list it emitted, once `terms$`
 * completes and the last query has answered. Rejects with the search's error; the pool is
 * ended either way.
 *
 * @example
 * const hits = await main(config, of('ma', 'mars'), { debounceMs: 100 });
 */
export async function main(
  config: SearchExampleConfig,
  terms$: Observable<string>,
  options: ProductSearchOptions = {},
): Promise<Product[][]> {
  const settings: ConnectionConfig = { ...config, sslmode: 'disable', applicationName: 'rxpg-search-example' };
  const pool = createPool(settings, { max: 4 });
  try {
    await pool.run('CREATE TABLE IF NOT EXISTS example_products (id int PRIMARY KEY, name text NOT NULL)');
    await pool.run(
      'INSERT INTO example_products SELECT ordinality, name FROM unnest($1::text[]) WITH ORDINALITY AS p(name) ON CONFLICT (id) DO NOTHING',
      [exampleProducts],
    );
    return await lastValueFrom(new ProductSearch(pool, options).search(terms$).pipe(toArray()));
  } finally {
    await pool.end();
  }
}

/** `term` as a literal inside an ILIKE pattern: its own `%`, `_` and `\` match themselves. */
function escapeLikePattern(term: string): string {
  return term.replace(/[\\%_]/g, '\\$&');
}
