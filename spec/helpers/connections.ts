import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { connect, type Connection, type ConnectionConfig } from '../../lib';

const opened: Connection[] = [];

/** Connects and remembers the connection so that `closeOpenedConnections` ends it. */
export async function openConnection(config: ConnectionConfig | string): Promise<Connection> {
  const connection = await firstValueFrom(connect(config));
  opened.push(connection);
  return connection;
}

/** Closes every connection `openConnection` made (for afterEach); failures are ignored. */
export async function closeOpenedConnections(): Promise<void> {
  const connections = opened.splice(0);
  await Promise.all(connections.map((connection) => connection.close().catch(() => undefined)));
}

/** The first column of the first row of the last result set of `sql`, as text. */
export async function queryValue(connection: Connection, sql: string): Promise<string | null> {
  const results = await lastValueFrom(connection.simpleQuery(sql).pipe(toArray()));
  const last = results[results.length - 1];
  if (last === undefined || last.rows.length === 0) throw new Error(`no rows from ${sql}`);
  const value = last.rows[0]![0];
  if (value === undefined) throw new Error(`no column from ${sql}`);
  return value;
}

/** The error an Observable-returning call ends with (fails the test when it succeeds). */
export async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, but it succeeded');
}

/**
 * How `connection.closed$` ends: the error it fails with, or undefined once it completes. Never
 * rejects, so that a test failing before awaiting it leaves no unhandled rejection behind.
 */
export function closedOutcome(connection: Connection): Promise<unknown> {
  return lastValueFrom(connection.closed$, { defaultValue: undefined }).then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** Waits until `check` returns true, polling every 20 ms, for at most `timeout` ms. */
export async function eventually(check: () => Promise<boolean> | boolean, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
