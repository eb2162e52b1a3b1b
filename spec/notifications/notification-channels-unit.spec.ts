// NotificationChannels against a scripted connection: the order of LISTEN / UNLISTEN under
// subscribe/unsubscribe races, which a real server answers too fast to pin down.
import { Observable, Subject } from 'rxjs';
import { ConnectionError, PostgresError, errorFieldsFromCodes } from '../../lib/errors';
import { NotificationChannels, type ChannelEvent, type ConnectionLike, type Notification } from '../../lib/notifications';
import { Recorder } from '../helpers/recorder';

/** A connection whose queries wait until the spec answers them. */
class ScriptedConnection implements ConnectionLike {
  readonly messages = new Subject<Notification>();
  readonly notificationMessages$ = this.messages.asObservable();
  readonly sent: { readonly sql: string; readonly reply: Subject<unknown> }[] = [];
  #answered = 0;

  simpleQuery(sql: string): Observable<unknown> {
    return new Observable((subscriber) => {
      const reply = new Subject<unknown>();
      this.sent.push({ sql, reply });
      return reply.subscribe(subscriber);
    });
  }

  get sql(): string[] {
    return this.sent.map((request) => request.sql);
  }

  /** Completes (or fails) the oldest unanswered query, as a server answers in order. */
  answer(error?: unknown): string {
    const request = this.sent[this.#answered++];
    if (request === undefined) throw new Error('no query waits for an answer');
    if (error === undefined) request.reply.complete();
    else request.reply.error(error);
    return request.sql;
  }

  get pending(): number {
    return this.sent.length - this.#answered;
  }

  notify(channel: string, payload = ''): void {
    this.messages.next({ channel, payload, processId: 7 });
  }
}

const abortedTransaction = () =>
  new PostgresError(
    errorFieldsFromCodes({
      S: 'ERROR',
      V: 'ERROR',
      C: '25P02',
      M: 'current transaction is aborted, commands ignored until end of transaction block',
    }),
  );

let connection: ScriptedConnection;
let channels: NotificationChannels;

beforeEach(() => {
  connection = new ScriptedConnection();
  channels = new NotificationChannels(connection);
});

describe('NotificationChannels (scripted connection)', () => {
  it('sends nothing before subscribe, then one LISTEN for many subscribers, quoted', () => {
    const events$ = channels.channelEvents('Say "hi".now');
    expect(connection.sent).toHaveLength(0);
    const first = new Recorder(events$);
    const second = new Recorder(channels.channel('Say "hi".now'));
    expect(connection.sql).toEqual(['LISTEN "Say ""hi"".now"']);
    expect(channels.registeredChannels).toEqual(['Say "hi".now']);
    connection.answer();
    expect(first.values).toEqual([{ type: 'listening', channel: 'Say "hi".now' }]);
    connection.notify('Say "hi".now', 'p');
    expect(second.values).toEqual([{ channel: 'Say "hi".now', payload: 'p', processId: 7 }]);
    first.unsubscribe();
    expect(connection.pending).toBe(0);
    second.unsubscribe();
    expect(connection.sql).toEqual(['LISTEN "Say ""hi"".now"', 'UNLISTEN "Say ""hi"".now"']);
    connection.answer();
    expect(channels.registeredChannels).toEqual([]);
  });

  it('holds notifications that arrive before LISTEN completes until after the listening marker', () => {
    const events = new Recorder(channels.channelEvents('c'));
    connection.notify('c', 'early');
    expect(events.values).toEqual([]);
    connection.answer();
    connection.notify('c', 'late');
    expect(events.values.map(describeEvent)).toEqual(['listening c', 'c:early', 'c:late']);
  });

  it('tells a subscriber that joins a listening channel at once, synchronously', () => {
    const first = new Recorder(channels.channelEvents('c'));
    connection.answer();
    const second = new Recorder(channels.channelEvents('c'));
    expect(second.values).toEqual([{ type: 'listening', channel: 'c' }]);
    expect(connection.sent).toHaveLength(1);
    first.unsubscribe();
    second.unsubscribe();
  });

  it('an unsubscribe while LISTEN is in flight UNLISTENs only after it', () => {
    const events = new Recorder(channels.channelEvents('c'));
    events.unsubscribe();
    expect(connection.sql).toEqual(['LISTEN "c"']);
    connection.answer();
    expect(connection.sql).toEqual(['LISTEN "c"', 'UNLISTEN "c"']);
    connection.answer();
    expect(channels.registeredChannels).toEqual([]);
  });

  it('a subscribe while UNLISTEN is in flight LISTENs again after it, and only then says listening', () => {
    const first = new Recorder(channels.channelEvents('c'));
    connection.answer();
    first.unsubscribe();
    const second = new Recorder(channels.channelEvents('c'));
    expect(connection.sql).toEqual(['LISTEN "c"', 'UNLISTEN "c"']);
    connection.notify('c', 'during-unlisten');
    connection.answer();
    expect(connection.sql).toEqual(['LISTEN "c"', 'UNLISTEN "c"', 'LISTEN "c"']);
    expect(second.values).toEqual([]);
    connection.answer();
    expect(second.values.map(describeEvent)).toEqual(['listening c', 'c:during-unlisten']);
    expect(channels.registeredChannels).toEqual(['c']);
  });

  it('churn ends in the state the subscribers want, one command at a time', () => {
    for (let round = 0; round < 5; round++) new Recorder(channels.channel('c')).unsubscribe();
    const kept = new Recorder(channels.channelEvents('c'));
    for (let round = 0; round < 5; round++) new Recorder(channels.channel('c')).unsubscribe();
    while (connection.pending > 0) connection.answer();
    expect(connection.sql).toEqual(['LISTEN "c"']);
    expect(kept.values).toEqual([{ type: 'listening', channel: 'c' }]);
    kept.unsubscribe();
    while (connection.pending > 0) connection.answer();
    expect(connection.sql).toEqual(['LISTEN "c"', 'UNLISTEN "c"']);
    expect(channels.registeredChannels).toEqual([]);
  });

  it('a failed LISTEN errors every waiting subscriber and registers nothing; the next subscribe tries again', () => {
    const first = new Recorder(channels.channelEvents('c'));
    const second = new Recorder(channels.channel('c'));
    const error = abortedTransaction();
    connection.answer(error);
    expect(first.ending).toEqual({ kind: 'error', error });
    expect(second.ending).toEqual({ kind: 'error', error });
    expect(channels.registeredChannels).toEqual([]);
    connection.notify('c', 'dropped');
    const third = new Recorder(channels.channelEvents('c'));
    expect(connection.sql).toEqual(['LISTEN "c"', 'LISTEN "c"']);
    connection.answer();
    expect(third.values).toEqual([{ type: 'listening', channel: 'c' }]);
  });

  it('a failed UNLISTEN drops the channel without retrying (no loop)', () => {
    const events = new Recorder(channels.channel('c'));
    connection.answer();
    events.unsubscribe();
    connection.answer(abortedTransaction());
    expect(connection.sql).toEqual(['LISTEN "c"', 'UNLISTEN "c"']);
    expect(channels.registeredChannels).toEqual([]);
    const unrouted = new Recorder(channels.unrouted$);
    connection.notify('c', 'quietly');
    expect(unrouted.values).toEqual([{ channel: 'c', payload: 'quietly', processId: 7 }]);
  });

  it('a failed UNLISTEN with a subscriber back meanwhile keeps listening (the server never stopped)', () => {
    const first = new Recorder(channels.channel('c'));
    connection.answer();
    first.unsubscribe();
    const second = new Recorder(channels.channelEvents('c'));
    connection.answer(abortedTransaction());
    expect(connection.pending).toBe(0);
    expect(second.values).toEqual([{ type: 'listening', channel: 'c' }]);
    connection.notify('c', 'still here');
    expect(second.values.map(describeEvent)).toEqual(['listening c', 'c:still here']);
  });

  it('routes by exact channel name and drops the rest quietly (seen on unrouted$)', () => {
    const upper = new Recorder(channels.channel('Jobs'));
    const lower = new Recorder(channels.channel('jobs'));
    connection.answer();
    connection.answer();
    const unrouted = new Recorder(channels.unrouted$);
    connection.notify('jobs', '1');
    connection.notify('JOBS', '2');
    connection.notify('Jobs', '3');
    expect(upper.values.map((n) => n.payload)).toEqual(['3']);
    expect(lower.values.map((n) => n.payload)).toEqual(['1']);
    expect(unrouted.values.map((n) => n.payload)).toEqual(['2']);
  });

  it('a connection failure errors every channel with its error, and later subscribes with a ConnectionError', () => {
    const listening = new Recorder(channels.channel('a'));
    connection.answer();
    const waiting = new Recorder(channels.channelEvents('b'));
    const failure = new ConnectionError('boom');
    connection.messages.error(failure);
    expect(listening.ending).toEqual({ kind: 'error', error: failure });
    expect(waiting.ending).toEqual({ kind: 'error', error: failure });
    expect(channels.registeredChannels).toEqual([]);
    const later = new Recorder(channels.channel('a'));
    expect(later.ending?.kind).toBe('error');
    const error = (later.ending as { error: ConnectionError }).error;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.code).toBe('08003');
    expect(error.cause).toBe(failure);
    // The answer to the pending LISTEN arrives after the end: nothing happens.
    connection.answer(failure);
    expect(connection.sent).toHaveLength(2);
  });

  it('a graceful close completes every channel', () => {
    const listening = new Recorder(channels.channel('a'));
    connection.answer();
    connection.messages.complete();
    expect(listening.ending).toEqual({ kind: 'complete' });
    const later = new Recorder(channels.channel('a'));
    expect((later.ending as { error: Error }).error).toEqual(new ConnectionError('connection is closed', { code: '08003' }));
  });

  it('refuses bad channel names at subscribe, before anything is sent', () => {
    expect(() => channels.channel('')).not.toThrow();
    const empty = new Recorder(channels.channel(''));
    const long = new Recorder(channels.channelEvents('x'.repeat(64)));
    expect((empty.ending as { error: unknown }).error).toBeInstanceOf(TypeError);
    expect((long.ending as { error: unknown }).error).toBeInstanceOf(RangeError);
    expect(connection.sent).toHaveLength(0);
    expect(channels.registeredChannels).toEqual([]);
  });
});

function describeEvent(event: ChannelEvent): string {
  return event.type === 'listening' ? `listening ${event.channel}` : `${event.notification.channel}:${event.notification.payload}`;
}
