import { EMPTY, Observable, of, throwError } from 'rxjs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextMacrotask, setTimeout as sleep } from 'node:timers/promises';
import { toReadable } from '../../lib/interop';
import { SyntheticPushbackSource } from './helpers/synthetic-pushback-source';

function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}

async function collect<T>(readable: Readable): Promise<T[]> {
  const values: T[] = [];
  for await (const value of readable) values.push(value as T);
  return values;
}

/** An object-mode Writable that takes `delay` ms per value and records what it got. */
function slowWritable<T>(delay: number, highWaterMark: number, onValue: (value: T) => void): Writable {
  return new Writable({
    objectMode: true,
    highWaterMark,
    write(value: T, _encoding, callback) {
      onValue(value);
      setTimeout(callback, delay);
    },
  });
}

describe('toReadable', () => {
  it('is an object-mode Readable that works with for await', async () => {
    const synthetic = new SyntheticPushbackSource({ count: 3000, chunkSize: 64 });
    const readable = toReadable(synthetic.source, { highWaterMark: 100 });
    expect(readable.readableObjectMode).toBe(true);
    expect(readable.readableHighWaterMark).toBe(100);
    expect(await collect<number>(readable)).toEqual(range(3000));
    expect(synthetic.run.finished).toBe('complete');
  });

  it('defaults to a high-water mark of 1000', () => {
    expect(toReadable(EMPTY).readableHighWaterMark).toBe(1000);
  });

  it('is cold: subscribes on the first read only', async () => {
    const synthetic = new SyntheticPushbackSource({ count: 5, chunkSize: 2 });
    const readable = toReadable(synthetic.source);
    await sleep(5);
    expect(synthetic.runs).toHaveLength(0);
    expect(await collect<number>(readable)).toEqual(range(5));
    expect(synthetic.runs).toHaveLength(1);
  });

  it('keeps buffering bounded in a pipeline to a slow Writable', async () => {
    const highWaterMark = 20;
    const chunkSize = 8;
    const writableHighWaterMark = 4;
    const synthetic = new SyntheticPushbackSource({ count: 400, chunkSize, schedule: 'sync' });
    const written: number[] = [];
    await pipeline(
      toReadable(synthetic.source, { highWaterMark }),
      slowWritable<number>(0, writableHighWaterMark, (value) => {
        synthetic.run.acknowledge();
        written.push(value);
      }),
    );
    expect(written).toEqual(range(400));
    const run = synthetic.run;
    expect(run.pauses).toBeGreaterThan(5);
    // The Readable's buffer plus one chunk, plus what sits in the Writable's buffer.
    expect(run.maxOutstanding).toBeLessThanOrEqual(highWaterMark + chunkSize + writableHighWaterMark + 1);
  });

  it('unsubscribes at once on destroy(), produces nothing more and releases the pending pushback', async () => {
    const synthetic = new SyntheticPushbackSource({ count: 1_000_000, chunkSize: 10 });
    const readable = toReadable(synthetic.source, { highWaterMark: 20 });
    readable.read(0); // start it
    await sleep(10);
    const run = synthetic.run;
    expect(run.waiting).toBe(true);
    const closed = new Promise((resolve) => readable.once('close', resolve));
    readable.destroy();
    expect(run.cancelled).toBe(true);
    await closed;
    const emitted = run.emitted;
    await sleep(20);
    expect(run.emitted).toBe(emitted);
    expect(run.waiting).toBe(false);
  });

  it('unsubscribes when a pipeline fails downstream', async () => {
    const synthetic = new SyntheticPushbackSource({ count: 1_000_000, chunkSize: 10 });
    const failure = new Error('disk full');
    let writes = 0;
    const failing = new Writable({
      objectMode: true,
      write(_value, _encoding, callback) {
        writes += 1;
        callback(writes === 50 ? failure : null);
      },
    });
    await expect(pipeline(toReadable(synthetic.source, { highWaterMark: 16 }), failing)).rejects.toBe(failure);
    expect(synthetic.run.cancelled).toBe(true);
  });

  it('unsubscribes when a for await loop breaks', async () => {
    const synthetic = new SyntheticPushbackSource({ count: 1_000_000, chunkSize: 10 });
    const readable = toReadable(synthetic.source, { highWaterMark: 16 });
    for await (const value of readable) if (value === 3) break;
    expect(readable.destroyed).toBe(true);
    expect(synthetic.run.cancelled).toBe(true);
  });

  it('destroys the stream with the source error', async () => {
    const failure = new Error('boom');
    const synthetic = new SyntheticPushbackSource({ count: 100, chunkSize: 10, failAt: 42, error: failure });
    const readable = toReadable(synthetic.source);
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const value of readable) seen.push(value);
      })(),
    ).rejects.toBe(failure);
    expect(readable.destroyed).toBe(true);
    expect(readable.errored).toBe(failure);
    expect(seen.length).toBeLessThanOrEqual(42);
    expect(seen).toEqual(range(seen.length));

    await expect(
      pipeline(
        toReadable(throwError(() => failure)),
        slowWritable(0, 1, () => undefined),
      ),
    ).rejects.toBe(failure);
  });

  it('emits error when a PushbackSource throws, on first read', async () => {
    const failure = new Error('factory');
    const readable = toReadable<number>(() => {
      throw failure;
    });
    const errored = new Promise((resolve) => readable.once('error', resolve));
    readable.resume();
    expect(await errored).toBe(failure);
  });

  it('ends on a source that completes synchronously with no values', async () => {
    expect(await collect(toReadable(EMPTY))).toEqual([]);
    const synthetic = new SyntheticPushbackSource({ count: 0, chunkSize: 10 });
    expect(await collect(toReadable(synthetic.source))).toEqual([]);
  });

  it('accepts a plain Observable', async () => {
    expect(await collect(toReadable(of('a', 'b', 'c')))).toEqual(['a', 'b', 'c']);
  });

  it('refuses a null value with a TypeError', async () => {
    const readable = toReadable(of(1, null, 3));
    await expect(collect(readable)).rejects.toThrow(TypeError);
  });

  it('validates highWaterMark and the source when created', () => {
    for (const highWaterMark of [0, -3, 2.5, Number.NaN, '8']) {
      expect(() => toReadable(EMPTY, { highWaterMark: highWaterMark as number })).toThrow(RangeError);
    }
    expect(() => toReadable('rows' as unknown as Observable<string>)).toThrow(TypeError);
  });

  it('pauses while push() returns false and resumes when read again', async () => {
    const synthetic = new SyntheticPushbackSource({ count: 100, chunkSize: 10, schedule: 'sync' });
    const readable = toReadable<number>(synthetic.source, { highWaterMark: 10 });
    readable.read(0);
    await nextMacrotask();
    expect(synthetic.run.emitted).toBe(10);
    expect(synthetic.run.waiting).toBe(true);
    expect(readable.read()).toBe(0);
    await nextMacrotask();
    expect(synthetic.run.emitted).toBe(20);
    readable.destroy();
  });
});
