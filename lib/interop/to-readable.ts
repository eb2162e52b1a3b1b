import { Readable } from 'node:stream';
import type { Observable, Subscription } from 'rxjs';
import { highWaterMarkOption } from './high-water-mark';
import type { ObjectReadable } from './object-readable';
import { checkSource, openSource } from './open-source';
import type { PushbackSource } from './pushback';

/** Options of {@link toReadable}. */
export interface ToReadableOptions {
  /**
   * The stream's `readableHighWaterMark`, in values (integer ≥ 1, default 1000). Once the
   * stream's buffer holds this many values the source is paused until the stream asks for more.
   * A source delivers a whole chunk synchronously before it can pause, so the buffer may exceed
   * the mark by up to one chunk.
   */
  readonly highWaterMark?: number;
}

/**
 * Turns a cold source into an object-mode Node `Readable` of its values (typed as an
 * {@link ObjectReadable}), for `pipeline` or `for await` over query rows with bounded memory.
 *
 * Cold: the source is subscribed on the stream's first `_read` (when something first reads,
 * pipes or listens for `data`); each call of `toReadable` makes one stream and one execution.
 * Every value is `push`ed; with a {@link PushbackSource}, once `push()` returns `false` (the
 * buffer is at the high-water mark) the pushback returns a Promise that stays pending until the
 * stream calls `_read` again, so a query pauses its socket while the consumer is behind. A plain
 * Observable cannot be paused: the stream buffers whatever it emits (unbounded buffering).
 * Completion pushes `null` (the stream ends).
 *
 * `destroy()` — also what `pipeline` does when another stage fails — unsubscribes at once (for
 * a query: cancels it on the server) and releases a pending pushback.
 *
 * Errors: the source's error destroys the stream with that error (values still buffered are
 * discarded, as for any destroyed stream; `pipeline` and `for await` reject with it). A `null`
 * value cannot be carried by a Node stream (it means end of stream), so it destroys the stream
 * with a TypeError. A source that is neither an Observable nor a function is a TypeError, and
 * an invalid `highWaterMark` a RangeError, both thrown by `toReadable` itself.
 *
 * @example
 * import { connect, toReadable } from 'rxpg';
 * import { firstValueFrom } from 'rxjs';
 * import { createWriteStream } from 'node:fs';
 * import { Transform } from 'node:stream';
 * import { pipeline } from 'node:stream/promises';
 * const connection = await firstValueFrom(connect('postgres://app@localhost/app'));
 * await pipeline(
 *   toReadable((pushback) => connection.query('SELECT * FROM big_table', [], { pushback })),
 *   new Transform({ writableObjectMode: true, transform: (row, _, done) => done(null, `${JSON.stringify(row)}\n`) }),
 *   createWriteStream('big_table.ndjson'),
 * );
 */
export function toReadable<T>(source: PushbackSource<T> | Observable<T>, options: ToReadableOptions = {}): ObjectReadable<T> {
  checkSource('toReadable', source);
  const highWaterMark = highWaterMarkOption('toReadable', options.highWaterMark);
  // A Readable whose every pushed value is a T: the interface only narrows Node's `any`s.
  return new PushbackReadable(source, highWaterMark);
}

/** One execution of a source, pulled by the stream machinery. */
class PushbackReadable<T> extends Readable {
  readonly #source: PushbackSource<T> | Observable<T>;
  #subscription: Subscription | undefined;
  #started = false;
  /** The source completed or errored. */
  #ended = false;
  /** `push()` returned false since the last `_read`. */
  #full = false;
  #resume: (() => void) | undefined;
  #pause: Promise<void> | undefined;

  constructor(source: PushbackSource<T> | Observable<T>, highWaterMark: number) {
    super({ objectMode: true, highWaterMark });
    this.#source = source;
  }

  override _read(): void {
    this.#full = false;
    this.#release();
    if (this.#started) return;
    this.#started = true;
    const subscription = openSource(this.#source, this.#pushback).subscribe({
      next: (value) => this.#onValue(value),
      error: (error: unknown) => this.#onEnd(() => this.destroy(error as Error)),
      complete: () => this.#onEnd(() => this.push(null)),
    });
    if (this.#ended || this.destroyed) subscription.unsubscribe();
    else this.#subscription = subscription;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const subscription = this.#subscription;
    this.#subscription = undefined;
    this.#ended = true;
    subscription?.unsubscribe();
    this.#release();
    callback(error);
  }

  #onValue(value: T): void {
    if (this.#ended || this.destroyed) return;
    if (value === null) {
      this.#onEnd(() =>
        this.destroy(new TypeError('toReadable: the source emitted null, which a Node stream cannot carry (it means end of stream)')),
      );
      return;
    }
    if (!this.push(value)) this.#full = true;
  }

  #onEnd(finish: () => void): void {
    if (this.#ended || this.destroyed) return;
    this.#ended = true;
    const subscription = this.#subscription;
    this.#subscription = undefined;
    subscription?.unsubscribe();
    this.#release();
    finish();
  }

  /** The hook handed to a PushbackSource. */
  readonly #pushback = (): Promise<void> | undefined => {
    if (this.#ended || this.destroyed || !this.#full) return undefined;
    this.#pause ??= new Promise<void>((resolve) => (this.#resume = resolve));
    return this.#pause;
  };

  #release(): void {
    const resume = this.#resume;
    this.#pause = undefined;
    this.#resume = undefined;
    resume?.();
  }
}
