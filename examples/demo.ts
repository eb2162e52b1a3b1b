import { concatMap, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { connect, toAsyncIterable, withConnection, type ConnectionConfig } from '../lib';

/** Where the demo connects: a server that trusts `user` (examples/run-demo.ts starts one). */
export interface DemoConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
}

/**
 * The rxpg demo, run by `npm run demo` against a throwaway server: connects, shows what the
 * server reported at startup, runs a multi-statement script, and shows notices and a clean
 * close.
 */
export async function main(config: DemoConfig): Promise<void> {
  const settings: ConnectionConfig = { ...config, sslmode: 'disable', applicationName: 'rxpg-demo' };

  const connection = await firstValueFrom(connect(settings));
  console.log(`connected to PostgreSQL ${connection.parameters.server_version} as backend ${connection.processId}`);
  connection.notices$.subscribe((notice) => console.log(`notice (${notice.severity}): ${notice.message}`));

  const results = await lastValueFrom(
    connection
      .simpleQuery(
        `CREATE TEMPORARY TABLE planets (name text, moons int);
         INSERT INTO planets VALUES ('Mercury', 0), ('Earth', 1), ('Mars', 2), ('Jupiter', 95);
         DO $$ BEGIN RAISE NOTICE 'planets loaded'; END $$;
         SELECT name, moons FROM planets WHERE moons > 0 ORDER BY moons DESC`,
      )
      .pipe(toArray()),
  );
  for (const result of results) console.log(`${result.command.padEnd(12)} ${JSON.stringify(result.rows)}`);

  // A cold query with bound parameters: rows come back decoded, keyed by column name.
  const moons = await lastValueFrom(
    connection.query<{ name: string; moons: number }>('SELECT name, moons FROM planets WHERE moons >= $1 ORDER BY name', [1]).pipe(toArray()),
  );
  console.log('query with $1 = 1:', JSON.stringify(moons));

  // COPY from an async generator, read at the socket's pace.
  async function* asteroids() {
    for (let i = 1; i <= 1000; i++) yield [`asteroid ${i}`, 0];
  }
  const copied = await lastValueFrom(connection.copyInRows({ table: 'planets', columns: ['name', 'moons'] }, asteroids()));
  console.log(`copyInRows: ${copied.command}`);

  // for await with backpressure: the socket pauses while the loop is busy.
  let seen = 0;
  for await (const row of toAsyncIterable((pushback) => connection.query<{ g: number }>('SELECT generate_series(1, 100000) AS g', [], { pushback }))) {
    seen += row.g > 0 ? 1 : 0;
  }
  console.log(`for await: ${seen} rows`);

  // Notifications: LISTEN on subscribe; the payload travels as a parameter.
  const heard = firstValueFrom(connection.notifications('demo channel'));
  await firstValueFrom(connection.channelEvents('demo channel'));
  await lastValueFrom(connection.notify('demo channel', 'hello from NOTIFY'));
  console.log('notification:', (await heard).payload);

  await connection.close();
  console.log(`closed: state is ${connection.state}`);

  // withConnection: connect, work, close — whatever happens.
  const times = await lastValueFrom(
    withConnection(settings, (scoped) =>
      scoped.simpleQuery("SELECT now()::text AS now; SELECT current_setting('application_name')"),
    ).pipe(
      concatMap((result) => result.rows),
      toArray(),
    ),
  );
  console.log('withConnection rows:', JSON.stringify(times));
}
