/**
 * The "server alone" limit of the stream workloads: what the server needs to produce the
 * stream's rows when nothing is sent. psql runs one aggregate over the same SELECT — scan,
 * filter and the text output function of every column (`col::text`, as for a DataRow), but
 * one result row instead of a million DataRows — and its `\timing` (the round trip seen from
 * the client, without psql's start and connection) is the row's time; the throughput is the
 * stream's row count divided by it. A client that reaches it streams as fast as the server
 * can produce rows.
 *
 * Parallel query is switched off for the aggregate: its partial aggregates would split the
 * scan over several backends, which a stream of DataRows over one connection never gets
 * (the planner keeps a SELECT that returns every row serial).
 */
import { join } from 'node:path';
import { WorkloadUnavailable } from '../child-protocol';
import type { OpenSession } from '../clients/bench-session';
import { streamSql } from '../workloads';
import { connectionArgs, required, runTool, type ToolTiming } from './tool-client';

/** The aggregate over the first `rows` rows of the stream: every column output as text, nothing sent. */
export function serverAloneSql(rows: number): string {
  return (
    'SELECT count(*), sum(i), sum(length(i::text)), sum(length(t::text)), sum(length(ts::text)), sum(length(f::text)) ' +
    `FROM (${streamSql(rows)}) s`
  );
}

/** psql timing the aggregate, for stream-push and stream-raw. */
export const openServerAlone: OpenSession = async (workload, context) => {
  if (workload !== 'stream-push' && workload !== 'stream-raw') throw new WorkloadUnavailable(`server alone has no ${workload} workload`);
  let last: ToolTiming | undefined;
  return {
    run: async (size) => {
      const args = [
        '-X',
        '-q',
        '-A',
        '-t',
        '-F',
        ' ',
        '-v',
        'ON_ERROR_STOP=1',
        ...connectionArgs(context),
        '-d',
        context.database,
        '-c',
        'SET max_parallel_workers_per_gather = 0',
        '-c',
        '\\timing on',
        '-c',
        serverAloneSql(size),
      ];
      const result = await runTool(join(context.binDir, 'psql'), args);
      const timing = [...result.stdout.matchAll(/^Time: ([\d.]+) ms/gm)].at(-1);
      const totals = /^(\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$/m.exec(result.stdout);
      if (totals === null || timing === undefined) throw new Error(`psql printed no totals or time:\n${result.stdout}${result.stderr}`);
      last = { elapsedMs: Number(timing[1]), cpuMs: result.cpuMs };
      const [rows, sumI, lengthI, lengthT, lengthTs, lengthF] = totals.slice(1).map(Number) as [
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      return { rows, sumI, lengthI, lengthT, lengthTs, lengthF };
    },
    selfTimed: () => required(last),
    close: async () => undefined,
  };
};
