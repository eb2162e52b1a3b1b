import type { Conversation } from './conversation';

/**
 * The written conversations, oldest first, with O(1) push, shift and head — a connection may
 * have tens of thousands in flight when many requests are pipelined. It also counts the
 * exclusive ones, which hold back later writes.
 */
export class ConversationQueue {
  #items: (Conversation | undefined)[] = [];
  #head = 0;
  #exclusive = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** The oldest conversation, which receives the backend messages. */
  get head(): Conversation | undefined {
    return this.#items[this.#head];
  }

  /** Whether an exclusive conversation (COPY) is in the queue. */
  get hasExclusive(): boolean {
    return this.#exclusive > 0;
  }

  push(conversation: Conversation): void {
    this.#items.push(conversation);
    if (conversation.exclusive === true) this.#exclusive += 1;
  }

  shift(): Conversation | undefined {
    if (this.length === 0) return undefined;
    const conversation = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head += 1;
    if (conversation?.exclusive === true) this.#exclusive -= 1;
    // Compact now and then so the array does not grow without bound.
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return conversation;
  }

  /** Empties the queue, returning what was in it, oldest first. */
  drain(): Conversation[] {
    const drained = this.#items.slice(this.#head) as Conversation[];
    this.#items = [];
    this.#head = 0;
    this.#exclusive = 0;
    return drained;
  }
}
