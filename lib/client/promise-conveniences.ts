import type { Observable } from 'rxjs';
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

/** Every value of `source`, once it completes (`all`). */
export function allValues<T>(source: Observable<T>, signal: AbortSignal | undefined): Promise<T[]> {
  const values: T[] = [];
  return settle(
    source,
    signal,
    (value) => void values.push(value),
    () => values,
  );
}

/**
 * The first value of `source` or undefined, once it completes (`first`). The rest is read and
 * dropped rather than cancelled: the statement runs to its end, and its errors still count.
 */
export function firstValue<T>(source: Observable<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  let first: T | undefined;
  let seen = false;
  return settle(
    source,
    signal,
    (value) => {
      if (seen) return;
      seen = true;
      first = value;
    },
    () => first,
  );
}

/** The last value of `source` once it completes (`run`: execute emits exactly one). */
export function lastValue<T>(source: Observable<T>, signal: AbortSignal | undefined): Promise<T> {
  let last: T | undefined;
  let seen = false;
  return settle(
    source,
    signal,
    (value) => {
      seen = true;
      last = value;
    },
    () => {
      if (!seen) throw new Error('the request completed without a result');
      return last as T;
    },
  );
}

/**
 * Subscribes to `source`, feeds its values to `next`, resolves with `result()` when it
 * completes and rejects with its error. An abort of `signal` unsubscribes and rejects with the
 * signal's reason. Never throws synchronously.
 */
function settle<T, R>(source: Observable<T>, signal: AbortSignal | undefined, next: (value: T) => void, result: () => R): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    // Checked before anything is sent: a wrong `signal` must not leave a request running.
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      reject(new TypeError('the signal option must be an AbortSignal'));
      return;
    }
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    let settled = false;
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      subscription.unsubscribe();
      reject(abortReason(signal as AbortSignal));
    };
    const done = (): boolean => {
      if (settled) return false;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const subscription = source.subscribe({
      next,
      error: (error: unknown) => {
        if (done()) reject(error);
      },
      complete: () => {
        if (!done()) return;
        try {
          resolve(result());
        } catch (error) {
          reject(error);
        }
      },
    });
    // A request that failed at once (a bad parameter) has settled during subscribe; a signal
    // aborted during subscribe has already fired its event.
    if (!settled && signal !== undefined) {
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
