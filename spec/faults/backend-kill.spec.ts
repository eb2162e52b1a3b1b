// A backend that dies under rxpg: SIGKILL during a stream, a COPY IN, an idle connection and
// a listener, and pg_terminate_backend during a stream. SIGKILL of one backend makes the
// postmaster restart every backend (crash recovery), so these run on their own throwaway
// cluster, never on the one other spec files share. Each ends in a ConnectionError within a
// bounded time, a COPY commits nothing, and a listener reconnects once the server is back.
import { Subject } from 'rxjs';
import { ConnectionError, PostgresError } from '../../lib';
import { listen, type ListenerEvent } from '../../lib/client';
import type { ThrowawayCluster } from '../harness/throwaway-cluster';
import { eventually, openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';
import { expectConnectionLost, killBackend, longStream, tag, useDedicatedCluster } from './fault-helpers';

let cluster!: ThrowawayCluster;
const { record } = useDedicatedCluster({
  started: (started) => (cluster = started),
  afterEachTest: async () => {
    // A SIGKILL leaves the server in crash recovery for a moment; the next test needs it back.
    const recovered = recovery;
    recovery = undefined;
    await recovered?.();
  },
});

let recovery: (() => Promise<void>) | undefined;

/** SIGKILL to a backend; afterEach waits for the crash recovery that follows. */
function kill(pid: number | undefined): void {
  recovery = killBackend(cluster, pid);
}

describe('SIGKILL of the backend', () => {
  it('during a stream fails the query and closed$ with a ConnectionError within a second', async () => {
    const connection = await openConnection(superuserConfig(cluster));
    const rows = record(connection.query(longStream));
    await rows.count(20);
    const killedAt = Date.now();
    kill(connection.processId);
    expect(await rows.error(1000)).toBeInstanceOf(ConnectionError);
    expect(Date.now() - killedAt).toBeLessThan(1000);
    await expectConnectionLost(connection, 1000);
  });

  it('during a COPY IN fails the copy with a ConnectionError and commits nothing', async () => {
    const table = `copy_killed_${tag()}`;
    await cluster.psql(`CREATE TABLE ${table} (n int, s text)`);
    const connection = await openConnection(superuserConfig(cluster));
    const source = new Subject<string>();
    const copy = record(connection.copyIn(`COPY ${table} FROM STDIN`, source));
    for (let i = 0; i < 1000; i++) source.next(`${i}\trow ${i}\n`);
    // Let the rows reach the server, then kill it halfway through the COPY.
    await new Promise((resolve) => setTimeout(resolve, 100));
    kill(connection.processId);
    expect(await copy.error(1000)).toBeInstanceOf(ConnectionError);
    await expectConnectionLost(connection, 1000);
    source.next('1000\ttoo late\n');
    await recovery?.();
    expect(await cluster.psql(`SELECT count(*) FROM ${table}`)).toBe('0');
  });

  it('of an idle connection fails closed$ with a ConnectionError; a bystander connection fails the same way', async () => {
    const [victim, bystander] = await Promise.all([openConnection(superuserConfig(cluster)), openConnection(superuserConfig(cluster))]);
    kill(victim.processId);
    await expectConnectionLost(victim, 1000);
    // Crash recovery ends every other backend too, with a FATAL (57P02) before its socket closes.
    const lost = await expectConnectionLost(bystander, 2000);
    if (lost.cause instanceof PostgresError) expect(lost.cause.code).toBe('57P02');
  });

  it('of a listener’s connection: the listener says so and reconnects once crash recovery is over', async () => {
    const channel = `killed_${tag()}`;
    const events = record(
      listen(superuserConfig(cluster), channel, { heartbeatInterval: 300, reconnect: { initialDelay: 20, maxDelay: 200 } }),
    );
    const first = await events.next((event) => event.type === 'connected');
    if (first.type !== 'connected') throw new Error('unreachable');
    kill(first.processId);
    const lost = await events.next((event) => event.type === 'disconnected', { timeout: 1000 });
    expect((lost as Extract<ListenerEvent, { type: 'disconnected' }>).error).toBeInstanceOf(ConnectionError);
    await recovery?.();
    // An attempt made before the recovery began may have been ended by it: wait for a
    // connection that the recovered server knows.
    let again: ListenerEvent | undefined;
    await eventually(async () => {
      again = events.values.at(-1);
      if (again?.type !== 'connected') return false;
      return (await cluster.psql(`SELECT count(*) FROM pg_stat_activity WHERE pid = ${again.processId}`)) === '1';
    }, 10_000);
    expect(again).toMatchObject({ type: 'connected', reconnect: true });
    expect((again as Extract<ListenerEvent, { type: 'connected' }>).processId).not.toBe(first.processId);
    await cluster.psql(`SELECT pg_notify('${channel}', 'after recovery')`);
    await events.next((event) => event.type === 'notification' && event.notification.payload === 'after recovery');
    expect(events.ending).toBeUndefined();
  });
});

describe('pg_terminate_backend', () => {
  it('during a stream always fails the query with a ConnectionError', async () => {
    // A backend terminated while its output is blocked closes mid-message without a FATAL (the
    // server cannot interleave one); otherwise the FATAL 57P01 arrives and becomes the cause.
    for (const rowsFirst of [1, 50, 500]) {
      const connection = await openConnection(superuserConfig(cluster));
      const rows = record(connection.query(longStream));
      await rows.count(rowsFirst);
      await cluster.psql(`SELECT pg_terminate_backend(${connection.processId})`);
      const error = await rows.error(2000);
      expect(error).toBeInstanceOf(ConnectionError);
      const cause = (error as ConnectionError).cause;
      if (cause !== undefined) expect(cause).toMatchObject({ code: '57P01' });
      await expectConnectionLost(connection, 1000);
    }
  });

  it('during a statement that sends nothing fails it with a ConnectionError whose cause is the FATAL 57P01', async () => {
    const connection = await openConnection(superuserConfig(cluster));
    const sleeping = record(connection.query('SELECT pg_sleep(5)'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await cluster.psql(`SELECT pg_terminate_backend(${connection.processId})`);
    const error = await sleeping.error(2000);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).cause).toBeInstanceOf(PostgresError);
    expect((error as ConnectionError).cause).toMatchObject({ code: '57P01' });
    const closed = await expectConnectionLost(connection, 1000);
    expect(closed.cause).toMatchObject({ code: '57P01' });
  });
});
