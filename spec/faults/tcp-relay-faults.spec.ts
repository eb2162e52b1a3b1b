// Network and peer faults between rxpg and a real server, made by a TCP relay
// (spec/helpers/tcp-relay.ts): every message split into one-byte reads, a cut (FIN or RST)
// inside a DataRow, a stall, and garbage injected into the server's stream. The server itself
// is untouched, so these share the harness's primary server.
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { ConnectionError, TimeoutError, type Connection } from '../../lib';
import { closeOpenedConnections, errorOf, openConnection } from '../helpers/connections';
import { Recorder } from '../helpers/recorder';
import { superuserConfig } from '../helpers/test-servers';
import { TcpRelay, type CutKind, type TcpRelayOptions } from '../helpers/tcp-relay';

const relays: TcpRelay[] = [];
const recorders: Recorder<unknown>[] = [];

afterEach(async () => {
  for (const recorder of recorders.splice(0)) recorder.unsubscribe();
  await closeOpenedConnections();
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
});

/** A connection to the primary through a new relay. */
async function throughRelay(
  options: TcpRelayOptions = {},
  config: Record<string, unknown> = {},
): Promise<{ relay: TcpRelay; connection: Connection }> {
  const server = superuserConfig();
  const relay = await TcpRelay.start(server.host, server.port, options);
  relays.push(relay);
  const connection = await openConnection({ ...server, port: relay.port, ...config });
  return { relay, connection };
}

function record<T>(source: Observable<T>): Recorder<T> {
  const recorder = new Recorder(source);
  recorders.push(recorder as Recorder<unknown>);
  return recorder;
}

/** Many rows of some kilobytes each, more than the socket buffers hold. */
const longStream = "SELECT g AS n, repeat('x', 2000) AS filler FROM generate_series(1, 200000) g";

/** A backend message: type byte, Int32 length (itself included), body. */
function message(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

/** Expects the connection to have failed with a ConnectionError (ProtocolError included), also on closed$. */
async function expectConnectionFailed(connection: Connection): Promise<ConnectionError> {
  const closed = await errorOf(lastValueFrom(connection.closed$, { defaultValue: undefined }));
  expect(closed).toBeInstanceOf(ConnectionError);
  expect(connection.failure).toBeInstanceOf(ConnectionError);
  const later = await errorOf(lastValueFrom(connection.query('SELECT 1')));
  expect(later).toBeInstanceOf(ConnectionError);
  return closed as ConnectionError;
}

describe('one-byte chunks', () => {
  it('give the same rows, result sets, notices, errors and COPY data as a direct connection', async () => {
    const direct = await openConnection(superuserConfig());
    const { connection: chunked } = await throughRelay({ oneByteChunks: true });
    const rowsSql =
      "SELECT g AS n, repeat('é', g % 17) AS s, g::numeric / 7 AS q, ARRAY[g, -g] AS a, (g % 3 = 0) AS b, " +
      "CASE WHEN g % 5 = 0 THEN NULL ELSE '\\x00ff'::bytea END AS bin, '2024-02-29 12:34:56+00'::timestamptz + g * interval '1 day' AS t " +
      'FROM generate_series(1, 120) g';
    const run = async (connection: Connection) => {
      const notices = record(connection.notices$);
      const rows = await lastValueFrom(connection.query(rowsSql).pipe(toArray()));
      const params = await lastValueFrom(
        connection.query('SELECT $1::text AS t, $2::int8 AS i', ['ü\n"', '9007199254740993']).pipe(toArray()),
      );
      const sets = await lastValueFrom(
        connection.simpleQuery("SELECT 1 AS one; SELECT 'two' AS two, NULL AS nothing; SET search_path = public").pipe(toArray()),
      );
      const failed = await errorOf(lastValueFrom(connection.query('SELECT 1 / 0')));
      await lastValueFrom(connection.execute("DO $$ BEGIN RAISE NOTICE 'notice % here', 42; END $$"));
      const copied = await lastValueFrom(
        connection.copyOut("COPY (SELECT g, 'r' || g FROM generate_series(1, 50) g) TO STDOUT").pipe(toArray()),
      );
      return {
        rows,
        params,
        sets: sets.map((set) => ({ rows: set.rows, command: set.command })),
        failed: [failed.constructor.name, (failed as { code?: string }).code, failed.message],
        notices: notices.values.map((notice) => notice.message),
        copied: Buffer.concat(copied).toString('utf8'),
      };
    };
    const expected = await run(direct);
    expect(expected.rows).toHaveLength(120);
    expect(expected.notices).toEqual(['notice 42 here']);
    expect(await run(chunked)).toEqual(expected);
    expect(chunked.state).toBe('open');
  });
});

describe('a cut inside a DataRow', () => {
  it.each<CutKind>(['fin', 'rst'])('(%s) fails the query and closed$ with a ConnectionError at once, never a hang', async (kind) => {
    const { relay, connection } = await throughRelay();
    relay.cutInsideMessage('D', { kind, skip: 30 });
    const rows = record(connection.query<{ n: number }>(longStream));
    const startedAt = Date.now();
    const error = await rows.error(3000);
    expect(Date.now() - startedAt).toBeLessThan(3000);
    expect(error).toBeInstanceOf(ConnectionError);
    // Only whole rows are delivered, in order; after an RST the kernel may drop some of them.
    expect(rows.values.length).toBeLessThanOrEqual(30);
    if (kind === 'fin') expect(rows.values).toHaveLength(30);
    rows.values.forEach((row, index) => expect(row.n).toBe(index + 1));
    const closed = await expectConnectionFailed(connection);
    if (kind === 'fin') expect(closed.message).toMatch(/unfinished message/);
  });

  it.each<CutKind>(['fin', 'rst'])('(%s) during COPY TO STDOUT, after some bytes, fails the copy and the connection', async (kind) => {
    const { relay, connection } = await throughRelay();
    const chunks = record(connection.copyOut("COPY (SELECT g, repeat('y', 500) FROM generate_series(1, 100000) g) TO STDOUT"));
    await chunks.count(1);
    relay.cutAfterServerBytes(100_003, kind);
    expect(await chunks.error(3000)).toBeInstanceOf(ConnectionError);
    await expectConnectionFailed(connection);
  });
});

describe('a stall', () => {
  it('of half a second in the middle of a stream loses nothing', async () => {
    const { relay, connection } = await throughRelay();
    const rows = record(
      connection.query<{ n: number }>('SELECT g AS n, repeat($1, 1000) AS filler FROM generate_series(1, 5000) g', ['z']),
    );
    await rows.count(10);
    relay.stall();
    const duringStall = rows.values.length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    // What was already in the client's socket buffer may still arrive; no more than that.
    expect(rows.values.length).toBeLessThan(5000);
    expect(rows.values.length).toBeGreaterThanOrEqual(duringStall);
    relay.unstall();
    expect(await rows.ended(5000)).toEqual({ kind: 'complete' });
    expect(rows.values.map((row) => row.n)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    expect(connection.state).toBe('open');
  });

  it('that outlasts a query timeout and the cancel bound fails the connection with a ConnectionError', async () => {
    const cancelTimeout = 500;
    const { relay, connection } = await throughRelay({}, { cancelTimeout });
    await lastValueFrom(connection.query('SELECT 1'));
    relay.stall();
    const startedAt = Date.now();
    const error = await errorOf(lastValueFrom(connection.query('SELECT pg_sleep(0.05)', [], { timeout: 200 })));
    expect(error).toBeInstanceOf(TimeoutError);
    // The cancel's own socket is not stalled, but the conversation cannot come back in sync.
    const closed = await errorOf(lastValueFrom(connection.closed$, { defaultValue: undefined }));
    expect(closed).toBeInstanceOf(ConnectionError);
    expect(Date.now() - startedAt).toBeLessThan(200 + cancelTimeout + 1500);
  });
});

describe('injected garbage', () => {
  it('an unknown message type in the middle of a stream fails the query and the connection', async () => {
    const { relay, connection } = await throughRelay();
    relay.injectBeforeMessage('D', message('\x01', Buffer.from('junk')), { skip: 5 });
    const rows = record(connection.query(longStream));
    expect(await rows.error(3000)).toBeInstanceOf(ConnectionError);
    expect(rows.values).toHaveLength(5);
    await expectConnectionFailed(connection);
  });

  it('a header that declares a 2 GiB message fails at once instead of waiting for it', async () => {
    const { relay, connection } = await throughRelay();
    const header = Buffer.from([0x44, 0x7f, 0xff, 0xff, 0xff]);
    relay.injectBeforeMessage('D', header, { skip: 2 });
    const rows = record(connection.query(longStream));
    expect(await rows.error(3000)).toBeInstanceOf(ConnectionError);
    await expectConnectionFailed(connection);
  });

  it('bytes that arrive while the connection is idle fail it', async () => {
    const { relay, connection } = await throughRelay();
    await lastValueFrom(connection.query('SELECT 1'));
    relay.injectToClient(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x13]));
    const closed = await expectConnectionFailed(connection);
    expect(closed).toBeInstanceOf(ConnectionError);
  });

  it('an unsolicited CommandComplete and ReadyForQuery while idle fail the connection rather than be matched to the next query', async () => {
    const { relay, connection } = await throughRelay();
    await lastValueFrom(connection.query('SELECT 1'));
    relay.injectToClient(Buffer.concat([message('C', Buffer.from('SELECT 1\0')), message('Z', Buffer.from('I'))]));
    await expectConnectionFailed(connection);
  });
});
