// The extended-query state machine over the fake transport, driven through ProtocolConnection
// (the spec plays the server): what is written for an unnamed and a cached statement, how
// rows, errors and pipelined replies are routed, abandoning, pushback, and the protocol
// violations that fail the connection. Round trips with a real server: spec/client/query*.spec.ts.
import { Subject } from 'rxjs';
import { ConnectionError, PostgresError, ProtocolError, QueryShapeError } from '../../lib';
import { StatementCache } from '../../lib/protocol';
import {
  authenticationOk,
  bindComplete,
  commandComplete,
  copyInResponse,
  dataRow,
  emptyQueryResponse,
  errorResponse,
  noData,
  noticeResponse,
  parameterDescription,
  parseComplete,
  readyForQuery,
  rowDescription,
} from '../helpers/backend-messages';
import { endOfTick, openFakeSession, runQuery, type FakeSession, type QueryEvent, destroyFakeSessions } from '../helpers/fake-session';
import { bindOf, cstringsOf } from '../helpers/fake-transport';

afterEach(destroyFakeSessions);

const rows = (events: readonly QueryEvent[]) => events.flatMap((event) => (event.kind === 'row' ? [event.values] : []));
const errorOf = (event: QueryEvent | undefined): Error => {
  if (event?.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(event)}`);
  return event.error;
};
const unnamedReply = (...messages: Buffer[]) => Buffer.concat([parseComplete(), bindComplete(), ...messages, readyForQuery('I')]);

describe('ExtendedQueryConversation (fake transport)', () => {
  it('writes Parse, Bind, Describe, Execute and Sync at the end of the tick, and delivers the rows in order', async () => {
    const session = openFakeSession();
    const { events } = runQuery(session, 'SELECT a, b FROM t WHERE c = $1', ['x', null]);
    expect(session.transport.takeWritten()).toEqual([]); // nothing before the end of the tick
    await endOfTick();
    const written = session.transport.takeWritten();
    expect(written.map((message) => message.name)).toEqual(['Parse', 'Bind', 'Describe', 'Execute', 'Sync']);
    expect(cstringsOf(written[0]!.body, 2)).toEqual(['', 'SELECT a, b FROM t WHERE c = $1']);
    expect(bindOf(written[1]!.body)).toMatchObject({ portal: '', statement: '', parameters: ['x', null] });
    expect(written[2]!.body.toString('latin1')).toBe('P\0'); // the unnamed portal

    session.transport.push(
      unnamedReply(rowDescription(['a', 'b']), dataRow(['1', null]), dataRow(['2', 'two']), commandComplete('SELECT 2')),
    );
    expect(events).toEqual([
      { kind: 'fields', names: ['a', 'b'] },
      { kind: 'row', values: ['1', null] },
      { kind: 'row', values: ['2', 'two'] },
      { kind: 'complete', tag: 'SELECT 2' },
    ]);
    expect(session.connection.state).toBe('open');
    expect(session.connection.transactionStatus).toBe('idle');
  });

  it('a statement without rows (NoData) and an empty query complete with their tags', async () => {
    const session = openFakeSession();
    const insert = runQuery(session, 'INSERT INTO t VALUES (1)');
    const empty = runQuery(session, '');
    await endOfTick();
    session.transport.push(unnamedReply(noData(), commandComplete('INSERT 0 1')), unnamedReply(noData(), emptyQueryResponse()));
    expect(insert.events).toEqual([
      { kind: 'fields', names: [] },
      { kind: 'complete', tag: 'INSERT 0 1' },
    ]);
    expect(empty.events).toEqual([
      { kind: 'fields', names: [] },
      { kind: 'complete', tag: '' },
    ]);
  });

  it('reports a statement error only at its ReadyForQuery; the requests pipelined behind it get their own replies', async () => {
    const session = openFakeSession();
    const failing = runQuery(session, 'SELECT * FROM missing');
    const next = runQuery(session, "SELECT 'ok' AS v");
    await endOfTick();
    expect(session.transport.takeWrittenNames()).toEqual([
      'Parse',
      'Bind',
      'Describe',
      'Execute',
      'Sync',
      'Parse',
      'Bind',
      'Describe',
      'Execute',
      'Sync',
    ]);

    session.transport.push(errorResponse({ S: 'ERROR', V: 'ERROR', C: '42P01', M: 'relation "missing" does not exist' }));
    expect(failing.events).toEqual([]); // not before the connection is back in sync
    session.transport.push(readyForQuery('I'));
    expect(failing.events).toEqual([{ kind: 'error', error: expect.any(PostgresError) }]);
    const error = errorOf(failing.events[0]) as PostgresError;
    expect(error.code).toBe('42P01');
    expect(error.sql).toBe('SELECT * FROM missing');

    session.transport.push(unnamedReply(rowDescription(['v']), dataRow(['ok']), commandComplete('SELECT 1')));
    expect(rows(next.events)).toEqual([['ok']]);
    expect(session.connection.state).toBe('open');
  });

  it('a notice during a query goes to notices$, not to the query', async () => {
    const session = openFakeSession();
    const notices: unknown[] = [];
    session.connection.notices$.subscribe((notice) => notices.push(notice.message));
    const { events } = runQuery(session, 'SELECT 1');
    await endOfTick();
    session.transport.push(
      unnamedReply(
        rowDescription(['n']),
        noticeResponse({ S: 'NOTICE', C: '00000', M: 'hello' }),
        dataRow(['1']),
        commandComplete('SELECT 1'),
      ),
    );
    expect(notices).toEqual(['hello']);
    expect(rows(events)).toEqual([['1']]);
  });

  describe('a cached statement', () => {
    it('is parsed and described once as a named statement; later runs send only Bind, Execute and Sync', async () => {
      const session = openFakeSession();
      const statements = new StatementCache(10);
      const sql = 'SELECT name FROM people WHERE id = $1';
      const first = runQuery(session, sql, ['1'], { statements });
      await endOfTick();
      const written = session.transport.takeWritten();
      expect(written.map((message) => message.name)).toEqual(['Parse', 'Describe', 'Bind', 'Execute', 'Sync']);
      const [name] = cstringsOf(written[0]!.body, 1) as [string];
      expect(name).not.toBe('');
      expect(written[1]!.body.toString('latin1')).toBe(`S${name}\0`);
      expect(bindOf(written[2]!.body)).toMatchObject({ statement: name, parameters: ['1'] });
      session.transport.push(
        parseComplete(),
        parameterDescription([23]),
        rowDescription(['name']),
        bindComplete(),
        dataRow(['Ada']),
        commandComplete('SELECT 1'),
        readyForQuery('I'),
      );
      expect(first.events).toEqual([
        { kind: 'fields', names: ['name'] },
        { kind: 'row', values: ['Ada'] },
        { kind: 'complete', tag: 'SELECT 1' },
      ]);

      const second = runQuery(session, sql, ['2'], { statements });
      await endOfTick();
      const again = session.transport.takeWritten();
      expect(again.map((message) => message.name)).toEqual(['Bind', 'Execute', 'Sync']);
      expect(bindOf(again[0]!.body)).toMatchObject({ statement: name, parameters: ['2'] });
      // The columns come from the cache: no RowDescription in this reply.
      session.transport.push(bindComplete(), dataRow(['Grace']), commandComplete('SELECT 1'), readyForQuery('I'));
      expect(second.events).toEqual([
        { kind: 'fields', names: ['name'] },
        { kind: 'row', values: ['Grace'] },
        { kind: 'complete', tag: 'SELECT 1' },
      ]);
    });

    it('a statement whose Parse failed is forgotten: the next run parses it again', async () => {
      const session = openFakeSession();
      const statements = new StatementCache(10);
      const failing = runQuery(session, 'SELECT nonsense(', [], { statements });
      await endOfTick();
      session.transport.takeWritten();
      session.transport.push(errorResponse({ S: 'ERROR', V: 'ERROR', C: '42601', M: 'syntax error' }), readyForQuery('I'));
      expect(failing.events).toEqual([{ kind: 'error', error: expect.any(PostgresError) }]);
      runQuery(session, 'SELECT nonsense(', [], { statements });
      await endOfTick();
      expect(session.transport.takeWrittenNames()).toEqual(['Parse', 'Describe', 'Bind', 'Execute', 'Sync']);
    });
  });

  describe('abandoning', () => {
    it('a request abandoned in the tick it was made is never written', async () => {
      const session = openFakeSession();
      const { conversation, events } = runQuery(session, 'SELECT 1');
      session.connection.abandon(conversation);
      await endOfTick();
      expect(session.transport.takeWritten()).toEqual([]);
      expect(events).toEqual([]);
      expect(session.cancels).toEqual([]);
    });

    it('a running request is detached (its replies read and dropped) and cancelled; later requests wait for both', async () => {
      const session = openFakeSession();
      const running = runQuery(session, 'SELECT pg_sleep(10)');
      await endOfTick();
      session.transport.takeWritten();
      session.transport.push(parseComplete(), bindComplete(), rowDescription(['a']), dataRow(['1']));
      expect(rows(running.events)).toEqual([['1']]);

      session.connection.abandon(running.conversation);
      expect(session.cancels.map((cancel) => cancel.key)).toEqual([{ processId: 4242, secretKey: 0x5eed }]);
      const later = runQuery(session, 'SELECT 2');
      await endOfTick();
      expect(session.transport.takeWritten()).toEqual([]); // held: the cancel could hit it

      session.transport.push(
        dataRow(['2']),
        errorResponse({ S: 'ERROR', V: 'ERROR', C: '57014', M: 'canceling statement' }),
        readyForQuery('I'),
      );
      expect(running.events).toHaveLength(2); // nothing after the abandon
      expect(session.transport.takeWritten()).toEqual([]); // the server has not confirmed the cancel yet
      session.cancels[0]!.done.complete();
      expect(session.transport.takeWrittenNames()).toEqual(['Parse', 'Bind', 'Describe', 'Execute', 'Sync']);
      session.transport.push(unnamedReply(rowDescription(['n']), dataRow(['2']), commandComplete('SELECT 1')));
      expect(rows(later.events)).toEqual([['2']]);
      expect(session.connection.state).toBe('open');
    });

    it('no CancelRequest while a live request is pipelined behind the abandoned one', async () => {
      const session = openFakeSession();
      const first = runQuery(session, 'SELECT 1');
      const second = runQuery(session, 'SELECT 2');
      await endOfTick();
      session.transport.takeWritten();
      session.connection.abandon(first.conversation);
      expect(session.cancels).toEqual([]);
      session.transport.push(
        unnamedReply(rowDescription(['n']), dataRow(['1']), commandComplete('SELECT 1')),
        unnamedReply(rowDescription(['n']), dataRow(['2']), commandComplete('SELECT 1')),
      );
      expect(first.events).toEqual([]);
      expect(rows(second.events)).toEqual([['2']]);
    });
  });

  it('pushback pauses reading after a chunk with rows; bytes pushed meanwhile wait until it settles', async () => {
    const session = openFakeSession();
    let pending: Subject<void> | undefined;
    const { events } = runQuery(session, 'SELECT n', [], {
      pushback: () => {
        pending = new Subject<void>();
        return pending;
      },
    });
    await endOfTick();
    session.transport.push(parseComplete(), bindComplete(), rowDescription(['n']), dataRow(['1']));
    expect(session.transport.paused).toBe(true);
    session.transport.push(dataRow(['2']), commandComplete('SELECT 2'), readyForQuery('I'));
    expect(rows(events)).toEqual([['1']]);
    pending!.next();
    pending!.complete();
    expect(session.transport.paused).toBe(false);
    expect(rows(events)).toEqual([['1'], ['2']]);
    expect(events[events.length - 1]).toEqual({ kind: 'complete', tag: 'SELECT 2' });
  });

  it('COPY FROM STDIN through a query: CopyFail and Sync are written, the query fails with QueryShapeError', async () => {
    const session = openFakeSession();
    const { events } = runQuery(session, 'COPY t FROM STDIN');
    await endOfTick();
    session.transport.takeWritten();
    session.transport.push(parseComplete(), bindComplete(), noData(), copyInResponse());
    expect(session.transport.takeWrittenNames()).toEqual(['CopyFail', 'Sync']);
    session.transport.push(errorResponse({ S: 'ERROR', V: 'ERROR', C: '57014', M: 'COPY from stdin failed' }), readyForQuery('I'));
    expect(events[events.length - 1]).toEqual({ kind: 'error', error: expect.any(QueryShapeError) });
    expect(session.connection.state).toBe('open');
  });

  describe('protocol violations fail the connection', () => {
    async function violated(...reply: Buffer[]): Promise<{ events: QueryEvent[]; session: FakeSession }> {
      const session = openFakeSession();
      const { events } = runQuery(session, 'SELECT a');
      await endOfTick();
      session.transport.push(...reply);
      expect(session.connection.state).toBe('failed');
      expect(session.transport.closed).toBe(true);
      return { events, session };
    }

    it('a DataRow whose field count is not its RowDescription’s: ProtocolError, no row delivered', async () => {
      const { events, session } = await violated(parseComplete(), bindComplete(), rowDescription(['a']), dataRow(['1', '2']));
      expect(rows(events)).toEqual([]);
      expect(events[events.length - 1]).toEqual({ kind: 'error', error: expect.any(ProtocolError) });
      expect(session.connection.failure).toBeInstanceOf(ProtocolError);
    });

    it('a ReadyForQuery before any reply: ProtocolError', async () => {
      const { events } = await violated(readyForQuery('I'));
      expect(events).toEqual([{ kind: 'error', error: expect.any(ProtocolError) }]);
    });

    it('a message that has no place in the exchange: ProtocolError', async () => {
      const { events } = await violated(parseComplete(), authenticationOk());
      expect(events).toEqual([{ kind: 'error', error: expect.any(ProtocolError) }]);
    });

    it('a reply while no request waits for it: ProtocolError', () => {
      const session = openFakeSession();
      session.transport.push(commandComplete('SELECT 1'));
      expect(session.connection.failure).toBeInstanceOf(ProtocolError);
      expect(session.connection.failure?.message).toMatch(/unexpected CommandComplete while no request was waiting/);
    });

    it('a FATAL ErrorResponse: every request in flight fails with a ConnectionError whose cause is the server’s error', async () => {
      const session = openFakeSession();
      const first = runQuery(session, 'SELECT 1');
      const second = runQuery(session, 'SELECT 2');
      await endOfTick();
      session.transport.push(
        errorResponse({ S: 'FATAL', V: 'FATAL', C: '57P01', M: 'terminating connection due to administrator command' }),
      );
      for (const { events } of [first, second]) {
        const [event] = events as [{ kind: string; error: ConnectionError }];
        expect(event.kind).toBe('error');
        expect(event.error).toBeInstanceOf(ConnectionError);
        expect(event.error.cause).toBeInstanceOf(PostgresError);
      }
    });

    it('EOF in the middle of a reply: ConnectionError naming the unfinished message', async () => {
      const session = openFakeSession();
      const { events } = runQuery(session, 'SELECT 1');
      await endOfTick();
      session.transport.push(parseComplete(), bindComplete(), dataRow(['1']).subarray(0, 4));
      session.transport.pushEnd();
      expect(events).toEqual([{ kind: 'error', error: expect.any(ConnectionError) }]);
      expect(session.connection.failure?.message).toMatch(/closed the connection unexpectedly \(4 bytes of an unfinished message\)/);
    });

    it('a socket error: ConnectionError; later requests fail at once', async () => {
      const session = openFakeSession();
      const { events } = runQuery(session, 'SELECT 1');
      await endOfTick();
      session.transport.pushError();
      expect(events).toEqual([{ kind: 'error', error: expect.any(ConnectionError) }]);
      const later = runQuery(session, 'SELECT 2');
      expect(later.events).toEqual([{ kind: 'error', error: expect.any(ConnectionError) }]);
      expect(errorOf(later.events[0]).message).toMatch(/no longer usable/);
    });
  });
});
