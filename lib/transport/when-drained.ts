import { Observable, defer, of, take } from 'rxjs';

/**
 * A transport's `drained()`: emits once and completes when its write buffer has room — at
 * subscribe when `needsDrain()` is false then, else at the next value of `drains` (the
 * socket's 'drain' events). Completes without a value when `drains` completes first (the
 * socket closed). Cold: `needsDrain` is asked on each subscribe; unsubscribing stops waiting.
 *
 * @example
 * drained(): Observable<void> {
 *   return whenDrained(() => this.needsDrain, this.#drains);
 * }
 */
export function whenDrained(needsDrain: () => boolean, drains: Observable<void>): Observable<void> {
  return defer(() => (needsDrain() ? drains.pipe(take(1)) : of(undefined)));
}
