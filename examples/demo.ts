import { ensurePostgresBinaries } from '../spec/harness/postgres-binaries';
import { runPsql } from '../spec/harness/psql';

/** Where the demo connects: a server that trusts `user` (examples/run-demo.ts starts one). */
export interface DemoConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
}

/**
 * The rxpg demo, run by `npm run demo` against a throwaway server.
 *
 * Placeholder until the client API lands: it prints the server version through psql.
 */
export async function main(config: DemoConfig): Promise<void> {
  const binDir = await ensurePostgresBinaries();
  console.log(await runPsql({ ...config, binDir }, 'select version()'));
}
