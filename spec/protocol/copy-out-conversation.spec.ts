// The COPY TO STDOUT state machine over the fake transport, driven through ProtocolConnection
// (the spec plays the server): what is written, the chunks as they arrive with pushback,
// abandoning and cancelling, and every way it ends. Round trips with a real server:
// spec/client/copy-out.spec.ts.
import { Subject } from 'rxjs';
import { ConnectionError, PostgresError, ProtocolError, QueryShapeError } from '../../lib';
import { CopyOutConversation } from '../../lib/protocol';
import {
  authenticationOk,
  bindComplete,
  commandComplete,
  copyData,
  copyDone,
  copyInResponse,
  copyOutResponse,
  errorResponse,
  parseComplete,
  readyForQuery,
  selectOneRowReply,
} from '../helpers/backend-messages';
import { endOfTick, openFakeSession, type FakeSession, destroyFakeSessions } from '../helpers/fake-session';
import { cstringsOf } from '../helpers/fake-transport';

afterEach(destroyFakeSessions);

type CopyOutEvent =
  | { readonly kind: 'begin'; readonly binary: boolean }
  | { readonly kind: 'chunk'; readonly text: string }
  | { readonly kind: 'complete'; readonly tag: string }
  | { readonly kind: 'error'; readonly error: Error };

function runCopyOut(
  session: FakeSession,
  sql = 'COPY t TO STDOUT',
  pushback?: () => Subject<void>,
): { conversation: CopyOutConversation; events: CopyOutEvent[] } {
  const events: CopyOutEvent[] = [];
  const conversation = new CopyOutConversation(sql, [], {
    begin: (binary) => events.push({ kind: 'begin', binary }),
    chunk: (bytes) => events.push({ kind: 'chunk', text: bytes.toString('utf8') }),
    complete: (tag) => events.push({ kind: 'complete', tag }),
    error: (error) => events.push({ kind: 'error', error }),
    ...(pushback === undefined ? {} : { pushback }),
  });
  session.connection.enqueue(conversation);
  return { conversation, events };
}

describe('CopyOutConversation (fake transport)', () => {
  it('writes Parse/Bind/Execute/Sync and delivers each CopyData chunk as it arrives', async () => {
    const session = openFakeSession();
    const { events } = runCopyOut(session);
    await endOfTick();
    const written = session.transport.takeWritten();
    expect(written.map((message) => message.name)).toEqual(['Parse', 'Bind', 'Execute', 'Sync']);
    expect(cstringsOf(written[0]!.body, 2)).toEqual(['', 'COPY t TO STDOUT']);
    session.transport.push(parseComplete(), bindComplete(), copyOutResponse([0]), copyData('1\tAda\n'));
    expect(events).toEqual([
      { kind: 'begin', binary: false },
      { kind: 'chunk', text: '1\tAda\n' },
    ]);
    session.transport.push(copyData('2\tGrace\n'), copyDone(), commandComplete('COPY 2'), readyForQuery('I'));
    expect(events.slice(2)).toEqual([
      { kind: 'chunk', text: '2\tGrace\n' },
      { kind: 'complete', tag: 'COPY 2' },
    ]);
    expect(session.connection.state).toBe('open');
  });

  it('reports binary COPY in begin', async () => {
    const session = openFakeSession();
    const { events } = runCopyOut(session, 'COPY t TO STDOUT (FORMAT binary)');
    await endOfTick();
    session.transport.push(parseComplete(), bindComplete(), copyOutResponse([1], 1));
    expect(events).toEqual([{ kind: 'begin', binary: true }]);
  });

  it('pushback pauses reading after a chunk with data until it settles', async () => {
    const session = openFakeSession();
    let pending: Subject<void> | undefined;
    const { events } = runCopyOut(session, 'COPY t TO STDOUT', () => (pending = new Subject<void>()));
    await endOfTick();
    session.transport.push(parseComplete(), bindComplete(), copyOutResponse(), copyData('a\n'));
    expect(session.transport.paused).toBe(true);
    session.transport.push(copyData('b\n'), copyDone(), commandComplete('COPY 2'), readyForQuery('I'));
    expect(events.filter((event) => event.kind === 'chunk')).toHaveLength(1);
    pending!.next();
    expect(session.transport.paused).toBe(false);
    expect(events.slice(-2)).toEqual([
      { kind: 'chunk', text: 'b\n' },
      { kind: 'complete', tag: 'COPY 2' },
    ]);
  });

  it('a server error ends it with the PostgresError at ReadyForQuery', async () => {
    const session = openFakeSession();
    const { events } = runCopyOut(session, 'COPY missing TO STDOUT');
    await endOfTick();
    session.transport.push(errorResponse({ S: 'ERROR', V: 'ERROR', C: '42P01', M: 'relation "missing" does not exist' }));
    expect(events).toEqual([]);
    session.transport.push(readyForQuery('I'));
    expect(events).toEqual([{ kind: 'error', error: expect.any(PostgresError) }]);
  });

  it('abandoned while running: cancelled, the rest discarded up to ReadyForQuery, the connection in sync', async () => {
    const session = openFakeSession();
    const { conversation, events } = runCopyOut(session);
    await endOfTick();
    session.transport.push(parseComplete(), bindComplete(), copyOutResponse(), copyData('a\n'));
    session.connection.abandon(conversation);
    expect(session.cancels).toHaveLength(1);
    session.transport.push(
      copyData('b\n'),
      errorResponse({ S: 'ERROR', V: 'ERROR', C: '57014', M: 'canceling statement' }),
      readyForQuery('I'),
    );
    session.cancels[0]!.done.complete();
    expect(events).toEqual([
      { kind: 'begin', binary: false },
      { kind: 'chunk', text: 'a\n' },
    ]);
    expect(session.connection.state).toBe('open');
  });

  it('COPY FROM STDIN by mistake: CopyFail and Sync, then QueryShapeError', async () => {
    const session = openFakeSession();
    const { events } = runCopyOut(session, 'COPY t FROM STDIN');
    await endOfTick();
    session.transport.takeWritten();
    session.transport.push(parseComplete(), bindComplete(), copyInResponse());
    expect(session.transport.takeWrittenNames()).toEqual(['CopyFail', 'Sync']);
    session.transport.push(errorResponse({ S: 'ERROR', V: 'ERROR', C: '57014', M: 'COPY from stdin failed' }), readyForQuery('I'));
    // The server's ReadyForQuery for the first Sync (ignored during COPY IN) never comes; this is the one.
    expect(events).toEqual([{ kind: 'error', error: expect.any(QueryShapeError) }]);
  });

  it('a statement that returns rows: QueryShapeError', async () => {
    const session = openFakeSession();
    const { events } = runCopyOut(session, 'SELECT 1');
    await endOfTick();
    session.transport.push(selectOneRowReply());
    expect(events).toEqual([{ kind: 'error', error: expect.any(QueryShapeError) }]);
  });

  it('a message that has no place in a COPY OUT: ProtocolError fails the connection', async () => {
    const session = openFakeSession();
    const { events } = runCopyOut(session);
    await endOfTick();
    session.transport.push(parseComplete(), bindComplete(), copyOutResponse(), authenticationOk());
    expect(session.connection.failure).toBeInstanceOf(ProtocolError);
    expect(events[events.length - 1]).toEqual({ kind: 'error', error: expect.any(ProtocolError) });
  });

  it('EOF during the copy: ConnectionError', async () => {
    const session = openFakeSession();
    const { events } = runCopyOut(session);
    await endOfTick();
    session.transport.push(parseComplete(), bindComplete(), copyOutResponse(), copyData('a\n'));
    session.transport.pushEnd();
    expect(events[events.length - 1]).toEqual({ kind: 'error', error: expect.any(ConnectionError) });
  });
});
