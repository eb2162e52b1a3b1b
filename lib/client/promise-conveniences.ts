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
 * One Promise convenience call as one object: the observer of the request, what it keeps of
 * the values, the abort listener, and the Promise's settling functions (a point query in a
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
      if (signal.aborted) this.handleEvent();
      else signal.addEventListener('abort', this, { once: true });
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
