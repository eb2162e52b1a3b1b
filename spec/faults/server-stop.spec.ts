// The whole server stops under rxpg (`pg_ctl stop -m immediate`) during a stream, a COPY IN,
// an idle connection and a listener, and comes back on the same port. Runs on its own
// throwaway cluster, never on the one other spec files share. Each ends in a ConnectionError
// within a bounded time, a COPY commits nothing, and the listener reconnects after the restart.
import { Subject } from 'rxjs';
import { ConnectionError } from '../../lib';
import { listen, type ListenerEvent } from '../../lib/client';
import type { ThrowawayCluster } from '../harness/throwaway-cluster';
import { openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';
import { expectConnectionLost, longStream, tag, useDedicatedCluster } from './fault-helpers';

let cluster!: ThrowawayCluster;
const { record } = useDedicatedCluster({
  started: (started) => (cluster = started),
  afterEachTest: (stopped) => stopped.startServer(),
});

describe('pg_ctl stop -m immediate', () => {
  it('during a stream fails the query and closed$ with a ConnectionError within two seconds', async () => {
    const connection = await openConnection(superuserConfig(cluster));
    const rows = record(connection.query(longStream));
    await rows.count(20);
    const stopping = cluster.stopServer();
    expect(await rows.error(2000)).toBeInstanceOf(ConnectionError);
    await expectConnectionLost(connection, 1000);
    await stopping;
  });

  it('during a COPY IN fails the copy with a ConnectionError; after the restart nothing is committed', async () => {
    const table = `copy_stopped_${tag()}`;
    await cluster.psql(`CREATE TABLE ${table} (n int, s text)`);
    const connection = await openConnection(superuserConfig(cluster));
    const source = new Subject<string>();
    const copy = record(connection.copyIn(`COPY ${table} FROM STDIN`, source));
    for (let i = 0; i < 1000; i++) source.next(`${i}\trow ${i}\n`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopping = cluster.stopServer();
    expect(await copy.error(2000)).toBeInstanceOf(ConnectionError);
    await expectConnectionLost(connection, 1000);
    await stopping;
    await cluster.startServer();
    expect(await cluster.psql(`SELECT count(*) FROM ${table}`)).toBe('0');
  });

  it('of an idle connection fails closed$ with a ConnectionError, and a new connection works after the restart', async () => {
    const connection = await openConnection(superuserConfig(cluster));
    const stopping = cluster.stopServer();
    await expectConnectionLost(connection, 2000);
    await stopping;
    await cluster.startServer();
    const fresh = await openConnection(superuserConfig(cluster));
    const answer = record(fresh.query<{ one: number }>('SELECT 1 AS one'));
    await answer.ended();
    expect(answer.values).toEqual([{ one: 1 }]);
  });

  it('under a listener: it says so, retries while the server is down, and reconnects after the restart', async () => {
    const channel = `stopped_${tag()}`;
    const events = record(
      listen(superuserConfig(cluster), channel, { heartbeatInterval: 300, reconnect: { initialDelay: 20, maxDelay: 100 } }),
    );
    await events.next((event) => event.type === 'connected');
    await cluster.stopServer();
    const lost = await events.next((event) => event.type === 'disconnected', { timeout: 1000 });
    expect((lost as Extract<ListenerEvent, { type: 'disconnected' }>).error).toBeInstanceOf(ConnectionError);
    await events.next((event) => event.type === 'disconnected' && event.attempt >= 2, { timeout: 2000 });
    await cluster.startServer();
    await events.next((event) => event.type === 'connected' && event.reconnect, { timeout: 5000 });
    await cluster.psql(`SELECT pg_notify('${channel}', 'after restart')`);
    await events.next((event) => event.type === 'notification' && event.notification.payload === 'after restart');
    expect(events.ending).toBeUndefined();
  });
});
