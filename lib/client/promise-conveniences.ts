import type { Observer, Unsubscribable } from 'rxjs';
import type { CommandResult, QueryOptions } from './query-options';

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
 * What the conveniences start their statement on (Connection, Pool, Transaction): the request
 * of `query` or `execute` with `observer` as where its values go, returning how to stop it.
 * A Connection or Pool starts it without an Observable around it.
 */
export interface RequestTarget {
  startRows(
    observer: Observer<unknown>,
    sql: string,
    params: readonly unknown[] | undefined,
    options: QueryOptions | undefined,
  ): Unsubscribable;
  startCommand(
    observer: Observer<CommandResult>,
    sql: string,
    params: readonly unknown[] | undefined,
    options: PromiseExecuteOptions | undefined,
  ): Unsubscribable;
}

/**
 * What a convenience keeps of the values: every one (`all`), the first or undefined
 * (`first`), the last, which must exist (`run`: execute emits exactly one).
 */
type Keep = 'all' | 'first' | 'last';

/** Every row of the statement, once it completes (`all`). */
export function allValues(
  target: RequestTarget,
  sql: string,
  params: readonly unknown[] | undefined,
  options: PromiseQueryOptions | undefined,
): Promise<unknown[]> {
  return settle(target, 'all', sql, params, options) as Promise<unknown[]>;
}

/**
 * The first row of the statement (or undefined), once it completes (`first`): the request
 * runs to its end, so its errors still reject.
 */
export function firstValue(
  target: RequestTarget,
  sql: string,
  params: readonly unknown[] | undefined,
  options: PromiseQueryOptions | undefined,
): Promise<unknown> {
  return settle(target, 'first', sql, params, options);
}

/** The statement's CommandResult once it completes (`run`). */
export function commandValue(
  target: RequestTarget,
  sql: string,
  params: readonly unknown[] | undefined,
  options: PromiseExecuteOptions | undefined,
): Promise<CommandResult> {
  return settle(target, 'last', sql, params, options) as Promise<CommandResult>;
}

/**
 * Starts the request, keeps its values as `keep` says, resolves when the request completes
 * and rejects with its error. An abort of `options.signal` unsubscribes and rejects with the
 * signal's reason; a signal that is not an AbortSignal is a TypeError before anything is sent.
 */
function settle(
  target: RequestTarget,
  keep: Keep,
  sql: string,
  params: readonly unknown[] | undefined,
  options: PromiseQueryOptions | PromiseExecuteOptions | undefined,
): Promise<unknown> {
  const signal = options?.signal;
  // Checked before anything is sent: a wrong `signal` must not leave a request running.
  if (signal !== undefined && !(signal instanceof AbortSignal))
    return Promise.reject(new TypeError('the signal option must be an AbortSignal'));
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const promise = new SettlingPromise(keep, signal);
  promise.start(target, sql, params, options);
  return promise.promise;
}

function settlerNotCaptured(): void {
  throw new Error('rxpg: a Promise executor did not run synchronously');
}

/** The settling functions of the Promise SettlingPromise's constructor is making. */
let capturedResolve: (value: unknown) => void = settlerNotCaptured;
let capturedReject: (error: unknown) => void = settlerNotCaptured;

function captureSettlers(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/**
 * The pending conveniences given one AbortSignal, behind one listener on it: a signal shared
 * by many statements (one per incoming request, say, passed to each of its queries) would
 * otherwise get a listener per statement, and past ten Node prints a
 * MaxListenersExceededWarning. Kept only while statements are pending on the signal, and
 * weakly: nothing outlives the signal or its statements, nor links the connections and pools
 * that share it.
 */
class AbortWatch {
  readonly #signal: AbortSignal;
  readonly #pending = new Set<SettlingPromise>();

  private constructor(signal: AbortSignal) {
    this.#signal = signal;
  }

  /** `promise` is rejected when `signal` aborts (unless it settles first and calls {@link unwatch}). */
  static watch(signal: AbortSignal, promise: SettlingPromise): void {
    let watch = abortWatches.get(signal);
    if (watch === undefined) {
      watch = new AbortWatch(signal);
      abortWatches.set(signal, watch);
      signal.addEventListener('abort', watch, { once: true });
    }
    watch.#pending.add(promise);
  }

  /** `promise` settled: it no longer waits on `signal`; the listener goes with the last one. */
  static unwatch(signal: AbortSignal, promise: SettlingPromise): void {
    const watch = abortWatches.get(signal);
    if (watch === undefined || !watch.#pending.delete(promise) || watch.#pending.size > 0) return;
    abortWatches.delete(signal);
    signal.removeEventListener('abort', watch);
  }

  /** The signal's abort event (this object is its listener). */
  handleEvent(): void {
    abortWatches.delete(this.#signal);
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const promise of pending) promise.abort();
  }
}

/** The watch of each signal that statements are pending on (see AbortWatch). */
const abortWatches = new WeakMap<AbortSignal, AbortWatch>();

/**
 * One Promise convenience call as one object: the observer of the request, what it keeps of
 * the values, its place in the signal's AbortWatch, and the Promise's settling functions (a point query in a
 * Node handler calls one of these per request: one object rather than half a dozen closures).
 */
class SettlingPromise implements Observer<unknown> {
  readonly promise: Promise<unknown>;
  readonly #keep: Keep;
  readonly #signal: AbortSignal | undefined;
  readonly #resolve: (value: unknown) => void;
  readonly #reject: (error: unknown) => void;
  /** All: the values array; First and Last: the value kept. */
  #kept: unknown;
  #seen = false;
  #settled = false;
  #request: Unsubscribable | undefined;

  constructor(keep: Keep, signal: AbortSignal | undefined) {
    this.#keep = keep;
    this.#signal = signal;
    if (keep === 'all') this.#kept = [];
    // A shared executor rather than a closure per call: it runs synchronously, right here.
    this.promise = new Promise<unknown>(captureSettlers);
    this.#resolve = capturedResolve;
    this.#reject = capturedReject;
    capturedResolve = capturedReject = settlerNotCaptured;
  }

  start(
    target: RequestTarget,
    sql: string,
    params: readonly unknown[] | undefined,
    options: PromiseQueryOptions | PromiseExecuteOptions | undefined,
  ): void {
    try {
      this.#request =
        this.#keep === 'last' ? target.startCommand(this, sql, params, options) : target.startRows(this, sql, params, options);
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
      if (signal.aborted) this.abort();
      else AbortWatch.watch(signal, this);
    }
  }

  next(value: unknown): void {
    if (this.#settled) return;
    if (this.#keep === 'all') (this.#kept as unknown[]).push(value);
    else if (this.#keep === 'last' || !this.#seen) this.#kept = value;
    this.#seen = true;
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
    if (this.#keep === 'last' && !this.#seen) this.#reject(new Error('the request completed without a result'));
    else this.#resolve(this.#kept);
  }

  /** The signal aborted. */
  abort(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#request?.unsubscribe();
    this.#reject(abortReason(this.#signal as AbortSignal));
  }

  #done(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    if (this.#signal !== undefined) AbortWatch.unwatch(this.#signal, this);
    return true;
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
