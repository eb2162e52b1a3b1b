// What a server that breaks the protocol's counts gets through a simple Query (issue 10,
// item 5): a DataRow that does not match its RowDescription fails the connection, as in libpq.
import { lastValueFrom, tap, toArray } from 'rxjs';
import { ProtocolError } from '../../lib';
import { commandComplete, dataRow, readyForQuery, rowDescription } from '../helpers/backend-messages';
import { closedOutcome, errorOf } from '../helpers/connections';
import { closeScriptedSession, startScriptedSession, type ScriptedSession } from '../helpers/scripted-session';

let session: ScriptedSession | undefined;
afterEach(async () => {
  await closeScriptedSession(session);
  session = undefined;
});

const ready = readyForQuery('I');

describe('a DataRow whose field count is not its RowDescription’s fails the connection (a fake server)', () => {
  it.each([
    [
      'three values for one column',
      Buffer.concat([rowDescription(['a']), dataRow(['1', '2', '3']), commandComplete('SELECT 1'), ready]),
      /DataRow with 3 values for a RowDescription of 1 columns/,
    ],
    [
      'one value for three columns',
      Buffer.concat([rowDescription(['a', 'b', 'c']), dataRow(['1']), commandComplete('SELECT 1'), ready]),
      /DataRow with 1 values for a RowDescription of 3 columns/,
    ],
    [
      'a row after its result set ended',
      Buffer.concat([rowDescription(['a']), dataRow(['1']), commandComplete('SELECT 1'), dataRow(['2']), ready]),
      /DataRow with 1 values outside a result set/,
    ],
    [
      'a row without a description',
      Buffer.concat([dataRow([]), commandComplete('SELECT 1'), ready]),
      /DataRow with 0 values outside a result set/,
    ],
  ])('%s', async (_, reply, message) => {
    session = await startScriptedSession([reply]);
    const { connection } = session;
    const delivered: unknown[] = [];
    const closed = closedOutcome(connection);
    const error = await errorOf(lastValueFrom(connection.simpleQuery('SELECT a FROM t').pipe(tap((result) => delivered.push(result)))));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(message);
    expect(await closed).toBeInstanceOf(ProtocolError);
    expect(connection.state).toBe('failed');
    // A result set that ended before the bad row was delivered; nothing after it.
    expect(delivered.length).toBeLessThanOrEqual(1);
  });

  it('matching rows still arrive, result set by result set', async () => {
    session = await startScriptedSession([
      Buffer.concat([
        rowDescription(['a']),
        dataRow(['1']),
        commandComplete('SELECT 1'),
        rowDescription(['b', 'c']),
        dataRow(['2', null]),
        commandComplete('SELECT 1'),
        ready,
      ]),
    ]);
    const results = await lastValueFrom(session.connection.simpleQuery('SELECT 1 AS a; SELECT 2 AS b, NULL AS c').pipe(toArray()));
    expect(results.map((result) => result.rows)).toEqual([[['1']], [['2', null]]]);
  });
});
