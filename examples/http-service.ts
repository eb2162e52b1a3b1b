import { createServer, type Server } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { lastValueFrom, retry, throwError, timer } from 'rxjs';
import { toReadable, type Pool } from '../lib';

// No framework: an EventSource and a list. `data-state` tells a test (or a curious reader)
// whether the stream is open; the server's ': listening' comment is invisible to EventSource.
const livePage = `<!doctype html>
<html>
<head><meta charset="utf-8"><title>rxpg jobs</title></head>
<body data-state="connecting">
<h1>Jobs</h1>
<ul id="jobs"></ul>
<script>
const jobs = new EventSource('/jobs');
jobs.addEventListener('open', () => { document.body.dataset.state = 'open'; });
jobs.addEventListener('error', () => { document.body.dataset.state = 'connecting'; });
jobs.addEventListener('message', (event) => {
  const item = document.createElement('li');
  item.textContent = event.data;
  document.getElementById('jobs').append(item);
});
</script>
</body>
</html>
`;

/**
 * A small HTTP service on a pool, the way a Node backend holds rxpg: one pool for the process,
 * every request cold and released on its own.
 *
 * - `GET /events.ndjson?limit=N`: N rows streamed as NDJSON with backpressure (a slow reader
 *   pauses the query's socket; a reader that disconnects cancels the query on the server);
 * - `POST /transfer?from=1&to=2&amount=10`: a serializable transaction, retried on
 *   serialization failures and deadlocks;
 * - `GET /jobs`: Server-Sent Events from `LISTEN jobs`, on the pool's shared listener;
 * - `GET /`: a live page whose `EventSource` on `/jobs` lists each notification as it arrives
 *   (the browser reconnects the stream, the pool reconnects the listener).
 *
 * @example
 * const pool = createPool(process.env.DATABASE_URL!, { max: 10 });
 * const server = startHttpService(pool, 8080);
 */
export function startHttpService(pool: Pool, port: number): Server {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.method === 'GET' && url.pathname === '/events.ndjson') {
      const limit = Number(url.searchParams.get('limit') ?? '1000');
      response.setHeader('content-type', 'application/x-ndjson');
      const rows = toReadable((pushback) =>
        pool.query('SELECT g AS id, md5(g::text) AS body FROM generate_series(1, $1::int) g', [limit], { pushback }),
      );
      const ndjson = new Transform({
        writableObjectMode: true,
        transform: (row: unknown, _encoding, done) => done(null, `${JSON.stringify(row)}\n`),
      });
      // pipeline destroys the rows when the client goes away: rxpg unsubscribes and cancels.
      pipeline(rows, ndjson, response).catch(() => response.destroy());
      return;
    }
    if (request.method === 'POST' && url.pathname === '/transfer') {
      const [from, to, amount] = ['from', 'to', 'amount'].map((key) => Number(url.searchParams.get(key)));
      const transfer = pool.transaction(
        async (tx) => {
          await tx.run('UPDATE accounts SET balance = balance - $1 WHERE id = $2', [amount, from]);
          await tx.run('UPDATE accounts SET balance = balance + $1 WHERE id = $2', [amount, to]);
        },
        { isolation: 'serializable' },
      );
      const retried = transfer.pipe(
        retry({
          count: 5,
          delay: (error: { code?: string }) => (error.code === '40001' || error.code === '40P01' ? timer(5) : throwError(() => error)),
        }),
      );
      lastValueFrom(retried, { defaultValue: undefined }).then(
        () => response.writeHead(204).end(),
        (error: Error) => response.writeHead(500).end(error.message),
      );
      return;
    }
    if (request.method === 'GET' && url.pathname === '/jobs') {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const events = pool.channelEvents('jobs').subscribe((event) => {
        if (event.type === 'listening') response.write(': listening\n\n');
        if (event.type === 'notification') response.write(`data: ${event.notification.payload}\n\n`);
      });
      request.on('close', () => events.unsubscribe());
      return;
    }
    if (request.method === 'GET' && url.pathname === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(livePage);
      return;
    }
    response.writeHead(404).end();
  });
  server.listen(port);
  return server;
}
