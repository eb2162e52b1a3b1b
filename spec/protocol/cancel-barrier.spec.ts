// The cancel barrier on its own, with scripted conversations and a CancelRequest we complete
// by hand: when it cancels, what it holds back, and its bound.
import { Subject } from 'rxjs';
import type { ConnectionError } from '../../lib';
import { CancelBarrier } from '../../lib/protocol/cancel-barrier';
import type { Conversation } from '../../lib/protocol/conversation';
import { ConversationQueue } from '../../lib/protocol/conversation-queue';

function conversation(): Conversation {
  return { start: () => undefined, handle: () => true, fail: () => undefined };
}

function setup(timeout = 1000) {
  const queue = new ConversationQueue();
  const requests: Subject<void>[] = [];
  const events: string[] = [];
  let timedOut: ConnectionError | undefined;
  const barrier = new CancelBarrier(
    {
      conversations: queue,
      cancelRequest: () => {
        const request = new Subject<void>();
        requests.push(request);
        events.push('cancel sent');
        return request;
      },
      lifted: () => events.push('lifted'),
      timedOut: (error) => (timedOut = error),
    },
    { timeout, description: 'test' },
  );
  const end = (ended: Conversation) => {
    expect(queue.shift()).toBe(ended);
    barrier.ended(ended);
  };
  return { queue, requests, events, barrier, end, timedOut: () => timedOut };
}

afterEach(() => jest.useRealTimers());

describe('CancelBarrier', () => {
  it('cancels an abandoned request that is alone in flight and holds writes until it ended and the server closed the cancel socket', () => {
    const { queue, requests, events, barrier, end } = setup();
    const running = conversation();
    queue.push(running);
    barrier.abandoned(running);
    expect(events).toEqual(['cancel sent']);
    expect(barrier.holding).toBe(true);
    requests[0]!.complete(); // the server closed the cancel socket
    expect(barrier.holding).toBe(true);
    end(running); // its ReadyForQuery
    expect(barrier.holding).toBe(false);
    expect(events).toEqual(['cancel sent', 'lifted']);
  });

  it('the order of the two steps does not matter', () => {
    const { queue, requests, events, barrier, end } = setup();
    const running = conversation();
    queue.push(running);
    barrier.abandoned(running);
    end(running);
    expect(barrier.holding).toBe(true);
    requests[0]!.complete();
    expect(events).toEqual(['cancel sent', 'lifted']);
  });

  it('never cancels while a live request is in flight behind the abandoned one', () => {
    const { queue, events, barrier } = setup();
    const first = conversation();
    const live = conversation();
    queue.push(first);
    queue.push(live);
    barrier.abandoned(first);
    expect(events).toEqual([]);
    expect(barrier.holding).toBe(false);
    barrier.abandoned(live); // now nothing in flight is wanted
    expect(events).toEqual(['cancel sent']);
  });

  it('cancels the next abandoned request before lifting, so held writes never run behind it', () => {
    const { queue, requests, events, barrier, end } = setup();
    const first = conversation();
    const second = conversation();
    queue.push(first);
    queue.push(second);
    barrier.abandoned(first);
    barrier.abandoned(second);
    requests[0]!.complete();
    end(first);
    expect(events).toEqual(['cancel sent', 'cancel sent']);
    expect(barrier.holding).toBe(true);
    requests[1]!.complete();
    end(second);
    expect(events).toEqual(['cancel sent', 'cancel sent', 'lifted']);
  });

  it('a request that ended without being cancelled is forgotten: a later abandon counts only what is in flight', () => {
    const { queue, events, barrier, end } = setup();
    const first = conversation();
    const live = conversation();
    queue.push(first);
    queue.push(live);
    barrier.abandoned(first);
    end(first);
    expect(events).toEqual([]);
    barrier.abandoned(live);
    expect(events).toEqual(['cancel sent']);
  });

  it('gives the connection up when the cancel is not confirmed within the timeout', () => {
    jest.useFakeTimers();
    const { queue, barrier, timedOut } = setup(300);
    const running = conversation();
    queue.push(running);
    barrier.abandoned(running);
    jest.advanceTimersByTime(299);
    expect(timedOut()).toBeUndefined();
    jest.advanceTimersByTime(1);
    expect(timedOut()?.message).toMatch(/did not confirm the CancelRequest within 300 ms/);
  });

  it('gives the connection up when the cancelled request does not end within the timeout', () => {
    jest.useFakeTimers();
    const { queue, requests, barrier, timedOut } = setup(300);
    const running = conversation();
    queue.push(running);
    barrier.abandoned(running);
    requests[0]!.complete();
    jest.advanceTimersByTime(300);
    expect(timedOut()?.message).toMatch(/the cancelled request did not end within 300 ms/);
  });

  it('sends nothing when the connection cannot cancel, and stop() tears a cancel in progress down', () => {
    jest.useFakeTimers();
    const queue = new ConversationQueue();
    const silent = new CancelBarrier(
      { conversations: queue, cancelRequest: () => undefined, lifted: () => undefined, timedOut: () => undefined },
      { timeout: 100, description: 'test' },
    );
    const running = conversation();
    queue.push(running);
    silent.abandoned(running);
    expect(silent.holding).toBe(false);

    const { queue: queue2, requests, barrier, timedOut } = setup(100);
    const other = conversation();
    queue2.push(other);
    barrier.abandoned(other);
    barrier.stop();
    expect(barrier.holding).toBe(false);
    expect(requests[0]!.observed).toBe(false);
    jest.advanceTimersByTime(200);
    expect(timedOut()).toBeUndefined();
  });
});
