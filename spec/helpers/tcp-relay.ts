import { createServer, connect as connectTcp, type Server, type Socket } from 'node:net';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Bytes were dropped on it: it never forwards again (its stream is broken), like a dead path. */
  dead: boolean;
}

/**
 * A TCP relay on 127.0.0.1 that forwards to a server, and can go silent: after `blackhole()`
 * it keeps every socket open but drops all bytes in both directions (a half-open path: no
 * FIN, no RST, no error), for the connections it has and for new ones. `forward()` makes it
 * relay again for new connections; the silenced ones stay silent.
 */
export class TcpRelay {
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  #forwarding = true;
  #port = 0;

  private constructor(
    server: Server,
    readonly targetHost: string,
    readonly targetPort: number,
  ) {
    this.#server = server;
  }

  static async start(targetHost: string, targetPort: number): Promise<TcpRelay> {
    const server = createServer();
    const relay = new TcpRelay(server, targetHost, targetPort);
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

  async close(): Promise<void> {
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.#pairs.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    const upstream = connectTcp(this.targetPort, this.targetHost);
    const pair: Pair = { client, upstream, dead: !this.#forwarding };
    this.#pairs.add(pair);
    const relay = (from: Socket, to: Socket) => {
      from.on('data', (chunk) => {
        if (pair.dead || !this.#forwarding) {
          pair.dead = true;
          return;
        }
        to.write(chunk);
      });
    };
    relay(client, upstream);
    relay(upstream, client);
    const end = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    client.on('close', end);
    // On a silenced path the client must not learn that the server went away either.
    const upstreamEnded = () => {
      if (!pair.dead) end();
    };
    upstream.on('error', upstreamEnded);
    upstream.on('close', upstreamEnded);
  }
}
