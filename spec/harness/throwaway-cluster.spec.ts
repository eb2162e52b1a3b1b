// Proves the test harness itself: the servers that globalSetup started are reachable, and the
// TLS and authentication set-up is what the client specs rely on. Logins are checked with
// psql (libpq), independently of the client under test.
import { existsSync } from 'node:fs';
import { requirePgBouncer, requirePlainServer, requireRoles, requireTls, superuserPsql, testServers } from '../helpers/test-servers';
import { startPgBouncer } from './pgbouncer';
import { runPsql } from './psql';

/** Runs SQL with psql over TCP to the primary, as `user`, with extra libpq variables. */
function psqlAs(user: string, password: string | undefined, libpqEnv: Record<string, string>, host = '127.0.0.1'): Promise<string> {
  const { port, database, binDir } = testServers().primary;
  return runPsql({ host, port, user, password, database, binDir, libpqEnv }, 'SELECT current_user');
}

describe('the throwaway PostgreSQL harness', () => {
  it('publishes the settings file named by RXPG_TEST_SETTINGS', () => {
    expect(existsSync(process.env['RXPG_TEST_SETTINGS'] ?? '')).toBe(true);
    expect(testServers().primary).toMatchObject({ port: expect.any(Number), superuser: expect.any(String) });
  });

  it('runs SQL as the superuser', async () => {
    expect(await superuserPsql('select 1')).toBe('1');
    expect(await superuserPsql('select 1, 2; select 3')).toBe('1|2\n3');
  });

  it('starts the primary with TLS and the plain server without', async () => {
    expect(await superuserPsql('SHOW ssl')).toBe('on');
    expect(await superuserPsql('SHOW ssl', requirePlainServer())).toBe('off');
  });

  it('stores the md5 role as an MD5 hash and the others as SCRAM secrets', async () => {
    const roles = requireRoles();
    const rows = await superuserPsql(
      `SELECT rolname, rolpassword FROM pg_authid WHERE rolname LIKE 'rxpg\\_%' AND rolpassword IS NOT NULL`,
    );
    const stored = new Map(rows.split('\n').map((row) => row.split('|') as [string, string]));
    expect(stored.get(roles.md5.user)).toMatch(/^md5[0-9a-f]{32}$/);
    expect(stored.get(roles.scram.user)).toMatch(/^SCRAM-SHA-256\$/);
    expect(stored.get(roles.password.user)).toMatch(/^SCRAM-SHA-256\$/);
    expect(stored.size).toBe(3);
  });

  it('loads a pg_hba.conf that forces each role onto its method', async () => {
    const rules = await superuserPsql(
      "SELECT type, user_name[1], auth_method, coalesce(error, '') FROM pg_hba_file_rules WHERE type <> 'local' ORDER BY line_number",
    );
    expect(rules.split('\n')).toEqual([
      'host|postgres|trust|',
      'host|rxpg_trust|trust|',
      'host|rxpg_password|password|',
      'host|rxpg_md5|md5|',
      'host|rxpg_scram|scram-sha-256|',
      'hostssl|rxpg_cert|cert|',
    ]);
  });

  it('starts PgBouncer in transaction mode in front of the plain server', async () => {
    const pgbouncer = requirePgBouncer();
    const plain = requirePlainServer();
    const viaPgBouncer = {
      host: pgbouncer.host,
      port: pgbouncer.port,
      user: pgbouncer.user,
      database: pgbouncer.database,
      binDir: plain.binDir,
    };
    expect(await runPsql(viaPgBouncer, 'SELECT inet_server_port()')).toBe(String(plain.port));
    const config = await runPsql({ ...viaPgBouncer, database: 'pgbouncer' }, 'SHOW CONFIG');
    expect(config).toMatch(/^pool_mode\|transaction\|/m);
    expect(pgbouncer.version).toMatch(/^PgBouncer \d+\.\d+/);
  });

  it('starts and stops a further PgBouncer in well under a second', async () => {
    const plain = requirePlainServer();
    const startedAt = Date.now();
    const pgbouncer = await startPgBouncer({ host: plain.host, port: plain.port, user: plain.superuser, database: plain.database });
    const startMs = Date.now() - startedAt;
    try {
      expect(() => process.kill(pgbouncer.pid, 0)).not.toThrow();
      expect(
        await runPsql(
          { host: pgbouncer.host, port: pgbouncer.port, user: pgbouncer.user, database: pgbouncer.database, binDir: plain.binDir },
          'SELECT 1',
        ),
      ).toBe('1');
    } finally {
      await pgbouncer.stop();
    }
    expect(startMs).toBeLessThan(1000);
    expect(() => process.kill(pgbouncer.pid, 0)).toThrow();
    expect(existsSync(pgbouncer.logFile)).toBe(false);
  });

  describe('logins with libpq', () => {
    it.each(['trust', 'password', 'md5', 'scram'] as const)('the %s role logs in over TCP', async (method) => {
      const role: { user: string; password?: string } = requireRoles()[method];
      expect(await psqlAs(role.user, role.password, { PGSSLMODE: 'disable' })).toBe(role.user);
    });

    it.each(['password', 'md5', 'scram'] as const)('the %s role is refused with a wrong password', async (method) => {
      const role = requireRoles()[method];
      await expect(psqlAs(role.user, 'wrong', { PGSSLMODE: 'disable' })).rejects.toThrow(/password authentication failed/);
    });

    it('the cert role logs in with the client certificate, verifying the server as localhost', async () => {
      const tls = requireTls();
      const cert = requireRoles().cert;
      const env = {
        PGSSLMODE: 'verify-full',
        PGSSLROOTCERT: tls.caFile,
        PGSSLCERT: tls.clientCertFile,
        PGSSLKEY: tls.clientKeyFile,
        PGHOSTADDR: '127.0.0.1',
      };
      expect(await psqlAs(cert?.user ?? 'rxpg_cert', undefined, env, tls.serverName)).toBe('rxpg_cert');
    });

    it('the server certificate names no IP address and does not chain to the other CA', async () => {
      const tls = requireTls();
      await expect(psqlAs('postgres', undefined, { PGSSLMODE: 'verify-full', PGSSLROOTCERT: tls.caFile })).rejects.toThrow(
        /does not match host name/,
      );
      await expect(psqlAs('postgres', undefined, { PGSSLMODE: 'verify-ca', PGSSLROOTCERT: tls.otherCaFile })).rejects.toThrow(
        /certificate verify failed/,
      );
    });
  });
});
