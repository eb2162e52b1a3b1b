// A hostile server (issue 10's test layer for what a real server cannot be made to do): every
// malformed or out-of-place reply fails the connection with a ConnectionError (a
// ProtocolError where the server broke the protocol) — the request it reached, the requests
// pipelined behind it and closed$ alike, at once — and never becomes a row, a result or a
// hang. Wrong results are worse than a lost connection.
import type { Socket } from 'node:net';
import { firstValueFrom, lastValueFrom, toArray, type Observable } from 'rxjs';
import { ConnectionError, ProtocolError, connect, type Connection } from '../../lib';
import {
  acceptLogin,
  authenticationOk,
  backendKeyData,
  bindComplete,
  commandComplete,
  cstring,
  dataRow,
  frame,
  int16,
  int32,
  parseComplete,
  readyForQuery,
  rowDescription,
} from '../helpers/backend-messages';
import { errorOf } from '../helpers/connections';
import { readUntypedFrame, startFakeServer, type FakeServer } from '../helpers/fake-server';

let server: FakeServer | undefined;
let connection: Connection | undefined;
afterEach(async () => {
  await connection?.close({ timeout: 100 });
  connection = undefined;
  await server?.close();
  server = undefined;
});

/**
 * Connects to a server that logs in, then answers the first request (everything up to its
 * Sync or Query) with `reply`, and says nothing more.
 */
async function hostileSession(reply: Buffer): Promise<Connection> {
  server = await startFakeServer((socket: Socket) => {
    readUntypedFrame(socket).then(
      () => {
        socket.write(acceptLogin());
        let answered = false;
        socket.on('data', (chunk: Buffer) => {
          // The first request ends with Sync ('S') or is a Query ('Q'); answer it once.
          if (!answered && (chunk.includes(Buffer.from([0x53, 0, 0, 0, 4])) || chunk[0] === 0x51)) {
            answered = true;
            socket.write(reply);
          }
        });
      },
      () => undefined,
    );
  });
  connection = await firstValueFrom(
    connect({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres', sslmode: 'disable', statementCacheSize: 0 }),
  );
  return connection;
}

/** The reply to an unnamed-statement query up to its rows: ParseComplete, BindComplete, RowDescription(a). */
const queryStart = Buffer.concat([parseComplete(), bindComplete(), rowDescription(['a'])]);

const hostileReplies: Record<string, { readonly reply: Buffer; readonly simple?: boolean }> = {
  'an unknown message type': { reply: Buffer.concat([queryStart, frame('j', [1, 2, 3])]) },
  'a length field under 4': { reply: Buffer.concat([queryStart, frame('C', [], 2)]) },
  'a RowDescription that declares more fields than it has': {
    reply: Buffer.concat([
      parseComplete(),
      bindComplete(),
      frame('T', Buffer.concat([int16(3), cstring('a'), int32(0), int16(0), int32(25), int16(-1), int32(-1), int16(0)])),
    ]),
  },
  'a DataRow whose value runs past the message': {
    reply: Buffer.concat([queryStart, frame('D', Buffer.concat([int16(1), int32(100), Buffer.from('abc')]))]),
  },
  'a DataRow with more values than the RowDescription': { reply: Buffer.concat([queryStart, dataRow(['1', '2', '3'])]) },
  'a DataRow with fewer values than the RowDescription': {
    reply: Buffer.concat([parseComplete(), bindComplete(), rowDescription(['a', 'b', 'c']), dataRow(['1'])]),
  },
  'a DataRow before any RowDescription': { reply: Buffer.concat([parseComplete(), bindComplete(), dataRow(['1'])]) },
  'a ReadyForQuery with an unknown status': { reply: Buffer.concat([queryStart, commandComplete('SELECT 0'), frame('Z', [0x58])]) },
  'a CommandComplete without its terminator': { reply: Buffer.concat([queryStart, frame('C', Buffer.from('SELECT 0'))]) },
  'BackendKeyData after login': { reply: Buffer.concat([queryStart, backendKeyData(1, 2)]) },
  'AuthenticationOk after login': { reply: Buffer.concat([queryStart, authenticationOk()]) },
  'a ReadyForQuery before anything else of the request': { reply: readyForQuery('I') },
  'ParseComplete in reply to a simple Query': { reply: Buffer.concat([parseComplete(), readyForQuery('I')]), simple: true },
  'a ReadyForQuery before anything else of a simple Query': { reply: readyForQuery('I'), simple: true },
};

describe('a hostile server', () => {
  for (const [name, { reply, simple }] of Object.entries(hostileReplies)) {
    it(`${name}: fails the request, the one pipelined behind it and closed$ with a ConnectionError, delivering nothing`, async () => {
      const opened = await hostileSession(reply);
      const delivered: unknown[] = [];
      const collect = (source: Observable<unknown>) =>
        errorOf(lastValueFrom(source.pipe(toArray())).then((values) => delivered.push(...values)));
      const first = collect(simple === true ? opened.simpleQuery('SELECT 1') : opened.query('SELECT 1 AS a'));
      const behind = collect(opened.query('SELECT 2 AS a'));
      const closed = errorOf(lastValueFrom(opened.closed$, { defaultValue: undefined }));
      const startedAt = Date.now();
      const [firstError, behindError, closedError] = await Promise.all([first, behind, closed]);
      expect(Date.now() - startedAt).toBeLessThan(1000);
      expect(firstError).toBeInstanceOf(ConnectionError);
      expect(behindError).toBeInstanceOf(ConnectionError);
      expect(closedError).toBeInstanceOf(ProtocolError);
      expect(delivered).toEqual([]);
      expect(opened.state).toBe('failed');
    });
  }
});
