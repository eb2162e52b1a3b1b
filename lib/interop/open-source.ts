import { defer, isObservable, type Observable } from 'rxjs';
import type { Pushback, PushbackSource } from './pushback';

/**
 * Checks, when a bridge is created, that `source` is an Observable or a function (a
 * {@link PushbackSource}). Errors: TypeError naming the bridge otherwise.
 * @internal
 */
export function checkSource(bridge: string, source: unknown): void {
  if (isObservable(source) || typeof source === 'function') return;
  throw new TypeError(`${bridge}: the source must be an Observable or a function (pushback) => Observable, got ${describe(source)}`);
}

/**
 * The Observable one execution subscribes to: a plain Observable as it is (it cannot be
 * paused), or the PushbackSource called with `pushback`. A PushbackSource that throws, or
 * returns something that is not an ObservableInput, makes the Observable error instead.
 * @internal
 */
export function openSource<T>(source: PushbackSource<T> | Observable<T>, pushback: Pushback): Observable<T> {
  if (isObservable(source)) return source;
  return defer(() => source(pushback));
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  return typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
}
