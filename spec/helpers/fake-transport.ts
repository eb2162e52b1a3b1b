// A Transport with no socket under it, for unit specs of the protocol state machines: the spec
// plays the server. It pushes the server's bytes (built with ./backend-messages), reads what
// the client wrote as decoded frontend messages, and drives the rest of what a socket does:
// pause/resume (bytes pushed while paused wait), EOF, errors, a full write buffer and its drain.
import type { X509Certificate } from 'node:crypto';
import { Observable, Subject } from 'rxjs';
import { ConnectionError } from '../../lib';
import { whenDrained, type ReleaseCallback, type Transport } from '../../lib/transport';

/** One frontend message the client wrote: its type byte (`''` for the untyped StartupMessage), name and body. */
export interface FrontendMessage {
  readonly type: string;
  readonly name: string;
  readonly body: Buffer;
}

const frontendNames: Readonly<Record<string, string>> = {
  B: 'Bind',
  C: 'Close',
  D: 'Describe',
  E: 'Execute',
  F: 'FunctionCall',
  H: 'Flush',
  P: 'Parse',
  Q: 'Query',
  S: 'Sync',
  X: 'Terminate',
  c: 'CopyDone',
  d: 'CopyData',
  f: 'CopyFail',
  // PasswordMessage, SASLInitialResponse, SASLResponse and GSSResponse share `p`.
  p: 'PasswordMessage',
};

/** What the fake's `chunks$` subscriber is owed, in order: bytes, then perhaps the end. */
type Delivery = { readonly kind: 'bytes'; readonly bytes: Buffer } | { readonly kind: 'eof' };

/**
 * The fake. Like a real socket it reads nothing before `chunks$` has a subscriber and while
 * paused: pushed bytes wait in order. Writes are recorded at once (copied, so a writer may
 * reuse its buffer once released) and "sent" at the end of the tick, unless `stallWrites()`
 * keeps them in the write buffer (then `needsDrain` turns true past `highWaterMark`, until
 * `drainWrites()`).
 *
 * @example
 * const transport = new FakeTransport();
 * const connection = new ProtocolConnection(transport, protocolOptions);
 * transport.push(acceptLogin());
 * expect(transport.takeWritten().map((m) => m.name)).toEqual(['StartupMessage']);
 */
export class FakeTransport implements Transport {
  readonly encrypted: boolean;
  readonly #certificate: X509Certificate | undefined;
  readonly #highWaterMark: number;
  readonly #chunks = new Subject<Buffer>();
  readonly #drains = new Subject<void>();
  readonly #closes = new Subject<void>();
  readonly #deliveries: Delivery[] = [];
  /** Every byte the client wrote, in order, not yet taken by `takeWritten`. */
  #written: Buffer[] = [];
  /** The next message to decode is the untyped StartupMessage. */
  #startup = true;
  #subscribed = false;
  #pauseCount = 0;
  #stalled = false;
  #buffered = 0;
  #sendScheduled = false;
  #ended = false;
  #destroyed = false;
  /** How many times each of pause and resume was called (for pushback assertions). */
  readonly calls = { pause: 0, resume: 0, end: 0, destroy: 0 };

  readonly chunks$: Observable<Buffer> = new Observable<Buffer>((subscriber) => {
    const subscription = this.#chunks.subscribe(subscriber);
    this.#subscribed = true;
    this.#deliver();
    return subscription;
  });

  constructor(options: { readonly encrypted?: boolean; readonly peerCertificate?: X509Certificate; readonly highWaterMark?: number } = {}) {
    this.encrypted = options.encrypted ?? options.peerCertificate !== undefined;
    this.#certificate = options.peerCertificate;
    this.#highWaterMark = options.highWaterMark ?? 16 * 1024;
  }

  // ---- the spec's side: the server ----

  /** The server sends `bytes` (any number of messages, or part of one). Delivered now unless paused. */
  push(...messages: Uint8Array[]): void {
    this.#deliveries.push({ kind: 'bytes', bytes: Buffer.concat(messages) });
    this.#deliver();
  }

  /** The server closes its side (EOF), after the bytes pushed before. */
  pushEnd(): void {
    this.#deliveries.push({ kind: 'eof' });
    this.#deliver();
  }

  /** The connection fails (a reset, a TLS error): `chunks$` errors at once with a ConnectionError. */
  pushError(message = 'read ECONNRESET'): void {
    const cause = Object.assign(new Error(message), { code: 'ECONNRESET' });
    this.#chunks.error(new ConnectionError(`connection to fake failed: ${message}`, { code: '08006', cause }));
    this.#close();
  }

  /** Decodes and returns what the client wrote since the last call (written or sent, it does not matter). */
  takeWritten(): FrontendMessage[] {
    const bytes = Buffer.concat(this.#written);
    this.#written = [];
    const messages: FrontendMessage[] = [];
    let at = 0;
    while (at < bytes.length) {
      if (this.#startup) {
        const length = bytes.readUInt32BE(at);
        messages.push({ type: '', name: 'StartupMessage', body: bytes.subarray(at + 4, at + length) });
        at += length;
        this.#startup = false;
        continue;
      }
      const type = String.fromCharCode(bytes[at]!);
      const length = bytes.readUInt32BE(at + 1);
      if (at + 1 + length > bytes.length) throw new Error(`fake transport: a ${type} message was written in part`);
      messages.push({
        type,
        name: frontendNames[type] ?? `unknown ${JSON.stringify(type)}`,
        body: bytes.subarray(at + 5, at + 1 + length),
      });
      at += 1 + length;
    }
    return messages;
  }

  /**
   * Waits until the client has written something (a password is produced asynchronously, a
   * request is written at the end of the tick) and returns it decoded, as `takeWritten`.
   */
  async nextWritten(timeout = 2_000): Promise<FrontendMessage[]> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const messages = this.takeWritten();
      if (messages.length > 0) return messages;
      if (Date.now() > deadline) throw new Error(`fake transport: the client wrote nothing within ${timeout} ms`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** The names of what the client wrote since the last `takeWritten`, e.g. `['Parse', 'Bind', ...]`. */
  takeWrittenNames(): string[] {
    return this.takeWritten().map((message) => message.name);
  }

  /** From now on written bytes stay in the write buffer (the kernel takes nothing) until `drainWrites`. */
  stallWrites(): void {
    this.#stalled = true;
  }

  /** The kernel takes everything buffered: `needsDrain` turns false and `drained()` emits. */
  drainWrites(): void {
    this.#stalled = false;
    this.#buffered = 0;
    this.#drains.next();
  }

  /** Whether the client sent FIN (`end`). */
  get ended(): boolean {
    return this.#ended;
  }

  // ---- the Transport ----

  get writable(): boolean {
    return !this.#ended && !this.#destroyed;
  }

  get bufferedBytes(): number {
    return this.#buffered;
  }

  get needsDrain(): boolean {
    return this.#buffered >= this.#highWaterMark;
  }

  get paused(): boolean {
    return this.#pauseCount > 0;
  }

  get closed(): boolean {
    return this.#destroyed;
  }

  peerCertificate(): X509Certificate | undefined {
    return this.#certificate;
  }

  write(bytes: Uint8Array, released?: ReleaseCallback): boolean {
    if (!this.writable) return false;
    this.#written.push(Buffer.from(bytes));
    this.#buffered += bytes.length;
    // Copied: the buffer is free again, but only later, as with a socket.
    if (released !== undefined) process.nextTick(released);
    if (!this.#sendScheduled) {
      this.#sendScheduled = true;
      process.nextTick(() => this.flush());
    }
    return !this.needsDrain;
  }

  flush(): void {
    this.#sendScheduled = false;
    if (!this.#stalled) this.#buffered = 0;
  }

  drained(): Observable<void> {
    return whenDrained(() => this.needsDrain, this.#drains);
  }

  pause(): void {
    this.calls.pause++;
    this.#pauseCount++;
  }

  resume(): void {
    this.calls.resume++;
    if (this.#pauseCount === 0) return;
    if (--this.#pauseCount === 0) this.#deliver();
  }

  end(): void {
    this.calls.end++;
    this.#ended = true;
  }

  destroy(): void {
    this.calls.destroy++;
    this.#ended = true;
    this.#close();
  }

  whenClosed(): Observable<void> {
    return new Observable<void>((subscriber) => {
      if (this.#destroyed) {
        subscriber.next();
        subscriber.complete();
        return;
      }
      return this.#closes.subscribe(subscriber);
    });
  }

  #close(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#deliveries.length = 0;
    // As a socket's 'close': the stream ends (if nothing ended it before).
    this.#chunks.complete();
    this.#drains.complete();
    this.#closes.next();
    this.#closes.complete();
  }

  /** Hands the waiting deliveries to `chunks$` while it is subscribed and not paused. */
  #deliver(): void {
    while (this.#subscribed && this.#pauseCount === 0 && !this.#destroyed && this.#deliveries.length > 0) {
      const delivery = this.#deliveries.shift()!;
      if (delivery.kind === 'bytes') {
        this.#chunks.next(delivery.bytes);
      } else {
        this.#chunks.complete();
        // A socket that is not half-open closes after the peer's FIN.
        this.#close();
      }
    }
  }
}

/** The NUL-terminated strings at the start of a message body, e.g. a Parse's statement name and SQL. */
export function cstringsOf(body: Buffer, count: number): string[] {
  const strings: string[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const end = body.indexOf(0, at);
    strings.push(body.toString('utf8', at, end));
    at = end + 1;
  }
  return strings;
}

/** The parameters of a StartupMessage body (after its protocol version), e.g. `{ user: 'ada', database: 'app' }`. */
export function startupParametersOf(body: Buffer): Record<string, string> {
  const parameters: Record<string, string> = {};
  let at = 4;
  while (at < body.length && body[at] !== 0) {
    const [name, value] = cstringsOf(body.subarray(at), 2) as [string, string];
    parameters[name] = value;
    at += Buffer.byteLength(name) + Buffer.byteLength(value) + 2;
  }
  return parameters;
}

/** A Bind body, decoded: names, parameter values (UTF-8 text, or null) and result format codes. */
export function bindOf(body: Buffer): {
  readonly portal: string;
  readonly statement: string;
  readonly parameters: (string | null)[];
  readonly resultFormats: number[];
} {
  const [portal, statement] = cstringsOf(body, 2) as [string, string];
  let at = Buffer.byteLength(portal) + Buffer.byteLength(statement) + 2;
  const formatCount = body.readInt16BE(at);
  at += 2 + 2 * formatCount;
  const parameters: (string | null)[] = [];
  const parameterCount = body.readInt16BE(at);
  at += 2;
  for (let i = 0; i < parameterCount; i++) {
    const length = body.readInt32BE(at);
    at += 4;
    parameters.push(length < 0 ? null : body.toString('utf8', at, at + length));
    if (length > 0) at += length;
  }
  const resultFormats: number[] = [];
  const resultFormatCount = body.readInt16BE(at);
  for (let i = 0; i < resultFormatCount; i++) resultFormats.push(body.readInt16BE(at + 2 + 2 * i));
  return { portal, statement, parameters, resultFormats };
}
