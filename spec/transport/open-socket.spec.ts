import { execFileSync } from 'node:child_process';
import type { Socket } from 'node:net';
import { firstValueFrom } from 'rxjs';
import { connect } from '../../lib';
import { openSocket } from '../../lib/transport/open-socket';
import { requirePlainServer, superuserConfig } from '../helpers/test-servers';

const server = requirePlainServer();

/** Seconds left on the kernel's keepalive timer of each established TCP socket matching `filter` (from `ss -o`). */
function keepaliveTimers(filter: string): number[] {
  const output = execFileSync('ss', ['-tnoH', 'state', 'established', filter], { encoding: 'utf8' });
  return [...output.matchAll(/timer:\(keepalive,([\d.]+)/g)].map((match) => Number(match[1]));
}

describe('openSocket keepalive', () => {
  let socket: Socket | undefined;
  afterEach(() => socket?.destroy());

  it('starts keepalive probes after keepAliveIdle milliseconds', async () => {
    socket = await firstValueFrom(
      openSocket({ kind: 'tcp', host: server.host, port: server.port }, { keepAlive: true, keepAliveIdle: 7000 }),
    );
    const timers = keepaliveTimers(`( sport = :${socket.localPort} )`);
    expect(timers).toHaveLength(1);
    expect(timers[0]).toBeGreaterThan(5);
    expect(timers[0]).toBeLessThanOrEqual(7);
  });

  it('waits 60 s by default, and sets no keepalive when keepAlive is false', async () => {
    socket = await firstValueFrom(openSocket({ kind: 'tcp', host: server.host, port: server.port }, { keepAlive: true }));
    expect(keepaliveTimers(`( sport = :${socket.localPort} )`)[0]).toBeGreaterThan(55);
    socket.destroy();
    socket = await firstValueFrom(openSocket({ kind: 'tcp', host: server.host, port: server.port }, { keepAlive: false }));
    expect(keepaliveTimers(`( sport = :${socket.localPort} )`)).toEqual([]);
  });

  it('is set by connect from the keepalives_idle key (seconds)', async () => {
    const { host, port, user, database } = superuserConfig(server);
    const connection = await firstValueFrom(
      connect(`host=${host} port=${port} user=${user} dbname=${database} sslmode=disable keepalives_idle=3`),
    );
    try {
      // Other sessions on this server keep the default (60 s); only ours has 3 s.
      expect(keepaliveTimers(`( dport = :${port} )`).some((seconds) => seconds <= 3)).toBe(true);
    } finally {
      await connection.close();
    }
  });
});
