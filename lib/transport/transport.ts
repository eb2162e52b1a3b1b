import type { X509Certificate } from 'node:crypto';
import type { Observable } from 'rxjs';

/** Called once the transport no longer reads a written buffer. */
export type ReleaseCallback = () => void;

/**
 * The byte stream under one protocol connection, as the protocol layer uses it: the only
 * thing it knows of the network. {@link SocketTransport} is the real one (plain TCP,
 * unix-domain or TLS); the unit specs of the protocol state machines use a fake.
 *
 * - `chunks$`: the bytes the server sends, as a hot Observable that errors with a
 *   ConnectionError when the connection fails and completes on EOF; nothing is read before it
 *   has a subscriber;
 * - `write` / `flush`: writes coalesced within a tick;
 * - `pause` / `resume`: stop and restart reading, so TCP pushes back on the server;
 * - `needsDrain` / `drained` / `bufferedBytes`: whether writers that produce much data (COPY)
 *   should wait, and when they may go on;
 * - `end` (FIN after the pending writes) and `destroy` (at once).
 */
export interface Transport {
  /** Bytes of server data, chunk by chunk. Errors with a ConnectionError; completes on EOF or close. */
  readonly chunks$: Observable<Buffer>;
  /** Whether the connection is encrypted with TLS. */
  readonly encrypted: boolean;
  /** Whether the transport can still be written to. */
  readonly writable: boolean;
  /** Bytes written but not yet handed to the kernel. */
  readonly bufferedBytes: number;
  /** Whether the write buffer is over its high-water mark: writers that can wait should wait for `drained()`. */
  readonly needsDrain: boolean;
  /** Whether reading is paused. */
  readonly paused: boolean;
  /** Whether the connection is fully closed. */
  readonly closed: boolean;
  /**
   * The server's certificate on a TLS connection, undefined otherwise: what SCRAM channel
   * binding (tls-server-end-point) is computed from.
   */
  peerCertificate(): X509Certificate | undefined;
  /**
   * Queues bytes for the server; the writes of one tick go out together. Returns false when
   * the write buffer is full (see `drained`). `released`, if given, is called once the
   * transport no longer reads `bytes`, so the caller may reuse the buffer; never when the
   * transport is torn down first.
   */
  write(bytes: Uint8Array, released?: ReleaseCallback): boolean;
  /** Sends what `write` queued now rather than at the end of the tick. */
  flush(): void;
  /**
   * Emits once and completes when the transport has room for more writes (at once if it has
   * now). Completes without a value when the transport closes first.
   */
  drained(): Observable<void>;
  /** Stops reading (TCP then pushes back on the server). Pauses nest: reading resumes after as many `resume` calls. */
  pause(): void;
  /** Undoes one `pause`. */
  resume(): void;
  /** Sends the pending writes, then FIN. The server's EOF completes `chunks$`. */
  end(): void;
  /** Tears the connection down at once; pending writes are dropped. */
  destroy(): void;
  /** Emits once and completes when the connection has closed (at once if it has). */
  whenClosed(): Observable<void>;
}
