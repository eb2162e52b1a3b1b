// Proves the replicated-cluster harness: a throwaway primary and a streaming hot standby of it,
// started only by the spec files that ask for one, checked here with psql (libpq), not with the
// client under test.
import { useReplicatedCluster, waitForReplay } from './standby';

const cluster = useReplicatedCluster();

describe('the replicated throwaway cluster', () => {
  it('runs a primary and a hot standby on their own ports', async () => {
    const { primary, standby } = cluster();
    expect(standby.port).not.toBe(primary.port);
    expect(await primary.psql('SELECT pg_is_in_recovery()')).toBe('f');
    expect(await standby.psql('SELECT pg_is_in_recovery()')).toBe('t');
    expect(await standby.psql('SHOW in_hot_standby')).toBe('on');
  });

  it('streams what the primary commits to the standby, which refuses writes', async () => {
    const { primary, standby } = cluster();
    await primary.psql('CREATE TABLE replicated (n int); INSERT INTO replicated VALUES (42)');
    await waitForReplay(cluster());
    expect(await standby.psql('SELECT n FROM replicated')).toBe('42');
    expect(await primary.psql('SELECT state FROM pg_stat_replication')).toBe('streaming');
    await expect(standby.psql('INSERT INTO replicated VALUES (1)')).rejects.toThrow(/read-only transaction/);
  });

  it('stops and restarts the standby, which catches up', async () => {
    const { primary, standby } = cluster();
    await standby.stopServer();
    await primary.psql('INSERT INTO replicated VALUES (43)');
    await standby.startServer();
    await waitForReplay(cluster());
    expect(await standby.psql('SELECT count(*) FROM replicated')).toBe('2');
  });

  it('promotes the standby to a primary that accepts writes', async () => {
    const { standby } = cluster();
    await standby.promote();
    expect(await standby.psql('SELECT pg_is_in_recovery()')).toBe('f');
    expect(await standby.psql('INSERT INTO replicated VALUES (2) RETURNING n')).toMatch(/^2/);
  });
});
