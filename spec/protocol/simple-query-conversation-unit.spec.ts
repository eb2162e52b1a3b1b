// The simple-query state machine over the fake transport, driven through ProtocolConnection
// (the spec plays the server): one Query, a result set per statement, an error ending the
// exchange, COPY refused, abandoning, and the protocol violations that fail the connection.
import { ConnectionError, PostgresError, ProtocolError, QueryShapeError } from '../../lib';
import { SimpleQueryConversation, type ConversationChannel, type ResultSet } from '../../lib/protocol';
import type { FieldDescription } from '../../lib/wire';
import type {} from '../../lib/types/buffer-slices';
import {
  commandComplete,
  copyInResponse,
  copyOutResponse,
  copyData,
  copyDone,
  dataRow,
  emptyQueryResponse,
  errorResponse,
  parseComplete,
  readyForQuery,
  rowDescription,
} from '../helpers/backend-messages';
import { endOfTick, openFakeSession, type FakeSession, destroyFakeSessions } from '../helpers/fake-session';
import { cstringsOf } from '../helpers/fake-transport';

afterEach(destroyFakeSessions);

type SimpleEvent =
  | { readonly kind: 'result'; readonly result: ResultSet }
  | { readonly kind: 'error'; readonly error: Error }
  | { readonly kind: 'complete' };

function runSimpleQuery(session: FakeSession, sql: string): { conversation: SimpleQueryConversation; events: SimpleEvent[] } {
  const events: SimpleEvent[] = [];
  const conversation = new SimpleQueryConversation(sql, {
    resultSet: (result) => events.push({ kind: 'result', result }),
    error: (error) => events.push({ kind: 'error', error }),
    complete: () => events.push({ kind: 'complete' }),
  });
  session.connection.enqueue(conversation);
  return { conversation, events };
}

/** The result sets as [command, rows] pairs. */
const results = (events: readonly SimpleEvent[]) =>
  events.flatMap((event) => (event.kind === 'result' ? [[event.result.command, event.result.rows]] : []));

describe('SimpleQueryConversation (fake transport)', () => {
  it('writes one Query and delivers a result set per statement, then completes at ReadyForQuery', async () => {
    const session = openFakeSession();
    const { events } = runSimpleQuery(session, "BEGIN; SELECT 1 AS a, NULL AS b; INSERT INTO t VALUES ('x')");
    await endOfTick();
    const written = session.transport.takeWritten();
    expect(written.map((message) => message.name)).toEqual(['Query']);
    expect(cstringsOf(written[0]!.body, 1)).toEqual(["BEGIN; SELECT 1 AS a, NULL AS b; INSERT INTO t VALUES ('x')"]);

    session.transport.push(
      commandComplete('BEGIN'),
      rowDescription([{ name: 'a', dataTypeId: 23 }, 'b']),
      dataRow(['1', null]),
      commandComplete('SELECT 1'),
      commandComplete('INSERT 0 1'),
    );
    expect(results(events)).toEqual([
      ['BEGIN', []],
      ['SELECT 1', [['1', null]]],
      ['INSERT 0 1', []],
    ]);
    expect(events.some((event) => event.kind === 'complete')).toBe(false);
    const select = (events[1] as { result: ResultSet }).result;
    expect(select.fields.map((field) => [field.name, field.dataTypeId])).toEqual([
      ['a', 23],
      ['b', 25],
    ]);
    expect(select.rowCount).toBe(1);
    session.transport.push(readyForQuery('T'));
    expect(events[events.length - 1]).toEqual({ kind: 'complete' });
    expect(session.connection.transactionStatus).toBe('in transaction');
  });

  it('an empty query gives one result set with an empty command', async () => {
    const session = openFakeSession();
    const { events } = runSimpleQuery(session, '');
    await endOfTick();
    session.transport.push(emptyQueryResponse(), readyForQuery('I'));
    expect(results(events)).toEqual([['', []]]);
    expect(events[events.length - 1]).toEqual({ kind: 'complete' });
  });

  it('a statement error ends the exchange: the error at ReadyForQuery, the next request its own replies', async () => {
    const session = openFakeSession();
    const failing = runSimpleQuery(session, 'SELECT 1; SELECT nope; SELECT 3');
    const next = runSimpleQuery(session, "SELECT 'B'");
    await endOfTick();
    expect(session.transport.takeWrittenNames()).toEqual(['Query', 'Query']);
    session.transport.push(
      rowDescription(['a']),
      dataRow(['1']),
      commandComplete('SELECT 1'),
      errorResponse({ S: 'ERROR', V: 'ERROR', C: '42703', M: 'column "nope" does not exist' }),
    );
    expect(failing.events.map((event) => event.kind)).toEqual(['result']);
    session.transport.push(readyForQuery('I'));
    const last = failing.events[failing.events.length - 1] as { kind: string; error: PostgresError };
    expect(last.kind).toBe('error');
    expect(last.error).toBeInstanceOf(PostgresError);
    expect(last.error.code).toBe('42703');

    session.transport.push(rowDescription(['v']), dataRow(['B']), commandComplete('SELECT 1'), readyForQuery('I'));
    expect(results(next.events)).toEqual([['SELECT 1', [['B']]]]);
    expect(session.connection.state).toBe('open');
  });

  it('COPY FROM STDIN is answered with CopyFail and fails the query; the connection stays usable', async () => {
    const session = openFakeSession();
    const { events } = runSimpleQuery(session, 'COPY t FROM STDIN');
    await endOfTick();
    session.transport.takeWritten();
    session.transport.push(copyInResponse());
    expect(session.transport.takeWrittenNames()).toEqual(['CopyFail']);
    session.transport.push(errorResponse({ S: 'ERROR', V: 'ERROR', C: '57014', M: 'COPY from stdin failed' }), readyForQuery('I'));
    expect(events[events.length - 1]).toMatchObject({ kind: 'error', error: { message: expect.stringMatching(/COPY FROM STDIN/) } });
    expect((events[events.length - 1] as { error: unknown }).error).toBeInstanceOf(QueryShapeError);
    expect(session.connection.state).toBe('open');
  });

  it('COPY TO STDOUT: the data is discarded and the query fails', async () => {
    const session = openFakeSession();
    const { events } = runSimpleQuery(session, 'COPY t TO STDOUT');
    await endOfTick();
    session.transport.push(copyOutResponse(), copyData('1\n'), copyDone(), commandComplete('COPY 1'), readyForQuery('I'));
    expect(events).toEqual([{ kind: 'error', error: expect.objectContaining({ message: expect.stringMatching(/COPY TO STDOUT/) }) }]);
    expect((events[0] as { error: unknown }).error).toBeInstanceOf(QueryShapeError);
  });

  it('a detached query reads its replies to ReadyForQuery and reports nothing; the next one is in sync', async () => {
    const session = openFakeSession();
    const first = runSimpleQuery(session, 'SELECT 1');
    const second = runSimpleQuery(session, 'SELECT 2');
    await endOfTick();
    session.connection.abandon(first.conversation);
    session.transport.push(rowDescription(['n']), dataRow(['1']), commandComplete('SELECT 1'), readyForQuery('I'));
    session.transport.push(rowDescription(['n']), dataRow(['2']), commandComplete('SELECT 1'), readyForQuery('I'));
    expect(first.events).toEqual([]);
    expect(results(second.events)).toEqual([['SELECT 1', [['2']]]]);
  });

  it('a detached query makes no strings of its remaining rows (a drain after a timeout stays flat)', () => {
    const events: SimpleEvent[] = [];
    const conversation = new SimpleQueryConversation('SELECT n FROM big', {
      resultSet: (result) => events.push({ kind: 'result', result }),
      error: (error) => events.push({ kind: 'error', error }),
      complete: () => events.push({ kind: 'complete' }),
    });
    const failures: Error[] = [];
    const channel = { write: () => undefined, failConnection: (error: Error) => failures.push(error) } as unknown as ConversationChannel;
    const fields: FieldDescription[] = [
      { name: 'n', tableId: 0, columnId: 0, dataTypeId: 25, dataTypeSize: -1, dataTypeModifier: -1, format: 0 },
    ];
    conversation.handle({ name: 'RowDescription', fields }, channel);
    conversation.detach();
    // One row's body: one value, 'abc'. Every string made of it goes through utf8Slice.
    const bytes = Buffer.from([0, 1, 0, 0, 0, 3, 0x61, 0x62, 0x63]);
    let strings = 0;
    const slice = bytes.utf8Slice.bind(bytes);
    bytes.utf8Slice = (start: number, end: number) => {
      strings += 1;
      return slice(start, end);
    };
    for (let i = 0; i < 1000; i++) conversation.handle({ name: 'DataRow', bytes, start: 0, end: bytes.length }, channel);
    conversation.handle({ name: 'CommandComplete', tag: 'SELECT 1000' }, channel);
    expect(conversation.handle({ name: 'ReadyForQuery', transactionStatus: 'I' }, channel)).toBe(true);
    expect(strings).toBe(0);
    expect(failures).toEqual([]);
    expect(events).toEqual([]);
  });

  describe('protocol violations fail the connection', () => {
    async function violated(...reply: Buffer[]): Promise<SimpleEvent[]> {
      const session = openFakeSession();
      const { events } = runSimpleQuery(session, 'SELECT 1');
      await endOfTick();
      session.transport.push(...reply);
      expect(session.connection.state).toBe('failed');
      expect(session.connection.failure).toBeInstanceOf(ProtocolError);
      return events;
    }

    it.each([
      ['a DataRow outside a result set', [dataRow(['1'])]],
      ['a DataRow with the wrong field count', [rowDescription(['a']), dataRow(['1', '2'])]],
      ['a ReadyForQuery before any reply', [readyForQuery('I')]],
      ['an extended-protocol reply', [parseComplete()]],
    ])('%s: ProtocolError, no result set delivered', async (_, reply) => {
      const events = await violated(...reply);
      expect(events).toEqual([{ kind: 'error', error: expect.any(ProtocolError) }]);
    });

    it('EOF before ReadyForQuery: ConnectionError', async () => {
      const session = openFakeSession();
      const { events } = runSimpleQuery(session, 'SELECT 1');
      await endOfTick();
      session.transport.push(rowDescription(['a']));
      session.transport.pushEnd();
      expect(events).toEqual([{ kind: 'error', error: expect.any(ConnectionError) }]);
    });
  });
});
