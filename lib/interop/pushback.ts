import type { Observable, ObservableInput } from 'rxjs';

/**
 * A consumer's pushback hook, as in postgres_async's `?pushback`. The producer (a query on a
 * connection) calls it after it has delivered each socket chunk's worth of values. While what
 * it returns is pending — a Promise not yet settled, an Observable that has not yet emitted or
 * completed — the producer pauses (for a query: the socket is paused, so TCP pushes back on the
 * server). Returning `undefined` means "go on at once".
 *
 * Values of the chunk being processed are still delivered synchronously, so a consumer that
 * keeps a buffer must allow for one chunk beyond its high-water mark.
 *
 * @example
 * import { type Pushback } from 'rxpg';
 * let buffered = 0;
 * let drained: (() => void) | undefined;
 * const pushback: Pushback = () =>
 *   buffered < 1000 ? undefined : new Promise<void>((resolve) => (drained = resolve));
 */
export type Pushback = () => ObservableInput<unknown> | void;

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
