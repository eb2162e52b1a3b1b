// The reconnecting listener against real servers: a terminated backend, a path that goes
// silent (half-open, through a relay written here) and a server that is down for 5 s.
import { setTimeout as delay } from 'node:timers/promises';
import { lastValueFrom } from 'rxjs';
import { ConfigError, ConnectionError } from '../../lib';
import { listen, type ListenOptions, type ListenerEvent } from '../../lib/client';
import { startThrowawayCluster, type ThrowawayCluster } from '../harness/throwaway-cluster';
import { errorOf, eventually } from '../helpers/connections';
import { superuserConfig, superuserPsql } from '../helpers/test-servers';
import { Recorder } from '../helpers/recorder';
import { TcpRelay } from '../helpers/tcp-relay';

const recorders: Recorder<unknown>[] = [];
const relays: TcpRelay[] = [];

afterEach(async () => {
  for (const recorder of recorders.splice(0)) recorder.unsubscribe();
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
});

const tag = () => Math.random().toString(36).slice(2, 8);

/** Fast settings for tests: a 300 ms heartbeat, retries within 20..200 ms. */
const fast: ListenOptions = { heartbeatInterval: 300, reconnect: { initialDelay: 20, maxDelay: 200 } };

function record(events$: ReturnType<typeof listen>): Recorder<ListenerEvent> {
  const recorder = new Recorder(events$);
  recorders.push(recorder as Recorder<unknown>);
  return recorder;
}

const isConnected = (event: ListenerEvent) => event.type === 'connected';
const isDisconnected = (event: ListenerEvent) => event.type === 'disconnected';
const isNotification = (payload: string) => (event: ListenerEvent) =>
  event.type === 'notification' && event.notification.payload === payload;

const backends = async (applicationName: string) =>
  Number(await superuserPsql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = '${applicationName}'`));

const notifications = (recorder: Recorder<ListenerEvent>) =>
  recorder.values.flatMap((event) =>
    event.type === 'notification' ? [`${event.notification.channel}:${event.notification.payload}`] : [],
  );

describe('listen', () => {
  it('connects, LISTENs every channel, forwards only their notifications, and closes on unsubscribe', async () => {
    const applicationName = `listener-${tag()}`;
    const [a, b] = [`a_${tag()}`, `B.b ${tag()}`];
    const events = record(listen({ ...superuserConfig(), applicationName }, [a, b, a], fast));
    const connected = await events.next(isConnected);
    expect(connected).toEqual({ type: 'connected', reconnect: false, processId: expect.any(Number) });
    await superuserPsql(`SELECT pg_notify('${a}', '1'); SELECT pg_notify('unrelated_${tag()}', 'x'); SELECT pg_notify('${b}', '2')`);
    await events.next(isNotification('2'));
    expect(notifications(events)).toEqual([`${a}:1`, `${b}:2`]);
    expect(await superuserPsql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = '${applicationName}'`)).toBe('1');
    events.unsubscribe();
    await eventually(async () => (await backends(applicationName)) === 0);
    expect(events.ending).toBeUndefined();
  });

  it('reconnects after pg_terminate_backend, says so, and hears a NOTIFY sent after the re-LISTEN', async () => {
    const channel = `terminated_${tag()}`;
    const events = record(listen(superuserConfig(), channel, fast));
    const first = await events.next(isConnected);
    if (first.type !== 'connected') throw new Error('unreachable');
    await superuserPsql(`SELECT pg_terminate_backend(${first.processId})`);

    const lost = await events.next(isDisconnected);
    expect(lost).toMatchObject({ type: 'disconnected', attempt: 1, retryDelay: expect.any(Number) });
    if (lost.type !== 'disconnected') throw new Error('unreachable');
    expect(lost.error).toBeInstanceOf(ConnectionError);
    expect((lost.error as ConnectionError).cause).toMatchObject({ code: '57P01' });
    expect(lost.retryDelay).toBeLessThanOrEqual(20);

    const again = await events.next((event) => event.type === 'connected' && event.reconnect);
    if (again.type !== 'connected') throw new Error('unreachable');
    expect(again.processId).not.toBe(first.processId);
    await superuserPsql(`SELECT pg_notify('${channel}', 'after reconnect')`);
    await events.next(isNotification('after reconnect'));
    expect(events.ending).toBeUndefined();
  });

  it('notices a half-open connection within two heartbeats and recovers when the path forwards again', async () => {
    const server = superuserConfig();
    const relay = await TcpRelay.start(server.host, server.port);
    relays.push(relay);
    const channel = `half_open_${tag()}`;
    const heartbeatInterval = 300;
    const events = record(listen({ ...server, host: '127.0.0.1', port: relay.port }, channel, { ...fast, heartbeatInterval }));
    await events.next(isConnected);
    await superuserPsql(`SELECT pg_notify('${channel}', 'before')`);
    await events.next(isNotification('before'));

    relay.blackhole();
    const silencedAt = Date.now();
    const lost = await events.next(isDisconnected, { timeout: 5 * heartbeatInterval });
    const noticedAfter = Date.now() - silencedAt;
    expect(noticedAfter).toBeLessThanOrEqual(2 * heartbeatInterval + 150);
    if (lost.type !== 'disconnected') throw new Error('unreachable');
    expect((lost.error as Error).message).toMatch(/heartbeat not answered/);

    // While the path is silent, an attempt hangs in the login; it is abandoned and retried.
    const abandoned = await events.next((event) => event.type === 'disconnected' && event.attempt >= 2, {
      timeout: 10 * heartbeatInterval,
    });
    expect((abandoned as { error: Error }).error.message).toMatch(/could not connect and LISTEN within 600 ms/);

    relay.forward();
    const back = await events.next((event) => event.type === 'connected' && event.reconnect, { timeout: 10 * heartbeatInterval });
    expect(back).toMatchObject({ type: 'connected', reconnect: true });
    await superuserPsql(`SELECT pg_notify('${channel}', 'after')`);
    await events.next(isNotification('after'));
    expect(notifications(events)).toEqual([`${channel}:before`, `${channel}:after`]);
  });

  it('is shared: one connection for all subscribers, a late one first gets the current connected event', async () => {
    const applicationName = `shared-listener-${tag()}`;
    const channel = `shared_${tag()}`;
    const listener$ = listen({ ...superuserConfig(), applicationName }, channel, fast);
    const first = record(listener$);
    const connected = await first.next(isConnected);
    const second = record(listener$);
    expect(second.values).toEqual([connected]);
    expect(await backends(applicationName)).toBe(1);

    await superuserPsql(`SELECT pg_notify('${channel}', 'both')`);
    await first.next(isNotification('both'));
    await second.next(isNotification('both'));
    first.unsubscribe();
    await superuserPsql(`SELECT pg_notify('${channel}', 'second only')`);
    await second.next(isNotification('second only'));
    expect(notifications(second)).toEqual([`${channel}:both`, `${channel}:second only`]);

    second.unsubscribe();
    await eventually(async () => (await backends(applicationName)) === 0);
    const fresh = record(listener$);
    expect(await fresh.next(isConnected)).toMatchObject({ reconnect: false });
  });

  it('ends with the abort error, instead of retrying, when the config signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await errorOf(lastValueFrom(listen({ ...superuserConfig(), signal: controller.signal }, `aborted_${tag()}`, fast)));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/aborted/);
  });

  it('refuses bad arguments at subscribe, before any I/O', async () => {
    const config = superuserConfig();
    expect(await errorOf(lastValueFrom(listen(config, [])))).toBeInstanceOf(TypeError);
    expect(await errorOf(lastValueFrom(listen(config, '')))).toBeInstanceOf(TypeError);
    expect(await errorOf(lastValueFrom(listen(config, 'z'.repeat(64))))).toBeInstanceOf(RangeError);
    expect(await errorOf(lastValueFrom(listen(config, 'ok', { heartbeatInterval: 0 })))).toBeInstanceOf(RangeError);
    expect(await errorOf(lastValueFrom(listen(config, 'ok', { reconnect: { factor: 0 } })))).toBeInstanceOf(RangeError);
    expect(await errorOf(lastValueFrom(listen({ ...config, port: 70_000 }, 'ok')))).toBeInstanceOf(ConfigError);
  });
});

describe('listen across a server outage', () => {
  let cluster: ThrowawayCluster;

  beforeAll(async () => {
    cluster = await startThrowawayCluster();
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('recovers without help when the server is down for 5 s and comes back on the same port', async () => {
    const channel = `outage_${tag()}`;
    const maxDelay = 400;
    const events = record(listen(superuserConfig(cluster), channel, { heartbeatInterval: 300, reconnect: { initialDelay: 50, maxDelay } }));
    await events.next(isConnected);
    await cluster.psql(`SELECT pg_notify('${channel}', 'before')`);
    await events.next(isNotification('before'));

    await cluster.stopServer();
    await events.next(isDisconnected);
    await delay(5_000);
    const whileDown = events.values.filter((event) => event.type === 'disconnected');
    expect(whileDown.length).toBeGreaterThan(3); // it kept trying ...
    for (const event of whileDown) expect((event as { retryDelay: number }).retryDelay).toBeLessThanOrEqual(maxDelay); // ... capped
    expect(events.values.filter(isConnected)).toHaveLength(1);

    await cluster.startServer();
    await events.next((event) => event.type === 'connected' && event.reconnect, { timeout: 10_000 });
    await cluster.psql(`SELECT pg_notify('${channel}', 'after')`);
    await events.next(isNotification('after'));
    expect(notifications(events)).toEqual([`${channel}:before`, `${channel}:after`]);
  }, 30_000);
});
