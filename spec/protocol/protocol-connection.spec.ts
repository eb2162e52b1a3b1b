// The request lifecycle that ProtocolConnection owns for every request kind: a request that
// fails to start never takes a place in the queue (issue 10, item 1), a request dropped in the
// tick it was made is never sent (item 9), and waiting for a cancel is bounded (item 8).
import type { Socket } from 'node:net';
import { firstValueFrom, lastValueFrom, of, Subject, toArray, type Observable, type ObservableInput } from 'rxjs';
import { ConnectionError, PostgresError, ProtocolError, TimeoutError, connect, type Connection, type ConnectionConfig } from '../../lib';
import type { Conversation, ProtocolConnection } from '../../lib/protocol';
import { query } from '../../lib/wire';
import * as b from '../helpers/backend-messages';
import { acceptLogin, errorResponse, readyForQuery } from '../helpers/backend-messages';
import { FakeTransport } from '../helpers/fake-transport';
import { destroyFakeSessions, endOfTick, fakeSession, openFakeSession, startLogin } from '../helpers/fake-session';
import { closeOpenedConnections, errorOf, openConnection, queryValue } from '../helpers/connections';
import { readUntypedFrame, startFakeServer, type FakeServer } from '../helpers/fake-server';
import { TcpRelay } from '../helpers/tcp-relay';
import { superuserConfig, superuserPsql } from '../helpers/test-servers';

afterEach(closeOpenedConnections);
afterEach(destroyFakeSessions);

let tableNumber = 0;
async function freshTable(connection: Connection): Promise<string> {
  const table = `lifecycle_${process.pid}_${Date.now()}_${tableNumber++}`;
  await lastValueFrom(connection.execute(`CREATE TABLE ${table} (id int)`));
  return table;
}

/** Requests pipelined together after the failed one each get their own answer. */
async function expectInSync(connection: Connection): Promise<void> {
  const [a, b, c, d] = await Promise.all([
    lastValueFrom(connection.simpleQuery("SELECT 'A' AS v")),
    lastValueFrom(connection.simpleQuery("SELECT 'B' AS v")),
    firstValueFrom(connection.query<{ v: string }>("SELECT 'C' AS v")),
    lastValueFrom(connection.execute('SELECT 1 WHERE false')),
  ]);
  expect(a.rows).toEqual([['A']]);
  expect(b.rows).toEqual([['B']]);
  expect(c).toEqual({ v: 'C' });
  expect(d.command).toBe('SELECT 0');
  expect(connection.state).toBe('open');
}

describe('a request that fails to start never occupies the queue (item 1)', () => {
  const refused: Record<string, (connection: Connection) => Observable<unknown>> = {
    simpleQuery: (connection) => connection.simpleQuery('select 1\0'),
    query: (connection) => connection.query('select 1\0'),
    execute: (connection) => connection.execute('select 1\0'),
    copyIn: (connection) => connection.copyIn('COPY t FROM STDIN\0', of('1\n')),
    copyOut: (connection) => connection.copyOut('COPY t TO STDOUT\0'),
    notify: (connection) => connection.notify('jobs', 'pay\0load'),
    'LISTEN (notifications)': (connection) => connection.notifications('jobs\0'),
  };

  for (const [kind, request] of Object.entries(refused)) {
    it(`${kind}: the refusal reaches its subscriber; requests made together after it get their own replies`, async () => {
      const connection = await openConnection(superuserConfig());
      const error = await errorOf(lastValueFrom(request(connection)));
      expect(error).not.toBeInstanceOf(ConnectionError);
      expect(error.message).toMatch(/NUL/i);
      await expectInSync(connection);
    });
  }

  it('simpleQuery: the refused request and the ones made in the same tick each get their own outcome', async () => {
    const connection = await openConnection(superuserConfig());
    const outcomes = await Promise.all([
      errorOf(lastValueFrom(connection.simpleQuery('select 1\0'))),
      lastValueFrom(connection.simpleQuery("select 'A'")),
      lastValueFrom(connection.simpleQuery("select 'B'")),
      firstValueFrom(connection.query('SELECT 42 AS n')),
    ]);
    expect(outcomes[0].message).toMatch(/NUL/);
    expect(outcomes[1]).toMatchObject({ rows: [['A']] });
    expect(outcomes[2]).toMatchObject({ rows: [['B']] });
    expect(outcomes[3]).toEqual({ n: 42 });
  });

  it('UNLISTEN after a refused LISTEN leaves the connection in sync', async () => {
    const connection = await openConnection(superuserConfig());
    await errorOf(firstValueFrom(connection.notifications('bad\0channel')));
    const subscription = connection.notifications('good_channel').subscribe();
    await lastValueFrom(connection.simpleQuery('SELECT 1'));
    subscription.unsubscribe(); // UNLISTEN
    await expectInSync(connection);
  });
});

describe('a request dropped in the tick it was made is never sent (item 9)', () => {
  const inserts: Record<string, (connection: Connection, table: string, id: number) => Observable<unknown>> = {
    execute: (connection, table, id) => connection.execute(`INSERT INTO ${table} VALUES ($1)`, [id]),
    query: (connection, table, id) => connection.query(`INSERT INTO ${table} VALUES ($1) RETURNING id`, [id]),
    simpleQuery: (connection, table, id) => connection.simpleQuery(`INSERT INTO ${table} VALUES (${id})`),
    copyIn: (connection, table, id) => connection.copyIn(`COPY ${table} FROM STDIN`, of(`${id}\n`)),
  };

  for (const [kind, insert] of Object.entries(inserts)) {
    it(`${kind}: 20 subscribed and unsubscribed at once run none; every other one dropped runs exactly the rest`, async () => {
      const connection = await openConnection(superuserConfig());
      const table = await freshTable(connection);
      for (let id = 0; id < 20; id++)
        insert(connection, table, id)
          .subscribe({ error: () => undefined })
          .unsubscribe();
      expect(await queryValue(connection, `SELECT count(*) FROM ${table}`)).toBe('0');

      const kept: Promise<unknown>[] = [];
      for (let id = 0; id < 20; id++) {
        const observable = insert(connection, table, id);
        if (id % 2 === 0) kept.push(lastValueFrom(observable.pipe(toArray())));
        else observable.subscribe({ error: () => undefined }).unsubscribe();
      }
      await Promise.all(kept);
      const ids = await lastValueFrom(connection.query<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`).pipe(toArray()));
      expect(ids.map(({ id }) => id)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
      await expectInSync(connection);
    });
  }

  it('close() in the same tick still writes the requests made before it, then Terminate', async () => {
    const connection = await connectOnce(superuserConfig());
    const table = await freshTable(connection);
    const done = lastValueFrom(connection.execute(`INSERT INTO ${table} VALUES (1)`));
    await connection.close();
    expect((await done).rowCount).toBe(1);
    expect(await superuserPsql(`SELECT count(*) FROM ${table}`)).toBe('1');
  });
});

describe('a cancel that cannot be confirmed is bounded (item 8)', () => {
  let server: FakeServer | undefined;
  const relays: TcpRelay[] = [];
  afterEach(async () => {
    await server?.close();
    server = undefined;
    for (const relay of relays.splice(0)) await relay.close();
  });

  /** The typed frontend messages a session has sent, as they arrive. */
  class FrameLog {
    readonly types: string[] = [];
    readonly #waiting: { readonly type: string; readonly count: number; readonly resolve: () => void }[] = [];
    #buffered = Buffer.alloc(0);

    constructor(socket: Socket) {
      socket.on('data', (chunk: Buffer) => {
        this.#buffered = Buffer.concat([this.#buffered, chunk]);
        while (this.#buffered.length >= 5 && this.#buffered.length >= 1 + this.#buffered.readUInt32BE(1)) {
          this.types.push(String.fromCharCode(this.#buffered[0]!));
          this.#buffered = this.#buffered.subarray(1 + this.#buffered.readUInt32BE(1));
        }
        for (const waiter of [...this.#waiting]) {
          if (this.count(waiter.type) >= waiter.count) {
            this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
      });
    }

    count(type: string): number {
      return this.types.filter((seen) => seen === type).length;
    }

    /** Resolves once `count` messages of `type` have arrived. */
    until(type: string, count: number): Promise<void> {
      if (this.count(type) >= count) return Promise.resolve();
      return new Promise((resolve) => this.#waiting.push({ type, count, resolve }));
    }
  }

  /**
   * A server that logs in, then logs the session's messages and never answers them; a
   * CancelRequest is handed to `onCancel`.
   */
  async function silentServer(
    onCancel: (cancelSocket: Socket, session: Socket) => void,
    onSession: (log: FrameLog) => void = () => undefined,
  ): Promise<FakeServer> {
    let session: Socket | undefined;
    return startFakeServer((socket) => {
      readUntypedFrame(socket).then(
        (frame) => {
          if (frame.length === 16 && frame.readInt32BE(4) === 80877102) {
            onCancel(socket, session as Socket);
            return;
          }
          session = socket;
          onSession(new FrameLog(socket));
          socket.write(acceptLogin());
        },
        () => undefined,
      );
    });
  }

  function fakeConfig(port: number, cancelTimeout: number): ConnectionConfig {
    return { host: '127.0.0.1', port, user: 'postgres', database: 'postgres', sslmode: 'disable', cancelTimeout };
  }

  it('a cancel socket the server never closes fails the connection after cancelTimeout, and waiting requests with it', async () => {
    const cancelSockets: Socket[] = [];
    let log!: FrameLog;
    server = await silentServer(
      (cancelSocket) => cancelSockets.push(cancelSocket),
      (session) => (log = session),
    );
    const connection = await connectOnce(fakeConfig(server.port, 300));
    const closed = errorOf(lastValueFrom(connection.closed$, { defaultValue: undefined }));
    const subscription = connection.query('SELECT pg_sleep(60)').subscribe({ error: () => undefined });
    await log.until('S', 1); // the query is on the server
    const abandonedAt = Date.now();
    subscription.unsubscribe();
    const waiting = errorOf(lastValueFrom(connection.query('SELECT 1')));
    const error = await closed;
    const after = Date.now() - abandonedAt;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/did not confirm the CancelRequest within 300 ms/);
    expect(after).toBeGreaterThanOrEqual(250);
    expect(after).toBeLessThan(1500);
    expect(cancelSockets).toHaveLength(1);
    const waitingError = await waiting;
    expect(waitingError).toBeInstanceOf(ConnectionError);
    expect(log.count('S')).toBe(1); // the waiting request was never written
    expect(connection.state).toBe('failed');
    await expect(connection.close()).resolves.toBeUndefined();
  });

  it('a confirmed cancel whose request never ends fails the connection after cancelTimeout', async () => {
    let log!: FrameLog;
    server = await silentServer(
      (cancelSocket) => cancelSocket.end(),
      (session) => (log = session),
    );
    const connection = await connectOnce(fakeConfig(server.port, 300));
    const closed = errorOf(lastValueFrom(connection.closed$, { defaultValue: undefined }));
    const subscription = connection.query('SELECT pg_sleep(60)').subscribe({ error: () => undefined });
    await log.until('S', 1);
    subscription.unsubscribe();
    const error = await closed;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/the cancelled request did not end within 300 ms/);
  });

  it('later writes wait until the cancel is confirmed and its request has ended, and the connection stays open', async () => {
    let cancelClosedAt = 0;
    let log!: FrameLog;
    server = await silentServer(
      (cancelSocket, session) => {
        // Confirm late, then end the cancelled statement as a real server does.
        setTimeout(() => {
          cancelClosedAt = Date.now();
          cancelSocket.end();
          session.write(
            Buffer.concat([
              errorResponse({ S: 'ERROR', V: 'ERROR', C: '57014', M: 'canceling statement due to user request' }),
              readyForQuery('I'),
            ]),
          );
        }, 100);
      },
      (session) => (log = session),
    );
    const connection = await connectOnce(fakeConfig(server.port, 2000));
    const subscription = connection.query('SELECT pg_sleep(60)').subscribe({ error: () => undefined });
    await log.until('S', 1);
    subscription.unsubscribe();
    connection.execute('SELECT 1').subscribe({ error: () => undefined });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(log.count('S')).toBe(1); // held back while the cancel is in progress
    await log.until('S', 2);
    expect(cancelClosedAt).toBeGreaterThan(0);
    expect(connection.state).toBe('open');
  });

  it('a black-holed path after a timeout fails the connection within cancelTimeout instead of leaving it open', async () => {
    const target = superuserConfig();
    const relay = await TcpRelay.start(target.host, target.port);
    relays.push(relay);
    const connection = await connectOnce({ ...target, host: '127.0.0.1', port: relay.port, cancelTimeout: 400 });
    expect(await queryValue(connection, 'SELECT 1')).toBe('1');
    const closed = errorOf(lastValueFrom(connection.closed$, { defaultValue: undefined }));
    relay.blackhole();
    const startedAt = Date.now();
    const timedOut = await errorOf(lastValueFrom(connection.query('SELECT 1', [], { timeout: 100 })));
    expect(timedOut).toBeInstanceOf(TimeoutError);
    const error = await closed;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(Date.now() - startedAt).toBeLessThan(2000);
    expect(connection.state).toBe('failed');
  });

  it('requests abandoned behind one another are cancelled one by one once no live request is in flight', async () => {
    const connection = await openConnection(superuserConfig());
    const first = connection.execute('SELECT pg_sleep(30)').subscribe({ error: () => undefined });
    const second = connection.execute('SELECT pg_sleep(30)').subscribe({ error: () => undefined });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const startedAt = Date.now();
    first.unsubscribe(); // a live request is behind it: no cancel yet
    second.unsubscribe(); // now everything in flight is abandoned
    expect(await queryValue(connection, "SELECT 'after'")).toBe('after');
    expect(Date.now() - startedAt).toBeLessThan(5000);
    expect(connection.state).toBe('open');
  });
});

/** Connects without registering the connection for the shared cleanup. */
async function connectOnce(config: ConnectionConfig): Promise<Connection> {
  const connection = await firstValueFrom(connect(config));
  opened.push(connection);
  return connection;
}

const opened: Connection[] = [];
afterAll(async () => {
  for (const connection of opened) await connection.close();
});

describe('the socket consumed as an Observable of backend messages (issue 14, item 1; a fake transport)', () => {
  /** A conversation that records what reaches it and ends on ReadyForQuery; `pushback` as given. */
  function recordingConversation(
    pushback?: () => ObservableInput<unknown> | void,
  ): Conversation & { readonly seen: string[]; failure?: Error } {
    const seen: string[] = [];
    const conversation: Conversation & { seen: string[]; failure?: Error } = {
      seen,
      start: (channel) => channel.write(query('SELECT 1')),
      handle: (message) => {
        seen.push(message.name);
        return message.name === 'ReadyForQuery';
      },
      fail: (error) => {
        conversation.failure = error;
      },
      ...(pushback === undefined ? {} : { pushback }),
    };
    return conversation;
  }

  /** closed$'s outcome: 'completed' or the error. */
  function outcomeOf(connection: ProtocolConnection): { value?: unknown } {
    const outcome: { value?: unknown } = {};
    connection.closed$.subscribe({ complete: () => (outcome.value = 'completed'), error: (error: unknown) => (outcome.value = error) });
    return outcome;
  }

  const rowsOfOneQuery = (count: number) => [
    b.rowDescription(['n']),
    ...Array.from({ length: count }, (_, i) => b.dataRow([String(i)])),
    b.commandComplete(`SELECT ${count}`),
    b.readyForQuery('I'),
  ];

  it('asks the pushback once per chunk that carried rows, after all its rows, and keeps the socket paused while it is pending', async () => {
    const { transport, connection } = openFakeSession();
    const waits: Subject<void>[] = [];
    const conversation = recordingConversation(() => {
      waits.push(new Subject<void>());
      return waits.at(-1);
    });
    connection.enqueue(conversation);
    await endOfTick();
    const [description, row0, row1, row2, complete, ready] = rowsOfOneQuery(3) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
    transport.push(description, row0, row1);
    expect(conversation.seen).toEqual(['RowDescription', 'DataRow', 'DataRow']);
    expect(waits).toHaveLength(1);
    expect(transport.paused).toBe(true);
    // Bytes sent while paused wait in the socket.
    transport.push(row2, complete, ready);
    expect(conversation.seen).toHaveLength(3);
    // Settling resumes reading: the waiting chunk is delivered at once and, as it carries a
    // row, opens the next wait (which close() must still be able to release).
    waits[0]!.next();
    expect(conversation.seen).toEqual(['RowDescription', 'DataRow', 'DataRow', 'DataRow', 'CommandComplete', 'ReadyForQuery']);
    expect(waits).toHaveLength(2);
    expect(transport.paused).toBe(true);
    const outcome = outcomeOf(connection);
    const closing = connection.close();
    expect(transport.paused).toBe(false);
    transport.pushEnd();
    await closing;
    expect(outcome.value).toBe('completed');
    expect(transport.calls).toMatchObject({ pause: 2, resume: 2 });
  });

  it('a chunk without rows asks no pushback, and a pushback that settles at once does not pause', async () => {
    const { transport, connection } = openFakeSession();
    let asked = 0;
    const conversation = recordingConversation(() => {
      asked++;
      return of(undefined);
    });
    connection.enqueue(conversation);
    await endOfTick();
    transport.push(b.rowDescription(['n']));
    expect(asked).toBe(0);
    transport.push(b.dataRow(['1']), b.commandComplete('SELECT 1'), b.readyForQuery('I'));
    expect(asked).toBe(1);
    expect(transport.calls.pause).toBe(0);
  });

  it('abandoning the conversation that holds the pushback resumes reading, and so does close()', async () => {
    const { transport, connection } = openFakeSession();
    // No CancelRequest (that would hold the next request back until it is confirmed).
    const first = { ...recordingConversation(() => new Subject<void>()), cancelOnAbandon: false };
    connection.enqueue(first);
    await endOfTick();
    transport.push(b.rowDescription(['n']), b.dataRow(['1']));
    expect(transport.paused).toBe(true);
    connection.abandon(first);
    expect(transport.paused).toBe(false);
    transport.push(b.commandComplete('SELECT 1'), b.readyForQuery('I'));

    const second = recordingConversation(() => new Subject<void>());
    connection.enqueue(second);
    await endOfTick();
    transport.push(b.rowDescription(['n']), b.dataRow(['1']));
    expect(transport.paused).toBe(true);
    const outcome = outcomeOf(connection);
    const closing = connection.close();
    expect(transport.paused).toBe(false);
    transport.push(b.commandComplete('SELECT 1'), b.readyForQuery('I'));
    transport.pushEnd();
    await closing;
    expect(outcome.value).toBe('completed');
    expect(second.seen.at(-1)).toBe('ReadyForQuery');
  });

  it('a FATAL stops reading: nothing after it in the same chunk is delivered, and every request fails with one ConnectionError', async () => {
    const { transport, connection } = openFakeSession();
    const running = recordingConversation();
    const queued = recordingConversation();
    connection.enqueue(running);
    connection.enqueue(queued);
    await endOfTick();
    const outcome = outcomeOf(connection);
    transport.push(
      b.rowDescription(['n']),
      b.errorResponse({ S: 'FATAL', V: 'FATAL', C: '57P01', M: 'terminating connection due to administrator command' }),
      b.dataRow(['1']),
    );
    expect(running.seen).toEqual(['RowDescription']);
    expect(connection.state).toBe('failed');
    expect(outcome.value).toBeInstanceOf(ConnectionError);
    expect((outcome.value as ConnectionError).cause).toBeInstanceOf(PostgresError);
    expect(running.failure).toBe(outcome.value);
    expect(queued.failure).toBe(outcome.value);
    expect(transport.closed).toBe(true);
  });

  it('a malformed message fails the connection with the decoder’s ProtocolError, after the messages before it', async () => {
    const { transport, connection } = openFakeSession();
    const conversation = recordingConversation();
    connection.enqueue(conversation);
    await endOfTick();
    const outcome = outcomeOf(connection);
    transport.push(b.rowDescription(['n']), b.frame('x'));
    expect(conversation.seen).toEqual(['RowDescription']);
    expect(outcome.value).toBeInstanceOf(ProtocolError);
    expect((outcome.value as Error).message).toMatch(/'x'/);
    expect(conversation.failure).toBe(outcome.value);
    expect(transport.closed).toBe(true);
  });

  it('a server message larger than maxMessageSize fails the connection as soon as its header arrives', () => {
    const session = fakeSession(new FakeTransport(), { maxMessageSize: 1024 });
    const outcome = outcomeOf(session.connection);
    startLogin(session);
    session.transport.push(b.frame('R', [], 1025).subarray(0, 5));
    expect(outcome.value).toBeInstanceOf(ProtocolError);
    expect(session.connection.state).toBe('failed');
  });

  it('EOF inside a message says how many bytes of it had arrived', async () => {
    const { transport, connection } = openFakeSession();
    const conversation = recordingConversation();
    connection.enqueue(conversation);
    await endOfTick();
    const outcome = outcomeOf(connection);
    transport.push(b.dataRow(['abc']).subarray(0, 6));
    transport.pushEnd();
    expect(outcome.value).toBeInstanceOf(ConnectionError);
    expect((outcome.value as Error).message).toMatch(
      /^server closed the connection unexpectedly \(6 bytes of an unfinished message\) \[fake\]$/,
    );
    expect(conversation.failure).toBe(outcome.value);
  });

  it('EOF at a message boundary while requests wait fails them with a ConnectionError naming no partial message', async () => {
    const { transport, connection } = openFakeSession();
    const conversation = recordingConversation();
    connection.enqueue(conversation);
    await endOfTick();
    const outcome = outcomeOf(connection);
    transport.pushEnd();
    expect((outcome.value as Error).message).toBe('server closed the connection unexpectedly [fake]');
  });

  it('what a conversation throws while handling a message fails the connection (never an unhandled error)', async () => {
    const { transport, connection } = openFakeSession();
    const bug = new Error('conversation bug');
    const conversation: Conversation & { failure?: Error } = {
      start: (channel) => channel.write(query('SELECT 1')),
      handle: () => {
        throw bug;
      },
      fail: (error) => {
        conversation.failure = error;
      },
    };
    connection.enqueue(conversation);
    await endOfTick();
    const outcome = outcomeOf(connection);
    transport.push(b.rowDescription(['n']), b.dataRow(['1']));
    expect(outcome.value).toBeInstanceOf(ConnectionError);
    expect((outcome.value as ConnectionError).cause).toBe(bug);
    expect(conversation.failure).toBe(outcome.value);
  });

  it('a socket error fails the connection with the transport’s ConnectionError', async () => {
    const { transport, connection } = openFakeSession();
    const outcome = outcomeOf(connection);
    transport.pushError('read ECONNRESET');
    expect(outcome.value).toBeInstanceOf(ConnectionError);
    expect((outcome.value as Error).message).toMatch(/ECONNRESET/);
  });
});
