// The pool's connections over time against a real server: idle reaping, `min` kept and
// refilled, maxLifetime replacing connections (never mid-request), end() with running and
// waiting work, and stats / stats$.
import { Subject, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { ConnectionError, createPool, type Pool, type PoolOptions, type PoolStats } from '../../lib';
import { errorOf, eventually } from '../helpers/connections';
import { superuserConfig, superuserPsql } from '../helpers/test-servers';

const pools: Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.end({ timeout: 100 })));
});

const tag = () => Math.random().toString(36).slice(2, 10);

function pool(options: PoolOptions, applicationName = `pool-${tag()}`): Pool {
  const created = createPool({ ...superuserConfig(), applicationName }, options);
  pools.push(created);
  return created;
}

const backendPids = async (applicationName: string) =>
  (await superuserPsql(`SELECT pid FROM pg_stat_activity WHERE application_name = '${applicationName}' ORDER BY pid`))
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
const pidOf = async (p: Pool) => (await lastValueFrom(p.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))).pid;
/** Runs `count` requests at once, each holding its connection for `seconds`. */
const concurrently = (p: Pool, count: number, seconds = 0.05) =>
  Promise.all(Array.from({ length: count }, () => lastValueFrom(p.query(`SELECT pg_sleep(${seconds})`))));

describe('idle reaping and min', () => {
  it('closes connections idle longer than idleTimeout', async () => {
    const applicationName = `reap-${tag()}`;
    const p = pool({ max: 3, idleTimeout: 150 }, applicationName);
    await concurrently(p, 3);
    expect(p.stats).toMatchObject({ total: 3, idle: 3 });
    expect(await backendPids(applicationName)).toHaveLength(3);
    await eventually(() => p.stats.total === 0, 2000);
    await eventually(async () => (await backendPids(applicationName)).length === 0, 2000);
  });

  it('keeps min connections once used (none before), reaps only those above it, and refills after a failure', async () => {
    const applicationName = `min-${tag()}`;
    const p = pool({ max: 4, min: 2, idleTimeout: 100 }, applicationName);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(p.stats.total).toBe(0);
    await concurrently(p, 4);
    expect(p.stats.total).toBe(4);
    await eventually(() => p.stats.total === 2, 2000);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(p.stats).toMatchObject({ total: 2, idle: 2 });
    const before = await backendPids(applicationName);
    expect(before).toHaveLength(2);
    await superuserPsql(`SELECT pg_terminate_backend(${before[0]})`);
    await eventually(async () => {
      const now = await backendPids(applicationName);
      return now.length === 2 && !now.includes(before[0]!);
    }, 3000);
    await eventually(() => p.stats.total === 2 && p.stats.idle === 2);
  });

  it('a single request after first use fills up to min', async () => {
    const p = pool({ max: 5, min: 3 });
    await lastValueFrom(p.query('SELECT 1'));
    await eventually(() => p.stats.total === 3);
  });
});

describe('maxLifetime', () => {
  it('replaces a connection once it has outlived maxLifetime (idle or at release), never mid-request', async () => {
    const applicationName = `life-${tag()}`;
    const p = pool({ max: 1, maxLifetime: 200 }, applicationName);
    const first = await pidOf(p);
    // Runs past the lifetime: it completes on the same connection...
    const row = await firstValueFrom(p.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.3)'));
    expect(row.pid).toBe(first);
    // ...which is closed at its release and replaced by the next request.
    const second = await pidOf(p);
    expect(second).not.toBe(first);
    await eventually(async () => (await backendPids(applicationName)).join() === String(second));
    // An idle connection past its lifetime is closed without waiting for a request.
    await eventually(() => p.stats.total === 0, 1000);
  });
});

describe('pool.end', () => {
  it('lets running work finish, fails waiting and later requests at once, closes everything, and never rejects', async () => {
    const applicationName = `end-${tag()}`;
    const p = pool({ max: 1 }, applicationName);
    await pidOf(p);
    const running = lastValueFrom(p.query<{ done: number }>('SELECT 1 AS done, pg_sleep(0.2)'));
    const waiting = errorOf(lastValueFrom(p.query('SELECT 2')));
    expect(p.stats.waiting).toBe(1);
    const ended = p.end({ timeout: 2000 });
    const waitingError = await waiting;
    expect(waitingError).toBeInstanceOf(ConnectionError);
    expect(waitingError.message).toContain('pool has ended');
    const later = await errorOf(lastValueFrom(p.query('SELECT 3')));
    expect(later).toBeInstanceOf(ConnectionError);
    expect(await running).toMatchObject({ done: 1 });
    await expect(ended).resolves.toBeUndefined();
    expect(p.end()).toBe(ended);
    expect(p.stats).toMatchObject({ total: 0, busy: 0, waiting: 0 });
    await eventually(async () => (await backendPids(applicationName)).length === 0);
  });

  it('cancels work still running after the timeout with a ConnectionError, and closes its connection', async () => {
    const applicationName = `end-force-${tag()}`;
    const p = pool({ max: 2 }, applicationName);
    const stuck = errorOf(lastValueFrom(p.query('SELECT pg_sleep(10)')));
    const held = new Subject<never>();
    const holding = errorOf(lastValueFrom(p.withConnection(() => held)));
    await eventually(() => p.stats.busy === 2);
    const started = Date.now();
    await p.end({ timeout: 150 });
    expect(Date.now() - started).toBeLessThan(2500);
    for (const error of [await stuck, await holding]) {
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toContain('still running after 150 ms');
    }
    await eventually(async () => (await backendPids(applicationName)).length === 0, 3000);
  });

  it('end({ timeout: Infinity }) waits for running work instead of cancelling it at once; a nonsense timeout is the default', async () => {
    const p = pool({ max: 1 }, `end-infinity-${tag()}`);
    const running = lastValueFrom(p.query<{ done: number }>('SELECT 1 AS done, pg_sleep(0.1)'));
    await eventually(() => p.stats.busy === 1);
    await p.end({ timeout: Infinity });
    expect(await running).toMatchObject({ done: 1 });
    const other = pool({ max: 1 }, `end-nan-${tag()}`);
    const slow = lastValueFrom(other.query<{ done: number }>('SELECT 1 AS done, pg_sleep(0.1)'));
    await eventually(() => other.stats.busy === 1);
    await expect(other.end({ timeout: Number.NaN })).resolves.toBeUndefined();
    expect(await slow).toMatchObject({ done: 1 });
  });

  it('query with options null errors the subscriber rather than throwing at the call', async () => {
    const p = pool({ max: 1 }, `null-options-${tag()}`);
    const observable = p.query('SELECT 1', [], null as never);
    expect(await errorOf(lastValueFrom(observable))).toBeInstanceOf(TypeError);
  });

  it('is what await using does', async () => {
    const applicationName = `dispose-${tag()}`;
    {
      await using p = createPool({ ...superuserConfig(), applicationName }, { max: 2 });
      await lastValueFrom(p.query('SELECT 1'));
    }
    await eventually(async () => (await backendPids(applicationName)).length === 0);
  });

  it('resolves on a pool that was never used', async () => {
    const p = pool({});
    await expect(p.end()).resolves.toBeUndefined();
  });
});

describe('stats', () => {
  it('counts idle, busy and waiting; stats$ gives the current value at once, then each change, and completes at end', async () => {
    const p = pool({ max: 1 });
    const seen: PoolStats[] = [];
    const recorded = lastValueFrom(p.stats$.pipe(toArray()));
    p.stats$.subscribe((stats) => seen.push(stats));
    expect(seen).toEqual([{ total: 0, idle: 0, busy: 0, waiting: 0, connecting: 0, max: 1 }]);
    const gate = new Subject<never>();
    const holder = p.withConnection(() => gate).subscribe({ error: () => undefined });
    expect(seen.at(-1)).toMatchObject({ waiting: 1, connecting: 1 });
    await eventually(() => p.stats.busy === 1);
    expect(seen.at(-1)).toEqual({ total: 1, idle: 0, busy: 1, waiting: 0, connecting: 0, max: 1 });
    const queued = lastValueFrom(p.query('SELECT 1'));
    expect(p.stats).toEqual({ total: 1, idle: 0, busy: 1, waiting: 1, connecting: 0, max: 1 });
    expect(seen.at(-1)).toEqual(p.stats);
    const late: PoolStats[] = [];
    p.stats$.subscribe((stats) => late.push(stats));
    expect(late).toEqual([p.stats]);
    gate.complete();
    await queued;
    holder.unsubscribe();
    await eventually(() => p.stats.idle === 1);
    expect(seen.at(-1)).toEqual({ total: 1, idle: 1, busy: 0, waiting: 0, connecting: 0, max: 1 });
    await p.end();
    const history = await recorded;
    expect(history.at(-1)).toEqual({ total: 0, idle: 0, busy: 0, waiting: 0, connecting: 0, max: 1 });
    for (let i = 1; i < history.length; i++) expect(history[i]).not.toEqual(history[i - 1]);
  });
});
