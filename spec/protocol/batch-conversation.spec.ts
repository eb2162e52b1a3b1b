// The batch state machine over the fake transport, driven through ProtocolConnection (the spec
// plays the server): what is written in each sync mode, how per-set results are routed, the
// first error and what is written after it, detaching, rounds held back until the server answers,
// and the protocol violations that fail the connection. Round trips with a real server:
// spec/client/query-batch.spec.ts.
import { PostgresError, ProtocolError } from '../../lib';
import { BatchConversation, type BatchSink } from '../../lib/protocol/batch-conversation';
import type { BindParameter, FieldDescription } from '../../lib/wire';
import {
  bindComplete,
  commandComplete,
  dataRow,
  errorResponse,
  parameterDescription,
  parseComplete,
  readyForQuery,
  rowDescription,
} from '../helpers/backend-messages';
import { destroyFakeSessions, endOfTick, openFakeSession, rowTexts, type FakeSession } from '../helpers/fake-session';
import { bindOf } from '../helpers/fake-transport';

afterEach(destroyFakeSessions);

type BatchEvent =
  | { readonly kind: 'fields'; readonly names: readonly string[] }
  | { readonly kind: 'row'; readonly values: readonly (string | null)[] }
  | { readonly kind: 'set'; readonly tag: string }
  | { readonly kind: 'complete' }
  | { readonly kind: 'error'; readonly error: Error };

function runBatch(
  session: FakeSession,
  sql: string,
  sets: readonly (readonly BindParameter[])[],
  sync: 'each' | 'once',
): { conversation: BatchConversation; events: BatchEvent[]; pulled: () => number } {
  const events: BatchEvent[] = [];
  let next = 0;
  const sink: BatchSink = {
    nextSet: () => sets[next++],
    fields: (fields: readonly FieldDescription[]) => events.push({ kind: 'fields', names: fields.map((field) => field.name) }),
    row: (row) => events.push({ kind: 'row', values: rowTexts(row) }),
    setComplete: (tag) => events.push({ kind: 'set', tag }),
    complete: () => events.push({ kind: 'complete' }),
    error: (error) => events.push({ kind: 'error', error }),
  };
  const conversation = new BatchConversation(sql, sink, { sync });
  session.connection.enqueue(conversation);
  return { conversation, events, pulled: () => Math.min(next, sets.length) };
}

/** The replies to Parse + Describe statement of a one-parameter, one-column statement. */
const described = () => Buffer.concat([parseComplete(), parameterDescription([23]), rowDescription(['n'])]);
const setReply = (value: string) => Buffer.concat([bindComplete(), dataRow([value]), commandComplete('SELECT 1')]);

describe('BatchConversation (fake transport)', () => {
  it("sync 'once': Parse, Describe, Bind/Execute per set and one Sync; one result per set, then complete", async () => {
    const session = openFakeSession();
    const { events } = runBatch(session, 'SELECT $1::int AS n', [['1'], ['2']], 'once');
    await endOfTick();
    const written = session.transport.takeWritten();
    expect(written.map((message) => message.name)).toEqual(['Parse', 'Describe', 'Bind', 'Execute', 'Bind', 'Execute', 'Sync']);
    expect(bindOf(written[2]!.body)).toMatchObject({ statement: '', parameters: ['1'] });
    expect(bindOf(written[4]!.body)).toMatchObject({ statement: '', parameters: ['2'] });
    session.transport.push(Buffer.concat([described(), setReply('1'), setReply('2'), readyForQuery('I')]));
    expect(events).toEqual([
      { kind: 'fields', names: ['n'] },
      { kind: 'row', values: ['1'] },
      { kind: 'set', tag: 'SELECT 1' },
      { kind: 'row', values: ['2'] },
      { kind: 'set', tag: 'SELECT 1' },
      { kind: 'complete' },
    ]);
    expect(session.connection.state).toBe('open');
  });

  it("sync 'each': a Sync per set, and the batch ends at the last ReadyForQuery", async () => {
    const session = openFakeSession();
    const { events } = runBatch(session, 'SELECT $1::int AS n', [['1'], ['2']], 'each');
    await endOfTick();
    expect(session.transport.takeWritten().map((message) => message.name)).toEqual([
      'Parse',
      'Describe',
      'Bind',
      'Execute',
      'Sync',
      'Bind',
      'Execute',
      'Sync',
    ]);
    session.transport.push(Buffer.concat([described(), setReply('1'), readyForQuery('I')]));
    expect(events.at(-1)).toEqual({ kind: 'set', tag: 'SELECT 1' });
    session.transport.push(Buffer.concat([setReply('2'), readyForQuery('I')]));
    expect(events.at(-1)).toEqual({ kind: 'complete' });
  });

  it("an error in set k, 'each': reported at the end; later sets' results discarded", async () => {
    const session = openFakeSession();
    const { events } = runBatch(session, 'SELECT $1::int AS n', [['1'], ['x'], ['3']], 'each');
    await endOfTick();
    session.transport.takeWritten();
    session.transport.push(Buffer.concat([described(), setReply('1'), readyForQuery('I')]));
    session.transport.push(
      Buffer.concat([bindComplete(), errorResponse({ S: 'ERROR', C: '22P02', M: 'invalid input' }), readyForQuery('I')]),
    );
    expect(events.some((event) => event.kind === 'error')).toBe(false);
    session.transport.push(Buffer.concat([setReply('3'), readyForQuery('I')]));
    expect(events.filter((event) => event.kind === 'set')).toHaveLength(1);
    const last = events.at(-1)!;
    expect(last.kind === 'error' && last.error instanceof PostgresError && last.error.code === '22P02').toBe(true);
    expect(session.transport.takeWritten()).toEqual([]);
  });

  it("detaching a 'once' batch before its Sync ends it with an Execute that fails, then the Sync", async () => {
    const session = openFakeSession();
    const sets = Array.from({ length: 5000 }, (_, i) => [String(i)]);
    const { conversation, events, pulled } = runBatch(session, 'SELECT $1::int AS n', sets, 'once');
    await endOfTick();
    const first = session.transport.takeWritten();
    // A round of about 64 KiB, then a Flush: the rest waits for the server's replies and the socket.
    expect(first.at(-1)?.name).toBe('Flush');
    expect(pulled()).toBeLessThan(5000);
    session.connection.abandon(conversation);
    const end = session.transport.takeWritten();
    expect(end.map((message) => message.name)).toEqual(['Execute', 'Sync']);
    expect(end[0]!.body.toString('latin1')).toMatch(/^rxpg batch stopped\0/);
    session.transport.push(
      Buffer.concat([described(), errorResponse({ S: 'ERROR', C: '34000', M: 'portal does not exist' }), readyForQuery('I')]),
    );
    expect(events).toEqual([]);
    expect(session.connection.state).toBe('open');
  });

  it('writes a round as the socket drains, at most eight rounds ahead of the replies, then as the server answers', async () => {
    const session = openFakeSession();
    const sets = Array.from({ length: 40_000 }, (_, i) => [String(i)]);
    const { pulled } = runBatch(session, 'SELECT $1::int AS n', sets, 'each');
    await endOfTick();
    const firstRound = pulled();
    expect(firstRound).toBeLessThan(40_000);
    // The kernel takes each round: the next one goes, until eight await replies.
    for (let i = 0; i < 12; i++) {
      session.transport.drainWrites();
      await endOfTick();
    }
    const held = pulled();
    expect(held).toBeGreaterThan(firstRound);
    expect(held).toBeLessThan(40_000);
    session.transport.drainWrites();
    await endOfTick();
    expect(pulled()).toBe(held);
    expect(session.transport.takeWritten().filter((message) => message.name === 'Bind')).toHaveLength(held);
    // The server answers every set written so far: more rounds go out.
    const replies: Buffer[] = [described()];
    for (let i = 0; i < held; i++) replies.push(setReply(String(i)), readyForQuery('I'));
    session.transport.push(Buffer.concat(replies));
    await endOfTick();
    session.transport.drainWrites();
    await endOfTick();
    expect(pulled()).toBeGreaterThan(held);
    expect(session.connection.state).toBe('open');
  });

  it('a ReadyForQuery for no Sync of the batch, or a DataRow of the wrong width, fails the connection', async () => {
    const session = openFakeSession();
    const { events } = runBatch(session, 'SELECT $1::int AS n', [['1']], 'once');
    await endOfTick();
    session.transport.push(Buffer.concat([described(), bindComplete(), dataRow(['1', '2'])]));
    expect(session.connection.state).toBe('failed');
    expect(session.connection.failure).toBeInstanceOf(ProtocolError);
    expect(events.at(-1)?.kind).toBe('error');

    const other = openFakeSession();
    const second = runBatch(other, 'SELECT $1::int AS n', [['1']], 'once');
    await endOfTick();
    other.transport.push(Buffer.concat([described(), setReply('1'), readyForQuery('I'), readyForQuery('I')]));
    expect(second.events.at(-1)).toEqual({ kind: 'complete' });
    expect(other.connection.state).toBe('failed');
  });
});
