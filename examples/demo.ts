import { setTimeout as sleep } from 'node:timers/promises';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { CopyAbortedError, connect, toAsyncIterable, withConnection, type Connection, type ConnectionConfig } from '../lib';

/** Where the demo connects: a server that trusts `user` (examples/run-demo.ts starts one). */
export interface DemoConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
}

/**
 * The rxpg demo, run by `npm run demo` against a throwaway server. Each section shows one
 * thing that sets rxpg apart, as the server sees it from a second connection: a query with
 * parameters, an unsubscribe that stops the query on the server, a slow consumer that makes
 * the server wait (backpressure), COPY from a generator and an aborted COPY that commits
 * nothing, notifications, and a clean close.
 */
export async function main(config: DemoConfig, log: (line: string) => void = console.log): Promise<void> {
  const settings: ConnectionConfig = { ...config, sslmode: 'disable', applicationName: 'rxpg-demo' };
  const section = (title: string) => log(`\n== ${title}`);

  const connection = await firstValueFrom(connect(settings));
  // A second connection, to watch the first one from the server's side.
  const observer = await firstValueFrom(connect({ ...settings, applicationName: 'rxpg-demo-observer' }));
  try {
    section('connect');
    log(`connected to PostgreSQL ${connection.parameters.server_version}, backend process ${connection.processId}`);

    section('query with parameters (never part of the SQL text)');
    await lastValueFrom(
      connection.simpleQuery(
        `CREATE TEMPORARY TABLE planets (name text, moons int);
         INSERT INTO planets VALUES ('Mercury', 0), ('Earth', 1), ('Mars', 2), ('Jupiter', 95)`,
      ),
    );
    const planets = await lastValueFrom(
      connection
        .query<{ name: string; moons: number }>('SELECT name, moons FROM planets WHERE moons >= $1 ORDER BY moons DESC', [1])
        .pipe(toArray()),
    );
    for (const { name, moons } of planets) log(`  ${name.padEnd(8)} ${String(moons).padStart(3)} moons`);

    section('unsubscribe cancels the query on the server');
    const sleeping = connection.execute('SELECT pg_sleep(30)').subscribe({ error: () => undefined });
    await until(async () => (await backendState(observer, connection)).state === 'active');
    log(`  while subscribed: backend is ${describeState(await backendState(observer, connection))}`);
    const unsubscribedAt = Date.now();
    sleeping.unsubscribe();
    await until(async () => (await backendState(observer, connection)).state === 'idle');
    log(`  ${Date.now() - unsubscribedAt} ms after unsubscribe: backend is ${describeState(await backendState(observer, connection))}`);

    section('backpressure: a slow consumer makes the server wait');
    let consumed = 0;
    let waitSeen = '';
    for await (const row of toAsyncIterable(
      (pushback) =>
        connection.query<{ g: number; filler: string }>("SELECT g, repeat('x', 1000) AS filler FROM generate_series(1, 20000) g", [], {
          pushback,
        }),
      { highWaterMark: 100 },
    )) {
      consumed += row.g > 0 ? 1 : 0;
      if (consumed === 1000) {
        // The consumer is busy: rxpg paused the socket, TCP filled up, the server blocks writing.
        await sleep(300);
        waitSeen = describeState(await backendState(observer, connection));
      }
    }
    log(`  consumer paused at row 1000; meanwhile the backend was ${waitSeen}`);
    log(`  then all ${consumed} rows arrived; the client never buffered more than its highWaterMark of 100 rows`);

    section('COPY from a generator; an aborted COPY commits nothing');
    async function* asteroids(count: number, failAt?: number) {
      for (let i = 1; i <= count; i++) {
        if (i === failAt) throw new Error(`asteroid ${i} is malformed`);
        yield [`asteroid ${i}`, 0];
      }
    }
    const copied = await lastValueFrom(connection.copyInRows({ table: 'planets', columns: ['name', 'moons'] }, asteroids(100_000)));
    log(`  copied ${copied.rowCount} rows`);
    const aborted = await lastValueFrom(
      connection.copyInRows({ table: 'planets', columns: ['name', 'moons'] }, asteroids(100_000, 50_000)),
    ).then(
      () => 'completed?!',
      (error: unknown) => (error instanceof CopyAbortedError ? `aborted: ${(error.cause as Error).message}` : String(error)),
    );
    const count = await lastValueFrom(connection.query<{ n: number }>('SELECT count(*)::int AS n FROM planets'));
    log(`  second COPY ${aborted}; the table still has ${count.n} rows`);

    section('notifications');
    const heard = firstValueFrom(connection.notifications('demo channel'));
    await firstValueFrom(connection.channelEvents('demo channel'));
    await lastValueFrom(observer.notify('demo channel', 'hello from another connection'));
    const notification = await heard;
    log(`  "${notification.payload}" from backend ${notification.processId} on "${notification.channel}"`);
  } finally {
    await observer.close();
    await connection.close();
  }

  section('close');
  log(`  state after close(): ${connection.state}`);
  const scoped = await lastValueFrom(
    withConnection(settings, (c) => c.query<{ app: string }>("SELECT current_setting('application_name') AS app")),
  );
  log(`  withConnection ran a query as "${scoped.app}" and closed its connection`);
}

interface BackendState {
  readonly state: string | null;
  readonly waitEvent: string | null;
}

/** What pg_stat_activity says about `watched`'s backend, read through `observer`. */
async function backendState(observer: Connection, watched: Connection): Promise<BackendState> {
  const row = await lastValueFrom(
    observer.query<{ state: string | null; wait_event: string | null }>('SELECT state, wait_event FROM pg_stat_activity WHERE pid = $1', [
      watched.processId,
    ]),
    { defaultValue: { state: null, wait_event: null } },
  );
  return { state: row.state, waitEvent: row.wait_event };
}

function describeState({ state, waitEvent }: BackendState): string {
  return waitEvent === null ? `${state}` : `${state}, waiting on ${waitEvent}`;
}

/** Polls `check` every 10 ms until it holds (at most 5 s). */
async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('the server did not reach the expected state within 5 s');
    await sleep(10);
  }
}
