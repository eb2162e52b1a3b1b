import { from, lastValueFrom, Observable, Subject, throwError, toArray, concat } from 'rxjs';
import { ProtocolError } from '../../lib/errors';
import { decodeBackendMessages, type BackendMessage } from '../../lib/wire';
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
    const messages = await lastValueFrom(from(chunks).pipe(decodeBackendMessages(), toArray()));
    expect(messages).toEqual([
      { name: 'ParseComplete' },
      { name: 'BindComplete' },
      { name: 'DataRow', fields: ['a', null] },
      { name: 'CommandComplete', tag: 'SELECT 1' },
      { name: 'ReadyForQuery', transactionStatus: 'I' },
    ]);
  });

  it('errors with the ProtocolError after the messages before the bad one, and unsubscribes the source', () => {
    const chunks = new Subject<Buffer>();
    const seen: string[] = [];
    let error: unknown;
    chunks.pipe(decodeBackendMessages()).subscribe({ next: (message) => seen.push(message.name), error: (caught) => (error = caught) });
    chunks.next(Buffer.concat([b.noData(), b.frame('x')]));
    expect(seen).toEqual(['NoData']);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toMatch(/'x'/);
    expect(chunks.observed).toBe(false);
  });

  it('errors with a ProtocolError for an oversized header without waiting for the body', () => {
    const chunks = new Subject<Buffer>();
    let error: unknown;
    chunks.pipe(decodeBackendMessages({ maxMessageSize: 1024 })).subscribe({ error: (caught) => (error = caught) });
    chunks.next(b.frame('D', [], 1025).subarray(0, 5));
    expect(error).toBeInstanceOf(ProtocolError);
  });

  it('forwards the source error unchanged', () => {
    const failure = new Error('ECONNRESET');
    const seen: BackendMessage[] = [];
    let error: unknown;
    concat(
      from([b.readyForQuery('I')]),
      throwError(() => failure),
    )
      .pipe(decodeBackendMessages())
      .subscribe({ next: (message) => seen.push(message), error: (caught) => (error = caught) });
    expect(seen).toEqual([{ name: 'ReadyForQuery', transactionStatus: 'I' }]);
    expect(error).toBe(failure);
  });

  it('errors with a ProtocolError when the source completes inside a message', async () => {
    const source = from([Buffer.concat([b.readyForQuery('I'), b.dataRow(['abc']).subarray(0, 6)])]);
    await expect(lastValueFrom(source.pipe(decodeBackendMessages()))).rejects.toThrow(
      new ProtocolError('the connection ended inside a backend message (6 bytes of it received)'),
    );
  });

  it('unsubscribes from the source on unsubscribe', () => {
    let tornDown = false;
    const source = new Observable<Buffer>(() => () => {
      tornDown = true;
    });
    const subscription = source.pipe(decodeBackendMessages()).subscribe();
    expect(tornDown).toBe(false);
    subscription.unsubscribe();
    expect(tornDown).toBe(true);
  });

  it('gives each subscription its own decoder', () => {
    const chunks = new Subject<Buffer>();
    const decoded = chunks.pipe(decodeBackendMessages());
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
