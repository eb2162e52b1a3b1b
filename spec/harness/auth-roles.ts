import type { ClusterRoles } from './cluster-settings';
import { clientCertificateUser } from './tls-certificates';

/**
 * The login roles a cluster started with `authRoles` has, one per authentication method. The
 * passwords contain spaces and non-ASCII characters on purpose (encoding and SASLprep).
 */
export function authRoles(tls: boolean): ClusterRoles {
  return {
    trust: { user: 'rxpg_trust' },
    password: { user: 'rxpg_password', password: 'pw-cleartext-ÄÖ 1' },
    md5: { user: 'rxpg_md5', password: 'pw-md5-2' },
    scram: { user: 'rxpg_scram', password: 'pw-scram-3 ñ' },
    ...(tls ? { cert: { user: clientCertificateUser } } : {}),
  };
}

/**
 * pg_hba.conf that forces each role onto its method, locally and over 127.0.0.1 (with or
 * without TLS), keeps the superuser on trust, and allows `cert` only over TLS. Anyone else is
 * rejected ("no pg_hba.conf entry").
 */
export function authRolesHbaConf(roles: ClusterRoles): string {
  const methods: [string, string][] = [
    ['postgres', 'trust'],
    [roles.trust.user, 'trust'],
    [roles.password.user, 'password'],
    [roles.md5.user, 'md5'],
    [roles.scram.user, 'scram-sha-256'],
  ];
  const lines = methods.flatMap(([user, method]) => [`local all ${user} ${method}`, `host all ${user} 127.0.0.1/32 ${method}`]);
  if (roles.cert) lines.push(`hostssl all ${roles.cert.user} 127.0.0.1/32 cert`);
  return `# Written by the rxpg test harness (spec/harness/auth-roles.ts).\n${lines.join('\n')}\n`;
}

/**
 * SQL that creates the roles. The md5 role's password is hashed with MD5 (PostgreSQL ≥ 14
 * stores SCRAM by default, and a server holding a SCRAM secret never asks for MD5); the
 * others are stored as SCRAM secrets. Roles may connect to `postgres` and call
 * pg_backend_pid() through the defaults (PUBLIC's CONNECT and EXECUTE).
 */
export function createAuthRolesSql(roles: ClusterRoles): string {
  const withPassword = (role: { user: string; password: string }) =>
    `CREATE ROLE ${role.user} LOGIN PASSWORD ${quoteLiteral(role.password)};`;
  return [
    `CREATE ROLE ${roles.trust.user} LOGIN;`,
    ...(roles.cert ? [`CREATE ROLE ${roles.cert.user} LOGIN;`] : []),
    `SET password_encryption = 'scram-sha-256';`,
    withPassword(roles.password),
    withPassword(roles.scram),
    `SET password_encryption = 'md5';`,
    withPassword(roles.md5),
    '',
  ].join('\n');
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
