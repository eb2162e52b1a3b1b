// Memory measurements for the "bounded memory" specs. RSS alone measures V8's heuristics as
// much as the code: garbage is collected when V8 decides, and the heap grows meanwhile. A
// forced full collection before each sample makes a sample what is really alive, and keeps
// RSS from drifting with garbage that merely has not been collected yet.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** What is alive after a full garbage collection, and the process's resident set, in MB. */
export interface MemorySample {
  readonly liveMb: number;
  readonly rssMb: number;
}

/** Collects garbage, then samples memory. */
export function sampleMemory(): MemorySample {
  collectGarbage();
  const usage = process.memoryUsage();
  return { liveMb: (usage.heapUsed + usage.external) / 2 ** 20, rssMb: usage.rss / 2 ** 20 };
}

/** Growth from a baseline sample to the highest of later samples. */
export class MemoryGrowth {
  #baseline: MemorySample | undefined;
  #peakLive = 0;
  #peakRss = 0;

  /** Takes the baseline (a sample). */
  start(): void {
    this.#baseline = sampleMemory();
    this.#peakLive = this.#baseline.liveMb;
    this.#peakRss = this.#baseline.rssMb;
  }

  /** Takes a sample and keeps the peaks (ignored before `start`). */
  sample(): void {
    if (this.#baseline === undefined) return;
    const sample = sampleMemory();
    this.#peakLive = Math.max(this.#peakLive, sample.liveMb);
    this.#peakRss = Math.max(this.#peakRss, sample.rssMb);
  }

  /** How far live memory rose above the baseline, in MB. */
  get liveGrowthMb(): number {
    return this.#baseline === undefined ? Number.NaN : this.#peakLive - this.#baseline.liveMb;
  }

  /** How far RSS rose above the baseline, in MB. */
  get rssGrowthMb(): number {
    return this.#baseline === undefined ? Number.NaN : this.#peakRss - this.#baseline.rssMb;
  }

  describe(): string {
    return `live heap growth ${this.liveGrowthMb.toFixed(1)} MB, RSS growth ${this.rssGrowthMb.toFixed(1)} MB`;
  }
}
