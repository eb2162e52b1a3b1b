import { Observable, from, type ObservableInput } from 'rxjs';
import type { ConnectionConfig } from '../config';
import { connect } from './connect';
import type { Connection } from './connection';

/**
 * Connects, runs `work` with the connection, forwards its values, and closes the connection
 * when the work completes, errors, or the subscriber unsubscribes. Cold: nothing happens before
 * subscribe; each subscription uses its own connection.
 *
 * On completion, the completion is delivered after the connection has closed (a close
 * problem does not turn a successful result into an error, as in postgres_async). On error
 * or unsubscribe the close starts at once and is not awaited.
 *
 * Errors: a TypeError at subscribe when `work` is not a function (nothing connects); whatever
 * `connect` raises, and whatever `work` raises.
 *
 * @example
 * import { withConnection } from 'rxpg';
 * withConnection('postgres://localhost/app', (connection) => connection.simpleQuery('SELECT now()'))
 *   .subscribe((result) => console.log(result.rows));
 */
export function withConnection<T>(
  config: ConnectionConfig | string | undefined,
  work: (connection: Connection) => ObservableInput<T>,
): Observable<T> {
  return new Observable<T>((subscriber) => {
    // Checked before connecting: a wrong argument must not cost a connection (and a login).
    if (typeof work !== 'function') {
      subscriber.error(new TypeError(`withConnection: work must be a function (connection) => ObservableInput, got ${typeof work}`));
      return undefined;
    }
    let connection: Connection | undefined;
    let workSubscription: { unsubscribe(): void } | undefined;
    const connectSubscription = connect(config).subscribe({
      next: (opened) => {
        connection = opened;
        let source: Observable<T>;
        try {
          source = from(work(opened));
        } catch (error) {
          subscriber.error(error);
          return;
        }
        workSubscription = source.subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => subscriber.error(error),
          complete: () => {
            // close() never rejects.
            void opened.close().then(() => subscriber.complete());
          },
        });
      },
      error: (error: unknown) => subscriber.error(error),
    });
    return () => {
      connectSubscription.unsubscribe();
      workSubscription?.unsubscribe();
      void connection?.close();
    };
  });
}
