import type { Observable } from 'rxjs';

import type { Pushback } from '../client';

export type { Pushback };

/**
 * Makes a cold Observable wired to the given pushback hook; each call is a fresh source, and
 * each subscription to what it returns a fresh execution. The pull bridges (`toAsyncIterable`,
 * `toReadable`) call it once per iteration or stream with their own hook.
 *
 * @example
 * import { type PushbackSource } from 'rxpg';
 * const rows: PushbackSource<{ id: number }> = (pushback) =>
 *   connection.query<{ id: number }>('SELECT id FROM big_table', [], { pushback });
 */
export type PushbackSource<T> = (pushback: Pushback) => Observable<T>;
