import { Observable } from 'rxjs';
import { ProtocolError } from '../errors';
import type { BackendMessage } from './backend-message';
import { BackendMessageDecoder, type BackendMessageDecoderOptions, type BackendMessageSink } from './backend-message-decoder';

/** Options of {@link decodeBackendMessages}. */
export interface DecodeBackendMessagesOptions extends BackendMessageDecoderOptions {
  /**
   * Called once after the messages completed by each chunk have been emitted, while the
   * subscription is still open (not after an error or an unsubscribe during that chunk):
   * where a consumer that works per chunk rather than per message acts, e.g. postgres_async's
   * pushback, asked once per chunk and pausing the socket while it is pending. What it throws
   * errors the Observable, as a decoding error would.
   */
  readonly chunkDecoded?: () => void;
}

/**
 * The error of {@link decodeBackendMessages} when its source completes in the middle of a
 * message: the connection ended, and `bufferedBytes` bytes of an unfinished message were
 * received (a consumer that was ending the connection itself may take that as a normal end).
 */
export class UnfinishedMessageError extends ProtocolError {
  /** How many bytes of the unfinished message had arrived. */
  readonly bufferedBytes: number;

  constructor(bufferedBytes: number) {
    super(`the connection ended inside a backend message (${bufferedBytes} bytes of it received)`);
    this.bufferedBytes = bufferedBytes;
  }
}

/**
 * The socket as an Observable of backend messages: decodes the chunks of `chunks$` and emits
 * the {@link BackendMessage}s they carry. This is the only path from bytes to messages.
 *
 * Cold: each subscription subscribes to `chunks$` and has its own
 * {@link BackendMessageDecoder}. Messages are emitted synchronously, in order, as soon as the
 * chunk that completes them arrives; only a DataRow refers to the chunk it arrived in (read
 * it before the source reuses that chunk, as Node's sockets never do); chunk boundaries do not
 * matter, except that `options.chunkDecoded` runs after each chunk's messages. Bounded: at most one unfinished message is buffered (see the decoder).
 *
 * Errors: a {@link ProtocolError} for a malformed, oversized or unknown message (after the
 * messages before it; the source is unsubscribed); an {@link UnfinishedMessageError} when the
 * source completes in the middle of a message; the source's own errors unchanged. Completes
 * when the source completes at a message boundary.
 *
 * Unsubscribing stops reading: the source is unsubscribed, the rest of a chunk being decoded
 * is dropped, and so is any partial message.
 *
 * @example
 * decodeBackendMessages(transport.chunks$, { maxMessageSize: 64 * 1024 * 1024 })
 *   .subscribe((message) => console.log(message.name));
 *
 * @param chunks$ The bytes the server sends, chunk by chunk.
 * @param options `maxMessageSize`, as for {@link BackendMessageDecoder}, and the per-chunk hook.
 * @returns The backend messages, one `next` each.
 */
export function decodeBackendMessages(chunks$: Observable<Buffer>, options: DecodeBackendMessagesOptions = {}): Observable<BackendMessage> {
  const chunkDecoded = options.chunkDecoded;
  return new Observable<BackendMessage>((subscriber) => {
    const decoder = new BackendMessageDecoder(options);
    // One function per subscription, not per message or per chunk.
    const emit: BackendMessageSink = (message) => subscriber.next(message);
    return chunks$.subscribe({
      next(chunk) {
        if (subscriber.closed) return;
        try {
          decoder.decode(chunk, emit);
          if (chunkDecoded !== undefined && !subscriber.closed) chunkDecoded();
        } catch (error) {
          subscriber.error(error);
        }
      },
      error(error) {
        subscriber.error(error);
      },
      complete() {
        const buffered = decoder.bufferedBytes;
        if (buffered > 0) subscriber.error(new UnfinishedMessageError(buffered));
        else subscriber.complete();
      },
    });
  });
}
