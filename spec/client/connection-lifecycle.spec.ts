// Seed cases ported here (reference/postgres_async.md §3.4): T-C10 graceful close, T-F1 a
// backend that terminates itself mid-query, T-F2 a backend terminated while idle.
import { firstValueFrom, lastValueFrom, tap, toArray } from 'rxjs';
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
    expect((await result)[0]!.rows[0]![1]).toBe('7');
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
    // close() never rejects: the failure stays on closed$ and failure.
    await expect(connection.close()).resolves.toBeUndefined();
    expect(connection.failure).toBe(error);
  });

  it('a backend that terminates itself fails that query with the ConnectionError, 57P01 as its cause (T-F1)', async () => {
    const connection = await openConnection(superuserConfig());
    const queryError = await errorOf(firstValueFrom(connection.simpleQuery('SELECT pg_terminate_backend(pg_backend_pid())')));
    expect(queryError).toBeInstanceOf(ConnectionError);
    expect(queryError.cause).toBeInstanceOf(PostgresError);
    expect((queryError.cause as PostgresError).code).toBe('57P01');
    const closedError = await errorOf(lastValueFrom(connection.closed$, { defaultValue: undefined }));
    expect(closedError).toBe(queryError);
    const later = await errorOf(firstValueFrom(connection.simpleQuery('')));
    expect(later).toBeInstanceOf(ConnectionError);
    expect(later.cause).toBe(closedError);
    await expect(connection.close()).resolves.toBeUndefined();
  });

  it('every request in flight gets the same ConnectionError when the server terminates the backend mid-stream (item 13)', async () => {
    // Repeated: which request the FATAL reaches, and whether EOF or the FATAL is read first,
    // depends on timing; the error class must not.
    for (let attempt = 0; attempt < 3; attempt++) {
      const connection = await openConnection(superuserConfig());
      let firstRow!: () => void;
      const streamStarted = new Promise<void>((resolve) => (firstRow = resolve));
      const streaming = errorOf(
        lastValueFrom(connection.query('SELECT g, pg_sleep(0.0001) FROM generate_series(1, 100000) g').pipe(tap(() => firstRow()))),
      );
      const behind = errorOf(lastValueFrom(connection.execute('SELECT pg_sleep(10)')));
      const simple = errorOf(lastValueFrom(connection.simpleQuery('SELECT 1')));
      await streamStarted;
      await superuserPsql(`SELECT pg_terminate_backend(${connection.processId})`);
      const errors = await Promise.all([streaming, behind, simple]);
      for (const error of errors) {
        expect(error).toBeInstanceOf(ConnectionError);
        expect(error).toBe(errors[0]);
        expect(error.cause).toBeInstanceOf(PostgresError);
        expect((error.cause as PostgresError).code).toBe('57P01');
      }
      await expect(connection.close()).resolves.toBeUndefined();
    }
  });

  it('close() never rejects, whatever the state and however often it is called (item 12)', async () => {
    const connection = await openConnection(superuserConfig());
    await superuserPsql(`SELECT pg_terminate_backend(${connection.processId})`);
    await eventually(async () => connection.state === 'failed');
    // Not awaited, as in `finally { connection.close() }`: an unhandled rejection would fail the run.
    void connection.close();
    void connection.close({ timeout: 1 });
    await expect(connection.close()).resolves.toBeUndefined();

    const timedOut = await openConnection(superuserConfig());
    // A close whose server never answers in time: the socket is destroyed, the promise still resolves.
    const closing = timedOut.close({ timeout: 1 });
    await expect(closing).resolves.toBeUndefined();
    expect(['closed', 'failed']).toContain(timedOut.state);
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
    expect(values[0]!.rows).toEqual([['1'], ['2']]);
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

  it('refuses a work that is not a function with a TypeError at subscribe, before connecting', async () => {
    // A database that does not exist: had it connected first, the error would be a ConnectionError.
    const config = { ...superuserConfig(), database: 'no_such_database' };
    const work = 'SELECT 1' as unknown as () => number[];
    const observable = withConnection(config, work); // cold: nothing happens yet
    const error = await errorOf(lastValueFrom(observable));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toContain('withConnection: work must be a function');
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

describe('transactionStatus', () => {
  it('follows every ReadyForQuery: idle, in transaction, failed transaction, idle again', async () => {
    const connection = await openConnection(superuserConfig());
    expect(connection.transactionStatus).toBe('idle');
    await lastValueFrom(connection.simpleQuery('BEGIN'));
    expect(connection.transactionStatus).toBe('in transaction');
    await errorOf(lastValueFrom(connection.query('SELECT 1/0')));
    expect(connection.transactionStatus).toBe('failed transaction');
    await lastValueFrom(connection.execute('ROLLBACK'));
    expect(connection.transactionStatus).toBe('idle');
  });
});
