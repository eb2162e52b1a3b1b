// A pool through PgBouncer in transaction mode (started by the harness), configured only by a
// connection string whose `statement_cache_size=0` turns the statement cache off, as
// transaction pooling needs: concurrent parameterised queries and transactions all get their
// own answers.
import { concat, lastValueFrom, toArray } from 'rxjs';
import { createPool, type Pool } from '../../lib';
import { pgBouncerConfig } from '../helpers/test-servers';

const pools: Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.end({ timeout: 100 })));
});

function bouncerUrl(): string {
  const { host, port, user, database } = pgBouncerConfig();
  return `postgres://${encodeURIComponent(user)}@${host}:${port}/${encodeURIComponent(database)}?sslmode=disable&statement_cache_size=0`;
}

describe('a pool through PgBouncer (transaction mode)', () => {
  it('takes statement_cache_size=0 from its connection string, and every concurrent query gets its own rows', async () => {
    const pool = createPool(bouncerUrl(), { max: 4 });
    pools.push(pool);
    const cacheSize = await lastValueFrom(pool.withConnection(async (connection) => connection.config.statementCacheSize));
    expect(cacheSize).toBe(0);
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 2 === 0
          ? pool.first<{ n: number }>('SELECT $1::int AS n', [i]).then((row) => row?.n)
          : pool.first<{ t: string }>("SELECT $1::text || '!' AS t", [String(i)]).then((row) => row?.t),
      ),
    );
    expect(answers).toEqual(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? i : `${i}!`)));
  });

  it('runs transactions through it: each sees its own temporary state and commits', async () => {
    const pool = createPool(bouncerUrl(), { max: 3 });
    pools.push(pool);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        lastValueFrom(
          pool
            .transaction((tx) =>
              concat(
                tx.execute(`CREATE TEMP TABLE t (n int) ON COMMIT DROP`),
                tx.execute('INSERT INTO t VALUES ($1)', [i]),
                tx.query<{ n: number }>('SELECT n FROM t'),
              ),
            )
            .pipe(toArray()),
        ),
      ),
    );
    expect(results.map((values) => values.at(-1))).toEqual(Array.from({ length: 20 }, (_, n) => ({ n })));
  });
});
