import { EMPTY, Observable, defer, from, interval, of, throwError } from 'rxjs';
import { setImmediate as nextMacrotask, setTimeout as sleep } from 'node:timers/promises';
import { toAsyncIterable } from '../../lib/interop';
import { SyntheticPushbackSource } from './helpers/synthetic-pushback-source';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const values: T[] = [];
  for await (const value of iterable) values.push(value);
  return values;
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}

describe('toAsyncIterable', () => {
  it('delivers every value in order', async () => {
    const synthetic = new SyntheticPushbackSource({ count: 5000, chunkSize: 64 });
    expect(await collect(toAsyncIterable(synthetic.source, { highWaterMark: 100 }))).toEqual(range(5000));
    expect(synthetic.run.finished).toBe('complete');
    expect(synthetic.runs).toHaveLength(1);
  });

  it('works with the default high-water mark and a source that floods synchronously', async () => {
    const synthetic = new SyntheticPushbackSource({ count: 10_000, chunkSize: 100, schedule: 'sync' });
    expect(await collect(toAsyncIterable(synthetic.source))).toEqual(range(10_000));
  });

  it('pauses the source for a slow consumer and keeps the buffer under highWaterMark + one chunk', async () => {
    const highWaterMark = 32;
    const chunkSize = 10;
    const synthetic = new SyntheticPushbackSource({ count: 300, chunkSize });
    const seen: number[] = [];
    for await (const value of toAsyncIterable(synthetic.source, { highWaterMark })) {
      synthetic.run.acknowledge();
      seen.push(value);
      await sleep(0);
    }
    expect(seen).toEqual(range(300));
    const run = synthetic.run;
    expect(run.pauses).toBeGreaterThan(0);
    expect(run.maxOutstanding).toBeGreaterThanOrEqual(highWaterMark);
    expect(run.maxOutstanding).toBeLessThanOrEqual(highWaterMark + chunkSize);
  });

  it('bounds the buffer even when the source floods synchronously', async () => {
    const highWaterMark = 50;
    const chunkSize = 7;
    const synthetic = new SyntheticPushbackSource({ count: 2000, chunkSize, schedule: 'sync' });
    let index = 0;
    for await (const value of toAsyncIterable(synthetic.source, { highWaterMark })) {
      synthetic.run.acknowledge();
      expect(value).toBe(index++);
      if (index % 20 === 0) await nextMacrotask();
    }
    expect(index).toBe(2000);
    expect(synthetic.run.pauses).toBeGreaterThan(10);
    expect(synthetic.run.maxOutstanding).toBeLessThanOrEqual(highWaterMark + chunkSize);
  });

  it('resumes only once the buffer is drained to half the mark', async () => {
    const synthetic = new SyntheticPushbackSource({ count: 100, chunkSize: 10, schedule: 'sync' });
    const iterator = toAsyncIterable(synthetic.source, { highWaterMark: 20 })[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: 0 });
    // Two chunks arrived synchronously on subscribe, then the source paused.
    expect(synthetic.run.emitted).toBe(20);
    expect(synthetic.run.waiting).toBe(true);
    for (let value = 1; value < 9; value += 1) expect(await iterator.next()).toEqual({ done: false, value });
    await nextMacrotask();
    expect(synthetic.run.emitted).toBe(20); // 11 buffered: still above half the mark
    expect(synthetic.run.waiting).toBe(true);
    expect(await iterator.next()).toEqual({ done: false, value: 9 }); // 10 buffered: half the mark
    await nextMacrotask();
    expect(synthetic.run.emitted).toBeGreaterThan(20);
    await iterator.return?.();
  });

  it('works with highWaterMark 1', async () => {
    const synthetic = new SyntheticPushbackSource({ count: 50, chunkSize: 3, schedule: 'sync' });
    const seen: number[] = [];
    for await (const value of toAsyncIterable(synthetic.source, { highWaterMark: 1 })) {
      synthetic.run.acknowledge();
      seen.push(value);
    }
    expect(seen).toEqual(range(50));
    expect(synthetic.run.pauses).toBeGreaterThan(0);
    expect(synthetic.run.maxOutstanding).toBeLessThanOrEqual(1 + 3);
  });

  it('delivers an error after every value that arrived before it', async () => {
    const failure = new Error('boom');
    const synthetic = new SyntheticPushbackSource({ count: 1000, chunkSize: 10, failAt: 255, error: failure });
    const seen: number[] = [];
    const iterate = async (): Promise<void> => {
      for await (const value of toAsyncIterable(synthetic.source, { highWaterMark: 1000 })) {
        seen.push(value);
        if (value === 0) await sleep(20); // let the rest, and the error, arrive meanwhile
      }
    };
    await expect(iterate()).rejects.toBe(failure);
    expect(seen).toEqual(range(255));
    expect(synthetic.run.finished).toBe('error');
  });

  it('rejects a waiting next() when the source errors, and is done afterwards', async () => {
    const failure = new Error('late');
    const iterator = toAsyncIterable(defer(() => sleep(5).then(() => Promise.reject(failure))))[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toBe(failure);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('reports a PushbackSource that throws on the first next(), not when created', async () => {
    const failure = new Error('factory');
    const iterable = toAsyncIterable<number>(() => {
      throw failure;
    });
    const iterator = iterable[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toBe(failure);
  });

  it('unsubscribes at once on break; nothing more is produced and the pending pushback is released', async () => {
    const synthetic = new SyntheticPushbackSource({ count: 1_000_000, chunkSize: 10 });
    const seen: number[] = [];
    let pausedAtBreak = false;
    for await (const value of toAsyncIterable(synthetic.source, { highWaterMark: 20 })) {
      seen.push(value);
      if (value === 0) await sleep(10); // let the source fill the buffer and pause
      if (value === 5) {
        pausedAtBreak = synthetic.run.waiting;
        break;
      }
    }
    const run = synthetic.run;
    expect(seen).toEqual(range(6));
    expect(pausedAtBreak).toBe(true);
    expect(run.cancelled).toBe(true);
    const emitted = run.emitted;
    expect(emitted).toBeLessThanOrEqual(20 + 10);
    await sleep(20);
    expect(run.emitted).toBe(emitted);
    expect(run.waiting).toBe(false); // the source's wait ended: no hanging pushback promise
  });

  it('return() unsubscribes at once, resolves done with the value and settles a waiting next()', async () => {
    const synthetic = new SyntheticPushbackSource({ count: 100, chunkSize: 10 });
    const iterator = toAsyncIterable(synthetic.source)[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: 0 });
    const result = iterator.return?.('bye');
    expect(synthetic.run.cancelled).toBe(true);
    expect(await result).toEqual({ done: true, value: 'bye' });
    expect(await iterator.next()).toEqual({ done: true, value: undefined });

    const never = toAsyncIterable(new Observable<number>(() => undefined))[Symbol.asyncIterator]();
    const waiting = never.next();
    await never.return?.();
    expect(await waiting).toEqual({ done: true, value: undefined });
  });

  it('throw() unsubscribes at once and rejects with the error', async () => {
    const synthetic = new SyntheticPushbackSource({ count: 100, chunkSize: 10 });
    const iterator = toAsyncIterable(synthetic.source)[Symbol.asyncIterator]();
    await iterator.next();
    const reason = new Error('stop');
    await expect(iterator.throw?.(reason)).rejects.toBe(reason);
    expect(synthetic.run.cancelled).toBe(true);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('is cold: nothing is subscribed until the first next(), and return() before it subscribes nothing', async () => {
    const synthetic = new SyntheticPushbackSource({ count: 3, chunkSize: 1 });
    const iterable = toAsyncIterable(synthetic.source);
    const iterator = iterable[Symbol.asyncIterator]();
    expect(synthetic.runs).toHaveLength(0);
    await iterator.return?.();
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    expect(synthetic.runs).toHaveLength(0);
  });

  it('runs an independent execution for each iteration', async () => {
    const synthetic = new SyntheticPushbackSource({ count: 200, chunkSize: 9 });
    const iterable = toAsyncIterable(synthetic.source, { highWaterMark: 10 });
    const [first, second] = await Promise.all([collect(iterable), collect(iterable)]);
    expect(first).toEqual(range(200));
    expect(second).toEqual(range(200));
    expect(synthetic.runs).toHaveLength(2);
    expect(synthetic.runs.every((run) => run.finished === 'complete')).toBe(true);

    const third = iterable[Symbol.asyncIterator]();
    expect(await third.next()).toEqual({ done: false, value: 0 });
    expect(synthetic.runs).toHaveLength(3);
    await third.return?.();
  });

  it('handles a source that completes synchronously with no values', async () => {
    expect(await collect(toAsyncIterable(EMPTY))).toEqual([]);
    expect(await collect(toAsyncIterable(() => EMPTY))).toEqual([]);
    const synthetic = new SyntheticPushbackSource({ count: 0, chunkSize: 10 });
    expect(await collect(toAsyncIterable(synthetic.source))).toEqual([]);
    expect(synthetic.run.finished).toBe('complete');
  });

  it('handles a source that errors synchronously with no values', async () => {
    const failure = new Error('at once');
    await expect(collect(toAsyncIterable(throwError(() => failure)))).rejects.toBe(failure);
    const synthetic = new SyntheticPushbackSource({ count: 10, chunkSize: 10, failAt: 0, error: failure });
    await expect(collect(toAsyncIterable(synthetic.source))).rejects.toBe(failure);
  });

  it('accepts a plain Observable (unbounded buffering) and unsubscribes it on break', async () => {
    expect(await collect(toAsyncIterable(of(1, 2, 3)))).toEqual([1, 2, 3]);
    expect(await collect(toAsyncIterable(from(range(5000)), { highWaterMark: 1 }))).toEqual(range(5000));

    let unsubscribed = false;
    const ticking = new Observable<number>((subscriber) => {
      const subscription = interval(1).subscribe(subscriber);
      return () => {
        unsubscribed = true;
        subscription.unsubscribe();
      };
    });
    const seen: number[] = [];
    for await (const value of toAsyncIterable(ticking)) {
      seen.push(value);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([0, 1, 2]);
    expect(unsubscribed).toBe(true);
  });

  it('lets concurrent next() calls resolve in order', async () => {
    const synthetic = new SyntheticPushbackSource({ count: 3, chunkSize: 1 });
    const iterator = toAsyncIterable(synthetic.source)[Symbol.asyncIterator]();
    const results = await Promise.all([iterator.next(), iterator.next(), iterator.next(), iterator.next(), iterator.next()]);
    expect(results).toEqual([
      { done: false, value: 0 },
      { done: false, value: 1 },
      { done: false, value: 2 },
      { done: true, value: undefined },
      { done: true, value: undefined },
    ]);
  });

  it('validates highWaterMark and the source when created', () => {
    for (const highWaterMark of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10', null]) {
      expect(() => toAsyncIterable(EMPTY, { highWaterMark: highWaterMark as number })).toThrow(RangeError);
    }
    expect(() => toAsyncIterable(EMPTY, { highWaterMark: 0 })).toThrow(/highWaterMark must be an integer ≥ 1, got 0/);
    expect(() => toAsyncIterable(EMPTY, { highWaterMark: 1 })).not.toThrow();
    expect(() => toAsyncIterable(EMPTY, {})).not.toThrow();
    expect(() => toAsyncIterable([1, 2] as unknown as Observable<number>)).toThrow(TypeError);
  });
});
