/**
 * Last-resort cleanup for child servers, so that a crashed or interrupted test run never
 * leaves one running. Each guard is a synchronous function (only synchronous work can run in
 * an 'exit' handler) that kills what it guards; it runs when the process exits or receives
 * SIGINT, SIGTERM or SIGHUP, unless it was released first by an orderly shutdown.
 */

const guards = new Set<() => void>();
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Registers `kill` to run at process exit or on a terminating signal, after every guard
 * registered later; returns the function that releases it.
 */
export function guardAgainstExit(kill: () => void): () => void {
  if (guards.size === 0) install();
  guards.add(kill);
  return () => {
    if (guards.delete(kill) && guards.size === 0) uninstall();
  };
}

/** Runs the guards newest first, like unwinding: a server is killed before its directories go. */
function runGuards(): void {
  for (const kill of [...guards].reverse()) {
    guards.delete(kill);
    try {
      kill();
    } catch {
      // Best effort: keep killing the others.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runGuards();
  uninstall();
  // Listening for a signal replaced its default action (terminate). Restore it unless
  // someone else handles the signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  process.on('exit', runGuards);
  for (const signal of signals) process.on(signal, onSignal);
}

function uninstall(): void {
  process.off('exit', runGuards);
  for (const signal of signals) process.off(signal, onSignal);
}
