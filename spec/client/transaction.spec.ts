import {
  EMPTY,
  NEVER,
  catchError,
  concat,
  defer,
  firstValueFrom,
  lastValueFrom,
  of,
  retry,
  take,
  takeUntil,
  throwError,
  timer,
  toArray,
} from 'rxjs';
import { PostgresError, TransactionRolledBackError, TransactionStateError, type Connection, type Transaction } from '../../lib';
import { closeOpenedConnections, errorOf, eventually, openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';

let connection: Connection;
let table: string;
let tableCounter = 0;

beforeEach(async () => {
  connection = await openConnection(superuserConfig());
  // A real table (not temporary), so that other sessions see what was committed.
  table = `rxpg_tx_${process.pid}_${++tableCounter}`;
  await connection.run(`DROP TABLE IF EXISTS ${table}`);
  await connection.run(`CREATE TABLE ${table} (id int PRIMARY KEY, note text)`);
});
afterEach(async () => {
  if (connection.state === 'open' && connection.transactionStatus === 'idle') await connection.run(`DROP TABLE IF EXISTS ${table}`);
  await closeOpenedConnections();
});

const ids = async (c: Connection = connection): Promise<number[]> =>
  (await c.all<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`)).map((row) => row.id);
const insert = (tx: Transaction, id: number) => tx.execute(`INSERT INTO ${table} (id) VALUES ($1)`, [id]);

describe('transaction: commit', () => {
  it('BEGINs, passes the work values through, COMMITs, and only then completes', async () => {
    const seen: string[] = [];
    connection.notices$.subscribe(() => seen.push('notice'));
    const values = await lastValueFrom(
      connection
        .transaction((tx) => concat(insert(tx, 1), insert(tx, 2), tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)))
        .pipe(toArray()),
    );
    expect(values).toEqual([{ command: 'INSERT 0 1', rowCount: 1 }, { command: 'INSERT 0 1', rowCount: 1 }, { n: 2 }]);
    expect(connection.transactionStatus).toBe('idle');
    expect(seen).toEqual([]);
    const other = await openConnection(superuserConfig());
    expect(await ids(other)).toEqual([1, 2]);
  });

  it('runs the statements inside one transaction (same txid, in transaction status)', async () => {
    const [a, b] = await lastValueFrom(
      connection
        .transaction((tx) =>
          concat(tx.query<{ x: string }>('SELECT txid_current()::text AS x'), tx.query<{ x: string }>('SELECT txid_current()::text AS x')),
        )
        .pipe(toArray()),
    );
    expect(a!.x).toBe(b!.x);
  });

  it('accepts a Promise as the work (async functions with the Promise conveniences)', async () => {
    const result = await lastValueFrom(
      connection.transaction(async (tx) => {
        await tx.run(`INSERT INTO ${table} (id) VALUES (1)`);
        const row = await tx.first<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
        return row?.n;
      }),
    );
    expect(result).toBe(1);
    expect(await ids()).toEqual([1]);
  });

  it('rolls back under firstValueFrom: it unsubscribes at the first value, before the work completes', async () => {
    // Values pass through as they come (a transaction may stream); leaving early is a ROLLBACK.
    const result = await firstValueFrom(connection.transaction((tx) => concat(insert(tx, 1), of('more'))));
    expect(result).toEqual({ command: 'INSERT 0 1', rowCount: 1 });
    expect(await ids()).toEqual([]);
  });

  it('completes with nothing for work that emits nothing, and commits it', async () => {
    const values = await lastValueFrom(connection.transaction(() => EMPTY).pipe(toArray()));
    expect(values).toEqual([]);
    expect(connection.transactionStatus).toBe('idle');
  });

  it('is cold: nothing is sent before subscribe, and each subscription is a new transaction', async () => {
    let calls = 0;
    const transfer = connection.transaction((tx) => {
      calls++;
      return insert(tx, calls);
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toBe(0);
    expect(connection.transactionStatus).toBe('idle');
    await lastValueFrom(transfer);
    await lastValueFrom(transfer);
    expect(await ids()).toEqual([1, 2]);
  });

  it('runs a request subscribed on the side before COMMIT: FIFO keeps it inside the transaction', async () => {
    let side: Promise<unknown> | undefined;
    await lastValueFrom(
      connection.transaction((tx) => {
        side = lastValueFrom(tx.execute(`INSERT INTO ${table} (id) SELECT 7 FROM pg_sleep(0.05)`));
        return of('done early');
      }),
    );
    await side;
    expect(await ids()).toEqual([7]);
  });
});

describe('transaction: rollback on error', () => {
  it('ROLLBACKs when the work errors, and the subscriber gets the original error after the ROLLBACK', async () => {
    const failure = new Error('work failed');
    const error = await errorOf(
      lastValueFrom(
        connection.transaction((tx) =>
          concat(
            insert(tx, 1),
            throwError(() => failure),
          ),
        ),
      ),
    );
    expect(error).toBe(failure);
    expect(connection.transactionStatus).toBe('idle');
    expect(await ids()).toEqual([]);
  });

  it("delivers a failed statement's PostgresError as it is (23505), with nothing committed", async () => {
    const error = await errorOf(lastValueFrom(connection.transaction((tx) => concat(insert(tx, 1), insert(tx, 1)))));
    expect(error).toBeInstanceOf(PostgresError);
    expect((error as PostgresError).code).toBe('23505');
    expect(await ids()).toEqual([]);
  });

  it('ROLLBACKs when work throws synchronously or returns something that is not ObservableInput', async () => {
    const thrown = new Error('thrown by work');
    expect(
      await errorOf(
        lastValueFrom(
          connection.transaction(() => {
            throw thrown;
          }),
        ),
      ),
    ).toBe(thrown);
    const invalid = await errorOf(lastValueFrom(connection.transaction(() => undefined as never)));
    expect(invalid).toBeInstanceOf(TypeError);
    expect(connection.transactionStatus).toBe('idle');
    expect(await connection.first('SELECT 1 AS one')).toEqual({ one: 1 });
  });

  it('delivers the original error when the ROLLBACK fails because the connection was lost', async () => {
    const failure = new Error('work failed');
    const error = await errorOf(
      lastValueFrom(
        connection.transaction((tx) =>
          concat(
            insert(tx, 1),
            defer(async () => {
              // The connection goes away between the work's end and its ROLLBACK.
              void connection.close();
              throw failure;
            }),
          ),
        ),
      ),
    );
    expect(error).toBe(failure);
    expect(connection.state).not.toBe('open');
    const other = await openConnection(superuserConfig());
    expect(await ids(other)).toEqual([]);
  });
});

describe('transaction: COMMIT answered with ROLLBACK', () => {
  it('is a TransactionRolledBackError (25P02, the statement error as cause), never a success', async () => {
    const error = await errorOf(
      lastValueFrom(
        connection.transaction((tx) =>
          concat(
            insert(tx, 1),
            // The work swallows the failure and completes: the transaction is failed all the same.
            tx.execute('SELECT 1/0').pipe(catchError(() => EMPTY)),
          ),
        ),
      ),
    );
    expect(error).toBeInstanceOf(TransactionRolledBackError);
    expect((error as TransactionRolledBackError).code).toBe('25P02');
    expect(error.message).toMatch(/COMMIT was answered with ROLLBACK.*22012.*nothing was committed/);
    expect((error.cause as PostgresError).code).toBe('22012');
    expect(connection.transactionStatus).toBe('idle');
    expect(await ids()).toEqual([]);
  });

  it("takes a serialization failure's 40001 as its code, so retry policies see it", async () => {
    const error = await errorOf(
      lastValueFrom(
        connection.transaction((tx) =>
          tx.execute("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$").pipe(catchError(() => EMPTY)),
        ),
      ),
    );
    expect(error).toBeInstanceOf(TransactionRolledBackError);
    expect((error as TransactionRolledBackError).code).toBe('40001');
  });

  it('is a TransactionRolledBackError without cause when the failure was not seen through tx', async () => {
    const error = await errorOf(
      lastValueFrom(
        connection.transaction(() =>
          // Straight on the connection: rxpg did not see which statement failed.
          connection.execute('SELECT 1/0').pipe(catchError(() => EMPTY)),
        ),
      ),
    );
    expect(error).toBeInstanceOf(TransactionRolledBackError);
    expect((error as TransactionRolledBackError).code).toBe('25P02');
    expect(error.cause).toBeUndefined();
  });

  it("delivers a failing COMMIT's own error (a deferred constraint: 23505)", async () => {
    await connection.run(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_note UNIQUE (note) DEFERRABLE INITIALLY DEFERRED`);
    const error = await errorOf(
      lastValueFrom(connection.transaction((tx) => concat(tx.execute(`INSERT INTO ${table} VALUES (1, 'x'), (2, 'x')`)))),
    );
    expect(error).toBeInstanceOf(PostgresError);
    expect((error as PostgresError).code).toBe('23505');
    expect(connection.transactionStatus).toBe('idle');
    expect(await ids()).toEqual([]);
  });
});

describe('transaction: queryBatch', () => {
  it('runs a batch inside the transaction: committed with it, or rolled back with it', async () => {
    for (const sync of ['once', 'each'] as const) {
      const values = await lastValueFrom(
        connection
          .transaction((tx) => tx.queryBatch(`INSERT INTO ${table} (id) VALUES ($1) RETURNING id`, [[1], [2]], { sync }))
          .pipe(toArray()),
      );
      expect(values).toEqual([[{ id: 1 }], [{ id: 2 }]]);
      expect(await ids()).toEqual([1, 2]);
      const failure = new Error('work failed');
      const error = await errorOf(
        lastValueFrom(
          connection.transaction((tx) =>
            concat(
              tx.queryBatch(`INSERT INTO ${table} (id) VALUES ($1)`, [[3], [4]], { sync }),
              throwError(() => failure),
            ),
          ),
        ),
      );
      expect(error).toBe(failure);
      expect(await ids()).toEqual([1, 2]);
      await connection.run(`DELETE FROM ${table}`);
    }
  });

  it('a failing set fails the transaction with its PostgresError and nothing is committed', async () => {
    const error = await errorOf(
      lastValueFrom(
        connection.transaction((tx) =>
          concat(insert(tx, 1), tx.queryBatch(`INSERT INTO ${table} (id) VALUES ($1)`, [[2], [1]], { sync: 'each' })),
        ),
      ),
    );
    expect(error).toBeInstanceOf(PostgresError);
    expect(error).toMatchObject({ code: '23505' });
    expect(await ids()).toEqual([]);
    expect(connection.transactionStatus).toBe('idle');
  });
});

describe('transaction: unsubscribe', () => {
  it('rolls back when the subscriber leaves mid-statement: the statement is cancelled, fast, and the row is not there', async () => {
    const started = Date.now();
    let inserted!: () => void;
    const insertedPromise = new Promise<void>((resolve) => (inserted = resolve));
    const subscription = connection
      .transaction((tx) =>
        concat(
          insert(tx, 1),
          defer(() => {
            inserted();
            return tx.query('SELECT pg_sleep(5)');
          }),
        ),
      )
      .subscribe({ error: () => undefined });
    await insertedPromise;
    await new Promise((resolve) => setTimeout(resolve, 50)); // pg_sleep is running
    subscription.unsubscribe();
    // The connection's next request runs after the ROLLBACK.
    expect(await ids()).toEqual([]);
    expect(connection.transactionStatus).toBe('idle');
    expect(Date.now() - started).toBeLessThan(2000);
    const other = await openConnection(superuserConfig());
    expect(await ids(other)).toEqual([]);
  });

  it('rolls back when the subscriber leaves during BEGIN', async () => {
    const subscription = connection.transaction((tx) => insert(tx, 1)).subscribe();
    subscription.unsubscribe();
    expect(await ids()).toEqual([]);
    expect(connection.transactionStatus).toBe('idle');
  });

  it('rolls back when a downstream take(1) leaves during a value the work emits synchronously', async () => {
    const value = await firstValueFrom(connection.transaction((tx) => concat(of('first'), insert(tx, 1))));
    expect(value).toBe('first');
    expect(await ids()).toEqual([]);
    expect(connection.transactionStatus).toBe('idle');
  });

  it('lets a new transaction begin right after an unsubscribed one (switchMap-like), queued behind its ROLLBACK', async () => {
    const first = connection
      .transaction((tx) => concat(insert(tx, 1), tx.query('SELECT pg_sleep(5)')))
      .subscribe({ error: () => undefined });
    await eventually(() => connection.transactionStatus === 'in transaction');
    first.unsubscribe();
    await lastValueFrom(connection.transaction((tx) => insert(tx, 2)));
    expect(await ids()).toEqual([2]);
  });
});

describe('transaction: options', () => {
  const settings = (tx: Transaction) =>
    tx.query<{ isolation: string; readOnly: string; deferrable: string }>(
      "SELECT current_setting('transaction_isolation') AS isolation, current_setting('transaction_read_only') AS \"readOnly\", current_setting('transaction_deferrable') AS deferrable",
    );

  it('BEGINs with the isolation level, read-only and deferrable modes', async () => {
    expect(await firstValueFrom(connection.transaction(settings, { isolation: 'serializable', readOnly: true, deferrable: true }))).toEqual(
      {
        isolation: 'serializable',
        readOnly: 'on',
        deferrable: 'on',
      },
    );
    expect(await firstValueFrom(connection.transaction(settings, { isolation: 'repeatable read' }))).toEqual({
      isolation: 'repeatable read',
      readOnly: 'off',
      deferrable: 'off',
    });
    expect(
      await firstValueFrom(connection.transaction(settings, { isolation: 'read committed', readOnly: false, deferrable: false })),
    ).toEqual({
      isolation: 'read committed',
      readOnly: 'off',
      deferrable: 'off',
    });
  });

  it('keeps the session defaults when no option is set', async () => {
    await connection.run("SET default_transaction_isolation = 'repeatable read'");
    expect(await firstValueFrom(connection.transaction(settings))).toMatchObject({ isolation: 'repeatable read' });
  });

  it('makes a read-only transaction refuse writes (25006)', async () => {
    const error = await errorOf(lastValueFrom(connection.transaction((tx) => insert(tx, 1), { readOnly: true })));
    expect((error as PostgresError).code).toBe('25006');
  });

  it.each([
    [{ isolation: 'serialisable' }, /isolation must be 'read committed', 'repeatable read' or 'serializable', got "serialisable"/],
    [{ isolation: "serializable'; DROP TABLE x; --" }, /isolation must be/],
    [{ readOnly: 'yes' }, /readOnly must be a boolean, got a string|readOnly must be a boolean, got "yes"/],
    [{ deferrable: 1 }, /deferrable must be a boolean, got number/],
    [{ isolationLevel: 'serializable' }, /unknown transaction option "isolationLevel"/],
    [null, /options must be an object, got null/],
    ['serializable', /options must be an object, got string/],
  ])('refuses bad options %p with a TypeError delivered to the subscriber, sending nothing', async (options, message) => {
    const sent: string[] = [];
    connection.messages$.subscribe((message) => sent.push(message.name));
    let called = false;
    const transaction = connection.transaction(() => {
      called = true;
      return EMPTY;
    }, options as never);
    const error = await errorOf(lastValueFrom(transaction));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(message);
    expect(called).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sent).toEqual([]);
  });

  it('refuses a work that is not a function', async () => {
    const error = await errorOf(lastValueFrom(connection.transaction('SELECT 1' as never)));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/work must be a function/);
  });
});

describe('transaction: misuse', () => {
  it('refuses to begin on a connection that is in a transaction (25001), sending nothing', async () => {
    await connection.run('BEGIN');
    expect(connection.transactionStatus).toBe('in transaction');
    const error = await errorOf(lastValueFrom(connection.transaction((tx) => insert(tx, 1))));
    expect(error).toBeInstanceOf(TransactionStateError);
    expect((error as TransactionStateError).code).toBe('25001');
    expect(error.message).toMatch(/transactionStatus is 'in transaction'/);
    await connection.run('SELECT 1/0').catch(() => undefined);
    expect(connection.transactionStatus).toBe('failed transaction');
    expect((await errorOf(lastValueFrom(connection.transaction(() => EMPTY)))).message).toMatch(/'failed transaction'/);
    await connection.run('ROLLBACK');
    expect(await ids()).toEqual([]);
  });

  it('refuses a second transaction on the same connection while the first runs', async () => {
    const first = lastValueFrom(connection.transaction((tx) => concat(insert(tx, 1), timer(30))));
    const second = await errorOf(lastValueFrom(connection.transaction((tx) => insert(tx, 2))));
    expect(second).toBeInstanceOf(TransactionStateError);
    expect(second.message).toMatch(/another transaction/);
    await first;
    expect(await ids()).toEqual([1]);
  });

  it('errors for a request made through tx after the transaction ended, and sends nothing', async () => {
    let kept!: Transaction;
    await lastValueFrom(
      connection.transaction((tx) => {
        kept = tx;
        return insert(tx, 1);
      }),
    );
    expect(kept.ended).toBe(true);
    const error = await errorOf(lastValueFrom(insert(kept, 2)));
    expect(error).toBeInstanceOf(TransactionStateError);
    expect((error as TransactionStateError).code).toBe('25000');
    expect(error.message).toMatch(/after that transaction had ended/);
    await expect(kept.all('SELECT 1')).rejects.toBeInstanceOf(TransactionStateError);
    await expect(kept.run('SELECT 1')).rejects.toBeInstanceOf(TransactionStateError);
    expect(await errorOf(lastValueFrom(kept.transaction(() => EMPTY)))).toBeInstanceOf(TransactionStateError);
    expect(await ids()).toEqual([1]);
  });

  it('errors for an Observable made through tx inside the work but subscribed after the end', async () => {
    let late!: ReturnType<Transaction['execute']>;
    await lastValueFrom(
      connection.transaction((tx) => {
        late = insert(tx, 2);
        return insert(tx, 1);
      }),
    );
    expect(await errorOf(lastValueFrom(late))).toBeInstanceOf(TransactionStateError);
    expect(await ids()).toEqual([1]);
  });
});

describe('transaction: nested savepoints', () => {
  it('refuses to COMMIT while a savepoint subscribed beside the work is still open, and rolls everything back', async () => {
    const error = await errorOf(
      lastValueFrom(
        connection.transaction((tx) => {
          // Not part of the work's chain: still running when the work completes.
          tx.transaction((inner) => concat(insert(inner, 7), inner.execute('SELECT pg_sleep(0.2)'))).subscribe({ error: () => undefined });
          return insert(tx, 1);
        }),
        { defaultValue: undefined },
      ),
    );
    expect(error).toBeInstanceOf(TransactionStateError);
    expect((error as TransactionStateError).code).toBe('25000');
    await eventually(() => connection.transactionStatus === 'idle');
    expect(await ids()).toEqual([]);
  });

  it('refuses to COMMIT even when the side savepoint ended (refused) before the check: both replies in one chunk, under a busy event loop', async () => {
    // A busy loop makes the two INSERTs' replies arrive in one socket chunk: the side
    // savepoint's next request is refused (its parent's work has completed) and it rolls back
    // before the COMMIT check runs; it still ran beside the work, so nothing may commit.
    const hog = setInterval(() => {
      const until = Date.now() + 30;
      while (Date.now() < until);
    }, 35);
    try {
      for (let attempt = 0; attempt < 6; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        await connection.run(`TRUNCATE ${table}`);
        const error = await errorOf(
          lastValueFrom(
            connection.transaction((tx) => {
              tx.transaction((inner) => concat(insert(inner, 7), inner.execute('SELECT pg_sleep(0.2)'))).subscribe({
                error: () => undefined,
              });
              return insert(tx, 1);
            }),
            { defaultValue: undefined },
          ),
        );
        expect(error).toBeInstanceOf(TransactionStateError);
        await eventually(() => connection.transactionStatus === 'idle');
        expect(await ids()).toEqual([]);
      }
    } finally {
      clearInterval(hog);
    }
  });

  it('commits an inner savepoint with the outer transaction', async () => {
    await lastValueFrom(
      connection.transaction((tx) =>
        concat(
          insert(tx, 1),
          tx.transaction((inner) => insert(inner, 2)),
        ),
      ),
    );
    expect(await ids()).toEqual([1, 2]);
  });

  it('rolls back only the inner part when it errors; the outer goes on and commits', async () => {
    const innerErrors: unknown[] = [];
    await lastValueFrom(
      connection.transaction((tx) =>
        concat(
          insert(tx, 1),
          tx
            .transaction((inner) => concat(insert(inner, 2), insert(inner, 1)))
            .pipe(
              catchError((error: unknown) => {
                innerErrors.push(error);
                return EMPTY;
              }),
            ),
          insert(tx, 3),
        ),
      ),
    );
    expect(innerErrors).toHaveLength(1);
    expect((innerErrors[0] as PostgresError).code).toBe('23505');
    expect(await ids()).toEqual([1, 3]);
  });

  it('names savepoints rxpg_sp_N and nests them', async () => {
    const statements: string[] = [];
    connection.messages$.subscribe((message) => {
      if (message.name === 'CommandComplete' && /SAVEPOINT|RELEASE|ROLLBACK/.test(message.tag)) statements.push(message.tag);
    });
    const values = await lastValueFrom(
      connection
        .transaction((tx) =>
          tx.transaction((a) =>
            concat(
              a.transaction((b) => concat(insert(b, 1), b.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))),
              a
                .transaction((c) =>
                  concat(
                    insert(c, 2),
                    throwError(() => new Error('c fails')),
                  ),
                )
                .pipe(catchError(() => of('c rolled back'))),
            ),
          ),
        )
        .pipe(toArray()),
    );
    expect(values).toEqual([{ command: 'INSERT 0 1', rowCount: 1 }, { n: 1 }, { command: 'INSERT 0 1', rowCount: 1 }, 'c rolled back']);
    expect(statements).toEqual(['SAVEPOINT', 'SAVEPOINT', 'RELEASE', 'SAVEPOINT', 'ROLLBACK', 'RELEASE', 'RELEASE']);
    expect(await ids()).toEqual([1]);
  });

  it('rolls back to the savepoint when the inner subscriber leaves mid-statement (takeUntil); the outer goes on and commits', async () => {
    const started = Date.now();
    await lastValueFrom(
      connection.transaction((tx) =>
        concat(
          insert(tx, 1),
          tx.transaction((inner) => concat(insert(inner, 2), inner.query('SELECT pg_sleep(5)'))).pipe(takeUntil(timer(200))),
          insert(tx, 3),
        ),
      ),
    );
    expect(await ids()).toEqual([1, 3]);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('queues the ROLLBACK TO SAVEPOINT of an inner scope left between statements before what the outer does next', async () => {
    await lastValueFrom(
      connection.transaction((tx) =>
        concat(
          insert(tx, 1),
          tx.transaction((inner) => concat(insert(inner, 2), NEVER)).pipe(takeUntil(timer(50))),
          // Subscribed in the same step as the inner teardown: must run after ROLLBACK TO SAVEPOINT.
          insert(tx, 3),
        ),
      ),
    );
    expect(await ids()).toEqual([1, 3]);
  });

  it('queues the ROLLBACK TO SAVEPOINT of an inner scope left by take(1) before the outer COMMIT', async () => {
    const values = await lastValueFrom(
      connection
        .transaction((tx) => tx.transaction((inner) => concat(insert(inner, 2), of('enough'), NEVER)).pipe(take(2)))
        .pipe(toArray()),
    );
    expect(values).toEqual([{ command: 'INSERT 0 1', rowCount: 1 }, 'enough']);
    // The savepoint was left, so its insert is rolled back; the (empty) outer transaction commits.
    expect(await ids()).toEqual([]);
    expect(connection.transactionStatus).toBe('idle');
  });

  it('orders the ends of nested scopes left by take: innermost ROLLBACK TO, then RELEASE, then COMMIT', async () => {
    const tags: string[] = [];
    connection.messages$.subscribe((message) => {
      if (message.name === 'CommandComplete' && !message.tag.startsWith('INSERT')) tags.push(message.tag);
    });
    const values = await lastValueFrom(
      connection
        .transaction((tx) =>
          concat(
            insert(tx, 1),
            tx.transaction((a) => concat(insert(a, 2), a.transaction((b) => concat(insert(b, 3), of('b'), NEVER)).pipe(take(2)))),
          ),
        )
        .pipe(toArray()),
    );
    expect(values.filter((value) => typeof value === 'string')).toEqual(['b']);
    expect(await ids()).toEqual([1, 2]);
    expect(tags).toEqual(['BEGIN', 'SAVEPOINT', 'SAVEPOINT', 'ROLLBACK', 'RELEASE', 'RELEASE', 'COMMIT', 'SELECT 2']);
  });

  it('errors with TransactionRolledBackError when the inner work swallows a failure (RELEASE refused), and the outer can go on', async () => {
    const outcome: unknown[] = [];
    await lastValueFrom(
      connection.transaction((tx) =>
        concat(
          insert(tx, 1),
          tx
            .transaction((inner) => concat(insert(inner, 2), inner.execute('SELECT 1/0').pipe(catchError(() => EMPTY))))
            .pipe(
              catchError((error: unknown) => {
                outcome.push(error);
                return EMPTY;
              }),
            ),
          insert(tx, 3),
        ),
      ),
    );
    expect(outcome[0]).toBeInstanceOf(TransactionRolledBackError);
    expect((outcome[0] as Error).message).toMatch(/savepoint rxpg_sp_1 could not be released.*22012.*rolled back to the savepoint/);
    expect(await ids()).toEqual([1, 3]);
  });

  it('refuses isolation options on a savepoint', async () => {
    const error = await errorOf(lastValueFrom(connection.transaction((tx) => tx.transaction(() => EMPTY, { isolation: 'serializable' }))));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/savepoint\) cannot set isolation/);
    expect(await ids()).toEqual([]);
  });
});

describe('transaction: serialization failures and retry', () => {
  it('re-runs the whole transaction after a 40001 (deterministic, RAISE ... ERRCODE)', async () => {
    let attempts = 0;
    const result = await lastValueFrom(
      connection
        .transaction((tx) =>
          defer(() => {
            attempts++;
            const conflict = attempts === 1 ? tx.execute("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$") : EMPTY;
            return concat(insert(tx, attempts), conflict, of(attempts));
          }),
        )
        .pipe(retry({ count: 3, delay: (error: { code?: string }) => (error.code === '40001' ? of(0) : throwError(() => error)) })),
    );
    expect(result).toBe(2);
    expect(attempts).toBe(2);
    expect(await ids()).toEqual([2]);
  });

  it("delivers a deadlock's 40P01 as the error code", async () => {
    const error = await errorOf(
      lastValueFrom(connection.transaction((tx) => tx.execute("DO $$ BEGIN RAISE EXCEPTION 'deadlock' USING ERRCODE = '40P01'; END $$"))),
    );
    expect((error as PostgresError).code).toBe('40P01');
  });

  it('retries a real serializable conflict between two connections until both commit', async () => {
    const other = await openConnection(superuserConfig());
    const gate = () => {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      return { open, promise };
    };
    const aRead = gate();
    const bRead = gate();
    let failures = 0;
    const writer = (c: Connection, id: number, mine: ReturnType<typeof gate>, theirs: ReturnType<typeof gate>) =>
      c
        .transaction(
          async (tx) => {
            const { n } = (await tx.first<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))!;
            mine.open();
            await theirs.promise;
            await tx.run(`INSERT INTO ${table} (id, note) VALUES ($1, $2)`, [id, `saw ${n}`]);
          },
          { isolation: 'serializable' },
        )
        .pipe(
          retry({
            count: 5,
            delay: (error: { code?: string }) => {
              if (error.code !== '40001') return throwError(() => error);
              failures++;
              return of(0);
            },
          }),
        );
    await Promise.all([
      lastValueFrom(writer(connection, 1, aRead, bRead), { defaultValue: undefined }),
      lastValueFrom(writer(other, 2, bRead, aRead), { defaultValue: undefined }),
    ]);
    expect(failures).toBeGreaterThanOrEqual(1);
    expect(await ids()).toEqual([1, 2]);
    const notes = (await connection.all<{ note: string }>(`SELECT note FROM ${table} ORDER BY note`)).map((row) => row.note);
    expect(notes).toEqual(['saw 0', 'saw 1']);
  });
});
