// A transport's drained(): the rule both the socket transport and the specs' fake transport use.
import { Subject, lastValueFrom, toArray } from 'rxjs';
import { whenDrained } from '../../lib/transport';

describe('whenDrained', () => {
  it('emits once at subscribe when the buffer has room, without waiting for a drain event', async () => {
    const drains = new Subject<void>();
    expect(await lastValueFrom(whenDrained(() => false, drains).pipe(toArray()))).toEqual([undefined]);
    expect(drains.observed).toBe(false);
  });

  it('waits for the next drain event when the buffer is full, then emits once and completes', () => {
    const drains = new Subject<void>();
    const seen: string[] = [];
    whenDrained(() => true, drains).subscribe({ next: () => seen.push('next'), complete: () => seen.push('complete') });
    expect(seen).toEqual([]);
    drains.next();
    drains.next();
    expect(seen).toEqual(['next', 'complete']);
    expect(drains.observed).toBe(false);
  });

  it('completes without a value when the drain events end first (the socket closed)', () => {
    const drains = new Subject<void>();
    const seen: string[] = [];
    whenDrained(() => true, drains).subscribe({ next: () => seen.push('next'), complete: () => seen.push('complete') });
    drains.complete();
    expect(seen).toEqual(['complete']);
  });

  it('is cold: asks whether a drain is needed at each subscribe; unsubscribing stops waiting', () => {
    const drains = new Subject<void>();
    let full = true;
    const drained = whenDrained(() => full, drains);
    const waiting = drained.subscribe();
    expect(drains.observed).toBe(true);
    waiting.unsubscribe();
    expect(drains.observed).toBe(false);
    full = false;
    let emitted = false;
    drained.subscribe(() => (emitted = true));
    expect(emitted).toBe(true);
  });
});
