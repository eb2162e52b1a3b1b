// The pushback gate on its own, over a transport that only counts pause/resume.
import { Subject } from 'rxjs';
import type { Conversation } from '../../lib/protocol/conversation';
import { PushbackGate } from '../../lib/protocol/pushback-gate';
import type { Transport } from '../../lib/transport';

function countingTransport() {
  const counts = { pause: 0, resume: 0 };
  const transport = { pause: () => counts.pause++, resume: () => counts.resume++ } as unknown as Transport;
  return { transport, counts };
}

function receiver(pushback: () => unknown): Conversation {
  return { start: () => undefined, handle: () => false, fail: () => undefined, pushback: pushback as Conversation['pushback'] };
}

describe('PushbackGate', () => {
  it('pauses reading while the pushback is pending and resumes once when it settles', () => {
    const { transport, counts } = countingTransport();
    const gate = new PushbackGate(transport);
    const pending = new Subject<void>();
    gate.apply(receiver(() => pending));
    expect(counts).toEqual({ pause: 1, resume: 0 });
    pending.next();
    pending.complete();
    expect(counts).toEqual({ pause: 1, resume: 1 });
  });

  it('does not pause for nothing or for a pushback that settles at once', () => {
    const { transport, counts } = countingTransport();
    const gate = new PushbackGate(transport);
    gate.apply(receiver(() => undefined));
    gate.apply(receiver(() => [1]));
    expect(counts).toEqual({ pause: 0, resume: 0 });
  });

  it('an error settles it too', () => {
    const { transport, counts } = countingTransport();
    const gate = new PushbackGate(transport);
    const pending = new Subject<void>();
    gate.apply(receiver(() => pending));
    pending.error(new Error('consumer failed'));
    expect(counts).toEqual({ pause: 1, resume: 1 });
  });

  it('chunkDecoded asks the last conversation that received rows in the chunk, once, and nobody after a chunk without rows', () => {
    const { transport, counts } = countingTransport();
    const gate = new PushbackGate(transport);
    const asked: string[] = [];
    const first = receiver(() => asked.push('first'));
    const second = receiver(() => {
      asked.push('second');
      return new Subject<void>();
    });
    gate.chunkDecoded();
    gate.rowsReceived(first);
    gate.rowsReceived(second);
    gate.chunkDecoded();
    gate.chunkDecoded();
    expect(asked).toEqual(['second']);
    expect(counts).toEqual({ pause: 1, resume: 0 });
    gate.release();
    expect(counts).toEqual({ pause: 1, resume: 1 });
  });

  it('release forgets the receiver of the chunk being decoded: no pause once closing or failed', () => {
    const { transport, counts } = countingTransport();
    const gate = new PushbackGate(transport);
    gate.rowsReceived(receiver(() => new Subject<void>()));
    gate.release();
    gate.chunkDecoded();
    expect(counts).toEqual({ pause: 0, resume: 0 });
  });

  it('a wait opened from inside resume (a transport that delivers at once) is kept, and release still opens it', () => {
    const counts = { pause: 0, resume: 0 };
    let onResume = (): void => undefined;
    const transport = {
      pause: () => counts.pause++,
      resume: () => {
        counts.resume++;
        onResume();
      },
    } as unknown as Transport;
    const gate = new PushbackGate(transport);
    const first = new Subject<void>();
    gate.apply(receiver(() => first));
    onResume = () => {
      onResume = () => undefined;
      gate.apply(receiver(() => new Subject<void>()));
    };
    first.next();
    expect(counts).toEqual({ pause: 2, resume: 1 });
    gate.release();
    expect(counts).toEqual({ pause: 2, resume: 2 });
  });

  it('releaseFor opens the gate only for the conversation that holds it; release opens it for anyone', () => {
    const { transport, counts } = countingTransport();
    const gate = new PushbackGate(transport);
    const holder = receiver(() => new Subject<void>());
    gate.apply(holder);
    gate.releaseFor(receiver(() => undefined));
    expect(counts.resume).toBe(0);
    gate.releaseFor(holder);
    expect(counts.resume).toBe(1);
    gate.apply(receiver(() => new Subject<void>()));
    gate.release();
    expect(counts).toEqual({ pause: 2, resume: 2 });
  });
});
