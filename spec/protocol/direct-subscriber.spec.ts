// The Subscriber the protocol connection reads its messages with: called directly by the
// producer, with an observer's guarantees (nothing after the end, teardown on unsubscribe).
import { Observable, Subject, throwError } from 'rxjs';
import { DirectSubscriber } from '../../lib/protocol/direct-subscriber';

function recorder() {
  const events: string[] = [];
  const observer = {
    next: (value: number) => events.push(`next ${value}`),
    error: (error: unknown) => events.push(`error ${(error as Error).message}`),
    complete: () => events.push('complete'),
  };
  return { events, observer };
}

describe('DirectSubscriber', () => {
  it('hands the producer’s values, then its completion, to the observer', () => {
    const { events, observer } = recorder();
    new Observable<number>((subscriber) => {
      subscriber.next(1);
      subscriber.next(2);
      subscriber.complete();
      subscriber.next(3);
    }).subscribe(new DirectSubscriber(observer));
    expect(events).toEqual(['next 1', 'next 2', 'complete']);
  });

  it('is closed before the observer hears of an error, and delivers nothing after it', () => {
    const { events, observer } = recorder();
    const subscriber = new DirectSubscriber({
      ...observer,
      error: (error: unknown) => {
        events.push(`closed: ${String(subscriber.closed)}`);
        observer.error(error);
      },
    });
    throwError(() => new Error('boom')).subscribe(subscriber);
    subscriber.next(4);
    subscriber.complete();
    expect(events).toEqual(['closed: true', 'error boom']);
  });

  it('unsubscribing tears the source down and stops delivery at once, even inside a burst', () => {
    const { events, observer } = recorder();
    let tornDown = false;
    const values = new Subject<number>();
    const subscriber = new DirectSubscriber<number>({
      ...observer,
      next: (value) => {
        observer.next(value);
        if (value === 1) subscriber.unsubscribe();
      },
    });
    new Observable<number>((inner) => {
      const subscription = values.subscribe(inner);
      return () => {
        tornDown = true;
        subscription.unsubscribe();
      };
    }).subscribe(subscriber);
    values.next(1);
    expect(tornDown).toBe(true);
    subscriber.next(2);
    expect(events).toEqual(['next 1']);
  });

  it('what the observer’s next throws reaches the producer (the observer must catch what it means to handle)', () => {
    const failure = new Error('observer failed');
    const subscriber = new DirectSubscriber<number>({
      next: () => {
        throw failure;
      },
      error: () => undefined,
      complete: () => undefined,
    });
    let caught: unknown;
    new Observable<number>((inner) => {
      try {
        inner.next(1);
      } catch (error) {
        caught = error;
      }
    }).subscribe(subscriber);
    expect(caught).toBe(failure);
  });
});
