import { Observable, from, take, type ObservableInput } from 'rxjs';
import type { Pushback, PushbackSource } from '../../../lib/interop';

/** How a synthetic source behaves. */
export interface SyntheticSourceOptions<T> {
  /** How many values it emits. */
  readonly count: number;
  /** How many values it emits synchronously as one "socket chunk" before calling pushback. */
  readonly chunkSize: number;
  /** The value at an index (default: the index). */
  readonly valueAt?: (index: number) => T;
  /** Error after emitting this many values (0 ≤ failAt ≤ count). */
  readonly failAt?: number;
  /** The error it fails with (default `new Error('synthetic failure')`). */
  readonly error?: unknown;
  /**
   * How it reaches the next chunk when pushback says "go on": `immediate` (default) waits for a
   * `setImmediate`, as the next socket `data` event would arrive; `sync` goes on at once, a
   * source that floods its consumer unless paused.
   */
  readonly schedule?: 'immediate' | 'sync';
}

/** What one execution (one subscription) of a synthetic source did. */
export class SyntheticRun {
  /** Values emitted so far. */
  emitted = 0;
  /** Values the test has acknowledged as consumed (see `acknowledge`). */
  acknowledged = 0;
  /** The largest `emitted - acknowledged` seen after a chunk: the values buffered downstream. */
  maxOutstanding = 0;
  /** Chunks after which pushback returned something pending. */
  pauses = 0;
  /** True while the source waits on what pushback returned. */
  waiting = false;
  /** How the source ended by itself, if it did. */
  finished: 'complete' | 'error' | undefined;
  /** True when it was unsubscribed before it ended by itself. */
  cancelled = false;

  /** Records that the consumer has taken `count` more values. */
  acknowledge(count = 1): void {
    this.acknowledged += count;
  }

  noteChunk(): void {
    this.maxOutstanding = Math.max(this.maxOutstanding, this.emitted - this.acknowledged);
  }
}

/**
 * A PushbackSource that mimics a query on a connection: it emits `count` values in chunks of
 * `chunkSize`, each chunk synchronously (the first one during subscribe); after each chunk
 * except the last it calls pushback and, while the result is pending (a Promise not settled,
 * an Observable that has not emitted or completed), really waits before the next chunk. The
 * last chunk completes (or errors) at once, as a CommandComplete in the same socket chunk would.
 * Every subscription is a fresh execution recorded in `runs`.
 */
export class SyntheticPushbackSource<T = number> {
  readonly runs: SyntheticRun[] = [];
  readonly source: PushbackSource<T>;

  constructor(options: SyntheticSourceOptions<T>) {
    this.source = (pushback) => this.#execution(options, pushback);
  }

  /** The most recent execution. */
  get run(): SyntheticRun {
    const run = this.runs[this.runs.length - 1];
    if (run === undefined) throw new Error('the synthetic source was never subscribed');
    return run;
  }

  #execution(options: SyntheticSourceOptions<T>, pushback: Pushback): Observable<T> {
    const { count, chunkSize, failAt, schedule = 'immediate' } = options;
    const valueAt = options.valueAt ?? ((index: number) => index as T);
    const failure = options.error ?? new Error('synthetic failure');
    return new Observable<T>((subscriber) => {
      const run = new SyntheticRun();
      this.runs.push(run);
      let active = true;
      const produce = async (): Promise<void> => {
        let index = 0;
        for (;;) {
          const end = Math.min(index + chunkSize, count);
          for (; index < end; index += 1) {
            if (index === failAt) break;
            run.emitted += 1;
            subscriber.next(valueAt(index));
            if (!active) return;
          }
          run.noteChunk();
          if (index === failAt) {
            run.finished = 'error';
            subscriber.error(failure);
            return;
          }
          if (index >= count) {
            run.finished = 'complete';
            subscriber.complete();
            return;
          }
          const result = pushback();
          if (result !== undefined) {
            run.pauses += 1;
            run.waiting = true;
            await pending(result);
            run.waiting = false;
          } else if (schedule === 'immediate') {
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
          if (!active) return;
        }
      };
      produce().catch((error: unknown) => subscriber.error(error));
      return () => {
        active = false;
        if (run.finished === undefined) run.cancelled = true;
      };
    });
  }
}

/** Resolves once `input` settles, emits or completes (errors count as "go on", too). */
function pending(input: ObservableInput<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    from(input)
      .pipe(take(1))
      .subscribe({ complete: () => resolve(), error: () => resolve() });
  });
}
