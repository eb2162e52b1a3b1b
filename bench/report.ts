/**
 * The benchmark report: the JSON written under bench/results/, how it is computed from the
 * raw samples (medians, throughput, ratios), and its renderings as a console table and as a
 * Markdown table for the README.
 */
import { clientOrder, type ClientName, type LibraryName, type RunMode, type WorkloadSpec } from './workloads';

/** One measured run of one client. */
export interface Sample {
  readonly repetition: number;
  readonly elapsedMs: number;
  readonly cpuMs: number | null;
  readonly maxRssMb: number | null;
}

/** One row of the table: a client in a workload, over all repetitions. */
export interface ClientResult {
  readonly client: ClientName;
  readonly label: string;
  readonly kind: 'library' | 'limit';
  readonly status: 'ok' | 'unavailable';
  /** Why the client could not run the workload (status `unavailable`). */
  readonly reason?: string;
  readonly samples: readonly Sample[];
  readonly medianMs: number | null;
  /** Units per second at the median time. */
  readonly throughput: number | null;
  readonly medianCpuMs: number | null;
  /** Median CPU time as a percentage of the median wall time (100 = one core busy). */
  readonly cpuPercent: number | null;
  readonly medianMaxRssMb: number | null;
  /** (slowest − fastest) / median, in percent: how noisy this row was. */
  readonly spreadPercent: number | null;
  /**
   * Throughput ÷ the better of pg and postgres.js, paired by repetition: the median over
   * repetitions of this client's throughput ÷ the better peer's in the same repetition (the
   * clients of one repetition ran back to back, so machine-wide drift cancels out).
   */
  readonly ratioToBestPeer: number | null;
  /** Throughput ÷ the workload's limit row, paired by repetition in the same way. */
  readonly ratioToLimit: number | null;
}

export interface WorkloadResult {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly size: number;
  readonly warmupSize: number;
  readonly results: readonly ClientResult[];
}

/** One of issue 6's targets, evaluated on this run. */
export interface TargetResult {
  readonly workload: string;
  readonly target: string;
  /** What was measured, in words (e.g. "1.12 × postgres"). */
  readonly measured: string;
  /** null when it could not be evaluated (a client was unavailable). */
  readonly met: boolean | null;
}

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGb: number;
  readonly os: string;
  readonly node: string;
  readonly postgres: string;
}

export interface BenchReport {
  readonly schema: 1;
  readonly mode: RunMode;
  /** True when `--only` / `--clients` left parts out. */
  readonly partial: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly repetitions: number;
  readonly machine: Machine;
  /** Client library versions, and rxpg's git commit. */
  readonly versions: Readonly<Record<string, string>>;
  readonly serverSettings: Readonly<Record<string, string>>;
  /** Workload knobs that shape the numbers (chunk sizes, buffer sizes). */
  readonly workloadSettings: Readonly<Record<string, number>>;
  readonly workloads: readonly WorkloadResult[];
  readonly targets: readonly TargetResult[];
}

/** What the orchestrator collected for one workload and client. */
export interface CollectedRow {
  readonly client: ClientName;
  readonly samples: Sample[];
  unavailable?: string;
}

const peers: readonly LibraryName[] = ['pg', 'postgres'];

/** The middle value (mean of the two middle ones for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function nonNull(values: readonly (number | null)[]): number[] {
  return values.filter((value): value is number => value !== null);
}

/** A client's name in the table, with the companion package or tool mode where it matters. */
export function clientLabel(workload: string, client: ClientName): string {
  switch (client) {
    case 'pg':
      if (workload === 'stream-backpressured') return 'pg + pg-query-stream';
      if (workload === 'copy-in') return 'pg + pg-copy-streams';
      return 'pg';
    case 'postgres':
      return 'postgres.js';
    case 'bare-socket':
      if (workload === 'point-concurrent' || workload === 'point-batch') return 'bare socket (one Sync each)';
      if (workload === 'point-seq') return 'bare socket (prepared, one at a time)';
      return 'bare socket (counts DataRows)';
    case 'pgbench':
      return workload === 'notify' ? 'pgbench (send only)' : 'pgbench -M prepared -c 1';
    case 'psql':
      return 'psql \\copy';
    case 'server-alone':
      return 'server alone (aggregate, nothing sent)';
    case 'rxpg':
      return workload === 'stream-raw' ? 'rxpg (raw rows)' : 'rxpg';
  }
}

/** Turns the collected samples of one workload into its table rows. */
export function summariseWorkload(spec: WorkloadSpec, mode: RunMode, collected: readonly CollectedRow[]): WorkloadResult {
  const ordered = [...collected].sort((a, b) => clientOrder.indexOf(a.client) - clientOrder.indexOf(b.client));
  const size = spec.size[mode];
  const base = ordered.map((row) => {
    const medianMs = median(row.samples.map((sample) => sample.elapsedMs));
    const medianCpuMs = median(nonNull(row.samples.map((sample) => sample.cpuMs)));
    const elapsed = row.samples.map((sample) => sample.elapsedMs);
    return {
      row,
      medianMs,
      throughput: medianMs === null ? null : size / (medianMs / 1000),
      medianCpuMs,
      cpuPercent: medianCpuMs === null || medianMs === null ? null : (medianCpuMs / medianMs) * 100,
      medianMaxRssMb: median(nonNull(row.samples.map((sample) => sample.maxRssMb))),
      spreadPercent: medianMs === null ? null : ((Math.max(...elapsed) - Math.min(...elapsed)) / medianMs) * 100,
    };
  });
  const samplesOf = (client: ClientName) => ordered.find((row) => row.client === client)?.samples ?? [];
  const peerSamples = peers.map(samplesOf);
  const limitSamples = spec.limit === undefined ? [] : [samplesOf(spec.limit)];
  return {
    name: spec.name,
    description: spec.description,
    unit: spec.unit,
    size,
    warmupSize: spec.warmupSize[mode],
    results: base.map((entry): ClientResult => {
      const { row } = entry;
      const isLimit = !(['rxpg', 'pg', 'postgres'] as ClientName[]).includes(row.client);
      return {
        client: row.client,
        label: clientLabel(spec.name, row.client),
        kind: isLimit ? 'limit' : 'library',
        status: row.unavailable === undefined ? 'ok' : 'unavailable',
        ...(row.unavailable === undefined ? {} : { reason: row.unavailable }),
        samples: row.samples,
        medianMs: entry.medianMs,
        throughput: entry.throughput,
        medianCpuMs: entry.medianCpuMs,
        cpuPercent: entry.cpuPercent,
        medianMaxRssMb: entry.medianMaxRssMb,
        spreadPercent: entry.spreadPercent,
        ratioToBestPeer: pairedRatio(row.samples, peerSamples),
        ratioToLimit: isLimit ? null : pairedRatio(row.samples, limitSamples),
      };
    }),
  };
}

/**
 * The median over repetitions of (the best of `others` in that repetition ÷ `own`) in time,
 * i.e. own throughput ÷ the best other's; null when no repetition has both.
 */
export function pairedRatio(own: readonly Sample[], others: readonly (readonly Sample[])[]): number | null {
  const ratios: number[] = [];
  for (const sample of own) {
    const times = others.flatMap((samples) =>
      samples.filter((other) => other.repetition === sample.repetition).map((other) => other.elapsedMs),
    );
    if (times.length > 0) ratios.push(Math.min(...times) / sample.elapsedMs);
  }
  return median(ratios);
}

/** 1234567 → "1.23 M", 12345 → "12.3 k". */
export function formatRate(value: number | null): string {
  if (value === null) return 'n/a';
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return value.toFixed(0);
}

function formatMs(value: number | null): string {
  if (value === null) return 'n/a';
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function formatRatio(value: number | null): string {
  return value === null ? '—' : `${value.toFixed(2)}×`;
}

function formatPercent(value: number | null): string {
  return value === null ? '—' : `${value.toFixed(0)} %`;
}

function formatMb(value: number | null): string {
  return value === null ? '—' : value.toFixed(0);
}

const unitAbbreviation: Readonly<Record<string, string>> = { rows: 'rows/s', queries: 'q/s', notifications: 'notif/s' };

/** The cells of one table row, shared by the console and Markdown renderings. */
function cells(workload: WorkloadResult, result: ClientResult, first: boolean): string[] {
  const name = first ? `${workload.name} (${formatRate(workload.size)})` : '';
  if (result.status === 'unavailable') return [name, result.label, 'n/a', 'n/a', '—', '—', '—', '—', '—'];
  return [
    name,
    result.label,
    formatMs(result.medianMs),
    `${formatRate(result.throughput)} ${unitAbbreviation[workload.unit] ?? ''}`.trim(),
    result.medianCpuMs === null ? '—' : `${formatMs(result.medianCpuMs)} (${formatPercent(result.cpuPercent)})`,
    formatMb(result.medianMaxRssMb),
    formatRatio(result.ratioToBestPeer),
    result.ratioToLimit === null ? '—' : formatPercent(result.ratioToLimit * 100),
    result.spreadPercent === null ? '—' : `±${(result.spreadPercent / 2).toFixed(0)} %`,
  ];
}

const headers = [
  'workload (size)',
  'client',
  'median ms',
  'throughput',
  'CPU ms (% of wall)',
  'peak RSS MB',
  'vs best peer',
  'of limit',
  'spread',
];

/** A plain-text table for the console. */
export function consoleTable(report: BenchReport): string {
  const rows = report.workloads.flatMap((workload) => workload.results.map((result, index) => cells(workload, result, index === 0)));
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]) =>
    row.map((cell, column) => (column < 2 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ');
  const output = [line(headers), widths.map((width) => '-'.repeat(width)).join('  ')];
  report.workloads.forEach((workload, index) => {
    if (index > 0) output.push('');
    for (const [position, result] of workload.results.entries()) output.push(line(cells(workload, result, position === 0)));
  });
  return output.join('\n');
}

/** The same table in Markdown, for the README. */
export function markdownTable(report: BenchReport): string {
  const rows = report.workloads.flatMap((workload) => workload.results.map((result, index) => cells(workload, result, index === 0)));
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map((_, column) => (column < 2 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

/** The targets as a short list, for the console and the Markdown file. */
export function targetLines(report: BenchReport): string[] {
  return report.targets.map((target) => {
    const mark = target.met === null ? 'n/a ' : target.met ? 'met ' : 'MISS';
    return `${mark}  ${target.workload}: ${target.target} — measured ${target.measured}`;
  });
}
