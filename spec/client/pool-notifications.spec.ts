// A pool's notifications against a real server: one listener connection for every channel,
// outside `max`, LISTEN / UNLISTEN by reference count, reconnection with `listening` +
// `reconnect: true`, and the end of the pool completing the subscriptions.
import { lastValueFrom } from 'rxjs';
import { ConnectionError, createPool, type Notification, type Pool, type PoolChannelEvent, type PoolOptions } from '../../lib';
import { errorOf, eventually } from '../helpers/connections';
import { Recorder } from '../helpers/recorder';
import { superuserConfig, superuserPsql } from '../helpers/test-servers';

const pools: Pool[] = [];
const recorders: Recorder<unknown>[] = [];
afterEach(async () => {
  for (const recorder of recorders.splice(0)) recorder.unsubscribe();
  await Promise.all(pools.splice(0).map((pool) => pool.end({ timeout: 100 })));
});

const tag = () => Math.random().toString(36).slice(2, 10);

// A heartbeat would replace the listener's last statement (LISTEN, UNLISTEN) in pg_stat_activity, which the specs read.
const fast: PoolOptions = { max: 1, listener: { heartbeatInterval: 5000 }, connectRetry: { initialDelay: 20, maxDelay: 100 } };

function pool(applicationName: string, options: PoolOptions = fast): Pool {
  const created = createPool({ ...superuserConfig(), applicationName }, options);
  pools.push(created);
  return created;
}

function record<T>(source: import('rxjs').Observable<T>): Recorder<T> {
  const recorder = new Recorder(source);
  recorders.push(recorder as Recorder<unknown>);
  return recorder;
}

const payloads = (recorder: Recorder<Notification>) => recorder.values.map((notification) => notification.payload);
const isListening = (event: PoolChannelEvent) => event.type === 'listening';

/** The backends of `applicationName` whose last statement was (UN)LISTEN: the listener. */
const listenerStatements = async (applicationName: string) =>
  (await superuserPsql(`SELECT query FROM pg_stat_activity WHERE application_name = '${applicationName}' AND query LIKE '%LISTEN%'`))
    .split('\n')
    .filter((line) => line !== '');
const backends = async (applicationName: string) =>
  Number(await superuserPsql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = '${applicationName}'`));

describe('pool.notifications', () => {
  it('serves two channels from one listener connection outside max, counts subscribers per channel, and closes it after the last', async () => {
    const applicationName = `pool-notify-${tag()}`;
    const p = pool(applicationName);
    const [a, b] = [`a_${tag()}`, `b_${tag()}`];
    const aEvents = record(p.channelEvents(a));
    const aSecond = record(p.notifications(a));
    const bEvents = record(p.channelEvents(b));
    await aEvents.next(isListening);
    await bEvents.next(isListening);
    expect(aEvents.values[0]).toEqual({ type: 'listening', channel: a, reconnect: false });
    expect(p.stats.total).toBe(0); // the listener is not a pooled connection
    await lastValueFrom(p.notify(a, '1'), { defaultValue: undefined });
    await lastValueFrom(p.notify(b, '2'), { defaultValue: undefined });
    await aSecond.count(1);
    await bEvents.next((event) => event.type === 'notification');
    expect(payloads(aSecond)).toEqual(['1']);
    expect(p.stats.total).toBe(1);
    expect(await backends(applicationName)).toBe(2); // one pooled, one listener

    aSecond.unsubscribe(); // `a` still has a subscriber: still listened to
    await lastValueFrom(p.notify(a, '3'), { defaultValue: undefined });
    await aEvents.next((event) => event.type === 'notification' && event.notification.payload === '3');

    aEvents.unsubscribe(); // the last of `a`: UNLISTEN
    await eventually(async () => (await listenerStatements(applicationName)).includes(`UNLISTEN "${a}"`));
    bEvents.unsubscribe(); // the last of all: the listener connection closes
    await eventually(async () => (await backends(applicationName)) === 1);
  });

  it('reconnects after its backend is terminated, says so with reconnect: true, and hears what is sent afterwards', async () => {
    const applicationName = `pool-relisten-${tag()}`;
    const p = pool(applicationName);
    const channel = `re_${tag()}`;
    const events = record(p.channelEvents(channel));
    await events.next(isListening);
    await superuserPsql(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '${applicationName}' AND query LIKE '%LISTEN%'`,
    );
    const disconnected = await events.next((event) => event.type === 'disconnected');
    expect(disconnected).toMatchObject({ type: 'disconnected', channel });
    await events.next((event) => event.type === 'listening' && event.reconnect);
    await superuserPsql(`SELECT pg_notify('${channel}', 'after')`);
    await events.next((event) => event.type === 'notification' && event.notification.payload === 'after');
  });

  it('refuses an invalid channel name at subscribe', async () => {
    const p = pool(`pool-badchannel-${tag()}`);
    expect(await errorOf(lastValueFrom(p.notifications('')))).toBeInstanceOf(TypeError);
    expect(await errorOf(lastValueFrom(p.notifications('x'.repeat(64))))).toBeInstanceOf(RangeError);
  });

  it('completes the subscriptions when the pool ends, and refuses new ones afterwards', async () => {
    const applicationName = `pool-notify-end-${tag()}`;
    const p = pool(applicationName);
    const events = record(p.channelEvents(`end_${tag()}`));
    await events.next(isListening);
    await p.end();
    expect(events.ending).toEqual({ kind: 'complete' });
    expect(await errorOf(lastValueFrom(p.notifications('later')))).toBeInstanceOf(ConnectionError);
    await eventually(async () => (await backends(applicationName)) === 0);
  });
});
