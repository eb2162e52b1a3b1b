import { Observable, type OperatorFunction } from 'rxjs';
import { ProtocolError } from '../errors';
import type { BackendMessage } from './backend-message';
import { BackendMessageDecoder, type BackendMessageDecoderOptions } from './backend-message-decoder';

/**
 * Turns a stream of socket chunks into the stream of {@link BackendMessage}s they carry.
 *
 * Each subscription has its own {@link BackendMessageDecoder}: messages are emitted
 * synchronously, in order, as soon as the chunk that completes them arrives, and never refer to
 * the chunks (which the source may reuse). Chunk boundaries do not matter.
 *
 * Errors: a {@link ProtocolError} for a malformed, oversized or unknown message (the source is
 * unsubscribed), or when the source completes in the middle of a message; the source's own
 * errors are forwarded unchanged. Completes when the source completes at a message boundary.
 *
 * Teardown: unsubscribing unsubscribes from the source and drops any partial message.
 *
 * @example
 * chunks$.pipe(decodeBackendMessages({ maxMessageSize: 64 * 1024 * 1024 }))
 *   .subscribe((message) => console.log(message.name));
 *
 * @param options `maxMessageSize`, as for {@link BackendMessageDecoder}.
 * @returns An operator from Buffer chunks to backend messages.
 */
export function decodeBackendMessages(options: BackendMessageDecoderOptions = {}): OperatorFunction<Buffer, BackendMessage> {
  return (source) =>
    new Observable<BackendMessage>((subscriber) => {
      const decoder = new BackendMessageDecoder(options);
      // One function per subscription, not per message.
      const emit = (message: BackendMessage): void => subscriber.next(message);
      const subscription = source.subscribe({
        next(chunk) {
          if (subscriber.closed) return;
          try {
            decoder.decode(chunk, emit);
          } catch (error) {
            subscriber.error(error);
          }
        },
        error(error) {
          subscriber.error(error);
        },
        complete() {
          const buffered = decoder.bufferedBytes;
          if (buffered > 0) {
            subscriber.error(new ProtocolError(`the connection ended inside a backend message (${buffered} bytes of it received)`));
          } else {
            subscriber.complete();
          }
        },
      });
      return () => subscription.unsubscribe();
    });
}
