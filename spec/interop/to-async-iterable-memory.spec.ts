import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { toAsyncIterable } from '../../lib/interop';
import { SyntheticPushbackSource } from './helpers/synthetic-pushback-source';

const MB = 1024 * 1024;

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

describe('toAsyncIterable memory', () => {
  it('streams 2,000,000 values through a consumer that yields every 1000 values in constant memory', async () => {
    const count = 2_000_000;
    const highWaterMark = 1000;
    const chunkSize = 256;
    // `sync`: the source floods its consumer unless pushback pauses it, so only pushback keeps
    // memory bounded (buffering all 2,000,000 objects would take well over 100 MB).
    const synthetic = new SyntheticPushbackSource({
      count,
      chunkSize,
      schedule: 'sync',
      valueAt: (index) => ({ index, label: `row ${index}` }),
    });
    collectGarbage();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let received = 0;
    let inOrder = true;
    for await (const row of toAsyncIterable(synthetic.source, { highWaterMark })) {
      synthetic.run.acknowledge();
      if (row.index !== received) inOrder = false;
      received += 1;
      if (received % 1000 === 0) {
        await nextMacrotask();
        if (received % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
      }
    }
    peak = Math.max(peak, process.memoryUsage().rss);

    expect(received).toBe(count);
    expect(inOrder).toBe(true);
    const run = synthetic.run;
    expect(run.pauses).toBeGreaterThan(count / (highWaterMark + chunkSize));
    expect(run.maxOutstanding).toBeLessThanOrEqual(highWaterMark + chunkSize);
    expect((peak - baseline) / MB).toBeLessThan(64);
  }, 120_000);
});
