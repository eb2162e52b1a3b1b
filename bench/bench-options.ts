/**
 * The command line of `npm run bench -- [options]`.
 */
import { clientOrder, workloadNamed, type ClientName, type RunMode, type WorkloadName } from './workloads';

export interface BenchOptions {
  readonly mode: RunMode;
  readonly repetitions: number;
  /** Only these workloads (all when undefined). */
  readonly only: readonly WorkloadName[] | undefined;
  /** Only these clients (all when undefined). */
  readonly clients: readonly ClientName[] | undefined;
  /** Profile one child with `node --cpu-prof` instead of running the benchmark. */
  readonly profile: { readonly workload: WorkloadName; readonly client: ClientName } | undefined;
}

export const usage = `usage: npm run bench -- [options]

  --quick                 the one-minute version: fewer rows and queries, 3 repetitions
  --reps N                repetitions (default 5; 3 with --quick)
  --only w1,w2            only these workloads (stream-push, stream-backpressured, stream-raw,
                          fetch-all, point-seq, point-concurrent, point-batch, point-pooled,
                          copy-in, notify)
  --clients c1,c2         only these clients (rxpg, pg, postgres, bare-socket, pgbench, psql)
  --profile WORKLOAD:CLIENT
                          run that one measurement under node --cpu-prof and print the
                          functions with the most self time (nothing is written to bench/results)

Full, unfiltered runs write bench/results/<timestamp>.json and latest.{json,svg,md};
--quick and filtered runs write bench/results/<timestamp>-quick.json or -partial.json only.`;

/** Parses the arguments; throws an Error with the usage for anything unknown. */
export function parseBenchOptions(args: readonly string[]): BenchOptions {
  let quick = false;
  let repetitions: number | undefined;
  let only: WorkloadName[] | undefined;
  let clients: ClientName[] | undefined;
  let profile: BenchOptions['profile'];
  const queue = args.flatMap((arg) =>
    arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg],
  );
  const value = (flag: string): string => {
    const next = queue.shift();
    if (next === undefined || next.startsWith('--')) throw new Error(`${flag} needs a value\n\n${usage}`);
    return next;
  };
  while (queue.length > 0) {
    const arg = queue.shift() as string;
    switch (arg) {
      case '--quick':
        quick = true;
        break;
      case '--reps': {
        repetitions = Number(value(arg));
        if (!Number.isInteger(repetitions) || repetitions < 1) throw new Error(`--reps must be a positive integer\n\n${usage}`);
        break;
      }
      case '--only':
        only = value(arg)
          .split(',')
          .map((name) => workloadNamed(name).name);
        break;
      case '--clients':
        clients = value(arg).split(',').map(clientNamed);
        break;
      case '--profile': {
        const [workload, client] = value(arg).split(':');
        profile = { workload: workloadNamed(workload ?? '').name, client: clientNamed(client ?? '') };
        break;
      }
      case '--help':
      case '-h':
        throw new Error(usage);
      default:
        throw new Error(`unknown argument ${JSON.stringify(arg)}\n\n${usage}`);
    }
  }
  return { mode: quick ? 'quick' : 'full', repetitions: repetitions ?? (quick ? 3 : 5), only, clients, profile };
}

function clientNamed(name: string): ClientName {
  const found = clientOrder.find((client) => client === name);
  if (found === undefined) throw new Error(`unknown client ${JSON.stringify(name)}; known: ${clientOrder.join(', ')}`);
  return found;
}
