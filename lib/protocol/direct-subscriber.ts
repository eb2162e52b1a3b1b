import { Subscriber } from 'rxjs';

/** What a {@link DirectSubscriber} calls. */
export interface DirectObserver<T> {
  next(value: T): void;
  error(error: unknown): void;
  complete(): void;
}

/**
 * A Subscriber that calls its observer directly: subscribed with it, an Observable's producer
 * calls `observer.next` through one monomorphic call per value. Subscribed with a plain observer
 * object, RxJS wraps it in a SafeSubscriber and a ConsumerObserver (three calls shared by every
 * subscriber of the process, so megamorphic, and a try/catch) — measurable on the socket's
 * message stream, a million DataRows for one query. The same as an observer otherwise: nothing
 * is delivered once it is closed (unsubscribed, errored or completed). `error`/`complete`
 * close it, tearing the source down, before calling the observer (RxJS tears down after; the
 * connection, the only user, relies on neither order).
 *
 * Unlike with a SafeSubscriber, what `observer.next` throws reaches the producer: the observer
 * must catch what it does not want to end the stream with.
 *
 * @example
 * const reading = decodeBackendMessages(chunks$).subscribe(new DirectSubscriber({ next: route, error: fail, complete: ended }));
 */
export class DirectSubscriber<T> extends Subscriber<T> {
  readonly #observer: DirectObserver<T>;

  constructor(observer: DirectObserver<T>) {
    // A Subscriber of our own, as RxJS's operators make them (no destination: we override the three methods).
    super();
    this.#observer = observer;
  }

  override next(value: T): void {
    if (!this.closed) this.#observer.next(value);
  }

  override error(error: unknown): void {
    if (this.closed) return;
    this.unsubscribe();
    this.#observer.error(error);
  }

  override complete(): void {
    if (this.closed) return;
    this.unsubscribe();
    this.#observer.complete();
  }
}
