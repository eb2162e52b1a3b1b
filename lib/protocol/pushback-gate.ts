import { from, type Subscription } from 'rxjs';
import type { Transport } from '../transport';
import type { Conversation } from './conversation';

/**
 * postgres_async's pushback as a gate on the socket: after a chunk in which a conversation
 * received rows, its pushback is asked; while what it returns is pending, reading is paused,
 * so TCP pushes back on the server. At most one wait is open at a time (the socket is paused
 * during it, so no further chunk can open another).
 */
export class PushbackGate {
  readonly #transport: Transport;
  #wait: Subscription | undefined;
  /** The conversation whose pending pushback keeps the socket paused. */
  #owner: Conversation | undefined;

  constructor(transport: Transport) {
    this.#transport = transport;
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
      if (paused) this.#transport.resume();
      this.#wait = undefined;
      this.#owner = undefined;
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

  /** Opens the gate whoever holds it (closing: the server's EOF must be read; failing). */
  release(): void {
    this.#wait?.unsubscribe();
  }
}
