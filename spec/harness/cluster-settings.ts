/**
 * What the test harness tells the specs about the PostgreSQL servers it provides. Everything
 * here is plain JSON: jest's globalSetup writes it to a file and every worker reads it back.
 */

/** TLS material generated for a throwaway cluster; every file is readable by the tests. */
export interface ClusterTlsSettings {
  /** The CA that signed the server and client certificates (also the server's ssl_ca_file). */
  readonly caFile: string;
  /** A second CA that signed nothing used here: verifying the server against it must fail. */
  readonly otherCaFile: string;
  /**
   * The only name in the server certificate (a DNS subjectAltName). There is deliberately no
   * IP SAN, so verify-full against 127.0.0.1 must fail on the host name.
   */
  readonly serverName: 'localhost';
  /** Client certificate signed by {@link caFile}, CN=rxpg_cert (for `cert` authentication). */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

/** A role that logs in without a password. */
export interface RoleName {
  readonly user: string;
}

/** A role and the password it logs in with. */
export interface RoleCredentials extends RoleName {
  readonly password: string;
}

/**
 * One role per authentication method, each forced to that method by pg_hba.conf for local and
 * 127.0.0.1 connections.
 */
export interface ClusterRoles {
  /** `trust`. */
  readonly trust: RoleName;
  /** `password` (cleartext on the wire); the password has non-ASCII characters and a space. */
  readonly password: RoleCredentials;
  /** `md5`; the password is stored as an MD5 hash, so the server really asks for MD5. */
  readonly md5: RoleCredentials;
  /** `scram-sha-256`; the password has a non-ASCII character and a space. */
  readonly scram: RoleCredentials;
  /** `cert` over hostssl only; present when the cluster has TLS. */
  readonly cert?: RoleName;
}

/** How to reach one PostgreSQL server as its superuser, and what the harness set up on it. */
export interface ClusterSettings {
  /** TCP host (127.0.0.1 for throwaway clusters); for an external server, PGHOST as given. */
  readonly host: string;
  readonly port: number;
  /** Unix-socket directory; absent for an external server reached over TCP. */
  readonly socketDir?: string;
  readonly superuser: string;
  /** Superuser password; only an external server (PGPASSWORD) has one. */
  readonly password?: string;
  readonly database: string;
  /** `SHOW server_version`, e.g. `15.14 (Debian 15.14-0+deb12u1)`. */
  readonly serverVersion: string;
  /** Directory of the PostgreSQL programs (psql); absent means psql from PATH. */
  readonly binDir?: string;
  /** The OS user that the server and the harness's psql run as (`postgres` when tests run as root). */
  readonly osUser?: string;
  /** Throwaway clusters only: the data directory, the server log and the postmaster's pid. */
  readonly dataDir?: string;
  readonly logFile?: string;
  readonly pid?: number;
  /** Present when the server was started with TLS. */
  readonly tls?: ClusterTlsSettings;
  /** Present when the harness created one role per authentication method. */
  readonly roles?: ClusterRoles;
}

/** A PgBouncer that the harness started in front of one of its servers. */
export interface PgBouncerSettings {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The role clients log in as, without a password; PgBouncer logs in to the server as it too. */
  readonly user: string;
  readonly database: string;
  readonly poolMode: 'transaction';
  /** `pgbouncer --version`'s first line, e.g. `PgBouncer 1.18.0`. */
  readonly version: string;
  /** PgBouncer's own process ID, e.g. to check that it is still alive. */
  readonly pid: number;
  readonly logFile: string;
}

/** Every server the specs may use. */
export interface TestServers {
  /** True when RXPG_USE_PG_ENV=1 pointed the tests at the PG* server instead of throwaway ones. */
  readonly external: boolean;
  /** With TLS and the auth roles (unless external). */
  readonly primary: ClusterSettings;
  /** Without TLS, with the auth roles: for sslmode prefer falling back and require failing. */
  readonly plain?: ClusterSettings;
  /** PgBouncer (transaction mode) in front of `plain`; absent for an external server. */
  readonly pgbouncer?: PgBouncerSettings;
  /** Why there is no PgBouncer although the servers are throwaway ones (it is not installed). */
  readonly pgbouncerMissing?: string;
}
