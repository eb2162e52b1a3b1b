import type { Unsubscribable } from 'rxjs';
import type { Conversation, ProtocolConnection } from '../protocol';

/**
 * The life of one subscription's conversation, shared by every request kind (query, execute,
 * simpleQuery, copyIn, copyOut): the conversation is enqueued once, `settle`d when it has
 * delivered its end, and abandoned when the subscriber leaves before that (see
 * ProtocolConnection.abandon: its replies are discarded up to ReadyForQuery and, where safe,
 * it is cancelled on the server). It is the teardown RxJS calls on unsubscribe.
 *
 * @example
 * new Observable((subscriber) =>
 *   new LaunchedRequest(protocol).launch(
 *     (error) => subscriber.error(error),
 *     (request) => new SimpleQueryConversation(sql, { ..., complete: () => { request.settle(); subscriber.complete(); } }),
 *   ),
 * );
 */
export class LaunchedRequest implements Unsubscribable {
  readonly #protocol: ProtocolConnection;
  #conversation: Conversation | undefined;
  #finished = false;

  constructor(protocol: ProtocolConnection) {
    this.#protocol = protocol;
  }

  /**
   * Creates the conversation and enqueues it. What `create` throws (a bad option, parameter or
   * SQL text) goes to `fail`, and nothing is sent.
   */
  launch(fail: (error: unknown) => void, create: (request: this) => Conversation): this {
    let conversation: Conversation;
    try {
      conversation = create(this);
    } catch (error) {
      this.#finished = true;
      fail(error);
      return this;
    }
    this.enqueue(conversation);
    return this;
  }

  /** Enqueues this request's conversation (once); for subclasses that build it themselves. */
  protected enqueue(conversation: Conversation): void {
    this.#conversation = conversation;
    this.#protocol.enqueue(conversation);
  }

  /**
   * Replaces the ending conversation with `conversation`, run next (see
   * ProtocolConnection.enqueueNext); false when that could reorder it behind pipelined requests.
   */
  protected enqueueNext(conversation: Conversation): boolean {
    if (!this.#protocol.enqueueNext(conversation)) return false;
    this.#conversation = conversation;
    return true;
  }

  /** The conversation has delivered its end (or its error): unsubscribing no longer abandons it. */
  settle(): void {
    this.#finished = true;
  }

  /** Whether the request has ended, or was abandoned. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Abandons the conversation unless it has ended. */
  unsubscribe(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#conversation !== undefined) this.#protocol.abandon(this.#conversation);
  }
}
