// A wrong number of parameters is the caller's mistake: a ParameterError that says how many the
// statement takes and how many were given (no internal statement name, no connection-class
// SQLSTATE), raised before anything is sent once the statement's parameter count is known.
import { lastValueFrom, toArray } from 'rxjs';
import { ParameterError, type BackendMessage, type Connection, type ConnectionConfig } from '../../lib';
import { closeOpenedConnections, errorOf, openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';

afterEach(closeOpenedConnections);

const rows = (connection: Connection, sql: string, params: unknown[] = []) =>
  lastValueFrom(connection.query<Record<string, unknown>>(sql, params).pipe(toArray()));

/** Checks that `error` is the clear ParameterError for `given` parameters to a statement that takes `needed`. */
function expectCountError(error: Error, needed: string, given: string, position: number): void {
  expect(error).toBeInstanceOf(ParameterError);
  expect(error.message).toBe(`parameter $${position}: the statement takes ${needed}, but ${given} given`);
  expect(error.message).not.toMatch(/rxpg_/);
  expect((error as ParameterError).code).not.toMatch(/^08/);
  expect((error as ParameterError).position).toBe(position);
}

describe.each([
  ['with the statement cache', {}],
  ['without the statement cache', { statementCacheSize: 0 }],
])('a wrong parameter count %s', (_, extra: Partial<ConnectionConfig>) => {
  it('too many, on the first run: a ParameterError, and the connection stays usable', async () => {
    const connection = await openConnection({ ...superuserConfig(), ...extra });
    expectCountError(await errorOf(rows(connection, 'SELECT $1::int AS n', [1, 2])), '1 parameter', '2 were', 2);
    expect(await rows(connection, 'SELECT $1::int AS n', [1])).toEqual([{ n: 1 }]);
    expect(connection.state).toBe('open');
  });

  it('too few, on the first run', async () => {
    const connection = await openConnection({ ...superuserConfig(), ...extra });
    expectCountError(await errorOf(rows(connection, 'SELECT $1::int + $2::int AS n', [1])), '2 parameters', '1 was', 2);
    expectCountError(await errorOf(rows(connection, 'SELECT 1 AS n', [1])), 'no parameters', '1 was', 1);
    expect(await rows(connection, 'SELECT $1::int + $2::int AS n', [1, 2])).toEqual([{ n: 3 }]);
  });

  it('pipelined behind a run that prepares the statement', async () => {
    const connection = await openConnection({ ...superuserConfig(), ...extra });
    const sql = 'SELECT $1::int + $2::int AS n';
    const [good, bad, alsoGood] = await Promise.allSettled([
      rows(connection, sql, [1, 2]),
      rows(connection, sql, [1, 2, 3]),
      rows(connection, sql, [2, 2]),
    ]);
    expect(good).toEqual({ status: 'fulfilled', value: [{ n: 3 }] });
    expect(bad.status).toBe('rejected');
    expectCountError((bad as PromiseRejectedResult).reason as Error, '2 parameters', '3 were', 3);
    expect(alsoGood).toEqual({ status: 'fulfilled', value: [{ n: 4 }] });
  });
});

it('once the statement is prepared, a wrong count is refused before anything is sent', async () => {
  const connection = await openConnection(superuserConfig());
  const sql = 'SELECT $1::int + $2::int AS n';
  expect(await rows(connection, sql, [1, 2])).toEqual([{ n: 3 }]);
  const received: BackendMessage[] = [];
  const trace = connection.messages$.subscribe((message) => received.push(message));
  let error: unknown;
  connection.query(sql, [1]).subscribe({ error: (e: unknown) => (error = e) });
  // Synchronously, on subscribe: no round trip to the server.
  expectCountError(error as Error, '2 parameters', '1 was', 2);
  expectCountError(await errorOf(rows(connection, sql, [1, 2, 3])), '2 parameters', '3 were', 3);
  trace.unsubscribe();
  expect(received).toEqual([]);
  expect(await rows(connection, sql, [2, 3])).toEqual([{ n: 5 }]);
});
