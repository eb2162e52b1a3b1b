/**
 * One measurement in a fresh process: `node measure-child.js <workload> <client> <context JSON>`
 * (forked by the orchestrator). Loads only the client under test, connects, runs the workload
 * once as a warm-up, then once timed, and sends one {@link MeasurementReply} back over IPC:
 * wall time and CPU of the timed run, the process's peak RSS and both runs' checksums.
 */
import { performance } from 'node:perf_hooks';
import { WorkloadUnavailable, type ChildContext, type MeasurementReply } from './child-protocol';
import type { OpenSession } from './clients/bench-session';
import { workloadNamed, type ClientName, type WorkloadName } from './workloads';

/** Imports the adapter of one client, so that a child loads no other library. */
async function loadClient(client: ClientName): Promise<OpenSession> {
  switch (client) {
    case 'rxpg':
      return (await import('./clients/rxpg-client.js')).openSession;
    case 'pg':
      return (await import('./clients/pg-client.js')).openSession;
    case 'postgres':
      return (await import('./clients/postgres-client.js')).openSession;
    case 'bare-socket':
      return (await import('./limits/bare-socket-client.js')).openSession;
    case 'pgbench':
      return (await import('./limits/tool-client.js')).openPgbench;
    case 'psql':
      return (await import('./limits/tool-client.js')).openPsql;
    case 'server-alone':
      return (await import('./limits/server-alone-client.js')).openServerAlone;
  }
}

async function measure(workload: WorkloadName, client: ClientName, context: ChildContext): Promise<MeasurementReply> {
  const open = await loadClient(client);
  const session = await open(workload, context);
  try {
    const warmupChecksum = context.warmupSize > 0 ? await session.run(context.warmupSize, 'warmup') : undefined;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const checksum = await session.run(context.size, 'measure');
    const elapsedMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const maxRssMb = process.resourceUsage().maxRSS / 1024;
    const self = session.selfTimed?.();
    return {
      status: 'ok',
      elapsedMs: self?.elapsedMs ?? elapsedMs,
      cpuMs: self === undefined ? (cpu.user + cpu.system) / 1000 : self.cpuMs,
      maxRssMb: self === undefined ? maxRssMb : null,
      checksum,
      warmupChecksum,
    };
  } finally {
    await session.close();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

async function main(): Promise<void> {
  const [workload, client, contextJson] = process.argv.slice(2);
  if (workload === undefined || client === undefined || contextJson === undefined || process.send === undefined) {
    throw new Error('usage (forked with IPC): measure-child.js <workload> <client> <context JSON>');
  }
  let reply: MeasurementReply;
  try {
    reply = await measure(workloadNamed(workload).name, client as ClientName, JSON.parse(contextJson) as ChildContext);
  } catch (error) {
    reply =
      error instanceof WorkloadUnavailable
        ? { status: 'unavailable', reason: error.message }
        : { status: 'failed', error: describe(error) };
  }
  // Exit right after the reply is sent, whatever a client library left open.
  process.send(reply, () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(describe(error));
  process.exit(1);
});
