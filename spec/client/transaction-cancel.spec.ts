import { EMPTY, catchError, concat, defer, lastValueFrom, of, retry, takeUntil, throwError, timer } from 'rxjs';
import {
  PostgresError,
  StatementCancelledError,
  TimeoutError,
  TransactionRolledBackError,
  createPool,
  type Connection,
  type Pool,
  type Transaction,
} from '../../lib';
import { closeOpenedConnections, errorOf, openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';

// A statement of a transaction abandoned while it runs is cancelled on the server, which fails
// the transaction; its 57014 goes nowhere (nobody listens to that request any more). These
// specs check that the COMMIT's TransactionRolledBackError says so.

let connection: Connection;
let table: string;
let tableCounter = 0;
const pools: Pool[] = [];

beforeEach(async () => {
  connection = await openConnection(superuserConfig());
  table = `rxpg_txc_${process.pid}_${++tableCounter}`;
  await connection.run(`DROP TABLE IF EXISTS ${table}`);
  await connection.run(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.end({ timeout: 100 })));
  if (connection.state === 'open' && connection.transactionStatus === 'idle') await connection.run(`DROP TABLE IF EXISTS ${table}`);
  await closeOpenedConnections();
});

const ids = async (): Promise<number[]> =>
  (await connection.all<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`)).map((row) => row.id);
const insert = (tx: Transaction, id: number) => tx.execute(`INSERT INTO ${table} (id) VALUES ($1)`, [id]);
const sleep = 'SELECT pg_sleep(2)';

/** The checks every cancel-aborted COMMIT passes: what the error says, its code and cause. */
function expectCancelled(error: Error, reason: 'unsubscribed' | 'timeout'): StatementCancelledError {
  expect(error).toBeInstanceOf(TransactionRolledBackError);
  expect(error.message).toMatch(
    /^COMMIT was answered with ROLLBACK: the transaction had failed: a statement of it was cancelled while it ran/,
  );
  expect(error.message).toMatch(/nothing was committed$/);
  // Not a class-40 code: a retry policy for serialization failures and deadlocks leaves it alone.
  expect((error as TransactionRolledBackError).code).toBe('25P02');
  const cause = error.cause as StatementCancelledError;
  expect(cause).toBeInstanceOf(StatementCancelledError);
  expect(cause.code).toBe('57014');
  expect(cause.reason).toBe(reason);
  // The SQL text is there for whoever looks, but not enumerable (not logged by accident).
  expect(cause.sql).toBe(sleep);
  expect(Object.keys(cause)).not.toContain('sql');
  expect(error.message).not.toContain('pg_sleep');
  return cause;
}

describe('transaction: a statement cancelled while it ran', () => {
  it('unsubscribed (takeUntil), then the work completes: the COMMIT error says a statement was cancelled, and nothing is committed', async () => {
    const started = Date.now();
    const error = await errorOf(
      lastValueFrom(connection.transaction((tx) => concat(insert(tx, 1), tx.query(sleep).pipe(takeUntil(timer(100)))))),
    );
    const cause = expectCancelled(error, 'unsubscribed');
    expect(error.message).toMatch(/its subscriber unsubscribed/);
    expect(cause.cause).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1500); // cancelled, not waited for
    expect(connection.transactionStatus).toBe('idle');
    expect(await ids()).toEqual([]);
  });

  it('timed out (the timeout option), the work going on: the same error, with the TimeoutError under its cause', async () => {
    const error = await errorOf(
      lastValueFrom(
        connection.transaction((tx) =>
          concat(
            insert(tx, 1),
            tx.query(sleep, [], { timeout: 100 }).pipe(catchError(() => EMPTY)),
            // Refused with 25P02 by the failed transaction: not the reason, only a consequence.
            insert(tx, 2).pipe(catchError(() => EMPTY)),
          ),
        ),
      ),
    );
    const cause = expectCancelled(error, 'timeout');
    expect(error.message).toMatch(/its timeout of 100 ms fired/);
    expect(cause.cause).toBeInstanceOf(TimeoutError);
    expect(await ids()).toEqual([]);
  });

  it('aborted through a Promise convenience signal in an async work that catches it', async () => {
    const error = await errorOf(
      lastValueFrom(
        connection.transaction(async (tx) => {
          await tx.run(`INSERT INTO ${table} (id) VALUES (1)`);
          await tx.all(sleep, [], { signal: AbortSignal.timeout(100) }).catch(() => undefined);
        }),
      ),
    );
    expectCancelled(error, 'unsubscribed');
    expect(await ids()).toEqual([]);
  });

  it('keeps the first statement error as the reason when a statement failed before another was cancelled', async () => {
    const error = await errorOf(
      lastValueFrom(
        connection.transaction((tx) =>
          concat(
            tx.execute('SELECT 1/0').pipe(catchError(() => EMPTY)),
            tx.query(sleep, [], { timeout: 100 }).pipe(catchError(() => EMPTY)),
          ),
        ),
      ),
    );
    expect(error).toBeInstanceOf(TransactionRolledBackError);
    expect(error.message).toMatch(/22012/);
    expect((error.cause as PostgresError).code).toBe('22012');
  });

  it('commits as before when a statement was unsubscribed before it was sent (dropped, nothing cancelled)', async () => {
    await lastValueFrom(
      connection.transaction((tx) =>
        concat(
          insert(tx, 1),
          defer(() => {
            // Unsubscribed in the tick it was made: never written, so the transaction is intact.
            tx.query(sleep).subscribe().unsubscribe();
            return EMPTY;
          }),
          insert(tx, 2),
        ),
      ),
    );
    expect(await ids()).toEqual([1, 2]);
  });

  it('inside a savepoint: its RELEASE is refused with an error that says a statement was cancelled; the outer goes on and commits', async () => {
    const outcome: unknown[] = [];
    await lastValueFrom(
      connection.transaction((tx) =>
        concat(
          insert(tx, 1),
          tx
            .transaction((inner) => concat(insert(inner, 2), inner.query(sleep, [], { timeout: 100 }).pipe(catchError(() => EMPTY))))
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
    const error = outcome[0] as TransactionRolledBackError;
    expect(error).toBeInstanceOf(TransactionRolledBackError);
    expect(error.message).toMatch(
      /^savepoint rxpg_sp_1 could not be released because the transaction had failed: a statement of it was cancelled while it ran.*timeout of 100 ms.*rolled back to the savepoint$/,
    );
    expect(error.code).toBe('25P02');
    expect((error.cause as StatementCancelledError).reason).toBe('timeout');
    expect(await ids()).toEqual([1, 3]);
  });

  it('is not retried by a serialization-failure policy, and a plain retry re-runs the whole transaction', async () => {
    const retryOnConflict = retry({
      count: 3,
      delay: (error: { code?: string }) => (['40001', '40P01'].includes(error.code ?? '') ? of(0) : throwError(() => error)),
    });
    let attempts = 0;
    const transfer = (cancelUntil: number) =>
      connection.transaction((tx) =>
        defer(() => {
          attempts++;
          const slow = attempts <= cancelUntil ? tx.query(sleep).pipe(takeUntil(timer(100))) : EMPTY;
          return concat(insert(tx, attempts), slow, of(attempts));
        }),
      );
    const error = await errorOf(lastValueFrom(transfer(1).pipe(retryOnConflict)));
    expect(error).toBeInstanceOf(TransactionRolledBackError);
    expect(attempts).toBe(1);
    attempts = 0;
    expect(await lastValueFrom(transfer(1).pipe(retry(2)))).toBe(2);
    expect(await ids()).toEqual([2]);
  });

  it('on a pool: pool.transaction gives the same error, and its connection is returned in sync', async () => {
    const pool = createPool(superuserConfig(), { max: 1 });
    pools.push(pool);
    const error = await errorOf(
      lastValueFrom(pool.transaction((tx) => concat(insert(tx, 1), tx.query(sleep).pipe(takeUntil(timer(100)))))),
    );
    expectCancelled(error, 'unsubscribed');
    expect(await pool.first<{ n: number }>('SELECT 1 AS n')).toEqual({ n: 1 });
    expect(await ids()).toEqual([]);
  });
});
