// Seed cases ported here (reference/postgres_async.md §3.4): T-C10 graceful close, T-F1 a
// backend that terminates itself mid-query, T-F2 a backend terminated while idle.
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { ConnectionError, PostgresError, connect, withConnection, type Connection } from '../../lib';
import { closeOpenedConnections, errorOf, eventually, openConnection, queryValue } from '../helpers/connections';
import { superuserConfig, superuserPsql } from '../helpers/test-servers';

afterEach(closeOpenedConnections);

const backendCount = async (applicationName: string) =>
  Number(await superuserPsql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = '${applicationName}'`));

const uniqueName = (label: string) => `${label}-${process.pid}-${Math.random().toString(36).slice(2)}`;

describe('close', () => {
  it('closes gracefully, twice is fine, and later use fails at once with a ConnectionError (T-C10)', async () => {
    const applicationName = uniqueName('close');
    const connection = await openConnection({ ...superuserConfig(), applicationName });
    const closed = lastValueFrom(connection.closed$, { defaultValue: 'completed' });
    const first = connection.close();
    const second = connection.close();
    expect(second).toBe(first);
    await first;
    await expect(closed).resolves.toBe('completed');
    expect(connection.state).toBe('closed');
    await expect(connection.close()).resolves.toBeUndefined();
    const error = await errorOf(firstValueFrom(connection.simpleQuery('SELECT 1')));
    expect(error).toBeInstanceOf(ConnectionError);
    await eventually(async () => (await backendCount(applicationName)) === 0);
  });

  it('lets requests already written finish before Terminate', async () => {
    const connection = await openConnection(superuserConfig());
    const result = lastValueFrom(connection.simpleQuery('SELECT pg_sleep(0.2), 7').pipe(toArray()));
    const closing = connection.close();
    expect((await result)[0].rows[0][1]).toBe('7');
    await closing;
  });

  it('supports await using', async () => {
    const applicationName = uniqueName('dispose');
    {
      await using connection = await firstValueFrom(connect({ ...superuserConfig(), applicationName }));
      expect(await queryValue(connection, 'SELECT 1')).toBe('1');
    }
    await eventually(async () => (await backendCount(applicationName)) === 0);
  });
});

describe('a connection ended by the server', () => {
  it('pg_terminate_backend on an idle connection errors closed$ with the 57P01 cause (T-F2)', async () => {
    const connection = await openConnection(superuserConfig());
    const closed = errorOf(lastValueFrom(connection.closed$, { defaultValue: undefined }));
    await superuserPsql(`SELECT pg_terminate_backend(${connection.processId})`);
    const error = await closed;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.cause).toBeInstanceOf(PostgresError);
    expect((error.cause as PostgresError).code).toBe('57P01');
    expect((error.cause as PostgresError).severityNonLocalized).toBe('FATAL');
    expect(connection.state).toBe('failed');

    const started = Date.now();
    const later = await errorOf(firstValueFrom(connection.simpleQuery('SELECT 1')));
    expect(Date.now() - started).toBeLessThan(50);
    expect(later).toBeInstanceOf(ConnectionError);
    expect(later.cause).toBe(error);
    await expect(connection.close()).rejects.toBe(error);
  });

  it('a backend that terminates itself fails that query, then the connection (T-F1)', async () => {
    const connection = await openConnection(superuserConfig());
    const queryError = await errorOf(
      firstValueFrom(connection.simpleQuery('SELECT pg_terminate_backend(pg_backend_pid())')),
    );
    expect(queryError).toBeInstanceOf(PostgresError);
    expect((queryError as PostgresError).code).toBe('57P01');
    const closedError = await errorOf(lastValueFrom(connection.closed$, { defaultValue: undefined }));
    expect(closedError).toBeInstanceOf(ConnectionError);
    const later = await errorOf(firstValueFrom(connection.simpleQuery('')));
    expect(later).toBeInstanceOf(ConnectionError);
    expect(later.cause).toBe(closedError);
    await expect(connection.close()).rejects.toBeInstanceOf(ConnectionError);
  });
});

describe('withConnection', () => {
  it('closes the connection when the work completes, and completes after the close', async () => {
    const applicationName = uniqueName('with-complete');
    let seen: Connection | undefined;
    const values = await lastValueFrom(
      withConnection({ ...superuserConfig(), applicationName }, (connection) => {
        seen = connection;
        return connection.simpleQuery('SELECT 1 UNION ALL SELECT 2');
      }).pipe(toArray()),
    );
    expect(values[0].rows).toEqual([['1'], ['2']]);
    expect(seen?.state).toBe('closed');
    await eventually(async () => (await backendCount(applicationName)) === 0);
  });

  it('closes the connection when the work errors, and forwards that error', async () => {
    const applicationName = uniqueName('with-error');
    const error = await errorOf(
      lastValueFrom(withConnection({ ...superuserConfig(), applicationName }, (connection) => connection.simpleQuery('SELECT 1/0'))),
    );
    expect(error).toBeInstanceOf(PostgresError);
    expect((error as PostgresError).code).toBe('22012');
    await eventually(async () => (await backendCount(applicationName)) === 0);
  });

  it('closes the connection when the subscriber unsubscribes', async () => {
    const applicationName = uniqueName('with-unsubscribe');
    const subscription = withConnection({ ...superuserConfig(), applicationName }, (connection) =>
      connection.simpleQuery('SELECT pg_sleep(0.3)'),
    ).subscribe();
    await eventually(async () => (await backendCount(applicationName)) === 1);
    subscription.unsubscribe();
    await eventually(async () => (await backendCount(applicationName)) === 0);
  });

  it('passes connect errors on and never runs the work', async () => {
    let ran = false;
    const error = await errorOf(
      lastValueFrom(
        withConnection({ ...superuserConfig(), database: 'no_such_database' }, () => {
          ran = true;
          return [1];
        }),
      ),
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect(ran).toBe(false);
  });
});
