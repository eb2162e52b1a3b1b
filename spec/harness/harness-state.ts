import type { ThrowawayPgBouncer } from './pgbouncer';
import type { ThrowawayCluster } from './throwaway-cluster';

/**
 * What jest's globalSetup hands to its globalTeardown. Jest runs both in its main process but
 * loads them as separate modules, so the state lives on `globalThis`, under a registry symbol.
 */
export interface HarnessState {
  readonly clusters: readonly ThrowawayCluster[];
  /** Stopped before the clusters they forward to. */
  readonly pgbouncers: readonly ThrowawayPgBouncer[];
  /** Temporary directory holding the settings file named by RXPG_TEST_SETTINGS. */
  readonly settingsDir: string;
}

const stateKey = Symbol.for('rxpg.test-harness.state');

/** The environment variable naming the JSON file with the `TestServers`. */
export const settingsFileVariable = 'RXPG_TEST_SETTINGS';

/** Remembers the harness state for {@link takeHarnessState}. */
export function saveHarnessState(state: HarnessState): void {
  (globalThis as Record<symbol, unknown>)[stateKey] = state;
}

/** Returns the saved harness state, if any, and forgets it (so teardown runs once). */
export function takeHarnessState(): HarnessState | undefined {
  const holder = globalThis as Record<symbol, unknown>;
  const state = holder[stateKey] as HarnessState | undefined;
  delete holder[stateKey];
  return state;
}
