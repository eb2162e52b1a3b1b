import { Observable } from 'rxjs';
import { validateChannelName } from '../types/quote-identifier';

/**
 * What {@link notify} needs from a connection: a parameterised query (`Connection` has it).
 * Any `query<T>(sql, params?, options?): Observable<T>` fits.
 */
export interface QueryConnection {
  query(sql: string, params?: readonly unknown[]): Observable<unknown>;
}

/**
 * Sends a notification: runs `SELECT pg_notify($1, $2)` with the channel and payload as
 * parameters, so no SQL text is ever built from them. Cold: nothing is sent before subscribe,
 * and each subscribe sends again. Emits `undefined` once the server has run it, then
 * completes (so `await lastValueFrom(notify(...))` works).
 *
 * The channel name is used exactly as given (case-sensitive, any characters), just as
 * `NotificationChannels.channel(name)` listens to it.
 *
 * When the connection is inside an explicit transaction, the notification is only delivered
 * when that transaction commits (and never if it rolls back); identical notifications of one
 * transaction may be delivered once.
 *
 * Errors: TypeError / RangeError for a channel name that cannot be a channel (empty, NUL,
 * over 63 bytes) or a payload that is not a string or contains NUL; the server's PostgresError
 * for a payload of 8000 bytes or more (SQLSTATE 22023, "payload string too long") or a full
 * notification queue; a ConnectionError when the connection is unusable.
 *
 * @example
 * await lastValueFrom(notify(connection, 'jobs', JSON.stringify({ id: 42 })));
 */
export function notify(connection: QueryConnection, channel: string, payload = ''): Observable<void> {
  // One subscriber in between rather than defer/ignoreElements/endWith: notify is often sent
  // in a tight loop, and each operator is an Observable and a subscriber per call.
  return new Observable<void>((subscriber) => {
    validateChannelName(channel);
    if (typeof payload !== 'string')
      throw new TypeError(`a notification payload must be a string, got ${payload === null ? 'null' : typeof payload}`);
    if (payload.includes('\0')) throw new TypeError('a notification payload must not contain a NUL character');
    return connection.query('SELECT pg_notify($1, $2)', [channel, payload]).subscribe({
      error: (error: unknown) => subscriber.error(error),
      complete: () => {
        subscriber.next();
        subscriber.complete();
      },
    });
  });
}
