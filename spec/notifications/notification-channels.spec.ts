// NotificationChannels on a real connection. Seed cases ported here
// (reference/postgres_async.md §3.4, test_notify.ml): T-N1 listen/notify on the same and another
// connection, in order; T-N2 several subscribers of one channel each called once; T-N3 a
// notification nobody subscribed to (seed: an error-level log; here dropped quietly and shown
// on unrouted$).
import { lastValueFrom, toArray } from 'rxjs';
import { ConnectionError, PostgresError, type Connection } from '../../lib';
import { NotificationChannels, type ChannelEvent, type Notification } from '../../lib/notifications';
import { closeOpenedConnections, errorOf, openConnection, queryValue } from '../helpers/connections';
import { superuserConfig, superuserPsql } from '../helpers/test-servers';
import { Recorder } from '../helpers/recorder';

afterEach(closeOpenedConnections);

/** A suffix that keeps this test's channels apart from every other test's (NOTIFY is database-wide). */
const tag = () => Math.random().toString(36).slice(2, 8);

/** An SQL string literal (standard_conforming_strings is on); test code only. */
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

const run = (connection: Connection, sql: string) => lastValueFrom(connection.simpleQuery(sql).pipe(toArray()));

/** pg_notify from `connection` for each [channel, payload], in one transaction, in order. */
const sendFrom = (connection: Connection, notifications: readonly (readonly [string, string])[]) =>
  run(connection, notifications.map(([channel, payload]) => `SELECT pg_notify(${literal(channel)}, ${literal(payload)})`).join('; '));

const listeningChannels = async (connection: Connection) =>
  (await run(connection, 'SELECT pg_listening_channels() ORDER BY 1')).flatMap((result) => result.rows.map((row) => row[0]));

/** Subscribes to channelEvents and waits for the listening marker. */
async function listening(channels: NotificationChannels, name: string): Promise<Recorder<ChannelEvent>> {
  const events = new Recorder(channels.channelEvents(name));
  await events.next((event) => event.type === 'listening');
  return events;
}

const payloads = (events: Recorder<ChannelEvent>) =>
  events.values.flatMap((event) => (event.type === 'notification' ? [event.notification.payload] : []));

async function setUp(): Promise<{ connection: Connection; channels: NotificationChannels; other: Connection }> {
  const connection = await openConnection(superuserConfig());
  const other = await openConnection(superuserConfig());
  return { connection, channels: new NotificationChannels(connection), other };
}

describe('NotificationChannels on a real server', () => {
  it('T-N1: delivers NOTIFYs from the same and another connection, case and hyphen kept, in order', async () => {
    const { connection, channels, other } = await setUp();
    const one = `channel_one_${tag()}`;
    const two = `channel-2-${tag()}`;
    const first = await listening(channels, one);
    const second = await listening(channels, two);

    await run(connection, `NOTIFY ${one}`);
    const own = await first.next((event) => event.type === 'notification');
    expect(own).toEqual({ type: 'notification', notification: { channel: one, payload: '', processId: connection.processId } });

    await run(connection, `NOTIFY "${two}", 'hello'`);
    await second.next((event) => event.type === 'notification');

    await run(other, `NOTIFY ${one}, 'from-another-process'`);
    const fromOther = await first.next((event) => event.type === 'notification', { from: 2 });
    expect(fromOther).toEqual({
      type: 'notification',
      notification: { channel: one, payload: 'from-another-process', processId: other.processId },
    });

    await run(other, `NOTIFY "${two}", 'm1'; NOTIFY "${two}", 'm2'`);
    await second.count(4);
    expect(payloads(first)).toEqual(['', 'from-another-process']);
    expect(payloads(second)).toEqual(['hello', 'm1', 'm2']);
  });

  it('T-N2: three subscribers of one channel each see a NOTIFY once', async () => {
    const { connection, channels } = await setUp();
    const name = `a_${tag()}`;
    const subscribers = [await listening(channels, name), await listening(channels, name), await listening(channels, name)];
    await run(connection, `NOTIFY ${name}`);
    for (const subscriber of subscribers) await subscriber.next((event) => event.type === 'notification');
    await run(connection, 'SELECT 1'); // a round trip later, nothing more has come
    for (const subscriber of subscribers) expect(payloads(subscriber)).toEqual(['']);
    expect(await listeningChannels(connection)).toEqual([name]);
  });

  it('T-N3: a notification on a channel nobody subscribes to is dropped quietly (seen on unrouted$)', async () => {
    const { connection, channels } = await setUp();
    const three = `channel_three_${tag()}`;
    const subscribed = `subscribed_${tag()}`;
    const events = await listening(channels, subscribed);
    const unrouted = new Recorder(channels.unrouted$);
    await run(connection, `LISTEN ${three}`);
    await run(connection, `NOTIFY ${three}, 'x'; NOTIFY ${subscribed}, 'y'`);
    await events.next((event) => event.type === 'notification');
    expect(unrouted.values).toEqual([{ channel: three, payload: 'x', processId: connection.processId }]);
    expect(payloads(events)).toEqual(['y']);
    expect(events.ending).toBeUndefined();
    expect(await queryValue(connection, 'SELECT 1')).toBe('1');
  });

  it('gives two subscribers of one channel and one of another exactly theirs, in order, byte-exact', async () => {
    const { channels, other } = await setUp();
    const shared = `shared_${tag()}`;
    const alone = `alone_${tag()}`;
    const sharedA = await listening(channels, shared);
    const sharedB = await listening(channels, shared);
    const aloneC = await listening(channels, alone);

    const longest = 'ü'.repeat(3999) + '!'; // 7,999 bytes in UTF-8, the most a payload may have
    expect(Buffer.byteLength(longest)).toBe(7999);
    const sharedPayloads = [
      '1',
      'Grüße, 世界 🚀',
      'quotes \' " and \\ back\\slash',
      'line\nbreak\ttab',
      longest,
      '',
      '$1 -- not a parameter',
    ];
    const alonePayloads = ['c1', 'ça va? — ✓', longest.slice(1)];
    await sendFrom(other, [
      [shared, sharedPayloads[0]!],
      [alone, alonePayloads[0]!],
      ...sharedPayloads.slice(1).map((payload) => [shared, payload] as const),
      ...alonePayloads.slice(1).map((payload) => [alone, payload] as const),
    ]);
    await sendFrom(other, [[`unrelated_${tag()}`, 'nobody']]);

    await sharedA.count(1 + sharedPayloads.length);
    await sharedB.count(1 + sharedPayloads.length);
    await aloneC.count(1 + alonePayloads.length);
    expect(payloads(sharedA)).toEqual(sharedPayloads);
    expect(payloads(sharedB)).toEqual(sharedPayloads);
    expect(payloads(aloneC)).toEqual(alonePayloads);
    const received = sharedA.values.find(
      (event): event is { type: 'notification'; notification: Notification } =>
        event.type === 'notification' && event.notification.payload.length > 1000,
    );
    expect(Buffer.from(received!.notification.payload, 'utf8').equals(Buffer.from(longest, 'utf8'))).toBe(true);
    for (const event of [...sharedA.values, ...sharedB.values, ...aloneC.values]) {
      if (event.type === 'notification') expect(event.notification.processId).toBe(other.processId);
    }
  });

  it('works with any channel name: case, dots, quotes, spaces, non-ASCII, 63 bytes', async () => {
    const { connection, channels, other } = await setUp();
    const suffix = tag();
    const names = [
      `MixedCase_${suffix}`,
      `mixedcase_${suffix}`,
      `a.b.c_${suffix}`,
      `say "hi"_${suffix}`,
      `it's_${suffix}`,
      `with  spaces ${suffix}`,
      `ünïcödé 🚀 ${suffix}`,
      `select_${suffix}`,
      `${suffix}${'x'.repeat(63 - suffix.length)}`,
    ];
    const subscribers = await Promise.all(names.map((name) => listening(channels, name)));
    expect(new Set(await listeningChannels(connection))).toEqual(new Set(names));
    await sendFrom(
      other,
      names.map((name) => [name, `for ${name}`]),
    );
    for (const [index, subscriber] of subscribers.entries()) {
      const event = await subscriber.next((value) => value.type === 'notification');
      expect(event).toEqual({
        type: 'notification',
        notification: { channel: names[index], payload: `for ${names[index]}`, processId: other.processId },
      });
    }
    await run(connection, 'SELECT 1');
    for (const subscriber of subscribers) expect(subscriber.values).toHaveLength(2);
  });

  it('refuses a channel name over 63 bytes, which LISTEN would truncate, before sending anything', async () => {
    const { connection, channels } = await setUp();
    const error = await errorOf(lastValueFrom(channels.channel('y'.repeat(64))));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toMatch(/at most 63 bytes/);
    expect(channels.registeredChannels).toEqual([]);
    expect(await listeningChannels(connection)).toEqual([]);
  });

  it('(why: the server truncates such a name on LISTEN but pg_notify rejects it)', async () => {
    const { connection } = await setUp();
    const long = `${tag()}${'y'.repeat(64)}`;
    await run(connection, `LISTEN "${long}"`);
    expect(await listeningChannels(connection)).toEqual([long.slice(0, 63)]);
    await expect(run(connection, `SELECT pg_notify('${long}', '')`)).rejects.toThrow(/channel name too long/);
  });

  it('has nothing left listening after the last unsubscribe', async () => {
    const { connection, channels } = await setUp();
    const names = [`one_${tag()}`, `two_${tag()}`];
    const subscribers = [await listening(channels, names[0]!), await listening(channels, names[0]!), await listening(channels, names[1]!)];
    expect(await listeningChannels(connection)).toEqual([...names].sort());
    subscribers[0]!.unsubscribe();
    expect(await listeningChannels(connection)).toEqual([...names].sort());
    subscribers[1]!.unsubscribe();
    subscribers[2]!.unsubscribe();
    // UNLISTEN was written at unsubscribe, so this query (FIFO) runs after it.
    expect(await listeningChannels(connection)).toEqual([]);
    expect(channels.registeredChannels).toEqual([]);
  });

  it('a resubscribe racing the pending UNLISTEN ends up listening and hears the next NOTIFY', async () => {
    const { connection, channels, other } = await setUp();
    const name = `race_${tag()}`;
    const first = await listening(channels, name);
    first.unsubscribe(); // UNLISTEN in flight
    const second = await listening(channels, name); // waits for UNLISTEN, then LISTENs again
    expect(await listeningChannels(connection)).toEqual([name]);
    await sendFrom(other, [[name, 'after the race']]);
    const event = await second.next((value) => value.type === 'notification');
    expect(event).toMatchObject({ notification: { payload: 'after the race' } });

    // Churn in one tick ends in the state the last subscriber wants.
    second.unsubscribe();
    for (let round = 0; round < 10; round++) new Recorder(channels.channel(name)).unsubscribe();
    const last = new Recorder(channels.channelEvents(name));
    for (let round = 0; round < 10; round++) new Recorder(channels.channel(name)).unsubscribe();
    await last.next((value) => value.type === 'listening');
    expect(await listeningChannels(connection)).toEqual([name]);
    last.unsubscribe();
    expect(await listeningChannels(connection)).toEqual([]);
  });

  it('a failed LISTEN (aborted transaction) errors the waiting subscribers and registers nothing', async () => {
    const { connection, channels, other } = await setUp();
    const name = `failing_${tag()}`;
    await expect(run(connection, 'BEGIN; SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
    const first = new Recorder(channels.channelEvents(name));
    const second = new Recorder(channels.channel(name));
    const error = await first.error();
    expect(error).toBeInstanceOf(PostgresError);
    expect((error as PostgresError).code).toBe('25P02');
    expect(await second.error()).toBe(error);
    expect(first.values).toEqual([]);
    expect(channels.registeredChannels).toEqual([]);

    await run(connection, 'ROLLBACK');
    expect(await listeningChannels(connection)).toEqual([]);
    const again = await listening(channels, name);
    await sendFrom(other, [[name, 'now it works']]);
    await again.next((value) => value.type === 'notification');
  });

  it('caveat: a LISTEN inside a transaction that rolls back has no effect', async () => {
    const { connection, channels } = await setUp();
    const name = `rolled_back_${tag()}`;
    await run(connection, 'BEGIN');
    const events = await listening(channels, name); // the LISTEN itself succeeded
    await run(connection, 'ROLLBACK');
    expect(await listeningChannels(connection)).toEqual([]);
    events.unsubscribe();
  });

  it('caveat: the receiving session gets notifications only between its transactions', async () => {
    const { connection, channels, other } = await setUp();
    const name = `between_${tag()}`;
    const events = await listening(channels, name);
    await run(connection, 'BEGIN');
    await sendFrom(other, [[name, 'held']]);
    await run(connection, 'SELECT pg_sleep(0.05)');
    expect(payloads(events)).toEqual([]);
    await run(connection, 'COMMIT');
    await events.next((value) => value.type === 'notification');
    expect(payloads(events)).toEqual(['held']);
  });

  it('errors every channel with the ConnectionError when the backend is terminated', async () => {
    const { connection, channels } = await setUp();
    const active = await listening(channels, `active_${tag()}`);
    const plain = new Recorder(channels.channel(`plain_${tag()}`));
    await active.next((value) => value.type === 'listening');
    await superuserPsql(`SELECT pg_terminate_backend(${connection.processId})`);
    const error = await active.error();
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).cause).toMatchObject({ code: '57P01' });
    expect(await plain.error()).toBe(error);
    expect(channels.registeredChannels).toEqual([]);
    const later = await errorOf(lastValueFrom(channels.channel('later')));
    expect(later).toBeInstanceOf(ConnectionError);
    expect(later.cause).toBe(error);
  });

  it('completes every channel on a graceful close', async () => {
    const { connection, channels } = await setUp();
    const active = await listening(channels, `active_${tag()}`);
    const waiting = new Recorder(channels.channelEvents(`waiting_${tag()}`)); // LISTEN still in flight
    await connection.close();
    expect(await active.ended()).toEqual({ kind: 'complete' });
    expect(await waiting.ended()).toEqual({ kind: 'complete' });
    const later = await errorOf(lastValueFrom(channels.channel('later')));
    expect(later).toBeInstanceOf(ConnectionError);
  });
});
