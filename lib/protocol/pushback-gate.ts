import { from, type Subscription } from 'rxjs';
import type { Transport } from '../transport';
import type { Conversation } from './conversation';

/**
 * postgres_async's pushback as a gate on the socket, driven by the message Observable's
 * per-chunk hook: the router tells it which conversation received rows (DataRow, CopyData) in
 * the chunk being decoded; once the chunk's messages are delivered, that conversation's
 * pushback is asked, and while what it returns is pending, reading is paused, so TCP pushes
 * back on the server. So a consumer is asked once per chunk, not once per row.
 *
 * At most one wait is open at a time (the socket is paused during it, so no further chunk can
 * open another). Its pause is one of the transport's nested pauses: reading resumes once this
 * gate and every other pauser have resumed.
 */
export class PushbackGate {
  readonly #transport: Transport;
  /** The conversation that received rows in the chunk being decoded, if any. */
  #receiver: Conversation | undefined;
  #wait: Subscription | undefined;
  /** The conversation whose pending pushback keeps the socket paused. */
  #owner: Conversation | undefined;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** `conversation` received rows in the chunk being decoded (the last one to do so is asked). */
  rowsReceived(conversation: Conversation): void {
    this.#receiver = conversation;
  }

  /**
   * The chunk's messages have been delivered: asks the conversation that received rows in it,
   * if any, for its pushback (see {@link apply}).
   */
  chunkDecoded(): void {
    const receiver = this.#receiver;
    if (receiver === undefined) return;
    this.#receiver = undefined;
    if (receiver.pushback !== undefined) this.apply(receiver);
  }

  /**
   * Asks `receiver` for its pushback and pauses reading until it settles (a value, an error or
   * completion all settle it). Nothing happens when it returns nothing.
   */
  apply(receiver: Conversation): void {
    const pending = receiver.pushback?.();
    if (pending === undefined || pending === null) return;
    let settled = false;
    let paused = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      // Cleared before resuming: a transport may deliver at once inside resume(), and a chunk
      // with rows then opens the next wait, which must not be forgotten here.
      this.#wait = undefined;
      this.#owner = undefined;
      if (paused) this.#transport.resume();
    };
    const wait = from(pending).subscribe({ next: settle, error: settle, complete: settle });
    if (!settled) {
      paused = true;
      this.#transport.pause();
      this.#wait = wait;
      this.#owner = receiver;
      wait.add(settle);
    }
  }

  /**
   * Opens the gate if `conversation` holds it: its consumer has gone, so nobody will settle its
   * pushback, and the replies up to its ReadyForQuery (and everything behind) must still be read.
   */
  releaseFor(conversation: Conversation): void {
    if (this.#owner === conversation) this.#wait?.unsubscribe();
  }

  /**
   * Opens the gate whoever holds it, and forgets the chunk's receiver (closing: the server's
   * EOF must be read; failing: nothing more is read).
   */
  release(): void {
    this.#receiver = undefined;
    this.#wait?.unsubscribe();
  }
}
