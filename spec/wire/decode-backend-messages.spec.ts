import { concat, from, lastValueFrom, Observable, Subject, throwError, toArray } from 'rxjs';
import { ProtocolError } from '../../lib/errors';
import { decodeBackendMessages, UnfinishedMessageError, type BackendMessage } from '../../lib/wire';
import * as b from '../helpers/backend-messages';

describe('decodeBackendMessages', () => {
  it('emits the messages of the chunks, whatever their boundaries, and completes', async () => {
    const bytes = Buffer.concat([
      b.parseComplete(),
      b.bindComplete(),
      b.dataRow(['a', null]),
      b.commandComplete('SELECT 1'),
      b.readyForQuery('I'),
    ]);
    const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 17), bytes.subarray(17)];
    const messages = await lastValueFrom(decodeBackendMessages(from(chunks)).pipe(toArray()));
    // The DataRow's own shape is the decoder's (its spec); here only the framing matters.
    expect(messages.map((message) => message.name)).toEqual([
      'ParseComplete',
      'BindComplete',
      'DataRow',
      'CommandComplete',
      'ReadyForQuery',
    ]);
    expect(messages[3]).toEqual({ name: 'CommandComplete', tag: 'SELECT 1' });
    expect(messages[4]).toEqual({ name: 'ReadyForQuery', transactionStatus: 'I' });
  });

  it('is cold: nothing is subscribed before subscribe, and each subscription reads again', () => {
    let subscriptions = 0;
    const source = new Observable<Buffer>((subscriber) => {
      subscriptions++;
      subscriber.next(b.noData());
      subscriber.complete();
    });
    const decoded = decodeBackendMessages(source);
    expect(subscriptions).toBe(0);
    const names: string[] = [];
    decoded.subscribe((message) => names.push(message.name));
    decoded.subscribe((message) => names.push(message.name));
    expect(subscriptions).toBe(2);
    expect(names).toEqual(['NoData', 'NoData']);
  });

  it('calls chunkDecoded once after the messages each chunk completes, chunk by chunk', () => {
    const chunks = new Subject<Buffer>();
    const events: string[] = [];
    decodeBackendMessages(chunks, { chunkDecoded: () => events.push('|') }).subscribe((message) => events.push(message.name));
    const row = b.dataRow(['x']);
    chunks.next(Buffer.concat([b.bindComplete(), row, row.subarray(0, 3)]));
    chunks.next(row.subarray(3));
    chunks.next(Buffer.concat([b.commandComplete('SELECT 2'), b.readyForQuery('I')]));
    expect(events).toEqual(['BindComplete', 'DataRow', '|', 'DataRow', '|', 'CommandComplete', 'ReadyForQuery', '|']);
  });

  it('errors with the ProtocolError after the messages before the bad one, and unsubscribes the source', () => {
    const chunks = new Subject<Buffer>();
    const seen: string[] = [];
    let error: unknown;
    let chunkEnds = 0;
    decodeBackendMessages(chunks, { chunkDecoded: () => chunkEnds++ }).subscribe({
      next: (message) => seen.push(message.name),
      error: (caught) => (error = caught),
    });
    chunks.next(Buffer.concat([b.noData(), b.frame('x')]));
    expect(seen).toEqual(['NoData']);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toMatch(/'x'/);
    expect(chunks.observed).toBe(false);
    expect(chunkEnds).toBe(0);
  });

  it('errors with a ProtocolError for an oversized header without waiting for the body', () => {
    const chunks = new Subject<Buffer>();
    let error: unknown;
    decodeBackendMessages(chunks, { maxMessageSize: 1024 }).subscribe({ error: (caught) => (error = caught) });
    chunks.next(b.frame('D', [], 1025).subarray(0, 5));
    expect(error).toBeInstanceOf(ProtocolError);
  });

  it('errors at subscribe, not at the call, for a bad maxMessageSize', () => {
    const decoded = decodeBackendMessages(new Subject<Buffer>(), { maxMessageSize: 2 });
    let error: unknown;
    decoded.subscribe({ error: (caught) => (error = caught) });
    expect(error).toBeInstanceOf(RangeError);
  });

  it('errors with what chunkDecoded throws, and unsubscribes the source', () => {
    const chunks = new Subject<Buffer>();
    const failure = new Error('pushback failed');
    let error: unknown;
    decodeBackendMessages(chunks, {
      chunkDecoded: () => {
        throw failure;
      },
    }).subscribe({ error: (caught) => (error = caught) });
    chunks.next(b.noData());
    expect(error).toBe(failure);
    expect(chunks.observed).toBe(false);
  });

  it('forwards the source error unchanged', () => {
    const failure = new Error('ECONNRESET');
    const seen: BackendMessage[] = [];
    let error: unknown;
    decodeBackendMessages(
      concat(
        from([b.readyForQuery('I')]),
        throwError(() => failure),
      ),
    ).subscribe({
      next: (message) => seen.push(message),
      error: (caught) => (error = caught),
    });
    expect(seen).toEqual([{ name: 'ReadyForQuery', transactionStatus: 'I' }]);
    expect(error).toBe(failure);
  });

  it('errors with an UnfinishedMessageError, a ProtocolError saying how many bytes arrived, when the source completes inside a message', async () => {
    const source = from([Buffer.concat([b.readyForQuery('I'), b.dataRow(['abc']).subarray(0, 6)])]);
    const ending = lastValueFrom(decodeBackendMessages(source));
    await expect(ending).rejects.toThrow(new ProtocolError('the connection ended inside a backend message (6 bytes of it received)'));
    await expect(ending).rejects.toBeInstanceOf(UnfinishedMessageError);
    await expect(ending).rejects.toMatchObject({ bufferedBytes: 6, code: '08P01' });
  });

  it('unsubscribes from the source on unsubscribe', () => {
    let tornDown = false;
    const source = new Observable<Buffer>(() => () => {
      tornDown = true;
    });
    const subscription = decodeBackendMessages(source).subscribe();
    expect(tornDown).toBe(false);
    subscription.unsubscribe();
    expect(tornDown).toBe(true);
  });

  it('stops reading at once when unsubscribed in the middle of a chunk: no later message, no chunk hook', () => {
    const chunks = new Subject<Buffer>();
    const seen: string[] = [];
    let chunkEnds = 0;
    const subscription = decodeBackendMessages(chunks, { chunkDecoded: () => chunkEnds++ }).subscribe((message) => {
      seen.push(message.name);
      subscription.unsubscribe();
    });
    chunks.next(Buffer.concat([b.parseComplete(), b.bindComplete(), b.noData()]));
    expect(seen).toEqual(['ParseComplete']);
    expect(chunkEnds).toBe(0);
    expect(chunks.observed).toBe(false);
  });

  it('gives each subscription its own decoder', () => {
    const chunks = new Subject<Buffer>();
    const decoded = decodeBackendMessages(chunks);
    const first: string[] = [];
    let secondError: unknown;
    decoded.subscribe((message) => first.push(message.name));
    const row = b.dataRow(['x']);
    chunks.next(row.subarray(0, 4));
    decoded.subscribe({ error: (caught) => (secondError = caught) });
    chunks.next(Buffer.concat([row.subarray(4), b.noData()]));
    expect(first).toEqual(['DataRow', 'NoData']);
    // The second decoder starts in the middle of a message, so it fails on its own.
    expect(secondError).toBeInstanceOf(ProtocolError);
  });
});
