/**
 * `npm run bench`: starts a throwaway PostgreSQL tuned for benchmarking, loads the tables,
 * and runs every workload for rxpg, pg and postgres.js (plus the limit rows) — each
 * measurement in a fresh child process after a warm-up, repetitions interleaved round-robin
 * over the clients, every answer verified. Prints the table and the targets of issue 6, and
 * writes the JSON, a Markdown table and an SVG chart under bench/results/.
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem, tmpdir, type as osType, release } from 'node:os';
import { join, resolve } from 'node:path';
import type { ThrowawayCluster } from '../spec/harness/throwaway-cluster';
import { benchServerSettings, ExpectedChecksums, prepareServer, startBenchServer, truncateCopyTables } from './bench-server';
import { parseBenchOptions, type BenchOptions } from './bench-options';
import { renderChart } from './chart';
import type { ChildContext, MeasurementReply } from './child-protocol';
import { formatSelfTime, topSelfTime } from './profile-summary';
import {
  consoleTable,
  formatRate,
  markdownTable,
  summariseWorkload,
  targetLines,
  type BenchReport,
  type CollectedRow,
  type Machine,
} from './report';
import { evaluateTargets } from './targets';
import { verifyMeasurement } from './verify';
import { copyRowsPerChunk, workloads, type ClientName, type RunMode, type WorkloadSpec } from './workloads';

/** The repository root (this file runs from .rxpg-bench-build/bench/). */
const repoRoot = resolve(__dirname, '..', '..');
const resultsDir = join(repoRoot, 'bench', 'results');
const childScript = join(__dirname, 'measure-child.js');
/** A child that takes longer than this has hung: the run fails. */
const childTimeoutMs = 180_000;

/** The workloads and clients selected by the options, each client list in table order. */
function selectedWorkloads(options: BenchOptions): { spec: WorkloadSpec; clients: ClientName[] }[] {
  return workloads
    .filter((spec) => options.only === undefined || options.only.includes(spec.name))
    .map((spec) => ({
      spec,
      clients: [...spec.libraries, ...(spec.limit === undefined ? [] : [spec.limit]), ...(spec.extraLimits ?? [])].filter(
        (client) => options.clients === undefined || options.clients.includes(client),
      ),
    }))
    .filter((entry) => entry.clients.length > 0);
}

/** Runs one measurement in a fresh child and resolves with its reply. */
function runChild(
  spec: WorkloadSpec,
  client: ClientName,
  context: ChildContext,
  execArgv: readonly string[] = [],
): Promise<MeasurementReply> {
  return new Promise((resolvePromise, reject) => {
    const child = fork(childScript, [spec.name, client, JSON.stringify(context)], {
      execArgv: ['--no-deprecation', ...execArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let reply: MeasurementReply | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${client} in ${spec.name}: the measuring child did not finish within ${childTimeoutMs / 1000} s`));
    }, childTimeoutMs);
    child.on('message', (message) => {
      reply = message as MeasurementReply;
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (reply !== undefined) resolvePromise(reply);
      else reject(new Error(`${client} in ${spec.name}: the measuring child exited (${signal ?? `status ${code}`}) without a result`));
    });
  });
}

/** `[a, b, c]` rotated left by `by`: the round-robin order of one repetition. */
function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

function contextFor(cluster: ThrowawayCluster, spec: WorkloadSpec, mode: RunMode, workDir: string): ChildContext {
  return {
    host: cluster.host,
    port: cluster.port,
    user: cluster.superuser,
    database: cluster.database,
    size: spec.size[mode],
    warmupSize: spec.warmupSize[mode],
    binDir: cluster.binDir,
    workDir,
  };
}

/** Runs and verifies one measurement; a failure or a wrong answer throws. */
async function measureOnce(
  cluster: ThrowawayCluster,
  expected: ExpectedChecksums,
  spec: WorkloadSpec,
  client: ClientName,
  context: ChildContext,
  repetition: number,
  execArgv: readonly string[] = [],
): Promise<MeasurementReply> {
  if (spec.name === 'copy-in') await truncateCopyTables(cluster);
  const reply = await runChild(spec, client, context, execArgv);
  if (reply.status === 'failed') throw new Error(`${client} failed in ${spec.name} (repetition ${repetition}):\n${reply.error}`);
  if (reply.status === 'ok') {
    const origin = { workload: spec.name, client, repetition, size: context.size, warmupSize: context.warmupSize };
    await verifyMeasurement(origin, reply, expected, cluster);
  }
  return reply;
}

/** The benchmark proper: every repetition, workload and client; returns the report. */
async function runBenchmark(cluster: ThrowawayCluster, options: BenchOptions, workDir: string): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const selection = selectedWorkloads(options);
  const expected = new ExpectedChecksums(cluster);
  const collected = new Map<string, CollectedRow[]>(
    selection.map(({ spec, clients }) => [spec.name, clients.map((client) => ({ client, samples: [] }))]),
  );

  for (let repetition = 1; repetition <= options.repetitions; repetition++) {
    for (const { spec, clients } of selection) {
      const context = contextFor(cluster, spec, options.mode, workDir);
      const rows = collected.get(spec.name) as CollectedRow[];
      const progress: string[] = [];
      for (const client of rotate(clients, repetition - 1)) {
        const row = rows.find((entry) => entry.client === client) as CollectedRow;
        if (row.unavailable !== undefined) continue;
        const reply = await measureOnce(cluster, expected, spec, client, context, repetition);
        if (reply.status === 'unavailable') {
          row.unavailable = reply.reason;
          progress.push(`${client} n/a`);
        } else if (reply.status === 'ok') {
          row.samples.push({ repetition, elapsedMs: reply.elapsedMs, cpuMs: reply.cpuMs, maxRssMb: reply.maxRssMb });
          progress.push(`${client} ${formatRate(context.size / (reply.elapsedMs / 1000))}/s`);
        }
      }
      console.log(`rep ${repetition}/${options.repetitions}  ${spec.name.padEnd(21)} ${progress.join(', ')}`);
    }
  }

  const results = selection.map(({ spec }) => summariseWorkload(spec, options.mode, collected.get(spec.name) ?? []));
  return {
    schema: 1,
    mode: options.mode,
    partial: options.only !== undefined || options.clients !== undefined,
    startedAt,
    finishedAt: new Date().toISOString(),
    repetitions: options.repetitions,
    machine: machine(cluster),
    versions: await versions(),
    serverSettings: benchServerSettings,
    workloadSettings: { copyRowsPerChunk, streamHighWaterMark: 1000, cursorBatchRows: 1000 },
    workloads: results,
    targets: evaluateTargets(results),
  };
}

/** `--profile WORKLOAD:CLIENT`: one measurement under `node --cpu-prof`, then its top self time. */
async function runProfile(cluster: ThrowawayCluster, options: BenchOptions, workDir: string): Promise<void> {
  const { workload, client } = options.profile as NonNullable<BenchOptions['profile']>;
  const spec = workloads.find((entry) => entry.name === workload) as WorkloadSpec;
  const profileDir = join(repoRoot, '.rxpg-bench-build', 'profiles');
  await rm(profileDir, { recursive: true, force: true });
  await mkdir(profileDir, { recursive: true });
  const context = contextFor(cluster, spec, options.mode, workDir);
  const reply = await measureOnce(cluster, new ExpectedChecksums(cluster), spec, client, context, 1, [
    '--cpu-prof',
    '--cpu-prof-dir',
    profileDir,
  ]);
  if (reply.status !== 'ok') throw new Error(`${client} cannot run ${workload}: ${reply.status === 'unavailable' ? reply.reason : ''}`);
  console.log(
    `${client} ${workload}: ${reply.elapsedMs.toFixed(0)} ms, ${formatRate(context.size / (reply.elapsedMs / 1000))}/s (profiled, so slower than usual)`,
  );
  const files = (await readdir(profileDir)).filter((file) => file.endsWith('.cpuprofile'));
  const file = files[0];
  if (file === undefined) throw new Error(`node --cpu-prof wrote no profile into ${profileDir}`);
  console.log(formatSelfTime(await topSelfTime(join(profileDir, file), repoRoot)));
  console.log(`\nprofile: ${join(profileDir, file)} (open it in Chrome DevTools > Performance)`);
}

function machine(cluster: ThrowawayCluster): Machine {
  const processors = cpus();
  return {
    cpus: processors.length,
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    os: `${osType()} ${release()}`,
    node: process.version,
    postgres: cluster.serverVersion,
  };
}

/** The versions of the clients compared, and rxpg's commit (`-dirty` when lib/ has local changes). */
async function versions(): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  const own = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  result['rxpg'] = `${own.version} (${gitCommit()})`;
  for (const name of ['pg', 'pg-query-stream', 'pg-copy-streams', 'postgres', 'pg-protocol', 'rxjs']) {
    const manifest = JSON.parse(await readFile(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
    result[name] = manifest.version;
  }
  return result;
}

function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit}-dirty` : commit;
  } catch {
    return 'unknown commit';
  }
}

/** What the table's columns mean (printed under it and written under the Markdown table). */
const legend = [
  'median ms: the median wall time of the measured runs (warm-up excluded; connecting excluded; the tools time themselves).',
  'CPU ms: the client process’s user + system CPU during the measured run (more than 100 % of wall: GC and I/O threads).',
  'peak RSS: the child process’s maximum resident set (warm-up included); not known for the C tools.',
  'vs best peer / of limit: throughput ÷ the better of pg and postgres.js / ÷ the limit row, per repetition (the clients of',
  '  one repetition run back to back), median over repetitions. spread: ± half the range of the wall times.',
];

/** The Markdown written next to the JSON: heading, table and targets, ready for the README. */
function markdownReport(report: BenchReport): string {
  const { machine: host } = report;
  return [
    `Run of ${report.finishedAt.slice(0, 16).replace('T', ' ')} UTC (${report.mode}, ${report.repetitions} repetitions), ` +
      `${host.cpus} cores (${host.cpuModel}), ${host.memoryGb} GB, PostgreSQL ${host.postgres}, Node ${host.node}, ` +
      `rxpg ${report.versions['rxpg']}, pg ${report.versions['pg']}, postgres.js ${report.versions['postgres']}. ` +
      'Medians on a shared, noisy machine.',
    '',
    markdownTable(report),
    '',
    ...legend
      .map((line) => line.replace(/^ {2}/, ''))
      .join(' ')
      .split('\n'),
    '',
    'Targets (issue 6):',
    '',
    ...targetLines(report).map((line) => `- ${line}`),
    '',
  ].join('\n');
}

/** Writes the JSON (and, for a full unfiltered run, latest.json / .svg / .md). */
async function writeResults(report: BenchReport): Promise<string[]> {
  await mkdir(resultsDir, { recursive: true });
  const stamp = report.finishedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const complete = report.mode === 'full' && !report.partial;
  const suffix = complete ? '' : report.partial ? '-partial' : '-quick';
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const written = [join(resultsDir, `${stamp}${suffix}.json`)];
  await writeFile(written[0]!, json);
  if (complete) {
    const files: [string, string][] = [
      ['latest.json', json],
      ['latest.svg', renderChart(report)],
      ['latest.md', markdownReport(report)],
    ];
    for (const [name, content] of files) {
      await writeFile(join(resultsDir, name), content);
      written.push(join(resultsDir, name));
    }
  }
  return written;
}

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2));
  const began = Date.now();
  console.log('starting a throwaway PostgreSQL for the benchmark ...');
  const cluster = await startBenchServer();
  const workDir = await mkdtemp(join(tmpdir(), 'rxpg-bench-'));
  const interrupt = (signal: NodeJS.Signals) => {
    console.error(`${signal}: stopping the benchmark's PostgreSQL`);
    void Promise.allSettled([cluster.stop(), rm(workDir, { recursive: true, force: true })]).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const specs = selectedWorkloads(options).map((entry) => entry.spec);
    await prepareServer(cluster, options.profile === undefined ? specs : workloads, options.mode, workDir);
    console.log(
      `PostgreSQL ${cluster.serverVersion} on 127.0.0.1:${cluster.port}, tables loaded (${((Date.now() - began) / 1000).toFixed(1)} s)`,
    );
    if (options.profile !== undefined) {
      await runProfile(cluster, options, workDir);
      return;
    }
    const report = await runBenchmark(cluster, options, workDir);
    console.log(`\n${consoleTable(report)}\n`);
    console.log(`${legend.join('\n')}\n`);
    console.log(['targets (issue 6):', ...targetLines(report).map((line) => `  ${line}`)].join('\n'));
    const written = await writeResults(report);
    console.log(`\nwrote ${written.map((file) => file.slice(repoRoot.length + 1)).join(', ')}`);
    console.log(`total ${((Date.now() - began) / 1000).toFixed(0)} s`);
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await cluster.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.name === 'Error' ? error.message : `${error.name}: ${error.message}`) : error);
  process.exitCode = 1;
});
