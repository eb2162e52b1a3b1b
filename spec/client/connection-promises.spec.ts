import { getEventListeners } from 'node:events';
import { EMPTY, concat, lastValueFrom, toArray } from 'rxjs';
import {
  ConnectionError,
  ParameterError,
  PostgresError,
  QueryShapeError,
  TimeoutError,
  TransactionStateError,
  type Connection,
  type Transaction,
} from '../../lib';
import { closeOpenedConnections, eventually, openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';

let connection: Connection;
beforeEach(async () => {
  connection = await openConnection(superuserConfig());
});
afterEach(closeOpenedConnections);

/** Whether a statement containing `marker` is running on the server (seen from another session). */
async function running(observer: Connection, marker: string): Promise<boolean> {
  const rows = await observer.all<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()",
    [marker],
  );
  return rows[0]!.n > 0;
}

describe('all', () => {
  it('resolves with every row, decoded, in the requested row mode', async () => {
    expect(await connection.all<{ n: number }>('SELECT generate_series(1, $1::int) AS n', [3])).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(await connection.all('SELECT 1 AS a, $1::text AS b', ['x'], { rowMode: 'array' })).toEqual([[1, 'x']]);
    expect(await connection.all('SELECT 1 WHERE false')).toEqual([]);
  });

  it('works without params and options, and is a thin wrapper over query (same rows)', async () => {
    const viaQuery = await lastValueFrom(connection.query('SELECT relname FROM pg_class ORDER BY oid LIMIT 5').pipe(toArray()));
    expect(await connection.all('SELECT relname FROM pg_class ORDER BY oid LIMIT 5')).toEqual(viaQuery);
  });

  it('rejects with the PostgresError of a failing statement; the connection stays usable', async () => {
    const error = await connection.all('SELECT 1/0').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PostgresError);
    expect((error as PostgresError).code).toBe('22012');
    expect(await connection.all('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
  });

  it('rejects, never throws, for a parameter that cannot be sent', async () => {
    let promise: Promise<unknown> | undefined;
    expect(() => (promise = connection.all('SELECT $1::text', [undefined]))).not.toThrow();
    await expect(promise).rejects.toBeInstanceOf(ParameterError);
  });

  it('rejects with a TimeoutError past the timeout option', async () => {
    await expect(connection.all('SELECT pg_sleep(5)', [], { timeout: 50 })).rejects.toBeInstanceOf(TimeoutError);
    expect(await connection.all('SELECT 2 AS ok')).toEqual([{ ok: 2 }]);
  });

  it('rejects with a ConnectionError on a closed connection', async () => {
    await connection.close();
    await expect(connection.all('SELECT 1')).rejects.toBeInstanceOf(ConnectionError);
  });

  it('rejects with what a decoder throws, abandons the rest of the statement, and the connection stays usable', async () => {
    const thrown = new Error('decoder refused');
    connection.types.setDecoder(23, (text) => {
      if (text === '2') throw thrown;
      return Number(text);
    });
    const marker = `decoder_abandon_${process.pid}`;
    const error = await connection
      // 64 KB a row: the server's output buffer has sent row 2 (pushed out by row 3) before row 4 sleeps.
      .all(`SELECT n, repeat('x', 65536) AS filler, CASE WHEN n = 4 THEN pg_sleep(10) END AS ${marker} FROM generate_series(1, 5) n`)
      .catch((e: unknown) => e);
    expect(error).toBe(thrown);
    // The sleeping rest was cancelled on the server, not waited for.
    const started = Date.now();
    expect(await connection.all('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('rejects with a TypeError for an unknown rowMode or a pushback that is not a function, sending nothing', async () => {
    await expect(connection.all('SELECT 1', [], { rowMode: 'arrays' as 'array' })).rejects.toBeInstanceOf(TypeError);
    await expect(connection.first('SELECT 1', [], { pushback: 42 as never })).rejects.toBeInstanceOf(TypeError);
    await expect(connection.run('SELECT 1', [], null as never)).rejects.toBeInstanceOf(TypeError);
    expect(await connection.first('SELECT 3 AS ok')).toEqual({ ok: 3 });
  });

  it('rejects with what onFields or onComplete throws', async () => {
    const fromFields = new Error('onFields threw');
    const fromComplete = new Error('onComplete threw');
    await expect(
      connection.all('SELECT 1 AS a', [], {
        onFields: () => {
          throw fromFields;
        },
      }),
    ).rejects.toBe(fromFields);
    await expect(
      connection.run('SELECT 1 WHERE false', [], {
        onComplete: () => {
          throw fromComplete;
        },
      }),
    ).rejects.toBe(fromComplete);
    expect(await connection.first('SELECT 4 AS ok')).toEqual({ ok: 4 });
  });
});

describe('first', () => {
  it('resolves with the first row, or undefined when there is none', async () => {
    expect(await connection.first<{ n: number }>('SELECT generate_series(1, 3) AS n')).toEqual({ n: 1 });
    expect(await connection.first('SELECT 1 WHERE false')).toBeUndefined();
  });

  it('lets the statement run to its end: an error after the first row still rejects', async () => {
    // The third row divides by zero: the statement is not cancelled after the first row.
    const error = await connection.first('SELECT 1 / (3 - n) AS x FROM generate_series(1, 3) AS n').catch((e: unknown) => e);
    expect((error as PostgresError).code).toBe('22012');
  });

  it('runs the whole statement (its side effects happen)', async () => {
    await connection.run('CREATE TEMPORARY TABLE seen (n int)');
    expect(await connection.first('INSERT INTO seen SELECT generate_series(1, 5) RETURNING n')).toEqual({ n: 1 });
    expect(await connection.first('SELECT count(*)::int AS n FROM seen')).toEqual({ n: 5 });
  });

  it('rejects with the PostgresError of a failing statement', async () => {
    await expect(connection.first('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
  });
});

describe('run', () => {
  it("resolves with execute's CommandResult", async () => {
    await connection.run('CREATE TEMPORARY TABLE t (n int)');
    expect(await connection.run('INSERT INTO t SELECT generate_series(1, $1::int)', [4])).toEqual({ command: 'INSERT 0 4', rowCount: 4 });
    expect(await connection.run('')).toEqual({ command: '', rowCount: undefined });
  });

  it('rejects with a QueryShapeError when the statement returned rows', async () => {
    await expect(connection.run('SELECT 1')).rejects.toBeInstanceOf(QueryShapeError);
  });

  it('rejects with the PostgresError of a failing statement', async () => {
    await expect(connection.run('DROP TABLE no_such_table')).rejects.toMatchObject({ code: '42P01' });
  });
});

describe('signal', () => {
  it('a signal that is not an AbortSignal is a TypeError, and nothing is sent', async () => {
    const sent: string[] = [];
    const trace = connection.messages$.subscribe((message) => sent.push(message.name));
    for (const signal of [{}, 'stop', { aborted: false }]) {
      await expect(connection.all('SELECT 1', [], { signal: signal as never })).rejects.toThrow(/must be an AbortSignal/);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    trace.unsubscribe();
    expect(sent).toEqual([]);
  });

  it('an already aborted signal rejects with its reason and sends nothing', async () => {
    const sent: string[] = [];
    connection.messages$.subscribe((message) => sent.push(message.name));
    const controller = new AbortController();
    const reason = new Error('gave up');
    controller.abort(reason);
    await expect(connection.all('SELECT 1', [], { signal: controller.signal })).rejects.toBe(reason);
    await expect(connection.first('SELECT 1', [], { signal: controller.signal })).rejects.toBe(reason);
    await expect(connection.run('SELECT 1', [], { signal: controller.signal })).rejects.toBe(reason);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sent).toEqual([]);
  });

  it('aborting a running statement cancels it on the server and rejects with an AbortError', async () => {
    const observer = await openConnection(superuserConfig());
    const controller = new AbortController();
    const started = Date.now();
    const pending = connection.all("SELECT pg_sleep(5), 'abort-marker-1'", [], { signal: controller.signal });
    await eventually(() => running(observer, 'abort-marker-1'));
    controller.abort();
    const error = await pending.catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(2000);
    await eventually(async () => !(await running(observer, 'abort-marker-1')), 2000);
    expect(await connection.first('SELECT 3 AS ok')).toEqual({ ok: 3 });
  });

  it('aborting run or first rejects with the given reason', async () => {
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const pendingRun = connection.run('SELECT pg_sleep(5)::text', [], { signal: controller.signal });
    const pendingFirst = connection.first('SELECT pg_sleep(5)', [], { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 30);
    await expect(pendingRun).rejects.toBe(reason);
    await expect(pendingFirst).rejects.toBe(reason);
    expect(await connection.first('SELECT 4 AS ok')).toEqual({ ok: 4 });
  });

  it('an abort after the result has no effect and leaves no listener behind', async () => {
    const controller = new AbortController();
    expect(await connection.all('SELECT 1 AS one', [], { signal: controller.signal })).toEqual([{ one: 1 }]);
    await expect(connection.run('SELECT 1/0', [], { signal: controller.signal })).rejects.toMatchObject({ code: '22012' });
    expect(await connection.first('SELECT 2 AS two', [], { signal: controller.signal })).toEqual({ two: 2 });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    controller.abort();
    expect(await connection.first('SELECT 5 AS ok')).toEqual({ ok: 5 });
  });

  it('one signal shared by many statements adds one abort listener (Node warns past ten), and aborting rejects them all', async () => {
    const controller = new AbortController();
    const { signal } = controller;
    const done = await Promise.all(
      Array.from({ length: 20 }, (_, i) => connection.first<{ n: number }>('SELECT $1::int AS n', [i], { signal })),
    );
    expect(done.map((row) => row?.n)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    const pending = Array.from({ length: 20 }, () => connection.all('SELECT pg_sleep(5)', [], { signal }).catch((error: unknown) => error));
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    const reason = new Error('request closed');
    controller.abort(reason);
    expect(await Promise.all(pending)).toEqual(Array.from({ length: 20 }, () => reason));
    expect(await connection.first('SELECT 6 AS ok')).toEqual({ ok: 6 });
  });
});

describe('on a Transaction', () => {
  it('all, first and run run inside the transaction', async () => {
    await connection.run('CREATE TEMPORARY TABLE t (n int)');
    const results = await lastValueFrom(
      connection.transaction(async (tx: Transaction) => {
        const inserted = await tx.run('INSERT INTO t VALUES (1), (2)');
        const all = await tx.all<{ n: number }>('SELECT n FROM t ORDER BY n');
        const first = await tx.first<{ status: string }>(
          "SELECT CASE WHEN pg_current_xact_id_if_assigned() IS NULL THEN 'none' ELSE 'inside' END AS status",
        );
        return { inserted, all, first };
      }),
    );
    expect(results).toEqual({ inserted: { command: 'INSERT 0 2', rowCount: 2 }, all: [{ n: 1 }, { n: 2 }], first: { status: 'inside' } });
  });

  it('a failing tx.run rejects with the PostgresError and fails the transaction (the work rethrows it)', async () => {
    const error = await lastValueFrom(
      connection.transaction(async (tx) => {
        await tx.run('SELECT 1/0');
      }),
    ).catch((e: unknown) => e);
    expect((error as PostgresError).code).toBe('22012');
    expect(connection.transactionStatus).toBe('idle');
  });

  it('rejects with a TransactionStateError after the transaction ended', async () => {
    let kept!: Transaction;
    await lastValueFrom(
      connection.transaction((tx) => {
        kept = tx;
        return concat(EMPTY);
      }),
      { defaultValue: undefined },
    );
    await expect(kept.first('SELECT 1')).rejects.toBeInstanceOf(TransactionStateError);
  });
});
