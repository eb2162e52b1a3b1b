import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { runCommand } from './run-command';
import { startThrowawayCluster, type ThrowawayCluster } from './throwaway-cluster';

/** A throwaway streaming hot standby, with what a failover test does to it. */
export interface ThrowawayStandby extends ThrowawayCluster {
  /**
   * Promotes the standby to a primary (`pg_ctl promote`) and resolves once it accepts writes
   * (`pg_is_in_recovery()` is false).
   */
  promote(): Promise<void>;
}

/**
 * A primary and a streaming hot standby of it, both throwaway (their own initdb, ports and
 * socket directories; not the suite's shared servers). `stop()` removes both.
 */
export interface ReplicatedCluster {
  readonly primary: ThrowawayCluster;
  readonly standby: ThrowawayStandby;
  /** Stops both servers and removes their directories. Idempotent; never rejects. */
  stop(): Promise<void>;
}

/**
 * Starts a primary (PostgreSQL's defaults already have `wal_level=replica`, WAL senders and
 * hot standby; initdb's pg_hba.conf trusts local replication connections) and a standby made
 * with `pg_basebackup -R` from it, and resolves once both accept connections. Takes about
 * two seconds. On failure, whatever was started is removed before rejecting.
 */
export async function startReplicatedCluster(): Promise<ReplicatedCluster> {
  const primary = await startThrowawayCluster();
  let standbyCluster: ThrowawayCluster;
  try {
    standbyCluster = await startThrowawayCluster({ standbyOf: primary });
  } catch (error) {
    await primary.stop();
    throw error;
  }
  const standby: ThrowawayStandby = Object.assign(standbyCluster, {
    promote: async () => {
      const pgCtl = join(standbyCluster.binDir, 'pg_ctl');
      await runCommand(pgCtl, ['promote', '-D', standbyCluster.dataDir, '-w', '-t', '30', '-s'], { osUser: standbyCluster.osUser });
      await waitUntil(
        async () => (await standbyCluster.psql('SELECT pg_is_in_recovery()')) === 'f',
        10_000,
        'the promoted standby to leave recovery',
      );
    },
  });
  let stopped: Promise<void> | undefined;
  return {
    primary,
    standby,
    stop: () =>
      (stopped ??= Promise.all([standby.stop(), primary.stop()]).then(
        () => undefined,
        () => undefined,
      )),
  };
}

/**
 * Starts a {@link ReplicatedCluster} before the tests of the calling spec file and removes it
 * after them; the returned function gives it to the tests.
 *
 * @example
 * const cluster = useReplicatedCluster();
 * it('...', async () => { const { primary, standby } = cluster(); ... });
 */
export function useReplicatedCluster(): () => ReplicatedCluster {
  let cluster: ReplicatedCluster | undefined;
  beforeAll(async () => {
    cluster = await startReplicatedCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  return () => {
    if (cluster === undefined) throw new Error('the replicated cluster is not running (it starts in beforeAll)');
    return cluster;
  };
}

/**
 * Resolves once the standby has replayed everything the primary has written so far, so that
 * a row committed on the primary is visible on the standby.
 */
export async function waitForReplay(cluster: ReplicatedCluster, timeoutMs = 10_000): Promise<void> {
  const target = await cluster.primary.psql('SELECT pg_current_wal_lsn()');
  await waitUntil(
    async () => (await cluster.standby.psql(`SELECT pg_last_wal_replay_lsn() >= '${target}'::pg_lsn`)) === 't',
    timeoutMs,
    "the standby to replay the primary's WAL",
  );
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(25);
  }
}
