import { createServer, connect as connectTcp, type Server, type Socket } from 'node:net';

/** How a cut ends the client's side: a FIN (`end`, an orderly EOF) or an RST (ECONNRESET). */
export type CutKind = 'fin' | 'rst';

/** Options of {@link TcpRelay.start}. */
export interface TcpRelayOptions {
  /**
   * Deliver what the server sends one byte per write, each in its own event-loop turn, so
   * that the client reads every message in pieces: headers and bodies split everywhere.
   */
  readonly oneByteChunks?: boolean;
}

/** Something waiting to go to the client, in order: bytes, or the cut that ends the stream. */
type Outgoing = Buffer | CutKind;

/** A rule that fires at the start of a server message (see {@link TcpRelay.cutInsideMessage} and {@link TcpRelay.injectBeforeMessage}). */
interface MessageRule {
  readonly type: string;
  /** Messages of `type` still to pass before the rule fires (0: the next one). */
  skip: number;
  readonly fire: (pair: Pair, messageStart: number) => void;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Bytes were dropped on it: it never forwards again (its stream is broken), like a dead path. */
  dead: boolean;
  /** Bytes received from the server so far (stream positions below are counted in these). */
  serverPosition: number;
  /** The server message being read: its header bytes so far, and then how many body bytes remain. */
  header: number[];
  bodyRemaining: number;
  /** Stream position at which the server's stream is cut; everything from there is dropped. */
  cutAt: number | undefined;
  cutKind: CutKind;
  /** The cut was queued: nothing more goes to the client. */
  cut: boolean;
  /** Bytes to insert into the server's stream, at stream positions. */
  injections: { readonly at: number; readonly bytes: Buffer }[];
  rules: MessageRule[];
  /** With one-byte chunks (or while a cut waits behind them): what still goes to the client. */
  queue: Outgoing[];
  draining: boolean;
}

/**
 * A TCP relay on 127.0.0.1 in front of a PostgreSQL server, for fault tests on a real server.
 * It forwards both ways and, on request, misbehaves like a network or a broken peer:
 *
 * - `blackhole()`: keeps every socket open but drops all bytes both ways (a half-open path:
 *   no FIN, no RST, no error), for the connections it has and new ones; `forward()` relays
 *   again for new connections, the silenced ones stay silent.
 * - `stall()` / `unstall()`: stops reading both ways (the bytes wait in the kernel, TCP pushes
 *   back on both peers) and later goes on, nothing lost.
 * - `cutAfterServerBytes(n, kind)`, `cutInsideMessage(type, ...)`: lets through a number of the
 *   server's bytes, then ends the client's socket with a FIN or an RST and drops the server's.
 * - `injectToClient(bytes)`, `injectBeforeMessage(type, bytes)`: inserts bytes into what the
 *   client receives, at once or just before a given server message.
 * - the `oneByteChunks` option: delivers the server's bytes one per write.
 *
 * The server's stream is parsed into messages (type byte, Int32 length), so the client must
 * connect with sslmode=disable. The fault methods act on the connections the relay has now.
 */
export class TcpRelay {
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  readonly #oneByteChunks: boolean;
  #forwarding = true;
  #port = 0;

  private constructor(
    server: Server,
    readonly targetHost: string,
    readonly targetPort: number,
    options: TcpRelayOptions,
  ) {
    this.#server = server;
    this.#oneByteChunks = options.oneByteChunks ?? false;
  }

  static async start(targetHost: string, targetPort: number, options: TcpRelayOptions = {}): Promise<TcpRelay> {
    const server = createServer();
    const relay = new TcpRelay(server, targetHost, targetPort, options);
    server.on('connection', (client) => relay.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address !== 'object') throw new Error('the relay has no port');
    relay.#port = address.port;
    return relay;
  }

  get port(): number {
    return this.#port;
  }

  /** How many client connections the relay has accepted and not yet seen closed. */
  get openConnections(): number {
    return this.#pairs.size;
  }

  /** Stops forwarding silently: from now on every byte is dropped, every socket stays open. */
  blackhole(): void {
    this.#forwarding = false;
    for (const pair of this.#pairs) pair.dead = true;
  }

  /** Forwards again, for connections accepted from now on. */
  forward(): void {
    this.#forwarding = true;
  }

  /** Stops reading from both sides of every connection; nothing is lost (see {@link unstall}). */
  stall(): void {
    for (const pair of this.#pairs) {
      pair.client.pause();
      pair.upstream.pause();
    }
  }

  /** Reads and forwards again after {@link stall}. */
  unstall(): void {
    for (const pair of this.#pairs) {
      pair.client.resume();
      pair.upstream.resume();
    }
  }

  /** Lets `count` more bytes of the server's stream through, then cuts (see the class doc). */
  cutAfterServerBytes(count: number, kind: CutKind): void {
    for (const pair of this.#pairs) this.#cutAt(pair, pair.serverPosition + count, kind);
  }

  /**
   * Cuts inside a server message of `type` (e.g. `'D'` for DataRow): skips `skip` such messages,
   * then lets `keep` bytes of the next one through (default 7: the header and two bytes of the
   * body, so the cut falls inside the message whatever its size beyond that) and cuts.
   */
  cutInsideMessage(type: string, options: { readonly kind: CutKind; readonly skip?: number; readonly keep?: number }): void {
    const keep = options.keep ?? 7;
    if (keep < 1) throw new RangeError('keep must be at least 1, or the cut falls between messages');
    this.#addRule(type, options.skip ?? 0, (pair, messageStart) => this.#cutAt(pair, messageStart + keep, options.kind));
  }

  /** Sends `bytes` to the client at once, between whatever the server sent before and after. */
  injectToClient(bytes: Buffer): void {
    for (const pair of this.#pairs) this.#send(pair, bytes);
  }

  /** Inserts `bytes` into the client's stream just before a server message of `type`, after `skip` such messages. */
  injectBeforeMessage(type: string, bytes: Buffer, options: { readonly skip?: number } = {}): void {
    this.#addRule(type, options.skip ?? 0, (pair, messageStart) => pair.injections.push({ at: messageStart, bytes }));
  }

  async close(): Promise<void> {
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.#pairs.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #addRule(type: string, skip: number, fire: MessageRule['fire']): void {
    if (type.length !== 1) throw new RangeError(`a message type is one character, not ${JSON.stringify(type)}`);
    for (const pair of this.#pairs) pair.rules.push({ type, skip, fire });
  }

  #cutAt(pair: Pair, position: number, kind: CutKind): void {
    if (pair.cutAt !== undefined && pair.cutAt <= position) return;
    pair.cutAt = position;
    pair.cutKind = kind;
    // Nothing more may come from the server: cut now.
    if (position <= pair.serverPosition) this.#queueCut(pair);
  }

  #accept(client: Socket): void {
    const upstream = connectTcp(this.targetPort, this.targetHost);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pair: Pair = {
      client,
      upstream,
      dead: !this.#forwarding,
      serverPosition: 0,
      header: [],
      bodyRemaining: 0,
      cutAt: undefined,
      cutKind: 'fin',
      cut: false,
      injections: [],
      rules: [],
      queue: [],
      draining: false,
    };
    this.#pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      if (pair.dead || !this.#forwarding) {
        pair.dead = true;
        return;
      }
      if (!pair.cut) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (pair.dead || !this.#forwarding) {
        pair.dead = true;
        return;
      }
      this.#fromServer(pair, chunk);
    });
    const end = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    client.on('close', end);
    // On a silenced path the client must not learn that the server went away either. After a
    // cut, the cut decides how the client's side ends. Otherwise the server's end is passed on
    // once everything before it was delivered.
    const upstreamEnded = () => {
      if (pair.dead || pair.cut) return;
      if (pair.queue.length === 0 && !pair.draining) end();
      else pair.queue.push('fin');
    };
    upstream.on('error', upstreamEnded);
    upstream.on('close', upstreamEnded);
  }

  /** Tracks message starts in a chunk from the server, applies the rules, forwards the rest. */
  #fromServer(pair: Pair, chunk: Buffer): void {
    if (pair.cut) return;
    const chunkStart = pair.serverPosition;
    for (let index = 0; index < chunk.length;) {
      if (pair.bodyRemaining > 0) {
        const taken = Math.min(pair.bodyRemaining, chunk.length - index);
        pair.bodyRemaining -= taken;
        index += taken;
        continue;
      }
      if (pair.header.length === 0) this.#messageStarts(pair, String.fromCharCode(chunk[index]!), chunkStart + index);
      pair.header.push(chunk[index]!);
      index += 1;
      if (pair.header.length === 5) {
        pair.bodyRemaining = Buffer.from(pair.header).readInt32BE(1) - 4;
        pair.header = [];
      }
    }
    pair.serverPosition += chunk.length;

    // Forward the chunk up to the cut, with the injections that fall inside it.
    const end = pair.cutAt === undefined ? chunk.length : Math.max(0, Math.min(chunk.length, pair.cutAt - chunkStart));
    let from = 0;
    // Rules fire on bytes of this chunk, so every injection falls inside it; those at or past the cut are dropped.
    const due = pair.injections.filter((injection) => injection.at < chunkStart + end);
    pair.injections = [];
    for (const injection of due.sort((a, b) => a.at - b.at)) {
      const at = Math.max(0, injection.at - chunkStart);
      if (at > from) this.#send(pair, chunk.subarray(from, at));
      this.#send(pair, injection.bytes);
      from = Math.max(from, at);
    }
    if (end > from) this.#send(pair, chunk.subarray(from, end));
    if (pair.cutAt !== undefined && pair.cutAt <= chunkStart + chunk.length) this.#queueCut(pair);
  }

  #messageStarts(pair: Pair, type: string, position: number): void {
    const firing = pair.rules.filter((rule) => rule.type === type && rule.skip-- === 0);
    pair.rules = pair.rules.filter((rule) => !firing.includes(rule));
    for (const rule of firing) rule.fire(pair, position);
  }

  #queueCut(pair: Pair): void {
    if (pair.cut) return;
    pair.cut = true;
    pair.queue.push(pair.cutKind);
    this.#drain(pair);
  }

  /** Sends bytes to the client: directly, or through the queue when it is in use or chunking. */
  #send(pair: Pair, bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (!this.#oneByteChunks && pair.queue.length === 0 && !pair.draining) {
      pair.client.write(bytes);
      return;
    }
    if (this.#oneByteChunks) {
      for (let index = 0; index < bytes.length; index++) pair.queue.push(bytes.subarray(index, index + 1));
    } else {
      pair.queue.push(bytes);
    }
    this.#drain(pair);
  }

  /** Delivers the queue in order, one item per event-loop turn, ending with a cut if one was queued. */
  #drain(pair: Pair): void {
    if (pair.draining) return;
    pair.draining = true;
    const step = () => {
      const next = pair.queue.shift();
      if (next === undefined || pair.client.destroyed) {
        pair.draining = false;
        return;
      }
      if (next === 'fin' || next === 'rst') {
        pair.queue.length = 0;
        // An empty write's callback runs once everything written before it has been handed to
        // the kernel, so the bytes before the cut are on their way (an RST discards what the
        // kernel has not sent yet, though: the client may see fewer of them).
        pair.client.write(Buffer.alloc(0), () => {
          pair.draining = false;
          if (next === 'fin') pair.client.end();
          else pair.client.resetAndDestroy();
          pair.upstream.destroy();
        });
        return;
      }
      pair.client.write(next, () => setImmediate(step));
    };
    step();
  }
}
