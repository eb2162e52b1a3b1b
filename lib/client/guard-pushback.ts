import { isObservable, type ObservableInput } from 'rxjs';
import type { Pushback } from './query-options';

/**
 * Wraps a caller's pushback hook so that its mistakes fail only its own request: a hook that
 * throws, or returns something that is neither nothing nor an ObservableInput, calls `fail`
 * (which ends that request, so the connection reads on) instead of breaking the connection's
 * read loop. A pushback that is not a function throws a TypeError at once.
 */
export function guardPushback(pushback: Pushback | undefined, fail: (error: Error) => void): Pushback | undefined {
  if (pushback === undefined) return undefined;
  // Thrown where the request is subscribed, so it arrives as that request's error.
  if (typeof pushback !== 'function') throw new TypeError('the pushback option must be a function');
  return () => {
    let pending: ObservableInput<unknown> | void;
    try {
      pending = pushback();
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)));
      return undefined;
    }
    if (pending === undefined || pending === null || isObservableInput(pending)) return pending;
    fail(new TypeError(`pushback must return nothing or an ObservableInput (a Promise, an Observable, ...), not ${typeof pending}`));
    return undefined;
  };
}

function isObservableInput(value: unknown): value is ObservableInput<unknown> {
  if (isObservable(value)) return true;
  if (typeof value !== 'object' && typeof value !== 'function') return false;
  const candidate = value as { then?: unknown; [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown; subscribe?: unknown };
  return (
    typeof candidate.then === 'function' ||
    typeof candidate.subscribe === 'function' ||
    typeof candidate[Symbol.iterator] === 'function' ||
    typeof candidate[Symbol.asyncIterator] === 'function'
  );
}
