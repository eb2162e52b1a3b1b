// The server restarted under a pooled load (`pg_ctl stop -m immediate`, then start on the
// same port), on a dedicated throwaway cluster: work in flight errors with a ConnectionError,
// work asked for while the server is down waits (connect retries with backoff) and succeeds
// once it is back, with no manual step; the pool's listener reconnects too.
import { lastValueFrom } from 'rxjs';
import { ConnectionError, createPool, type Pool } from '../../lib';
import { startThrowawayCluster, type ThrowawayCluster } from '../harness/throwaway-cluster';
import { Recorder } from '../helpers/recorder';
import { superuserConfig } from '../helpers/test-servers';

let cluster!: ThrowawayCluster;
let pool: Pool | undefined;
beforeAll(async () => {
  cluster = await startThrowawayCluster();
}, 30_000);
afterAll(async () => {
  await pool?.end({ timeout: 100 });
  await cluster?.stop();
});

describe('pool: the server restarted under load', () => {
  it('fails in-flight work with ConnectionError, then serves new work once the server is back, and re-listens', async () => {
    pool = createPool(superuserConfig(cluster), {
      max: 5,
      acquireTimeout: 15_000,
      connectRetry: { initialDelay: 20, maxDelay: 200 },
      listener: { heartbeatInterval: 1000 },
    });
    const p = pool;
    const channel = `restart_${Math.random().toString(36).slice(2, 8)}`;
    const events = new Recorder(p.channelEvents(channel));
    await events.next((event) => event.type === 'listening');

    let phase: 'before' | 'outage' | 'after' | 'done' = 'before';
    const served = { before: 0, outage: 0, after: 0 };
    const errors: unknown[] = [];
    const worker = async (w: number) => {
      for (let i = 0; phase !== 'done'; i++) {
        const n = w * 100_000 + i;
        try {
          const row = await p.first<{ n: number }>('SELECT $1::int AS n, pg_sleep(0.005)', [n]);
          expect(row?.n).toBe(n);
          const now: string = phase; // read after the await: the phase may have moved on
          served[now === 'before' ? 'before' : now === 'outage' ? 'outage' : 'after']++;
        } catch (error) {
          errors.push(error);
        }
      }
    };
    const workers = Array.from({ length: 20 }, (_, w) => worker(w));
    const until = async (check: () => boolean) => {
      while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    await until(() => served.before >= 100);

    phase = 'outage';
    await cluster.stopServer();
    const lost = await events.next((event) => event.type === 'disconnected', { timeout: 3000 });
    expect(lost).toMatchObject({ channel });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await cluster.startServer();
    phase = 'after';
    await until(() => served.after >= 100);
    phase = 'done';
    await Promise.all(workers);

    // In-flight work failed with a ConnectionError; what was asked for during the outage waited.
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) expect(error).toBeInstanceOf(ConnectionError);
    expect(await p.first('SELECT 1 AS one')).toEqual({ one: 1 });
    expect(p.stats.total).toBeLessThanOrEqual(5);

    await events.next((event) => event.type === 'listening' && event.reconnect, { timeout: 5000 });
    await lastValueFrom(p.notify(channel, 'back'), { defaultValue: undefined });
    await events.next((event) => event.type === 'notification' && event.notification.payload === 'back');
    events.unsubscribe();
  }, 30_000);
});
