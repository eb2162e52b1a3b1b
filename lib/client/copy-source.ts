import { from, isObservable, type ObservableInput, type Subscription } from 'rxjs';
import type { CopySource, CopyWriter } from '../protocol';

/** What a COPY source may yield: text (sent as UTF-8) or bytes. */
export type CopyChunk = string | Uint8Array;

/** A pull source that never waits gives the event loop a turn after this many bytes. */
const yieldEveryBytes = 256 * 1024;

/** Default bound on bytes a push source may run ahead of the socket. */
export const defaultMaxBufferedBytes = 64 * 1024 * 1024;

/**
 * Adapts any ObservableInput of chunks to a COPY source, as postgres_async's feed_data: a
 * value is Data, the source's own pace is Wait, an error is Abort (CopyFail), completion is
 * Finished (CopyDone).
 *
 * Pull sources — AsyncIterables (a Node Readable, an async generator) and Iterables (an
 * array, a generator) — are read only while the socket accepts writes, so they stay bounded
 * whatever their size. Push sources (Observables, Promises) cannot be slowed down: what they
 * emit is written at once, and when more than `maxBufferedBytes` wait in the socket the copy
 * is aborted with an error saying to use a pull source.
 *
 * Throws RangeError for a `maxBufferedBytes` that is not a positive integer, TypeError for a
 * source that is no ObservableInput (a bare string included: wrap it in an array).
 */
export function copySourceFrom(input: ObservableInput<CopyChunk>, maxBufferedBytes = defaultMaxBufferedBytes): CopySource {
  if (!Number.isInteger(maxBufferedBytes) || maxBufferedBytes < 1) {
    throw new RangeError('maxBufferedBytes must be a positive integer');
  }
  if (input === null || input === undefined || typeof input === 'string') {
    throw new TypeError('a COPY source must be an Observable, an array, a Promise, an Iterable or an AsyncIterable of chunks');
  }
  if (isPullSource(input)) return pullSource(input);
  return pushSource(input, maxBufferedBytes);
}

/**
 * Whether a source can be pulled at the consumer's pace: an AsyncIterable or an Iterable
 * (not a string, not an Observable, which rxjs would also accept).
 */
export function isPullSource<T>(input: ObservableInput<T>): input is AsyncIterable<T> | Iterable<T> {
  return !isObservable(input) && typeof input !== 'string' && (isAsyncIterable(input) || isIterable(input));
}

function pullSource(input: AsyncIterable<CopyChunk> | Iterable<CopyChunk>): CopySource {
  let stopped = false;
  let iterator: AsyncIterator<CopyChunk> | Iterator<CopyChunk> | undefined;
  const release = () => {
    const current = iterator;
    iterator = undefined;
    try {
      void Promise.resolve(current?.return?.()).catch(() => undefined);
    } catch {
      // A source that fails to close has nothing more to give.
    }
  };
  return {
    start(writer: CopyWriter) {
      iterator = isAsyncIterable(input) ? input[Symbol.asyncIterator]() : input[Symbol.iterator]();
      let sinceYield = 0;
      const pump = async (): Promise<void> => {
        while (!stopped && iterator !== undefined) {
          const step = await iterator.next();
          if (stopped) return;
          if (step.done === true) {
            iterator = undefined;
            writer.done();
            return;
          }
          const chunk = checkedChunk(step.value);
          sinceYield += chunk.length;
          const hasRoom = typeof chunk === 'string' ? writer.text(chunk) : writer.data(chunk);
          if (sinceYield >= yieldEveryBytes) {
            // A source that never waits on I/O would starve the socket's reads: a server
            // error (bad data) must get through and stop the feeding.
            sinceYield = 0;
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
          if (!hasRoom && !stopped) await waitForDrain(writer);
        }
      };
      pump().catch((error: unknown) => {
        if (stopped) return;
        stopped = true;
        release();
        writer.fail(failureReason(error), error);
      });
    },
    stop() {
      stopped = true;
      release();
    },
  };
}

function pushSource(input: ObservableInput<CopyChunk>, maxBufferedBytes: number): CopySource {
  let subscription: Subscription | undefined;
  let stopped = false;
  return {
    start(writer: CopyWriter) {
      subscription = from(input).subscribe({
        next: (chunk) => {
          if (stopped) return;
          let checked: CopyChunk;
          try {
            checked = checkedChunk(chunk);
          } catch (error) {
            stopped = true;
            subscription?.unsubscribe();
            writer.fail(failureReason(error), error);
            return;
          }
          if (typeof checked === 'string') writer.text(checked);
          else writer.data(checked);
          if (writer.bufferedBytes > maxBufferedBytes) {
            stopped = true;
            subscription?.unsubscribe();
            const error = new RangeError(
              `the COPY source pushed more than ${maxBufferedBytes} bytes ahead of the socket; ` +
                'feed copyIn from an AsyncIterable or a Readable, which are read at the socket’s pace',
            );
            writer.fail(failureReason(error), error);
          }
        },
        error: (error: unknown) => {
          if (stopped) return;
          stopped = true;
          writer.fail(failureReason(error), error);
        },
        complete: () => {
          if (!stopped) writer.done();
        },
      });
    },
    stop() {
      stopped = true;
      subscription?.unsubscribe();
    },
  };
}

function waitForDrain(writer: CopyWriter): Promise<void> {
  return new Promise<void>((resolve) => {
    writer.drained().subscribe({ next: () => resolve(), complete: () => resolve() });
  });
}

function checkedChunk(chunk: unknown): CopyChunk {
  if (typeof chunk === 'string' || chunk instanceof Uint8Array) return chunk;
  throw new TypeError(`a COPY source must yield strings or Uint8Arrays, not ${chunk === null ? 'null' : typeof chunk}`);
}

/**
 * The CopyFail reason names only the error's class: it lands in the server's log, and a
 * message could carry data. The caller gets the error itself as the cause.
 */
function failureReason(error: unknown): string {
  const name = error instanceof Error ? error.name.replace(/[^\w.-]/g, '').slice(0, 64) : 'unknown error';
  return `COPY source failed (${name})`;
}

function isAsyncIterable<T>(value: unknown): value is AsyncIterable<T> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncIterable<T>)[Symbol.asyncIterator] === 'function';
}

function isIterable<T>(value: unknown): value is Iterable<T> {
  return typeof value === 'object' && value !== null && typeof (value as Iterable<T>)[Symbol.iterator] === 'function';
}
