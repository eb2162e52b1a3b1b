// ProtocolConnection's own exchanges over the fake transport: the asynchronous messages it
// routes itself (notices, notifications, parameter changes) and the Terminate conversation of
// close(), with how the connection ends in each case.
import { lastValueFrom, toArray } from 'rxjs';
import { ConnectionError } from '../../lib';
import {
  bindComplete,
  commandComplete,
  dataRow,
  noticeResponse,
  notificationResponse,
  parameterStatus,
  parseComplete,
  readyForQuery,
  rowDescription,
  selectOneRowReply,
} from '../helpers/backend-messages';
import { destroyFakeSessions, endOfTick, openFakeSession, runQuery } from '../helpers/fake-session';

afterEach(destroyFakeSessions);

describe('ProtocolConnection asynchronous messages (fake transport)', () => {
  it('routes notices, notifications and parameter changes to their streams, between or inside replies', async () => {
    const session = openFakeSession();
    const notices: string[] = [];
    const notifications: unknown[] = [];
    const changes: unknown[] = [];
    session.connection.notices$.subscribe((notice) => notices.push(notice.message ?? ''));
    // It errors when the connection fails (here: torn down after the spec).
    session.connection.notifications$.subscribe({ next: (notification) => notifications.push(notification), error: () => undefined });
    session.connection.parameterChanges$.subscribe((change) => changes.push(change));

    session.transport.push(notificationResponse(77, 'jobs', 'run'), parameterStatus('TimeZone', 'Europe/Paris'));
    const { events } = runQuery(session, 'SELECT 1');
    await endOfTick();
    session.transport.push(
      parseComplete(),
      bindComplete(),
      noticeResponse({ S: 'NOTICE', C: '00000', M: 'inside' }),
      rowDescription(['n']),
      notificationResponse(78, 'jobs', ''),
      dataRow(['1']),
      commandComplete('SELECT 1'),
      readyForQuery('I'),
    );
    expect(notifications).toEqual([
      { channel: 'jobs', payload: 'run', processId: 77 },
      { channel: 'jobs', payload: '', processId: 78 },
    ]);
    expect(changes).toEqual([{ name: 'TimeZone', value: 'Europe/Paris' }]);
    expect(session.connection.parameters.get('TimeZone')).toBe('Europe/Paris');
    expect(notices).toEqual(['inside']);
    expect(events.map((event) => event.kind)).toEqual(['fields', 'row', 'complete']);
  });
});

describe('ProtocolConnection close (fake transport)', () => {
  it('writes Terminate after what was enqueued, sends FIN, and completes closed$ on the server’s EOF', async () => {
    const session = openFakeSession();
    const { events } = runQuery(session, 'SELECT 1');
    const notifications = lastValueFrom(session.connection.notifications$.pipe(toArray()));
    const closed = lastValueFrom(session.connection.closed$, { defaultValue: 'completed' });
    const closing = session.connection.close();
    expect(session.connection.state).toBe('closing');
    expect(session.transport.takeWrittenNames()).toEqual(['Parse', 'Bind', 'Describe', 'Execute', 'Sync', 'Terminate']);
    expect(session.transport.ended).toBe(true);
    // Replies to what was written before are still delivered.
    session.transport.push(selectOneRowReply());
    expect(events[events.length - 1]).toEqual({ kind: 'complete', tag: 'SELECT 1' });
    session.transport.pushEnd();
    await closing;
    await expect(closed).resolves.toBe('completed');
    await expect(notifications).resolves.toEqual([]);
    expect(session.connection.state).toBe('closed');
    expect(session.connection.failure).toBeUndefined();
    expect(session.connection.close()).toBe(closing); // the same promise
  });

  it('a request made while closing fails at once with a ConnectionError', async () => {
    const session = openFakeSession();
    void session.connection.close();
    const { events } = runQuery(session, 'SELECT 1');
    await endOfTick();
    expect(events).toEqual([{ kind: 'error', error: expect.any(ConnectionError) }]);
  });

  it('a server that never ends the connection: close resolves after its timeout and the connection fails', async () => {
    const session = openFakeSession();
    const closing = session.connection.close({ timeout: 20 });
    await closing;
    expect(session.connection.state).toBe('failed');
    expect(session.connection.failure?.message).toMatch(/did not end the connection within 20 ms/);
    expect(session.transport.closed).toBe(true);
  });

  it('a message after Terminate fails the connection; close still resolves', async () => {
    const session = openFakeSession();
    const closing = session.connection.close();
    session.transport.push(readyForQuery('I'));
    await closing;
    expect(session.connection.state).toBe('failed');
    expect(session.connection.failure?.message).toMatch(/unexpected ReadyForQuery/);
  });

  it('close on a failed connection resolves at once', async () => {
    const session = openFakeSession();
    session.transport.pushError();
    expect(session.connection.state).toBe('failed');
    await session.connection.close();
    expect(session.transport.takeWritten()).toEqual([]);
  });
});
