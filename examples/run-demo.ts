import { startThrowawayCluster } from '../spec/harness/throwaway-cluster';
import { main } from './demo';

/**
 * `npm run demo`: runs examples/demo.ts against a throwaway PostgreSQL and always stops it —
 * on success, on failure and on Ctrl-C. Exits non-zero when the demo fails.
 */
async function runDemo(): Promise<void> {
  const cluster = await startThrowawayCluster({});
  const interrupt = (signal: NodeJS.Signals) => {
    console.error(`${signal}: stopping the demo's PostgreSQL`);
    void cluster.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    await main({ host: cluster.host, port: cluster.port, user: cluster.superuser, database: cluster.database });
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await cluster.stop();
  }
}

runDemo().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
