import type { Observable, Subscription } from 'rxjs';
import { ConnectionError } from '../errors';
import type { Conversation } from './conversation';
import type { ConversationQueue } from './conversation-queue';

/** What the barrier needs from its connection. */
export interface CancelBarrierHost {
  /** The written conversations, oldest first (the head is the one the server runs). */
  readonly conversations: ConversationQueue;
  /**
   * A CancelRequest for this connection's backend (completes when the server has closed the
   * cancel socket), or undefined when none may be sent (not open, no BackendKeyData).
   */
  cancelRequest(): Observable<void> | undefined;
  /** The barrier has lifted: writes held back may go out. */
  lifted(): void;
  /** A cancel was not over within the timeout: the connection cannot be trusted to be in sync. */
  timedOut(error: ConnectionError): void;
}

/** A CancelRequest in progress and what must happen before later writes are safe. */
interface Cancelling {
  readonly conversation: Conversation;
  /** The cancelled conversation's ReadyForQuery has arrived. */
  ended: boolean;
  /** The server has closed the cancel socket (or it failed). */
  sent: boolean;
  readonly timer: NodeJS.Timeout;
  request?: Subscription;
}

/**
 * Cancels abandoned requests on the server without ever hitting another one (DESIGN.md,
 * Semantics 3 and 10). A CancelRequest interrupts whatever the backend runs when its signal
 * arrives, so:
 * - it is sent only when every conversation in flight has been abandoned (whichever of them
 *   it reaches, no live request is hit);
 * - while it is in progress (`holding`), nothing new is written: writes resume once the
 *   cancelled conversation has ended AND the server has closed the cancel socket — the
 *   postmaster signals the backend before that close, so no signal of this cancel can arrive
 *   during a later statement (one that reaches an idle backend is discarded by the server);
 * - both must happen within `timeout` ms, or the connection is given up (`timedOut`).
 *
 * A request's subscriber leaves only before its ReadyForQuery has been handled, so every
 * abandoned conversation the barrier knows is in flight until `ended` says otherwise.
 */
export class CancelBarrier {
  readonly #host: CancelBarrierHost;
  readonly #timeout: number;
  readonly #description: string;
  #cancelling: Cancelling | undefined;
  /** Written conversations whose subscriber went away and that have not ended yet. */
  readonly #abandoned = new Set<Conversation>();

  constructor(host: CancelBarrierHost, options: { readonly timeout: number; readonly description: string }) {
    this.#host = host;
    this.#timeout = options.timeout;
    this.#description = options.description;
  }

  /** Whether a cancel in progress holds later writes back. */
  get holding(): boolean {
    return this.#cancelling !== undefined;
  }

  /** A written conversation was abandoned: cancel it once nothing live is in flight. */
  abandoned(conversation: Conversation): void {
    this.#abandoned.add(conversation);
    this.#cancelHeadIfAllAbandoned();
  }

  /** A written conversation ended (its ReadyForQuery arrived and it left the queue). */
  ended(conversation: Conversation): void {
    if (this.#abandoned.size > 0) this.#abandoned.delete(conversation);
    const cancelling = this.#cancelling;
    if (cancelling !== undefined && cancelling.conversation === conversation) {
      cancelling.ended = true;
      this.#afterStep(cancelling);
      return;
    }
    if (this.#abandoned.size > 0) this.#cancelHeadIfAllAbandoned();
  }

  /** The connection ended: nothing is waited for any more; the cancel socket is torn down. */
  stop(): void {
    const cancelling = this.#cancelling;
    this.#cancelling = undefined;
    this.#abandoned.clear();
    if (cancelling === undefined) return;
    clearTimeout(cancelling.timer);
    cancelling.request?.unsubscribe();
  }

  #cancelHeadIfAllAbandoned(): void {
    const queue = this.#host.conversations;
    const head = queue.head;
    if (head === undefined || this.#cancelling !== undefined) return;
    if (this.#abandoned.size !== queue.length || !this.#abandoned.has(head)) return;
    const request = this.#host.cancelRequest();
    if (request === undefined) return;
    const timeout = this.#timeout;
    const cancelling: Cancelling = {
      conversation: head,
      ended: false,
      sent: false,
      timer: setTimeout(() => {
        if (this.#cancelling !== cancelling) return;
        const waitingFor = cancelling.sent ? 'the cancelled request did not end' : 'the server did not confirm the CancelRequest';
        this.#host.timedOut(
          new ConnectionError(`${waitingFor} within ${timeout} ms; the connection is given up [${this.#description}]`, { code: '08006' }),
        );
      }, timeout),
    };
    this.#cancelling = cancelling;
    const settle = () => {
      cancelling.sent = true;
      this.#afterStep(cancelling);
    };
    cancelling.request = request.subscribe({ complete: settle, error: settle });
  }

  #afterStep(cancelling: Cancelling): void {
    if (this.#cancelling !== cancelling || !cancelling.ended || !cancelling.sent) return;
    clearTimeout(cancelling.timer);
    this.#cancelling = undefined;
    // Abandoned requests still in flight are cancelled before anything held is written, or
    // the held requests would run after them with nobody waiting for their results.
    this.#cancelHeadIfAllAbandoned();
    if (this.#cancelling === undefined) this.#host.lifted();
  }
}
