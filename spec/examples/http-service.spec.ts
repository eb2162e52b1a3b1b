// examples/http-service.ts run for real: NDJSON streaming (and a client that disconnects
// mid-stream cancelling the query on the server), a transaction, Server-Sent Events from NOTIFY.
import { request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { lastValueFrom } from 'rxjs';
import { createPool, type Pool } from '../../lib';
import { startHttpService } from '../../examples/http-service';
import { eventually } from '../helpers/connections';
import { MemoryGrowth } from '../helpers/memory';
import { superuserConfig, superuserPsql } from '../helpers/test-servers';

let pool: Pool;
let server: ReturnType<typeof startHttpService>;
let base: string;

beforeAll(async () => {
  pool = createPool({ ...superuserConfig(), applicationName: 'rxpg-http-example' }, { max: 4 });
  await pool.run('CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, balance int NOT NULL)');
  await pool.run('INSERT INTO accounts VALUES (1, 100), (2, 0) ON CONFLICT (id) DO UPDATE SET balance = EXCLUDED.balance');
  server = startHttpService(pool, 0);
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await pool.run('DROP TABLE accounts');
  await pool.end();
});

function get(path: string, method = 'GET'): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => request(`${base}${path}`, { method }, resolve).on('error', reject).end());
}

async function body(response: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of response) text += String(chunk);
  return text;
}

describe('the HTTP service example', () => {
  it('streams rows as NDJSON', async () => {
    const response = await get('/events.ndjson?limit=5000');
    const lines = (await body(response)).trim().split('\n');
    expect(lines).toHaveLength(5000);
    expect(JSON.parse(lines[4999]!)).toEqual({ id: 5000, body: expect.any(String) });
  });

  it('cancels the query on the server when the HTTP client disconnects mid-stream', async () => {
    const response = await get('/events.ndjson?limit=100000000');
    await once(response, 'data');
    await eventually(
      async () =>
        Number(
          await superuserPsql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'rxpg-http-example' AND query LIKE '%generate_series%' AND state = 'active'",
          ),
        ) === 1,
    );
    response.destroy();
    await eventually(
      async () =>
        Number(
          await superuserPsql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'rxpg-http-example' AND query LIKE '%generate_series%' AND state = 'active'",
          ),
        ) === 0,
      3000,
    );
  });

  it('keeps its memory flat with a slow reader: the server waits in ClientWrite instead of the service buffering', async () => {
    const growth = new MemoryGrowth();
    growth.start();
    const response = await get('/events.ndjson?limit=5000000'); // about 250 MB of NDJSON
    let received = 0;
    response.on('data', (chunk: Buffer) => {
      received += chunk.length;
      // A slow reader: at most a chunk every 20 ms.
      response.pause();
      setTimeout(() => response.resume(), 20);
    });
    const activeQuery =
      "FROM pg_stat_activity WHERE application_name = 'rxpg-http-example' AND query LIKE '%generate_series%' AND state = 'active'";
    await eventually(async () => (await superuserPsql(`SELECT count(*) ${activeQuery} AND wait_event = 'ClientWrite'`)) === '1', 10_000);
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      growth.sample();
    }
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(100 * 2 ** 20);
    expect(growth.liveGrowthMb).toBeLessThan(40);
    response.destroy();
    await eventually(async () => Number(await superuserPsql(`SELECT count(*) ${activeQuery}`)) === 0, 3000);
  }, 30_000);

  it('moves money in a transaction', async () => {
    const response = await get('/transfer?from=1&to=2&amount=30', 'POST');
    await body(response);
    expect(response.statusCode).toBe(204);
    expect(await pool.all('SELECT id, balance FROM accounts ORDER BY id')).toEqual([
      { id: 1, balance: 70 },
      { id: 2, balance: 30 },
    ]);
  });

  it('pushes notifications as Server-Sent Events', async () => {
    const response = await get('/jobs');
    let received = '';
    response.on('data', (chunk) => (received += String(chunk)));
    await eventually(() => received.includes(': listening'));
    await lastValueFrom(pool.notify('jobs', 'job 42'));
    await eventually(() => received.includes('data: job 42'));
    response.destroy();
  });
});
