import { connect, createServer, type Socket } from 'node:net';

/** A running {@link startParameterHidingRelay}. */
export interface ParameterHidingRelay {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Closes the listener and every relayed connection. */
  close(): Promise<void>;
}

/**
 * A TCP relay on 127.0.0.1 in front of a real PostgreSQL server that drops the server's
 * ParameterStatus messages for `hidden` parameters and forwards everything else unchanged:
 * it makes a current server look like one from before PostgreSQL 14, which did not report
 * `in_hot_standby` or `default_transaction_read_only`. Plaintext only (use sslmode=disable).
 */
export async function startParameterHidingRelay(
  target: { readonly host: string; readonly port: number },
  hidden: readonly string[],
): Promise<ParameterHidingRelay> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: target.host, port: target.port });
    sockets.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    let pending = Buffer.alloc(0);
    upstream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      const forwarded: Buffer[] = [];
      while (pending.length >= 5) {
        const size = 1 + pending.readUInt32BE(1);
        if (pending.length < size) break;
        const message = pending.subarray(0, size);
        pending = pending.subarray(size);
        const name = message[0] === 0x53 ? message.subarray(5, message.indexOf(0, 5)).toString('utf8') : undefined;
        if (name === undefined || !hidden.includes(name)) forwarded.push(message);
      }
      if (forwarded.length > 0) client.write(Buffer.concat(forwarded));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: '127.0.0.1',
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
