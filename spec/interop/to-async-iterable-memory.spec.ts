import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { toAsyncIterable } from '../../lib/interop';
import { MemoryGrowth } from '../helpers/memory';
import { SyntheticPushbackSource } from './helpers/synthetic-pushback-source';

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
    // Sampled after full collections, from 100,000 values on (once V8 has sized its young
    // generation): what is measured is growth with the number of values.
    const growth = new MemoryGrowth();
    let received = 0;
    let inOrder = true;
    for await (const row of toAsyncIterable(synthetic.source, { highWaterMark })) {
      synthetic.run.acknowledge();
      if (row.index !== received) inOrder = false;
      received += 1;
      if (received % 1000 === 0) await nextMacrotask();
      if (received === 100_000) growth.start();
      else if (received % 250_000 === 0) growth.sample();
    }

    expect(received).toBe(count);
    expect(inOrder).toBe(true);
    const run = synthetic.run;
    expect(run.pauses).toBeGreaterThan(count / (highWaterMark + chunkSize));
    expect(run.maxOutstanding).toBeLessThanOrEqual(highWaterMark + chunkSize);
    expect(growth.liveGrowthMb).toBeLessThan(20);
    expect(growth.rssGrowthMb).toBeLessThan(64);
  }, 120_000);
});
