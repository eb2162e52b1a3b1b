/**
 * What a connection knows about its own `transaction(...)`s beyond `transactionStatus`, which
 * changes only when a reply arrives: whether one is running (from its BEGIN until its COMMIT
 * or ROLLBACK is queued — a second BEGIN in between would merely warn and mix the statements
 * of both), and how many COMMIT / ROLLBACK statements are queued but not yet answered (the
 * status still says `in transaction` then, yet a BEGIN queued now runs after them).
 */
export class TransactionGuard {
  #open = false;
  #ending = 0;

  /** Why a transaction cannot begin now, or undefined when it can. */
  refusal(status: string): string | undefined {
    if (this.#open) return 'another transaction(...) on this connection has not ended';
    if (status !== 'idle' && this.#ending === 0) return `its transactionStatus is '${status}'`;
    return undefined;
  }

  /** A transaction begins. */
  claim(): void {
    this.#open = true;
  }

  /** The transaction ended without a COMMIT or ROLLBACK (its BEGIN failed). */
  release(): void {
    this.#open = false;
  }

  /** Its COMMIT or ROLLBACK is queued; call the returned function when it is answered. */
  ending(): () => void {
    this.#open = false;
    this.#ending++;
    let answered = false;
    return () => {
      if (answered) return;
      answered = true;
      this.#ending--;
    };
  }
}
