/**
 * Issue 6's targets, evaluated on one run: throughput ratios paired by repetition (see
 * `pairedRatio`), peak RSS medians. The benchmark reports them; it does not fail when one is
 * missed.
 */
import { pairedRatio, type ClientResult, type TargetResult, type WorkloadResult } from './report';
import type { ClientName } from './workloads';

function find(workloads: readonly WorkloadResult[], workload: string, client: ClientName): ClientResult | undefined {
  const result = workloads.find((entry) => entry.name === workload)?.results.find((entry) => entry.client === client);
  return result?.status === 'ok' ? result : undefined;
}

/** `rxpg ≥ factor × the best of others`, by throughput paired per repetition (see `pairedRatio`). */
function atLeast(
  workload: string,
  target: string,
  rxpg: ClientResult | undefined,
  others: readonly (ClientResult | undefined)[],
  factor: number,
): TargetResult {
  const present = others.filter((other): other is ClientResult => other !== undefined);
  const ratio =
    rxpg === undefined
      ? null
      : pairedRatio(
          rxpg.samples,
          present.map((other) => other.samples),
        );
  if (ratio === null) return { workload, target, measured: 'not measured', met: null };
  const against = present.map((other) => other.label).join(' / ');
  return {
    workload,
    target,
    measured: `${ratio.toFixed(2)} × ${present.length > 1 ? `the better of ${against}` : against}`,
    met: ratio >= factor,
  };
}

/** Evaluates every target of issue 6 that this run measured. */
export function evaluateTargets(workloads: readonly WorkloadResult[]): TargetResult[] {
  const rxpg = (workload: string, client: ClientName = 'rxpg') => find(workloads, workload, client);
  const peers = (workload: string) => [find(workloads, workload, 'pg'), find(workloads, workload, 'postgres')];
  const targets: TargetResult[] = [
    atLeast('stream-push', '≥ 1.4 × the faster peer', rxpg('stream-push'), peers('stream-push'), 1.4),
    atLeast('stream-push', '≥ 90 % of the server alone', rxpg('stream-push'), [rxpg('stream-push', 'server-alone')], 0.9),
    atLeast('stream-raw', '≥ 85 % of the bare-socket reader', rxpg('stream-raw'), [rxpg('stream-raw', 'bare-socket')], 0.85),
    atLeast('stream-backpressured', '≥ 1.5 × the faster peer', rxpg('stream-backpressured'), peers('stream-backpressured'), 1.5),
    rssNoHigherThanPeers(workloads),
    atLeast('fetch-all', '≥ 1.3 × the faster peer', rxpg('fetch-all'), peers('fetch-all'), 1.3),
    atLeast('point-seq', '≥ 90 % of pgbench -M prepared -c 1', rxpg('point-seq'), [rxpg('point-seq', 'pgbench')], 0.9),
    atLeast('point-concurrent', '≥ 2 × postgres.js', rxpg('point-concurrent'), [rxpg('point-concurrent', 'postgres')], 2),
    atLeast('point-concurrent', '≥ 50 % of the bare socket', rxpg('point-concurrent'), [rxpg('point-concurrent', 'bare-socket')], 0.5),
    atLeast('point-batch', '≥ 70 % of the bare socket', rxpg('point-batch'), [rxpg('point-batch', 'bare-socket')], 0.7),
    atLeast('point-pooled', '≥ 1.5 × the faster peer (pools of 10)', rxpg('point-pooled'), peers('point-pooled'), 1.5),
    atLeast('copy-in', '≥ psql \\copy', rxpg('copy-in'), [rxpg('copy-in', 'psql')], 1),
    copyInRss(rxpg('copy-in')),
    atLeast('notify', '≥ 1.5 × the faster peer', rxpg('notify'), peers('notify'), 1.5),
  ];
  const measured = new Set(workloads.map((workload) => workload.name));
  return targets.filter((target) => measured.has(target.workload));
}

/** stream-backpressured: rxpg's peak RSS no higher than the lower of the peers'. */
function rssNoHigherThanPeers(workloads: readonly WorkloadResult[]): TargetResult {
  const workload = 'stream-backpressured';
  const target = 'peak RSS ≤ the peers’';
  const own = find(workloads, workload, 'rxpg')?.medianMaxRssMb;
  const peerRss = [find(workloads, workload, 'pg'), find(workloads, workload, 'postgres')]
    .map((result) => result?.medianMaxRssMb)
    .filter((value): value is number => value != null);
  if (own == null || peerRss.length === 0) return { workload, target, measured: 'not measured', met: null };
  const lowest = Math.min(...peerRss);
  return { workload, target, measured: `${own.toFixed(1)} MB vs ${lowest.toFixed(1)} MB`, met: own <= lowest };
}

/** copy-in: rxpg's peak RSS under 120 MB. */
function copyInRss(result: ClientResult | undefined): TargetResult {
  const workload = 'copy-in';
  const target = 'peak RSS < 120 MB';
  const rss = result?.medianMaxRssMb;
  if (rss == null) return { workload, target, measured: 'not measured', met: null };
  return { workload, target, measured: `${rss.toFixed(0)} MB`, met: rss < 120 };
}
