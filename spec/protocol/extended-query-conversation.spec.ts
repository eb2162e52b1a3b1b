// Which SQL texts run as exclusive COPY conversations (the round trips are in spec/client), and
// what a server that breaks the protocol's counts gets (issue 10, item 5).
import { lastValueFrom, tap, toArray } from 'rxjs';
import { ProtocolError, type Connection } from '../../lib';
import { startsWithCopy } from '../../lib/protocol';
import {
  bindComplete,
  commandComplete,
  dataRow,
  noData,
  parameterDescription,
  parseComplete,
  readyForQuery,
  rowDescription,
} from '../helpers/backend-messages';
import { closedOutcome, errorOf } from '../helpers/connections';
import { closeScriptedSession, startScriptedSession, type ScriptedSession } from '../helpers/scripted-session';

describe('startsWithCopy', () => {
  it.each([
    ['COPY t FROM STDIN', true],
    ['copy t to stdout', true],
    ['  \n\tCopy t FROM STDIN', true],
    ['-- load\nCOPY t FROM STDIN', true],
    ['/* a /* nested */ comment */ COPY t FROM STDIN', true],
    ['(COPY t FROM STDIN)', false],
    ['SELECT 1', false],
    ['select copy from t', false],
    ['copying', false],
    ['COPYX', false],
    ['', false],
    ['-- only a comment', false],
    ['Éclair', false],
  ])('%j → %s', (sql, expected) => {
    expect(startsWithCopy(sql)).toBe(expected);
  });
});

describe('a DataRow whose field count is not its RowDescription’s fails the connection (a fake server)', () => {
  let session: ScriptedSession | undefined;
  afterEach(async () => {
    await closeScriptedSession(session);
    session = undefined;
  });

  const ready = readyForQuery('I');
  const int4 = (name: string) => ({ name, dataTypeId: 23 });

  /** Runs `sql` and expects the connection to fail with a ProtocolError matching `message`, no row delivered. */
  async function expectProtocolError(connection: Connection, message: RegExp): Promise<void> {
    const delivered: unknown[] = [];
    const closed = closedOutcome(connection);
    const error = await errorOf(lastValueFrom(connection.query('SELECT a FROM t').pipe(tap((row) => delivered.push(row)))));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(message);
    expect(delivered).toEqual([]);
    expect(await closed).toBeInstanceOf(ProtocolError);
    expect(connection.state).toBe('failed');
  }

  it('three values for one column (unnamed statement)', async () => {
    session = await startScriptedSession(
      [
        Buffer.concat([
          parseComplete(),
          bindComplete(),
          rowDescription([int4('a')]),
          dataRow(['1', '2', '3']),
          commandComplete('SELECT 1'),
          ready,
        ]),
      ],
      { statementCacheSize: 0 },
    );
    await expectProtocolError(session.connection, /DataRow with 3 values for a RowDescription of 1 columns/);
  });

  it('one value for three columns (the statement’s first, described run)', async () => {
    session = await startScriptedSession([
      Buffer.concat([
        parseComplete(),
        parameterDescription([]),
        rowDescription([int4('a'), int4('b'), int4('c')]),
        bindComplete(),
        dataRow(['1']),
        commandComplete('SELECT 1'),
        ready,
      ]),
    ]);
    await expectProtocolError(session.connection, /DataRow with 1 values for a RowDescription of 3 columns/);
  });

  it('a cached statement’s run whose DataRow does not match the cached columns', async () => {
    session = await startScriptedSession([
      Buffer.concat([
        parseComplete(),
        parameterDescription([]),
        rowDescription([int4('a')]),
        bindComplete(),
        dataRow(['1']),
        commandComplete('SELECT 1'),
        ready,
      ]),
      Buffer.concat([bindComplete(), dataRow(['1', '2']), commandComplete('SELECT 1'), ready]),
    ]);
    expect(await lastValueFrom(session.connection.query('SELECT a FROM t').pipe(toArray()))).toEqual([{ a: 1 }]);
    await expectProtocolError(session.connection, /DataRow with 2 values for a RowDescription of 1 columns/);
  });

  it('a DataRow for a statement that returns no rows (NoData)', async () => {
    session = await startScriptedSession(
      [Buffer.concat([parseComplete(), bindComplete(), noData(), dataRow(['1']), commandComplete('SELECT 1'), ready])],
      { statementCacheSize: 0 },
    );
    await expectProtocolError(session.connection, /DataRow with 1 values for a RowDescription of 0 columns/);
  });

  it('a DataRow before any description', async () => {
    session = await startScriptedSession([Buffer.concat([parseComplete(), dataRow(['1']), bindComplete(), ready])], {
      statementCacheSize: 0,
    });
    await expectProtocolError(session.connection, /DataRow with 1 values before any RowDescription/);
  });
});
