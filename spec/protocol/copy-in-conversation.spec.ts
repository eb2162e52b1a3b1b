// The COPY FROM STDIN state machine over the fake transport, driven through ProtocolConnection
// (the spec plays the server and the source): what is written, how the source is paced by the
// write buffer, and every way the copy ends. Round trips with a real server: spec/client/copy-in.spec.ts.
import { lastValueFrom } from 'rxjs';
import { ConnectionError, PostgresError, ProtocolError, QueryShapeError } from '../../lib';
import { CopyInConversation, type CopySource, type CopyWriter } from '../../lib/protocol';
import {
  bindComplete,
  commandComplete,
  copyInResponse,
  dataRow,
  errorResponse,
  noData,
  parseComplete,
  readyForQuery,
  rowDescription,
  authenticationOk,
  selectOneRowReply,
} from '../helpers/backend-messages';
import { endOfTick, openFakeSession, runQuery, type FakeSession, destroyFakeSessions } from '../helpers/fake-session';
import { FakeTransport, cstringsOf, type FrontendMessage } from '../helpers/fake-transport';

afterEach(destroyFakeSessions);

type CopyInEvent =
  | { readonly kind: 'complete'; readonly tag: string }
  | { readonly kind: 'error'; readonly error: Error; readonly sourceFailure?: { readonly cause: unknown } };

/** A source the spec drives by hand: `writer` once the server is in COPY IN, `stopped` once told to stop. */
class ManualSource implements CopySource {
  writer: CopyWriter | undefined;
  stopped = 0;
  start(writer: CopyWriter): void {
    this.writer = writer;
  }
  stop(): void {
    this.stopped++;
  }
}

function runCopyIn(
  session: FakeSession,
  sql = 'COPY t FROM STDIN',
): { source: ManualSource; events: CopyInEvent[]; conversation: CopyInConversation } {
  const source = new ManualSource();
  const events: CopyInEvent[] = [];
  const conversation = new CopyInConversation(sql, [], source, {
    complete: (tag) => events.push({ kind: 'complete', tag }),
    error: (error, sourceFailure) =>
      events.push(sourceFailure === undefined ? { kind: 'error', error } : { kind: 'error', error, sourceFailure }),
  });
  session.connection.enqueue(conversation);
  return { source, events, conversation };
}

/** Starts a COPY and brings the server into COPY IN; returns the source's writer. */
async function copying(session: FakeSession): Promise<ReturnType<typeof runCopyIn> & { writer: CopyWriter }> {
  const run = runCopyIn(session);
  await endOfTick();
  expect(session.transport.takeWrittenNames()).toEqual(['Parse', 'Bind', 'Execute', 'Flush']);
  session.transport.push(parseComplete(), bindComplete(), copyInResponse([0, 0]));
  expect(run.source.writer).toBeDefined();
  return { ...run, writer: run.source.writer! };
}

const copyDataText = (messages: readonly FrontendMessage[]) =>
  Buffer.concat(messages.filter((message) => message.name === 'CopyData').map((message) => message.body)).toString('utf8');

describe('CopyInConversation (fake transport)', () => {
  it('writes Parse/Bind/Execute/Flush (no Sync during COPY IN), the data as CopyData, then CopyDone and Sync', async () => {
    const session = openFakeSession();
    const { writer, events } = await copying(session);
    expect(writer.text('1\tAda\n')).toBe(true);
    expect(writer.data(Buffer.from('2\tGrace\n'))).toBe(true);
    writer.done();
    const written = session.transport.takeWritten();
    expect(written.map((message) => message.name).slice(-2)).toEqual(['CopyDone', 'Sync']);
    expect(copyDataText(written)).toBe('1\tAda\n2\tGrace\n');
    expect(events).toEqual([]);
    session.transport.push(commandComplete('COPY 2'), readyForQuery('I'));
    expect(events).toEqual([{ kind: 'complete', tag: 'COPY 2' }]);
    expect(session.connection.state).toBe('open');
  });

  it('runs alone: a request made during the COPY is written only after its ReadyForQuery', async () => {
    const session = openFakeSession();
    const { writer } = await copying(session);
    const { events } = runQuery(session, 'SELECT 1');
    await endOfTick();
    expect(session.transport.takeWritten()).toEqual([]);
    writer.done();
    session.transport.takeWritten();
    session.transport.push(commandComplete('COPY 0'), readyForQuery('I'));
    expect(session.transport.takeWrittenNames()).toEqual(['Parse', 'Bind', 'Describe', 'Execute', 'Sync']);
    session.transport.push(selectOneRowReply());
    expect(events[events.length - 1]).toEqual({ kind: 'complete', tag: 'SELECT 1' });
  });

  it('paces the source by the write buffer: false past the high-water mark, drained() once it empties', async () => {
    const session = openFakeSession(new FakeTransport({ highWaterMark: 1024 }));
    const { writer } = await copying(session);
    session.transport.stallWrites();
    expect(writer.data(Buffer.alloc(100, 'a'))).toBe(true);
    expect(writer.data(Buffer.alloc(2000, 'b'))).toBe(false);
    expect(writer.bufferedBytes).toBeGreaterThanOrEqual(2100);
    let drained = false;
    writer.drained().subscribe(() => (drained = true));
    await endOfTick();
    expect(drained).toBe(false);
    session.transport.drainWrites();
    expect(drained).toBe(true);
    expect(writer.bufferedBytes).toBe(0);
    await lastValueFrom(writer.drained()); // at once now
  });

  it('a failing source: CopyFail with its reason and Sync; the error carries the source’s failure', async () => {
    const session = openFakeSession();
    const { writer, events, source } = await copying(session);
    writer.text('1\n');
    const cause = new Error('disk on fire');
    writer.fail('the source failed', cause);
    const written = session.transport.takeWritten();
    expect(written.map((message) => message.name).slice(-2)).toEqual(['CopyFail', 'Sync']);
    expect(cstringsOf(written[written.length - 2]!.body, 1)).toEqual(['the source failed']);
    writer.text('2\n'); // ignored once failed
    writer.done();
    expect(session.transport.takeWritten()).toEqual([]);
    session.transport.push(
      errorResponse({ S: 'ERROR', V: 'ERROR', C: '57014', M: 'COPY from stdin failed: the source failed' }),
      readyForQuery('I'),
    );
    expect(events).toEqual([{ kind: 'error', error: expect.any(PostgresError), sourceFailure: { cause } }]);
    expect(source.stopped).toBe(0); // it stopped itself
  });

  it('a server error during the copy stops the source at once, discards what is staged and syncs', async () => {
    const session = openFakeSession();
    const { writer, events, source } = await copying(session);
    session.transport.push(errorResponse({ S: 'ERROR', V: 'ERROR', C: '22P02', M: 'invalid input syntax for type integer' }));
    expect(source.stopped).toBe(1);
    expect(session.transport.takeWrittenNames()).toEqual(['Sync']);
    writer.text('more\n');
    writer.done();
    await endOfTick();
    expect(session.transport.takeWritten()).toEqual([]);
    session.transport.push(readyForQuery('I'));
    expect(events).toEqual([{ kind: 'error', error: expect.objectContaining({ code: '22P02' }) }]);
  });

  it('abandoning a running COPY sends CopyFail and Sync, never a CancelRequest; the connection stays in sync', async () => {
    const session = openFakeSession();
    const { conversation, events, source } = await copying(session);
    session.connection.abandon(conversation);
    expect(source.stopped).toBe(1);
    expect(session.transport.takeWrittenNames()).toEqual(['CopyFail', 'Sync']);
    expect(session.cancels).toEqual([]);
    session.transport.push(errorResponse({ S: 'ERROR', V: 'ERROR', C: '57014', M: 'COPY from stdin failed' }), readyForQuery('I'));
    expect(events).toEqual([]);
    expect(session.connection.state).toBe('open');
  });

  it('a statement that is not COPY FROM STDIN: it runs, the copy fails with QueryShapeError', async () => {
    const session = openFakeSession();
    const { events, source } = runCopyIn(session, 'SELECT 1');
    await endOfTick();
    session.transport.takeWritten();
    session.transport.push(parseComplete(), bindComplete(), rowDescription(['n']));
    expect(session.transport.takeWrittenNames()).toEqual(['Sync']);
    session.transport.push(dataRow(['1']), commandComplete('SELECT 1'), readyForQuery('I'));
    expect(events).toEqual([{ kind: 'error', error: expect.any(QueryShapeError) }]);
    expect(source.writer).toBeUndefined();
  });

  it('an error before COPY IN (no such table): Sync, then the PostgresError', async () => {
    const session = openFakeSession();
    const { events } = runCopyIn(session, 'COPY missing FROM STDIN');
    await endOfTick();
    session.transport.takeWritten();
    session.transport.push(errorResponse({ S: 'ERROR', V: 'ERROR', C: '42P01', M: 'relation "missing" does not exist' }));
    expect(session.transport.takeWrittenNames()).toEqual(['Sync']);
    session.transport.push(readyForQuery('I'));
    expect(events).toEqual([{ kind: 'error', error: expect.objectContaining({ code: '42P01' }) }]);
  });

  it('a message that has no place in a COPY IN: ProtocolError fails the connection and stops the source', async () => {
    const session = openFakeSession();
    const { events, source } = await copying(session);
    session.transport.push(authenticationOk());
    expect(session.connection.failure).toBeInstanceOf(ProtocolError);
    expect(events).toEqual([{ kind: 'error', error: expect.any(ProtocolError) }]);
    expect(source.stopped).toBe(1);
  });

  it('the connection lost during the copy: ConnectionError, source stopped', async () => {
    const session = openFakeSession();
    const { events, source, writer } = await copying(session);
    session.transport.pushError();
    expect(events).toEqual([{ kind: 'error', error: expect.any(ConnectionError) }]);
    expect(source.stopped).toBe(1);
    writer.text('late\n'); // nothing to write to, no throw
    expect(session.transport.takeWritten().filter((message) => message.name !== 'CopyData')).toEqual([]);
  });

  it('NoData before CopyInResponse is not a COPY IN: QueryShapeError', async () => {
    const session = openFakeSession();
    const { events } = runCopyIn(session, 'CREATE TABLE x ()');
    await endOfTick();
    session.transport.push(parseComplete(), bindComplete(), noData(), commandComplete('CREATE TABLE'), readyForQuery('I'));
    expect(events).toEqual([{ kind: 'error', error: expect.any(QueryShapeError) }]);
  });
});
