import type { Observable, Observer, Unsubscribable } from 'rxjs';
import type { QueryOptions } from './query-options';

/** What the Promise conveniences add to a request's options. */
export interface AbortableOptions {
  /**
   * Aborting unsubscribes the request (a statement not written yet is never sent; a running
   * one is cancelled, as on unsubscribe) and rejects with the signal's `reason` (an
   * `AbortError` DOMException unless the caller gave one). An already aborted signal rejects
   * at once and sends nothing.
   */
  readonly signal?: AbortSignal;
}

/**
 * Options of `all` and `first`: those of `query`, plus `signal`. The type parameter is the
 * `query` options type whose row mode it keeps (`PromiseQueryOptions<ArrayQueryOptions>` for
 * `rowMode: 'array'`).
 */
export type PromiseQueryOptions<Options extends QueryOptions = QueryOptions> = Options & AbortableOptions;

/** Options of `run`: those of `execute`, plus `signal`. */
export type PromiseExecuteOptions = Omit<QueryOptions, 'rowMode' | 'onFields'> & AbortableOptions;

/**
 * Starts one request with `observer` as where its values go, and returns how to stop it: an
 * Observable's subscribe, or a Connection's request made without an Observable around it.
 */
export type RequestStarter<T> = (observer: Observer<T>) => Unsubscribable;

/** The starter of a subscription to `source`. */
export function subscribing<T>(source: Observable<T>): RequestStarter<T> {
  return (observer) => source.subscribe(observer);
}

/** Every value of the request, once it completes (`all`). */
export function allValues<T>(start: RequestStarter<T>, signal: AbortSignal | undefined): Promise<T[]> {
  return settle(start, signal, new AllValues<T>());
}

/**
 * The first value of `source` (or undefined), once it completes (`first`): the request runs
 * to its end, so its errors still reject.
 */
export function firstValue<T>(start: RequestStarter<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  return settle(start, signal, new FirstValue<T>());
}

/** The last value of `source` once it completes (`run`: execute emits exactly one). */
export function lastValue<T>(start: RequestStarter<T>, signal: AbortSignal | undefined): Promise<T> {
  return settle(start, signal, new LastValue<T>());
}

/** What a convenience keeps of the values, and what it resolves with. */
abstract class Collector<T, R> {
  abstract next(value: T): void;
  /** The result once the source completed; throws when there is none. */
  abstract result(): R;
}

class AllValues<T> extends Collector<T, T[]> {
  readonly #values: T[] = [];
  next(value: T): void {
    this.#values.push(value);
  }
  result(): T[] {
    return this.#values;
  }
}

class FirstValue<T> extends Collector<T, T | undefined> {
  #first: T | undefined;
  #seen = false;
  next(value: T): void {
    if (this.#seen) return;
    this.#seen = true;
    this.#first = value;
  }
  result(): T | undefined {
    return this.#first;
  }
}

class LastValue<T> extends Collector<T, T> {
  #last: T | undefined;
  #seen = false;
  next(value: T): void {
    this.#seen = true;
    this.#last = value;
  }
  result(): T {
    if (!this.#seen) throw new Error('the request completed without a result');
    return this.#last as T;
  }
}

/**
 * Starts the request, feeds its values to `collector`, resolves with its result when the
 * request completes and rejects with its error. An abort of `signal` unsubscribes and rejects with the
 * signal's reason; a signal that is not an AbortSignal is a TypeError before anything is sent.
 */
function settle<T, R>(start: RequestStarter<T>, signal: AbortSignal | undefined, collector: Collector<T, R>): Promise<R> {
  // Checked before anything is sent: a wrong `signal` must not leave a request running.
  if (signal !== undefined && !(signal instanceof AbortSignal))
    return Promise.reject(new TypeError('the signal option must be an AbortSignal'));
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const promise = new SettlingPromise(collector, signal);
  promise.start(start);
  return promise.promise;
}

/**
 * One Promise convenience call as one object: the observer of the request, the abort
 * listener, and the Promise's settling functions (a point query in a Node handler calls one
 * of these per request: one object rather than half a dozen closures).
 */
class SettlingPromise<T, R> implements Observer<T> {
  readonly promise: Promise<R>;
  readonly #collector: Collector<T, R>;
  readonly #signal: AbortSignal | undefined;
  #resolve!: (value: R) => void;
  #reject!: (error: unknown) => void;
  #settled = false;
  #request: Unsubscribable | undefined;

  constructor(collector: Collector<T, R>, signal: AbortSignal | undefined) {
    this.#collector = collector;
    this.#signal = signal;
    this.promise = new Promise<R>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  start(start: RequestStarter<T>): void {
    try {
      this.#request = start(this);
      // Errored while it was being made: whatever it started is not left behind.
      if (this.#settled) this.#request.unsubscribe();
    } catch (error) {
      // A bad option refused while the request was made (an unknown rowMode): nothing was sent.
      this.error(error);
      return;
    }
    const signal = this.#signal;
    // A request that failed at once (a bad parameter) has settled during start; a signal
    // aborted during start has already fired its event.
    if (!this.#settled && signal !== undefined) {
      if (signal.aborted) this.handleEvent();
      else signal.addEventListener('abort', this, { once: true });
    }
  }

  next(value: T): void {
    if (!this.#settled) this.#collector.next(value);
  }

  error(error: unknown): void {
    if (!this.#done()) return;
    // What a Subscriber's teardown does: a request that fails early (a decoder or a callback
    // threw) is abandoned, its remaining replies discarded (a no-op once it has ended).
    this.#request?.unsubscribe();
    this.#reject(error);
  }

  complete(): void {
    if (!this.#done()) return;
    try {
      this.#resolve(this.#collector.result());
    } catch (error) {
      this.#reject(error);
    }
  }

  /** The signal's abort event (this object is its listener). */
  handleEvent(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#request?.unsubscribe();
    this.#reject(abortReason(this.#signal as AbortSignal));
  }

  #done(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#signal?.removeEventListener('abort', this);
    return true;
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
