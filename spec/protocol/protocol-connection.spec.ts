// The request lifecycle that ProtocolConnection owns for every request kind: a request that
// fails to start never takes a place in the queue (issue 10, item 1), a request dropped in the
// tick it was made is never sent (item 9), and waiting for a cancel is bounded (item 8).
import type { Socket } from 'node:net';
import { firstValueFrom, lastValueFrom, of, toArray, type Observable } from 'rxjs';
import { ConnectionError, TimeoutError, connect, type Connection, type ConnectionConfig } from '../../lib';
import { acceptLogin, errorResponse, readyForQuery } from '../helpers/backend-messages';
import { closeOpenedConnections, errorOf, openConnection, queryValue } from '../helpers/connections';
import { readUntypedFrame, startFakeServer, type FakeServer } from '../helpers/fake-server';
import { TcpRelay } from '../helpers/tcp-relay';
import { superuserConfig, superuserPsql } from '../helpers/test-servers';

afterEach(closeOpenedConnections);

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
