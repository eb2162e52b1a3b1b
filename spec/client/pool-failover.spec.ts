// A pool over a primary and its streaming standby (issue 12, item 3): with
// target_session_attrs=read-write it keeps serving writes after the primary is stopped and the
// standby promoted — only work in flight errors; with prefer-standby / read-only it reads from
// the standby.
import { setTimeout as delay } from 'node:timers/promises';
import { firstValueFrom } from 'rxjs';
import { ConnectionError, PostgresError, createPool, type ConnectionConfig, type Pool } from '../../lib';
import { useReplicatedCluster, waitForReplay } from '../harness/standby';
import { errorOf } from '../helpers/connections';

const cluster = useReplicatedCluster();
const pools: Pool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.end({ timeout: 500 });
});

function poolOver(targetSessionAttrs: ConnectionConfig['targetSessionAttrs']): Pool {
  const { primary, standby } = cluster();
  const pool = createPool(
    {
      host: ['127.0.0.1', '127.0.0.1'],
      port: [primary.port, standby.port],
      user: 'postgres',
      database: 'postgres',
      sslmode: 'disable',
      targetSessionAttrs,
      connectTimeout: 1000,
    },
    { max: 3, acquireTimeout: 20_000, connectRetry: { initialDelay: 20, maxDelay: 200 } },
  );
  pools.push(pool);
  return pool;
}

const whichServer = async (pool: Pool) => (await pool.first<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby'))?.standby;

describe('a pool over a primary and a standby', () => {
  it('prefer-standby and read-only read from the standby', async () => {
    await cluster().primary.psql('CREATE TABLE IF NOT EXISTS failover_reads (n int)');
    await waitForReplay(cluster());
    for (const target of ['prefer-standby', 'read-only'] as const) {
      const pool = poolOver(target);
      expect(await whichServer(pool)).toBe(true);
      expect(await pool.all('SELECT count(*)::int AS n FROM failover_reads')).toEqual([{ n: 0 }]);
    }
  });

  it("a pool on the standby: notifications error with the server's refusal of LISTEN instead of staying silent", async () => {
    const pool = poolOver('read-only');
    const error = await errorOf(firstValueFrom(pool.notifications('on_standby')));
    expect(error).toBeInstanceOf(PostgresError);
    expect(error).toMatchObject({ code: '25006' });
    // The listener itself is fine: another channel subscribed later is refused the same way.
    expect(await errorOf(firstValueFrom(pool.channelEvents('on_standby_too')))).toMatchObject({ code: '25006' });
  });

  it('read-write keeps serving writes after the primary stops and the standby is promoted', async () => {
    const { primary, standby } = cluster();
    await primary.psql('CREATE TABLE failover_writes (n int)');
    await waitForReplay(cluster());
    const pool = poolOver('read-write');
    for (let n = 1; n <= 5; n++) await pool.run('INSERT INTO failover_writes VALUES ($1)', [n]);
    expect(await whichServer(pool)).toBe(false);
    await waitForReplay(cluster());

    // Work in flight when the primary goes away errors with a ConnectionError.
    const inFlight = errorOf(pool.run('SELECT pg_sleep(30)'));
    await delay(100);
    await primary.stopServer();
    expect(await inFlight).toBeInstanceOf(ConnectionError);

    // The standby is promoted: new work finds it, with no step on the pool and no error.
    await standby.promote();
    await pool.run('INSERT INTO failover_writes VALUES (6)');
    expect(await whichServer(pool)).toBe(false);
    expect(await pool.all('SELECT n FROM failover_writes ORDER BY n')).toEqual([1, 2, 3, 4, 5, 6].map((n) => ({ n })));
  }, 60_000);
});
