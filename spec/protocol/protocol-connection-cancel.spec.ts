// The cancel path of ProtocolConnection over the fake transport, with the CancelRequest sender
// injected (no socket): when an abandoned request is cancelled, with which key, what is held
// back meanwhile, and the bound on waiting. The barrier alone: spec/protocol/cancel-barrier.spec.ts;
// against a real server: spec/protocol/protocol-connection.spec.ts.
import { ConnectionError } from '../../lib';
import { SimpleQueryConversation } from '../../lib/protocol';
import {
  acceptLogin,
  commandComplete,
  dataRow,
  errorResponse,
  readyForQuery,
  rowDescription,
  selectOneRowReply,
} from '../helpers/backend-messages';
import { endOfTick, fakeSession, openFakeSession, runQuery, startLogin, destroyFakeSessions } from '../helpers/fake-session';

afterEach(destroyFakeSessions);

const canceled = () =>
  Buffer.concat([errorResponse({ S: 'ERROR', V: 'ERROR', C: '57014', M: 'canceling statement due to user request' }), readyForQuery('I')]);

describe('ProtocolConnection cancel path (fake transport)', () => {
  it('sends the CancelRequest with the key from BackendKeyData', async () => {
    const session = fakeSession();
    startLogin(session);
    session.transport.push(acceptLogin({ processId: 31337, secretKey: -559038737 }));
    const { conversation } = runQuery(session, 'SELECT pg_sleep(60)');
    await endOfTick();
    session.connection.abandon(conversation);
    expect(session.cancels.map((cancel) => cancel.key)).toEqual([{ processId: 31337, secretKey: -559038737 }]);
  });

  it('holds later writes until the cancelled request ended and the server confirmed the cancel, in either order', async () => {
    for (const order of ['ended first', 'confirmed first'] as const) {
      const session = openFakeSession();
      const running = runQuery(session, 'SELECT pg_sleep(60)');
      await endOfTick();
      session.transport.takeWritten();
      session.connection.abandon(running.conversation);
      const later = runQuery(session, "SELECT 'later'");
      await endOfTick();
      if (order === 'ended first') session.transport.push(canceled());
      else session.cancels[0]!.done.complete();
      await endOfTick();
      expect(session.transport.takeWritten()).toEqual([]);
      if (order === 'ended first') session.cancels[0]!.done.complete();
      else session.transport.push(canceled());
      expect(session.transport.takeWrittenNames()).toEqual(['Parse', 'Bind', 'Describe', 'Execute', 'Sync']);
      session.transport.push(selectOneRowReply('v', 'later'));
      expect(later.events[later.events.length - 1]).toEqual({ kind: 'complete', tag: 'SELECT 1' });
      expect(running.events).toEqual([]);
    }
  });

  it('a cancel socket that fails counts as done (the server read the request or never will)', async () => {
    const session = openFakeSession();
    const running = runQuery(session, 'SELECT pg_sleep(60)');
    await endOfTick();
    session.transport.takeWritten();
    session.connection.abandon(running.conversation);
    runQuery(session, 'SELECT 2');
    session.cancels[0]!.done.error(new Error('ECONNRESET'));
    session.transport.push(canceled());
    await endOfTick();
    expect(session.transport.takeWrittenNames()).toEqual(['Parse', 'Bind', 'Describe', 'Execute', 'Sync']);
  });

  it('cancels only once every request in flight is abandoned, then the oldest, one at a time', async () => {
    const session = openFakeSession();
    const first = runQuery(session, 'SELECT 1');
    const second = runQuery(session, 'SELECT 2');
    await endOfTick();
    session.connection.abandon(second.conversation);
    expect(session.cancels).toHaveLength(0); // it could hit the first, which is still wanted
    session.connection.abandon(first.conversation);
    expect(session.cancels).toHaveLength(1);
    session.transport.push(canceled());
    session.cancels[0]!.done.complete();
    // The second is cancelled in turn before anything held is written.
    expect(session.cancels).toHaveLength(2);
    session.transport.push(canceled());
    session.cancels[1]!.done.complete();
    expect(first.events).toEqual([]);
    expect(second.events).toEqual([]);
    expect(session.connection.state).toBe('open');
  });

  it('never cancels a request that has ended, nor a simple query abandoned after its ReadyForQuery', async () => {
    const session = openFakeSession();
    const { conversation } = runQuery(session, 'SELECT 1');
    await endOfTick();
    session.transport.push(selectOneRowReply('v', '1'));
    session.connection.abandon(conversation);
    const simple = new SimpleQueryConversation('SELECT 1', {
      resultSet: () => undefined,
      error: () => undefined,
      complete: () => undefined,
    });
    session.connection.enqueue(simple);
    await endOfTick();
    session.transport.push(rowDescription(['n']), dataRow(['1']), commandComplete('SELECT 1'), readyForQuery('I'));
    session.connection.abandon(simple);
    expect(session.cancels).toEqual([]);
  });

  it('gives the connection up when the cancel is not confirmed within cancelTimeout', async () => {
    const session = openFakeSession(undefined, { cancelTimeout: 30 });
    const running = runQuery(session, 'SELECT pg_sleep(60)');
    const later = runQuery(session, 'SELECT 2');
    await endOfTick();
    session.connection.abandon(later.conversation);
    session.connection.abandon(running.conversation);
    expect(session.cancels).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(session.connection.state).toBe('failed');
    expect(session.connection.failure).toBeInstanceOf(ConnectionError);
    expect(session.connection.failure?.message).toMatch(/did not confirm the CancelRequest within 30 ms/);
    expect(session.cancels[0]!.done.observed).toBe(false); // the cancel socket is torn down
    expect(session.transport.closed).toBe(true);
  });

  it('gives the connection up when the cancelled request does not end within cancelTimeout', async () => {
    const session = openFakeSession(undefined, { cancelTimeout: 30 });
    const running = runQuery(session, 'SELECT pg_sleep(60)');
    await endOfTick();
    session.connection.abandon(running.conversation);
    session.cancels[0]!.done.complete();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(session.connection.failure?.message).toMatch(/the cancelled request did not end within 30 ms/);
  });

  it('sends no CancelRequest once the connection is closing', async () => {
    const session = openFakeSession();
    const running = runQuery(session, 'SELECT pg_sleep(60)');
    await endOfTick();
    void session.connection.close({ timeout: 50 });
    session.connection.abandon(running.conversation);
    expect(session.cancels).toEqual([]);
    expect(session.transport.takeWrittenNames()).toEqual(['Parse', 'Bind', 'Describe', 'Execute', 'Sync', 'Terminate']);
    expect(session.transport.ended).toBe(true);
  });
});
