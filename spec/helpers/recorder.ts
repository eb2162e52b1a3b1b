import type { Observable, Subscription } from 'rxjs';

/** How a recorded Observable ended, if it has. */
export type Ending = { readonly kind: 'error'; readonly error: unknown } | { readonly kind: 'complete' };

/**
 * Subscribes at once and records everything an Observable does, so that a spec can wait for
 * an event (no polling, no fixed sleeps) and then inspect the whole history.
 */
export class Recorder<T> {
  readonly values: T[] = [];
  ending: Ending | undefined;
  readonly subscription: Subscription;
  readonly #waiters = new Set<() => void>();

  constructor(source: Observable<T>) {
    this.subscription = source.subscribe({
      next: (value) => {
        this.values.push(value);
        this.#wake();
      },
      error: (error: unknown) => {
        this.ending = { kind: 'error', error };
        this.#wake();
      },
      complete: () => {
        this.ending = { kind: 'complete' };
        this.#wake();
      },
    });
  }

  /**
   * Resolves with the first recorded value (from index `from` on) that satisfies `predicate`,
   * waiting for it at most `timeout` ms. Rejects if the Observable ends first.
   */
  next(predicate: (value: T) => boolean = () => true, options: { readonly from?: number; readonly timeout?: number } = {}): Promise<T> {
    const from = options.from ?? 0;
    return this.#until(
      () => {
        const index = this.values.findIndex((value, i) => i >= from && predicate(value));
        return index < 0 ? undefined : { value: this.values[index]! };
      },
      options.timeout ?? 5000,
      'a matching value',
    ).then((found) => found.value);
  }

  /** Resolves once `count` values have been recorded. */
  async count(count: number, timeout = 5000): Promise<T[]> {
    await this.#until(() => (this.values.length >= count ? {} : undefined), timeout, `${count} values`);
    return this.values.slice(0, count);
  }

  /** Resolves with how the Observable ended, waiting at most `timeout` ms. */
  ended(timeout = 5000): Promise<Ending> {
    return this.#until(() => this.ending, timeout, 'the end', true);
  }

  /** Resolves with the error the Observable ended with; rejects if it completed instead. */
  async error(timeout = 5000): Promise<unknown> {
    const ending = await this.ended(timeout);
    if (ending.kind !== 'error') throw new Error('expected an error, but the Observable completed');
    return ending.error;
  }

  unsubscribe(): void {
    this.subscription.unsubscribe();
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #until<R>(check: () => R | undefined, timeout: number, what: string, endIsOk = false): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const waiter = () => {
        const found = check();
        if (found !== undefined) {
          finish();
          resolve(found);
        } else if (this.ending !== undefined && !endIsOk) {
          finish();
          const detail = this.ending.kind === 'error' ? `errored: ${String(this.ending.error)}` : 'completed';
          reject(new Error(`waiting for ${what}, but the Observable ${detail}; values: ${describe(this.values)}`));
        }
      };
      const finish = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${what} within ${timeout} ms; values so far: ${describe(this.values)}`));
      }, timeout);
      this.#waiters.add(waiter);
      waiter();
    });
  }
}

function describe(values: readonly unknown[]): string {
  const text = JSON.stringify(values, (_key, value: unknown) => (value instanceof Error ? `${value.name}: ${value.message}` : value));
  return text.length > 600 ? `${text.slice(0, 600)}...` : text;
}
