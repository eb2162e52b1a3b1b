import type { Observable, Subscription } from 'rxjs';
import { highWaterMarkOption } from './high-water-mark';
import { checkSource, openSource } from './open-source';
import type { PushbackSource } from './pushback';
import { ValueQueue } from './value-queue';

/** Options of {@link toAsyncIterable}. */
export interface ToAsyncIterableOptions {
  /**
   * How many values may wait in the buffer before the source is paused (integer ≥ 1, default
   * 1000). The source resumes once the consumer has drained the buffer to half of it. A source
   * delivers a whole chunk synchronously before it can pause, so the buffer may exceed the mark
   * by up to one chunk.
   */
  readonly highWaterMark?: number;
}

/**
 * Turns a cold source into an `AsyncIterable`, for `for await` over query rows with bounded
 * memory.
 *
 * Cold: nothing runs until iteration starts (the first `next()`); every
 * `[Symbol.asyncIterator]()` call is an independent execution (for a query: the statement runs
 * again). Values are buffered until the consumer asks for them. With a {@link PushbackSource},
 * once the buffer holds `highWaterMark` values the source's pushback returns a Promise that
 * resolves when the consumer has drained the buffer to half the mark, so a query pauses its
 * socket and memory stays bounded by about `highWaterMark` plus one socket chunk. A plain
 * Observable cannot be paused: every value it emits is buffered, however many there are
 * (unbounded buffering); pass a PushbackSource for large results.
 *
 * Ending early — `break`, `return` or `throw` in a `for await` body, or calling the iterator's
 * `return()`/`throw()` — unsubscribes at once (for a query: cancels it on the server), drops
 * the buffer and releases a pending pushback. `return()` resolves with `done: true`; `throw(e)`
 * rejects with `e`, as an async generator that does not catch it would.
 *
 * Errors: the source's error is delivered after every value that arrived before it (the
 * consumer gets them all, then `next()` rejects with the error; later calls are `done`).
 * A PushbackSource that throws is reported the same way, on the first `next()`. A source that
 * is neither an Observable nor a function is a TypeError, and an invalid `highWaterMark` a
 * RangeError, both thrown by `toAsyncIterable` itself.
 *
 * @example
 * import { connect, toAsyncIterable } from 'rxpg';
 * import { firstValueFrom } from 'rxjs';
 * const connection = await firstValueFrom(connect('postgres://app@localhost/app'));
 * const rows = toAsyncIterable(
 *   (pushback) => connection.query<{ id: number }>('SELECT id FROM big_table', [], { pushback }),
 *   { highWaterMark: 500 },
 * );
 * for await (const row of rows) {
 *   await handle(row); // the socket is paused while 500 rows are waiting
 *   if (row.id === 42) break; // cancels the query on the server
 * }
 */
export function toAsyncIterable<T>(source: PushbackSource<T> | Observable<T>, options: ToAsyncIterableOptions = {}): AsyncIterable<T> {
  checkSource('toAsyncIterable', source);
  const highWaterMark = highWaterMarkOption('toAsyncIterable', options.highWaterMark);
  return {
    [Symbol.asyncIterator]: (): AsyncIterableIterator<T> => new PushbackIterator(source, highWaterMark),
  };
}

interface PendingRead<T> {
  resolve(result: IteratorResult<T>): void;
  reject(error: unknown): void;
}

interface Pause {
  readonly promise: Promise<void>;
  readonly resume: () => void;
}

function done<T>(value?: unknown): IteratorResult<T> {
  return { done: true, value };
}

/** One execution of a source, pulled by `next()`. */
class PushbackIterator<T> implements AsyncIterableIterator<T> {
  readonly #source: PushbackSource<T> | Observable<T>;
  readonly #highWaterMark: number;
  readonly #lowWaterMark: number;
  readonly #buffer = new ValueQueue<T>();
  /** `next()` calls waiting for a value; only when the buffer is empty. */
  readonly #reads = new ValueQueue<PendingRead<T>>();
  #subscription: Subscription | undefined;
  #started = false;
  /** The source completed or errored; what is buffered is still to be read. */
  #ended = false;
  #failure: { readonly error: unknown } | undefined;
  /** Nothing more is delivered: everything was read, or the consumer ended the iteration. */
  #closed = false;
  #pause: Pause | undefined;

  constructor(source: PushbackSource<T> | Observable<T>, highWaterMark: number) {
    this.#source = source;
    this.#highWaterMark = highWaterMark;
    this.#lowWaterMark = Math.floor(highWaterMark / 2);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#closed) return Promise.resolve(done());
    if (!this.#started) this.#start();
    if (this.#buffer.length > 0) {
      const value = this.#buffer.shift();
      if (this.#pause !== undefined && this.#buffer.length <= this.#lowWaterMark) this.#resume();
      return Promise.resolve({ done: false, value });
    }
    if (this.#ended) {
      this.#closed = true;
      const failure = this.#failure;
      this.#failure = undefined;
      return failure === undefined ? Promise.resolve(done()) : Promise.reject(failure.error);
    }
    return new Promise<IteratorResult<T>>((resolve, reject) => this.#reads.push({ resolve, reject }));
  }

  return(value?: unknown): Promise<IteratorResult<T>> {
    this.#cancel();
    return Promise.resolve(done(value));
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.#cancel();
    return Promise.reject(error);
  }

  #start(): void {
    this.#started = true;
    const subscription = openSource(this.#source, this.#pushback).subscribe({
      next: (value) => this.#onValue(value),
      error: (error: unknown) => this.#onEnd({ error }),
      complete: () => this.#onEnd(undefined),
    });
    if (this.#ended || this.#closed) subscription.unsubscribe();
    else this.#subscription = subscription;
  }

  #onValue(value: T): void {
    if (this.#closed) return;
    if (this.#reads.length > 0) this.#reads.shift().resolve({ done: false, value });
    else this.#buffer.push(value);
  }

  #onEnd(failure: { readonly error: unknown } | undefined): void {
    if (this.#ended || this.#closed) return;
    this.#ended = true;
    this.#subscription = undefined;
    this.#resume();
    if (this.#reads.length === 0) {
      this.#failure = failure;
      return;
    }
    // Reads wait only on an empty buffer: they get the end now.
    this.#closed = true;
    const first = this.#reads.shift();
    if (failure === undefined) first.resolve(done());
    else first.reject(failure.error);
    this.#settleReads();
  }

  /** The hook handed to a PushbackSource. */
  readonly #pushback = (): Promise<void> | undefined => {
    if (this.#ended || this.#closed) return undefined;
    if (this.#pause !== undefined) return this.#pause.promise;
    if (this.#buffer.length < this.#highWaterMark) return undefined;
    let resume!: () => void;
    const promise = new Promise<void>((resolve) => (resume = resolve));
    this.#pause = { promise, resume };
    return promise;
  };

  #resume(): void {
    const pause = this.#pause;
    this.#pause = undefined;
    pause?.resume();
  }

  #cancel(): void {
    this.#closed = true;
    this.#started = true;
    const subscription = this.#subscription;
    this.#subscription = undefined;
    this.#buffer.clear();
    this.#failure = undefined;
    subscription?.unsubscribe();
    this.#resume();
    this.#settleReads();
  }

  #settleReads(): void {
    while (this.#reads.length > 0) this.#reads.shift().resolve(done());
  }
}
