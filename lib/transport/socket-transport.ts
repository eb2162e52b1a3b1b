import type { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { Observable, Subject } from 'rxjs';
import { ConnectionError } from '../errors';
import type { ReleaseCallback, Transport } from './transport';
import { whenDrained } from './when-drained';

/** Pending writes this large go to the socket as they are; smaller ones are joined. */
const copyLimit = 16 * 1024;
/** Joined writes are cut at about this size, so one tick's writes never make one huge copy. */
const groupLimit = 64 * 1024;

/**
 * The {@link Transport} over one open socket to the server (plain TCP, unix-domain, or TLS),
 * seen as:
 * - `chunks$`: the bytes the server sends, as a hot Observable that errors with a
 *   ConnectionError when the socket fails and completes on EOF;
 * - `write`: writes coalesced within a tick into one socket write (sent as soon as 64 KiB are queued);
 * - `pause` / `resume`: stop and restart reading, so TCP pushes back on the server;
 * - `drain`: whether writes should wait, and when they may go on.
 *
 * The transport owns the socket: `destroy` tears it down at once; `end` sends FIN after the
 * pending writes.
 *
 * @example
 * const transport = new SocketTransport(socket, { encrypted: false, description: 'localhost:5432' });
 */
export class SocketTransport implements Transport {
  /** Whether the socket is encrypted with TLS. */
  readonly encrypted: boolean;
  readonly #socket: Socket;
  readonly #chunks = new Subject<Buffer>();
  readonly #drains = new Subject<void>();
  #pending: Uint8Array[] = [];
  /** Release callbacks of pending writes, by their index in `#pending` (sparse; usually none). */
  #releases: (ReleaseCallback | undefined)[] | undefined;
  #pendingBytes = 0;
  #flushScheduled = false;
  #ended = false;
  #failure: ConnectionError | undefined;
  #pauseCount = 0;

  /**
   * Bytes of server data, chunk by chunk. Errors with a ConnectionError; completes on EOF.
   * Reading runs while someone is subscribed: once the last subscriber leaves, the socket is
   * paused, so what the server sends stays with the kernel (TCP pushes back) instead of being
   * read and dropped; a later subscriber gets it.
   */
  readonly chunks$: Observable<Buffer> = new Observable<Buffer>((subscriber) => {
    const subscription = this.#chunks.subscribe(subscriber);
    // Reading starts with the first subscriber, so no byte arrives before anyone listens.
    if (this.#pauseCount === 0) this.#socket.resume();
    return () => {
      subscription.unsubscribe();
      if (!this.#chunks.observed) this.#socket.pause();
    };
  });

  constructor(socket: Socket, options: { readonly encrypted: boolean; readonly description: string }) {
    this.#socket = socket;
    this.encrypted = options.encrypted;
    socket.on('data', (chunk: Buffer) => this.#chunks.next(chunk));
    socket.pause();
    socket.on('drain', () => this.#drains.next());
    socket.on('end', () => this.#chunks.complete());
    socket.on('error', (error: Error) => {
      this.#failure ??= new ConnectionError(`connection to ${options.description} failed: ${error.message}`, {
        code: '08006',
        cause: error,
      });
      this.#chunks.error(this.#failure);
    });
    socket.on('close', () => {
      // A close without 'end' or 'error' (e.g. destroy by us) still ends the stream.
      this.#chunks.complete();
      this.#drains.complete();
    });
  }

  /** The server's certificate on a TLS connection (for SCRAM channel binding). */
  peerCertificate(): X509Certificate | undefined {
    return this.#socket instanceof TLSSocket ? this.#socket.getPeerX509Certificate() : undefined;
  }

  /** Whether the socket can still be written to. */
  get writable(): boolean {
    return !this.#ended && !this.#socket.destroyed && this.#socket.writable;
  }

  /**
   * Queues bytes for the server. Writes made in the same tick go out as one socket write, or as soon as 64 KiB are queued.
   * Returns false when the socket's buffer is full: callers that produce much data (COPY)
   * wait for `drained()` before writing more.
   *
   * `released`, if given, is called once the transport no longer reads `bytes` (they were
   * copied into a joined write, or the kernel has them), so the caller may reuse the buffer;
   * it is never called when the socket is torn down first.
   */
  write(bytes: Uint8Array, released?: ReleaseCallback): boolean {
    if (!this.writable) return false;
    if (released !== undefined) (this.#releases ??= [])[this.#pending.length] = released;
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (this.#pendingBytes >= groupLimit) {
      // A tick writing thousands of requests: what is joined so far goes now, so the server
      // starts on it while the rest of the tick is still being encoded.
      this.flush();
      return this.#socket.writableLength < this.#socket.writableHighWaterMark;
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(() => this.flush());
    }
    return this.#socket.writableLength + this.#pendingBytes < this.#socket.writableHighWaterMark;
  }

  /** Sends what `write` queued now rather than at the end of the tick. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#pending.length === 0 || !this.writable) {
      this.#pending = [];
      this.#releases = undefined;
      this.#pendingBytes = 0;
      return;
    }
    const pending = this.#pending;
    const releases = this.#releases;
    const total = this.#pendingBytes;
    this.#pending = [];
    this.#releases = undefined;
    this.#pendingBytes = 0;
    if (pending.length === 1) {
      this.#writeAsIs(pending[0]!, releases?.[0]);
    } else if (total <= groupLimit) {
      this.#socket.write(Buffer.concat(pending, total));
      if (releases !== undefined) for (const release of releases) release?.();
    } else {
      // Thousands of pipelined requests or COPY chunks: small pieces are joined into a few
      // buffers (each socket.write costs far more than copying a few KiB), large ones go out as
      // they are, and cork makes the lot one writev.
      this.#socket.cork();
      let groupStart = 0;
      let groupBytes = 0;
      for (let i = 0; i < pending.length; i++) {
        const size = pending[i]!.length;
        if (size >= copyLimit) {
          this.#writeJoined(pending, releases, groupStart, i, groupBytes);
          this.#writeAsIs(pending[i]!, releases?.[i]);
          groupStart = i + 1;
          groupBytes = 0;
        } else if (groupBytes + size > groupLimit) {
          this.#writeJoined(pending, releases, groupStart, i, groupBytes);
          groupStart = i;
          groupBytes = size;
        } else {
          groupBytes += size;
        }
      }
      this.#writeJoined(pending, releases, groupStart, pending.length, groupBytes);
      this.#socket.uncork();
    }
  }

  #writeAsIs(bytes: Uint8Array, release: ReleaseCallback | undefined): void {
    if (release === undefined) this.#socket.write(bytes);
    else this.#socket.write(bytes, (error) => error == null && release());
  }

  /** Writes `pieces[start, end)`, `bytes` long in all, as one buffer. */
  #writeJoined(
    pieces: readonly Uint8Array[],
    releases: readonly (ReleaseCallback | undefined)[] | undefined,
    start: number,
    end: number,
    bytes: number,
  ): void {
    if (end - start === 0) return;
    if (end - start === 1) {
      this.#writeAsIs(pieces[start]!, releases?.[start]);
      return;
    }
    const joined = Buffer.allocUnsafe(bytes);
    let at = 0;
    for (let i = start; i < end; i++) {
      joined.set(pieces[i]!, at);
      at += pieces[i]!.length;
    }
    this.#socket.write(joined);
    // Copied: the callers' buffers are free again.
    if (releases !== undefined) for (let i = start; i < end; i++) releases[i]?.();
  }

  /** Bytes written but not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.#socket.writableLength + this.#pendingBytes;
  }

  /** Whether the socket's write buffer is over its high-water mark. */
  get needsDrain(): boolean {
    return this.#socket.writableNeedDrain || this.#pendingBytes >= this.#socket.writableHighWaterMark;
  }

  /**
   * Emits once and completes when the socket has room for more writes (at once if it has now).
   * Completes without a value when the socket closes first.
   */
  drained(): Observable<void> {
    return whenDrained(() => {
      // Flushing may hand everything to the kernel at once, and then no 'drain' follows.
      if (this.needsDrain) this.flush();
      return this.needsDrain;
    }, this.#drains);
  }

  /**
   * Stops reading from the socket (TCP then pushes back on the server). Pauses nest: reading
   * resumes after as many `resume` calls.
   */
  pause(): void {
    if (this.#pauseCount++ === 0) this.#socket.pause();
  }

  /** Undoes one `pause`. */
  resume(): void {
    if (this.#pauseCount === 0) return;
    if (--this.#pauseCount === 0) this.#socket.resume();
  }

  /** Whether reading is paused. */
  get paused(): boolean {
    return this.#pauseCount > 0;
  }

  /** Sends the pending writes, then FIN. The server's EOF completes `chunks$`. */
  end(): void {
    if (this.#ended) return;
    this.flush();
    this.#ended = true;
    this.#socket.end();
  }

  /** Tears the socket down at once; pending writes are dropped. */
  destroy(): void {
    this.#ended = true;
    this.#pending = [];
    this.#releases = undefined;
    this.#pendingBytes = 0;
    this.#socket.destroy();
  }

  /** Whether the socket is fully closed. */
  get closed(): boolean {
    return this.#socket.destroyed;
  }

  /** Emits once and completes when the socket has closed (at once if it has). */
  whenClosed(): Observable<void> {
    return new Observable<void>((subscriber) => {
      const done = () => {
        subscriber.next();
        subscriber.complete();
      };
      if (this.#socket.destroyed && this.#socket.closed) return done();
      this.#socket.once('close', done);
      return () => this.#socket.off('close', done);
    });
  }
}
