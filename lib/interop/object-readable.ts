import type { Readable } from 'node:stream';

/**
 * What {@link toReadable} returns: a Node object-mode `Readable` whose values are `T` (a row,
 * a COPY row, whatever the source emits). It is a plain `Readable` at run time; the type only
 * says what comes out of it, where Node's own types say `any`: `for await`, `read()`,
 * `toArray()` and the `data` event.
 *
 * @example
 * import { toReadable } from 'rxpg';
 * const stream = toReadable((pushback) => connection.query<{ id: number }>('SELECT id FROM big_table', [], { pushback }));
 * for await (const row of stream) console.log(row.id); // row: { id: number }
 */
export interface ObjectReadable<T> extends Readable {
  /** Iterates the values; ending the loop early destroys the stream (cancelling its source). */
  [Symbol.asyncIterator](): NodeJS.AsyncIterator<T>;
  /** The next buffered value, or `null` when none is buffered (or the stream has ended). */
  read(size?: number): T | null;
  /** Reads every value into an array: the whole result in memory, so for small results only. */
  toArray(options?: Parameters<Readable['toArray']>[0]): Promise<T[]>;
  /** Calls `listener` with each value; attaching it switches the stream to flowing mode. */
  on(event: 'data', listener: (value: T) => void): this;
  /** Calls `listener` with the error that destroyed the stream (the source's error). */
  on(event: 'error', listener: (error: Error) => void): this;
  /** Any other Readable event (`end`, `close`, `readable`, ...), as on Node's Readable. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Readable's own signature: any listener fits
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  /** Calls `listener` with the next value only; it too switches the stream to flowing mode. */
  once(event: 'data', listener: (value: T) => void): this;
  /** Calls `listener` once with the error that destroyed the stream. */
  once(event: 'error', listener: (error: Error) => void): this;
  /** Any other Readable event, once, as on Node's Readable. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Readable's own signature: any listener fits
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}
