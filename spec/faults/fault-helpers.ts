// What the fault specs on dedicated throwaway clusters share.
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { lastValueFrom, type Observable } from 'rxjs';
import { ConnectionError, type Connection } from '../../lib';
import { startThrowawayCluster, type ThrowawayCluster } from '../harness/throwaway-cluster';
import { closeOpenedConnections, errorOf } from '../helpers/connections';
import { Recorder } from '../helpers/recorder';

/**
 * Waits until the cluster accepts connections and runs SQL again (after crash recovery or a
 * restart), for at most `timeout` ms.
 */
export async function untilServerAnswers(cluster: ThrowawayCluster, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      await cluster.psql('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the server did not answer within ${timeout} ms`, { cause: error });
      await delay(50);
    }
  }
}

/** The line the server logs whenever it (again) accepts connections, after startup or crash recovery. */
const readyLine = 'database system is ready to accept connections';

function readyCount(cluster: ThrowawayCluster): number {
  return readFileSync(cluster.logFile, 'utf8').split(readyLine).length - 1;
}

/**
 * SIGKILLs a backend of `cluster` and returns a function that resolves once the postmaster's
 * crash recovery is over (its log says it accepts connections once more than before the
 * kill), so that the next test cannot meet the recovery half-way. The harness runs the server
 * as the `postgres` OS user when the tests run as root, and as the tests' own user otherwise:
 * either way this process may signal it.
 */
export function killBackend(cluster: ThrowawayCluster, pid: number | undefined): () => Promise<void> {
  if (pid === undefined) throw new Error('the connection has no backend process ID');
  const before = readyCount(cluster);
  process.kill(pid, 'SIGKILL');
  return async () => {
    const deadline = Date.now() + 15_000;
    while (readyCount(cluster) <= before) {
      if (Date.now() > deadline) throw new Error('the server did not finish crash recovery within 15 s');
      await delay(20);
    }
    await untilServerAnswers(cluster);
  };
}

/**
 * Expects `closed$` to error with a ConnectionError within `within` ms (measured from the
 * call), and every later request to fail at once with a ConnectionError too.
 */
export async function expectConnectionLost(connection: Connection, within: number): Promise<ConnectionError> {
  const startedAt = Date.now();
  const timeout = delay(within, 'timeout' as const);
  const closed = await Promise.race([errorOf(lastValueFrom(connection.closed$, { defaultValue: undefined })), timeout]);
  if (closed === 'timeout') throw new Error(`closed$ did not error within ${within} ms`);
  expect(Date.now() - startedAt).toBeLessThan(within);
  expect(closed).toBeInstanceOf(ConnectionError);
  expect(connection.failure).toBeInstanceOf(ConnectionError);
  expect(await errorOf(lastValueFrom(connection.query('SELECT 1')))).toBeInstanceOf(ConnectionError);
  return closed as ConnectionError;
}

/** A unique suffix for table and channel names. */
export const tag = (): string => Math.random().toString(36).slice(2, 8);

/** Many rows of some kilobytes each, more than the socket buffers hold: a stream still running. */
export const longStream = "SELECT g AS n, repeat('x', 2000) AS filler FROM generate_series(1, 1000000) g";

/**
 * A dedicated throwaway cluster for one spec file: started before its tests (and handed to
 * `started`), stopped after them. Recorders made with `record` are unsubscribed and the
 * connections closed after each test, then `afterEachTest` runs (e.g. to wait for crash
 * recovery, or to restart the server).
 */
export function useDedicatedCluster(hooks: {
  readonly started: (cluster: ThrowawayCluster) => void;
  readonly afterEachTest: (cluster: ThrowawayCluster) => Promise<void>;
}): { record: <T>(source: Observable<T>) => Recorder<T> } {
  let cluster: ThrowawayCluster | undefined;
  const recorders: Recorder<unknown>[] = [];
  beforeAll(async () => {
    cluster = await startThrowawayCluster();
    hooks.started(cluster);
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  afterEach(async () => {
    for (const recorder of recorders.splice(0)) recorder.unsubscribe();
    await closeOpenedConnections();
    if (cluster !== undefined) await hooks.afterEachTest(cluster);
  });
  return {
    record: <T>(source: Observable<T>): Recorder<T> => {
      const recorder = new Recorder(source);
      recorders.push(recorder as Recorder<unknown>);
      return recorder;
    },
  };
}
