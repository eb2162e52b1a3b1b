import { rm } from 'node:fs/promises';
import { settingsFileVariable, takeHarnessState } from './harness-state';

/**
 * Jest globalTeardown: stops the PgBouncers and then the clusters that globalSetup started,
 * and removes the settings file. Everything is stopped even when something fails to stop.
 */
export default async function globalTeardown(): Promise<void> {
  const state = takeHarnessState();
  if (state === undefined) return;
  const bouncerResults = await Promise.allSettled(state.pgbouncers.map((pgbouncer) => pgbouncer.stop()));
  const results = [...bouncerResults, ...(await Promise.allSettled(state.clusters.map((cluster) => cluster.stop())))];
  await rm(state.settingsDir, { recursive: true, force: true });
  delete process.env[settingsFileVariable];
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  if (failures.length > 0) throw new AggregateError(failures, 'stopping the test PostgreSQL clusters failed');
}
