// notify() (pg_notify with parameters) and delivery while a large query streams; both need
// the extended-protocol `connection.query`.
import { Observable, count, lastValueFrom, tap, toArray } from 'rxjs';
import { PostgresError, type Connection } from '../../lib';
import { NotificationChannels, notify, type ChannelEvent, type QueryConnection } from '../../lib/notifications';
import { closeOpenedConnections, errorOf, openConnection } from '../helpers/connections';
import { superuserConfig, superuserPsql } from '../helpers/test-servers';
import { Recorder } from '../helpers/recorder';

afterEach(closeOpenedConnections);

const tag = () => Math.random().toString(36).slice(2, 8);

const run = (connection: Connection, sql: string) => lastValueFrom(connection.simpleQuery(sql).pipe(toArray()));

async function listeningOn(name: string): Promise<Recorder<ChannelEvent>> {
  const receiver = await openConnection(superuserConfig());
  const events = new Recorder(new NotificationChannels(receiver).channelEvents(name));
  await events.next((event) => event.type === 'listening');
  return events;
}

const payloads = (events: Recorder<ChannelEvent>) =>
  events.values.flatMap((event) => (event.type === 'notification' ? [event.notification.payload] : []));

describe('notify', () => {
  it('is cold: nothing is sent before subscribe, and each subscribe sends again', async () => {
    const calls: unknown[][] = [];
    const fake: QueryConnection = {
      query: (sql, params) =>
        new Observable((subscriber) => {
          calls.push([sql, params]);
          subscriber.next({ pg_notify: '' });
          subscriber.complete();
        }),
    };
    const notify$ = notify(fake, 'c', 'p');
    expect(calls).toEqual([]);
    expect(await lastValueFrom(notify$.pipe(toArray()))).toEqual([undefined]);
    await lastValueFrom(notify$);
    expect(calls).toEqual([
      ['SELECT pg_notify($1, $2)', ['c', 'p']],
      ['SELECT pg_notify($1, $2)', ['c', 'p']],
    ]);
  });

  it('sends any payload byte-exact as a parameter, to any channel name, in order', async () => {
    const name = `Odd "name".${tag()} ü`;
    const events = await listeningOn(name);
    const sender = await openConnection(superuserConfig());
    const longest = '€'.repeat(2666) + '!'; // 7,999 bytes
    expect(Buffer.byteLength(longest)).toBe(7999);
    const sent = ["'); SELECT pg_terminate_backend(pg_backend_pid()); --", '$1 $2 \\x', 'Grüße 🚀\n\t"', longest, ''];
    for (const payload of sent) await lastValueFrom(notify(sender, name, payload));
    await lastValueFrom(notify(sender, name)); // payload defaults to ''
    await events.count(1 + sent.length + 1);
    expect(payloads(events)).toEqual([...sent, '']);
    for (const event of events.values)
      if (event.type === 'notification') expect(event.notification).toMatchObject({ channel: name, processId: sender.processId });
  });

  it('reports the server refusing an 8,000-byte payload, and the connection stays usable', async () => {
    const sender = await openConnection(superuserConfig());
    const error = await errorOf(lastValueFrom(notify(sender, `big_${tag()}`, 'x'.repeat(8000))));
    expect(error).toBeInstanceOf(PostgresError);
    expect((error as PostgresError).code).toBe('22023');
    expect((error as PostgresError).message).toMatch(/payload string too long/);
    await lastValueFrom(notify(sender, `big_${tag()}`, 'x'.repeat(7999)));
  });

  it('refuses bad channel names and NUL in the payload before sending', async () => {
    const sender = await openConnection(superuserConfig());
    expect(await errorOf(lastValueFrom(notify(sender, '', 'x')))).toBeInstanceOf(TypeError);
    expect(await errorOf(lastValueFrom(notify(sender, 'w'.repeat(64), 'x')))).toBeInstanceOf(RangeError);
    expect(await errorOf(lastValueFrom(notify(sender, 'ok', 'a\0b')))).toBeInstanceOf(TypeError);
    expect(await errorOf(lastValueFrom(notify(sender, 'ok', 42 as unknown as string)))).toBeInstanceOf(TypeError);
  });

  it('inside a transaction, delivers only on commit (a rolled-back NOTIFY never arrives)', async () => {
    const name = `tx_${tag()}`;
    const events = await listeningOn(name);
    const sender = await openConnection(superuserConfig());
    await run(sender, 'BEGIN');
    await lastValueFrom(notify(sender, name, 'rolled back'));
    await run(sender, 'ROLLBACK');
    await run(sender, 'BEGIN');
    await lastValueFrom(notify(sender, name, 'committed'));
    await run(sender, 'COMMIT');
    await events.next((event) => event.type === 'notification');
    expect(payloads(events)).toEqual(['committed']);
  });
});

describe('a notification sent while a large query streams on the listening connection', () => {
  it('is delivered (1,000,000 rows, the NOTIFY committed mid-stream)', async () => {
    const connection = await openConnection(superuserConfig());
    const name = `mid_query_${tag()}`;
    const events = new Recorder(new NotificationChannels(connection).channelEvents(name));
    await events.next((event) => event.type === 'listening');

    let notified: Promise<unknown> | undefined;
    let rows = 0;
    let rowsWhenNotified = 0;
    const total = await lastValueFrom(
      connection
        .query<{ g: number }>('SELECT g FROM generate_series(1, 1000000) g', [], {
          // On the first chunk, hold the stream until another session's NOTIFY has committed.
          pushback: () => {
            if (notified !== undefined) return;
            rowsWhenNotified = rows;
            notified = superuserPsql(`SELECT pg_notify('${name}', 'during the query')`);
            return notified;
          },
        })
        .pipe(
          tap(() => (rows += 1)),
          count(),
        ),
    );
    expect(notified).toBeDefined();
    expect(rowsWhenNotified).toBeGreaterThan(0);
    expect(rowsWhenNotified).toBeLessThan(1_000_000);
    expect(total).toBe(1_000_000);
    const event = await events.next((value) => value.type === 'notification');
    expect(event).toMatchObject({ notification: { channel: name, payload: 'during the query' } });
  }, 20_000);
});
