import { Observable, exhaustMap, ignoreElements, interval, throwError, timeout } from 'rxjs';
import { ConnectionError } from '../errors';
import type { Connection } from './connection';

/**
 * Every `period` ms an empty query that must complete within `period` ms: errors with a
 * ConnectionError when one does not (a half-open connection) or when it fails; never emits.
 * A dedicated connection (a listener) uses it to notice a peer that vanished without a FIN.
 * Unsubscribing stops the timer (an empty query in flight is abandoned).
 *
 * @example
 * heartbeat(connection, 10_000).subscribe({ error: (error) => replace(connection, error) });
 */
export function heartbeat(connection: Connection, period: number, label = 'listen'): Observable<never> {
  return interval(period).pipe(
    exhaustMap(() =>
      connection.simpleQuery('').pipe(
        ignoreElements(),
        timeout({
          first: period,
          with: () =>
            throwError(
              () => new ConnectionError(`${label}: heartbeat not answered within ${period} ms (half-open connection?)`, { code: '08006' }),
            ),
        }),
      ),
    ),
    ignoreElements(),
  );
}
