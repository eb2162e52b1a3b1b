/**
 * The limit rows run by PostgreSQL's own C tools: `pgbench -M prepared -c 1` for point-seq and
 * for notify (send-only, nobody listens), and `psql \copy` for fetch-all (out to /dev/null)
 * and copy-in (from a file the orchestrator wrote). Their wall time is what the tools report,
 * without their start and connection (pgbench's tps "without initial connection time",
 * psql's `\timing` of the `\copy`); their CPU comes from bash's `times` (the children's user
 * + system time, start and connection included). Peak RSS is not known for them.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { harnessEnv } from '../../spec/harness/run-command';
import { WorkloadUnavailable, type ChildContext } from '../child-protocol';
import type { OpenSession } from '../clients/bench-session';
import { copyTables, streamSql, type WorkloadName } from '../workloads';

/** The pgbench script files the orchestrator writes into the work directory, by workload. */
export const pgbenchScripts: Partial<Record<WorkloadName, { readonly file: string; readonly text: string }>> = {
  'point-seq': { file: 'point-seq.pgbench', text: '\\set n random(1, 1000000)\nSELECT :n::int4 + 1 AS n;\n' },
  notify: { file: 'notify.pgbench', text: "\\set n random(1, 1000000)\nSELECT pg_notify('bench_notify', :n::text);\n" },
};

/** The COPY text file with rows 1..`rows` in the work directory (written by the orchestrator). */
export function copyFileName(workDir: string, rows: number): string {
  return join(workDir, `copy-${rows}.txt`);
}

/** pgbench for point-seq and notify. */
export const openPgbench: OpenSession = async (workload, context) => {
  const script = pgbenchScripts[workload];
  if (script === undefined) throw new WorkloadUnavailable(`pgbench has no ${workload} workload`);
  let last: ToolTiming | undefined;
  return {
    run: async (size) => {
      const args = [
        '-n',
        '-M',
        'prepared',
        '-c',
        '1',
        '-j',
        '1',
        '-t',
        String(size),
        '-f',
        join(context.workDir, script.file),
        ...connectionArgs(context),
        context.database,
      ];
      const result = await runTool(join(context.binDir, 'pgbench'), args);
      const processed = /number of transactions actually processed: (\d+)\/(\d+)/.exec(result.stdout);
      const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(result.stdout);
      const failed = /number of failed transactions: (\d+)/.exec(result.stdout);
      if (processed === null || tps === null) throw new Error(`pgbench printed no result:\n${result.stdout}${result.stderr}`);
      if (failed !== null && failed[1] !== '0') throw new Error(`pgbench: ${failed[1]} failed transactions`);
      last = { elapsedMs: (Number(processed[1]) / Number(tps[1])) * 1000, cpuMs: result.cpuMs };
      return { rows: Number(processed[1]) };
    },
    selfTimed: () => required(last),
    close: async () => undefined,
  };
};

/** psql `\copy` for fetch-all (to /dev/null) and copy-in (from a file). */
export const openPsql: OpenSession = async (workload, context) => {
  let last: ToolTiming | undefined;
  const copy = async (command: string): Promise<number> => {
    const args = ['-X', '-v', 'ON_ERROR_STOP=1', ...connectionArgs(context), '-d', context.database, '-c', '\\timing on', '-c', command];
    const result = await runTool(join(context.binDir, 'psql'), args);
    // \timing times the \copy itself, without psql's start and connection (as for the clients).
    const timing = [...result.stdout.matchAll(/^Time: ([\d.]+) ms/gm)].at(-1);
    const reported = /^COPY (\d+)$/m.exec(result.stdout);
    if (reported === null || timing === undefined) throw new Error(`psql printed no COPY count or time:\n${result.stdout}${result.stderr}`);
    last = { elapsedMs: Number(timing[1]), cpuMs: result.cpuMs };
    return Number(reported[1]);
  };
  switch (workload) {
    case 'fetch-all':
      return {
        run: async (size) => ({ rows: await copy(`\\copy (${streamSql(size)}) TO '/dev/null'`) }),
        selfTimed: () => required(last),
        close: async () => undefined,
      };
    case 'copy-in':
      return {
        run: async (size, phase) => ({
          rows: await copy(`\\copy ${copyTables[phase]} (id, t, v) FROM '${copyFileName(context.workDir, size)}'`),
        }),
        selfTimed: () => required(last),
        close: async () => undefined,
      };
    default:
      throw new WorkloadUnavailable(`psql has no ${workload} workload`);
  }
};

/** A tool's own timing of its last run. */
export interface ToolTiming {
  readonly elapsedMs: number;
  readonly cpuMs: number | null;
}

/** The last timing; throws before the first run. */
export function required(timing: ToolTiming | undefined): ToolTiming {
  if (timing === undefined) throw new Error('the tool has not run yet');
  return timing;
}

/** The libpq command-line options that reach the benchmark server. */
export function connectionArgs(context: ChildContext): string[] {
  return ['-h', context.host, '-p', String(context.port), '-U', context.user];
}

/** What a tool printed, and its CPU time. */
export interface ToolResult {
  readonly stdout: string;
  readonly stderr: string;
  /** The tool's user + system CPU time, from bash's `times`; null if it could not be read. */
  readonly cpuMs: number | null;
}

/**
 * Runs a program under `bash -c '...; times'` so that its CPU time is printed after it (the
 * second line of `times` is the children's user and system time). Rejects with the program's
 * output when it fails.
 */
export function runTool(program: string, args: readonly string[]): Promise<ToolResult> {
  const script = '"$@"; status=$?; times >&2; exit $status';
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script, 'bench-tool', program, ...args], { env: harnessEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const out = Buffer.concat(stdout).toString('utf8');
      const err = Buffer.concat(stderr).toString('utf8');
      if (code !== 0) reject(new Error(`${program} ${args.join(' ')} exited with ${code}:\n${out}${err}`));
      else resolve({ stdout: out, stderr: err, cpuMs: childCpuMs(err) });
    });
  });
}

/** Reads the last `times` line (`0m1.234s 0m0.056s`): the children's user + system time in ms. */
function childCpuMs(stderr: string): number | null {
  const lines = [...stderr.matchAll(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/gm)];
  const children = lines.at(-1);
  if (children === undefined) return null;
  const [, userMin, userSec, sysMin, sysSec] = children.map(Number) as [number, number, number, number, number];
  return (userMin * 60 + userSec + sysMin * 60 + sysSec) * 1000;
}
