/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and lists the functions with the
 * most self time, for `npm run bench -- --profile WORKLOAD:CLIENT`.
 */
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** One function's share of the profile. */
export interface SelfTime {
  readonly name: string;
  /** File and 1-based line, relative to the repository where possible. */
  readonly location: string;
  readonly selfMs: number;
  readonly percent: number;
}

/**
 * The `limit` functions with the most self time (samples attributed to the function itself,
 * not its callees), merged across the call tree by name and location.
 */
export async function topSelfTime(profileFile: string, repoRoot: string, limit = 25): Promise<{ totalMs: number; top: SelfTime[] }> {
  const profile = JSON.parse(await readFile(profileFile, 'utf8')) as CpuProfile;
  const keyOf = new Map<number, string>();
  const frames = new Map<string, { name: string; location: string }>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.startsWith('file://') ? relative(repoRoot, new URL(url).pathname) : url;
    const location = file === '' ? '' : `${file}:${lineNumber + 1}`;
    const key = `${functionName}@${location}`;
    keyOf.set(node.id, key);
    frames.set(key, { name: functionName || '(anonymous)', location });
  }
  const selfMicros = new Map<string, number>();
  let totalMicros = 0;
  profile.samples.forEach((nodeId, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    const key = keyOf.get(nodeId) ?? '(unknown)';
    selfMicros.set(key, (selfMicros.get(key) ?? 0) + delta);
    totalMicros += delta;
  });
  const top = [...selfMicros.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, micros]) => {
      const frame = frames.get(key) ?? { name: key, location: '' };
      return { name: frame.name, location: frame.location, selfMs: micros / 1000, percent: (micros / Math.max(1, totalMicros)) * 100 };
    });
  return { totalMs: totalMicros / 1000, top };
}

/** The summary as aligned text lines. */
export function formatSelfTime(summary: { totalMs: number; top: readonly SelfTime[] }): string {
  const lines = summary.top.map(
    (entry) => `${entry.selfMs.toFixed(0).padStart(7)} ms ${entry.percent.toFixed(1).padStart(5)} %  ${entry.name}  ${entry.location}`,
  );
  return [`self time, ${summary.totalMs.toFixed(0)} ms sampled in total (warm-up included):`, ...lines].join('\n');
}
