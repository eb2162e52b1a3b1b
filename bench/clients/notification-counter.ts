/**
 * The receiving side of the notify workload, shared by every client adapter: counts
 * notification payloads (the numbers 1..n) until a run's expected count has arrived.
 */
import { countAndSum, type Checksum } from '../checksums';

export class NotificationCounter {
  #rows = 0;
  #sum = 0;
  #expected = 0;
  #resolve: ((checksum: Checksum) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;

  /** Starts a run: the promise resolves once `count` notifications have arrived. */
  expect(count: number): Promise<Checksum> {
    this.#rows = 0;
    this.#sum = 0;
    this.#expected = count;
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Called by the client's notification handler with each payload. */
  receive(payload: string): void {
    this.#rows += 1;
    this.#sum += Number(payload);
    if (this.#rows === this.#expected) this.#resolve?.(countAndSum(this.#rows, this.#sum));
  }

  /** The listener failed: the pending run fails with it. */
  fail(error: unknown): void {
    this.#reject?.(error);
  }
}
