import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';

/**
 * libpq's `sslmode` values, with libpq's meaning (PostgreSQL docs, "SSL Support"):
 * - `disable`: plaintext only.
 * - `allow`: plaintext first; if the server rejects that, retry with TLS.
 * - `prefer` (default): TLS if the server offers it, else plaintext; a failed TLS attempt (a
 *   certificate that does not verify included) is retried once in plaintext.
 * - `require`: TLS or fail.
 * - `allow`, `prefer` and `require` verify nothing, except that when a root certificate file
 *   is present (`sslrootcert`, else `~/.postgresql/root.crt`) the server certificate must
 *   chain to it, as under `verify-ca` (libpq's rule).
 * - `verify-ca`: TLS, and the server certificate must chain to `sslrootcert`.
 * - `verify-full`: as `verify-ca`, and the host name must match the certificate.
 */
export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

/** All sslmode values, in libpq's order. */
export const sslModes: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/**
 * libpq's `sslnegotiation` (PostgreSQL 17): how TLS is started.
 * - `postgres` (default): send SSLRequest, and start TLS once the server answers `S`.
 * - `direct`: start the TLS handshake at once (no SSLRequest, one round trip less), offering
 *   ALPN `postgresql`; the server must select it. Only with sslmode `require`, `verify-ca` or
 *   `verify-full` (libpq's rule: there is no plaintext fallback). Servers before 17 do not
 *   speak it and the connection fails.
 */
export type SslNegotiation = 'postgres' | 'direct';

/** All sslnegotiation values. */
export const sslNegotiations: readonly SslNegotiation[] = ['postgres', 'direct'];

/**
 * libpq's `target_session_attrs`: which kind of server a connection must end up on when
 * several hosts are given (libpq 14's values, with libpq's rules):
 * - `any` (default): the first server that accepts the login.
 * - `read-write`: a server whose sessions are writable by default (neither in hot standby nor
 *   `default_transaction_read_only = on`).
 * - `read-only`: the opposite of `read-write`.
 * - `primary`: a server not in hot standby.
 * - `standby`: a server in hot standby.
 * - `prefer-standby`: a standby if any host is one; otherwise, in a second pass over every
 *   host, whichever server accepts the login.
 */
export type TargetSessionAttrs = 'any' | 'read-write' | 'read-only' | 'primary' | 'standby' | 'prefer-standby';

/**
 * libpq's `channel_binding` for SCRAM authentication over TLS:
 * - `disable`: never bind the SCRAM exchange to the TLS session.
 * - `prefer` (default): bind it (SCRAM-SHA-256-PLUS) when the connection uses TLS and the
 *   server offers it.
 * - `require`: refuse to log in without SCRAM-SHA-256-PLUS over TLS: a server that asks for a
 *   password in the clear, MD5, plain SCRAM-SHA-256, GSS, or none at all (trust) is refused,
 *   before any password leaves the client.
 */
export type ChannelBinding = 'disable' | 'prefer' | 'require';

/** The authentication methods `require_auth` names (libpq's spelling). */
export type AuthMethod = 'password' | 'md5' | 'gss' | 'sspi' | 'scram-sha-256' | 'none';

/** All require_auth method names. */
export const authMethods: readonly AuthMethod[] = ['password', 'md5', 'gss', 'sspi', 'scram-sha-256', 'none'];

/** All channel_binding values, in libpq's order. */
export const channelBindingModes: readonly ChannelBinding[] = ['disable', 'prefer', 'require'];

/** All target_session_attrs values, in libpq's order. */
export const targetSessionAttrsValues: readonly TargetSessionAttrs[] = [
  'any',
  'read-write',
  'read-only',
  'primary',
  'standby',
  'prefer-standby',
];

/**
 * libpq 16's `load_balance_hosts`: `disable` (default) tries the hosts in the order given;
 * `random` shuffles the hosts once per connection attempt, and the addresses of each host name.
 */
export type LoadBalanceHosts = 'disable' | 'random';

/** All load_balance_hosts values. */
export const loadBalanceHostsValues: readonly LoadBalanceHosts[] = ['disable', 'random'];

/**
 * One server to try, after libpq's matching of the `host`, `hostaddr` and `port` lists.
 */
export interface HostEntry {
  /**
   * The host name, IP address or unix-socket directory; when only a `hostaddr` was given for
   * this entry, that address (it is then what TLS verifies and `.pgpass` matches, as in libpq).
   */
  readonly host: string;
  /** A numeric IP address to connect to instead of looking `host` up (libpq's `hostaddr`). */
  readonly hostaddr: string | undefined;
  /** The TCP port, or the number in the unix socket's file name (`.s.PGSQL.<port>`). */
  readonly port: number;
}

/**
 * A password, or a function that produces one when the server asks for it (for rotating
 * credentials such as cloud IAM tokens). It is called at most once per connection attempt.
 */
export type PasswordSource = string | (() => string | Promise<string>);

/**
 * What a caller may pass to `connect`. Every field is optional; what is missing comes from the
 * `connectionString`, then from the libpq environment variables (PGHOST, PGPORT, ...), then
 * from libpq's defaults. Explicit fields win over the URL, the URL over the environment.
 */
export interface ConnectionConfig {
  /** A `postgres://` or `postgresql://` URL, or a libpq keyword/value string. */
  readonly connectionString?: string;
  /**
   * Host name, IP address, or a unix-socket directory (a path starting with `/`). Several hosts
   * (tried in turn, see `targetSessionAttrs`) as an array or, as in libpq, a comma-separated
   * string: `['db1', 'db2']` or `'db1,db2'`. An empty element means the default host.
   */
  readonly host?: string | readonly string[];
  /**
   * The port, or one port per host (`[5432, 5433]`); a single port applies to every host
   * (libpq's rule). Any other count is a ConfigError.
   */
  readonly port?: number | readonly number[];
  /**
   * Numeric IP addresses to connect to, one per host, skipping the name lookup (libpq's
   * `hostaddr`); `host` is then used only for TLS verification and `.pgpass`. When given, its
   * element count sets the number of hosts, and `host` (if given) must have as many.
   */
  readonly hostaddr?: string | readonly string[];
  /** Which server to accept among the hosts (default `any`); see {@link TargetSessionAttrs}. */
  readonly targetSessionAttrs?: TargetSessionAttrs;
  /** SCRAM channel binding (default `prefer`; `channel_binding`, `PGCHANNELBINDING`); see {@link ChannelBinding}. */
  readonly channelBinding?: ChannelBinding;
  /**
   * libpq's `require_auth` (also `PGREQUIREAUTH`): the authentication methods the server may
   * ask for, comma-separated (`'scram-sha-256'`, `'md5,scram-sha-256'`), or the ones it may not,
   * each with `!` (`'!password'`); `none` stands for no authentication at all (trust). A server
   * that asks for another method is refused before any password is produced. Default: any.
   */
  readonly requireAuth?: string;
  /** `random` shuffles the hosts (and each name's addresses) before trying them; default `disable`. */
  readonly loadBalanceHosts?: LoadBalanceHosts;
  /** The role to log in as (default PGUSER, then the operating-system user name). */
  readonly user?: string;
  /**
   * The password, or a function that produces one, used only if the server asks for it
   * (default PGPASSWORD, then the password file).
   */
  readonly password?: PasswordSource;
  /** The database to connect to (default PGDATABASE, then the user name). */
  readonly database?: string;
  /** Sent as the `application_name` startup parameter. */
  readonly applicationName?: string;
  /** Command-line options for the backend, as libpq's `options` (e.g. `-c statement_timeout=5s`). */
  readonly options?: string;
  /** Further runtime parameters for the StartupMessage (e.g. `{ TimeZone: 'UTC' }`). */
  readonly runtimeParameters?: Readonly<Record<string, string>>;
  /** Whether and how to use TLS (default `prefer`; `verify-full` with `sslrootcert=system`); see {@link SslMode}. */
  readonly sslmode?: SslMode;
  /** How TLS is started (default `postgres`; `sslnegotiation`, `PGSSLNEGOTIATION`); see {@link SslNegotiation}. */
  readonly sslnegotiation?: SslNegotiation;
  /** Path of the CA certificate(s) for `verify-ca` / `verify-full` (and `allow` / `prefer` / `require`, see SslMode). */
  readonly sslrootcert?: string;
  /** Path of the client certificate. */
  readonly sslcert?: string;
  /** Path of the client certificate's private key. */
  readonly sslkey?: string;
  /**
   * The passphrase of an encrypted `sslkey` (libpq's `sslpassword`; `tls.passphrase` is
   * still read when this is absent). Kept non-enumerable and never put in an error.
   */
  readonly sslpassword?: string;
  /** Whether to send the host name as TLS SNI (default true; libpq's `sslsni=0` turns it off). */
  readonly sslsni?: boolean;
  /**
   * Path of a PEM certificate revocation list: a server certificate it revokes fails the
   * handshake whenever the certificate is verified (see {@link SslMode}).
   */
  readonly sslcrl?: string;
  /**
   * Extra Node TLS options merged last (e.g. `servername`, `ciphers`). Their secrets are kept
   * non-enumerable in the resolved config: `tls.key`, `tls.pfx`, `tls.passphrase` and a
   * `passphrase` in `tls.key` / `tls.pfx` entries.
   */
  readonly tls?: TlsConnectionOptions;
  /**
   * Milliseconds allowed for each attempt (each address of each host, as libpq's
   * `connect_timeout`): past it the next address or host is tried. 0 or absent waits forever.
   */
  readonly connectTimeout?: number;
  /** Path of the password file (default `~/.pgpass`, or PGPASSFILE). */
  readonly passfile?: string;
  /** The seed's `gss_krb_token`: sent as-is when the server asks for GSS authentication. */
  readonly gssKrbToken?: Uint8Array | string;
  /** Largest backend message accepted, in bytes (default 1 GiB). */
  readonly maxMessageSize?: number;
  /** TCP keepalive (default true). */
  readonly keepAlive?: boolean;
  /**
   * Milliseconds a connection stays idle before the first keepalive probe (default 60000;
   * libpq's `keepalives_idle`, given in seconds there). 0 keeps the OS default.
   */
  readonly keepAliveIdle?: number;
  /**
   * A service name to look up in the service files, as libpq's `service` (also `PGSERVICE`):
   * its settings apply where neither this object nor the connection string sets them.
   */
  readonly service?: string;
  /** The per-user service file (default `PGSERVICEFILE`, else `~/.pg_service.conf`). */
  readonly serviceFile?: string;
  /** Aborting it aborts the connection attempt, like unsubscribing from `connect()`. */
  readonly signal?: AbortSignal;
  /** Decode int8 columns as `bigint` rather than string (default false). */
  readonly bigint?: boolean;
  /**
   * How many prepared statements to keep per connection (default 100): a statement run again
   * skips Parse and Describe. 0 turns the cache off (for PgBouncer in transaction mode).
   */
  readonly statementCacheSize?: number;
  /**
   * Milliseconds allowed for a cancellation to settle (default 5000): the server's
   * confirmation of a CancelRequest (it closes the cancel socket) and bringing the conversation
   * back in sync after an unsubscribe or a request's `timeout`. Past it the connection fails
   * with a ConnectionError, so that its owner or a pool replaces it. A positive, finite number;
   * not settable from a connection string or the environment (libpq has no such setting).
   */
  readonly cancelTimeout?: number;
}

/**
 * Settings after merging explicit values, URL, environment and defaults. Produced by
 * `resolveConnectionConfig`; the password stays a non-enumerable property so that logging
 * the object never prints it.
 */
export interface ResolvedConnectionConfig {
  /**
   * The host of the first entry of {@link hosts}; on a Connection's `config`, the host that
   * connection is connected to.
   */
  readonly host: string;
  /** The port that goes with {@link host}. */
  readonly port: number;
  /** The numeric address that goes with {@link host}, when `hostaddr` gave one. */
  readonly hostaddr: string | undefined;
  /** Every server to try, in the order given (at least one); `connect` shuffles them for `loadBalanceHosts: 'random'`. */
  readonly hosts: readonly HostEntry[];
  /** Which server to accept among the hosts; see {@link TargetSessionAttrs}. */
  readonly targetSessionAttrs: TargetSessionAttrs;
  /** SCRAM channel binding; see {@link ChannelBinding}. */
  readonly channelBinding: ChannelBinding;
  /** The authentication methods the server may ask for (from `require_auth`); undefined: any. */
  readonly requireAuth: readonly AuthMethod[] | undefined;
  /** Whether the hosts are tried in the order given or shuffled; see {@link LoadBalanceHosts}. */
  readonly loadBalanceHosts: LoadBalanceHosts;
  /** The role the connection logs in as. */
  readonly user: string;
  /** The database the connection is to. */
  readonly database: string;
  /** Non-enumerable. Resolve the actual value with `resolvePassword`. */
  readonly password: PasswordSource | undefined;
  /** The `application_name` startup parameter, if any. */
  readonly applicationName: string | undefined;
  /** Command-line options for the backend (libpq's `options`), if any. */
  readonly options: string | undefined;
  /** Further runtime parameters sent in the StartupMessage (empty when none). */
  readonly runtimeParameters: Readonly<Record<string, string>>;
  /** Whether and how TLS is used; see {@link SslMode}. */
  readonly sslmode: SslMode;
  /** How TLS is started; see {@link SslNegotiation}. */
  readonly sslnegotiation: SslNegotiation;
  /** Path of the CA certificate(s) that verify the server, if any. */
  readonly sslrootcert: string | undefined;
  /** Path of the client certificate, if any. */
  readonly sslcert: string | undefined;
  /** Path of the client certificate's private key, if any. */
  readonly sslkey: string | undefined;
  /** Non-enumerable. The passphrase of an encrypted `sslkey`, if any. */
  readonly sslpassword: string | undefined;
  /** Whether the host name is sent as TLS SNI. */
  readonly sslsni: boolean;
  /** Path of the PEM certificate revocation list, if any. */
  readonly sslcrl: string | undefined;
  /** Extra Node TLS options, merged last, if any; `key`, `pfx` and every `passphrase` in them are non-enumerable. */
  readonly tls: TlsConnectionOptions | undefined;
  /** Milliseconds; 0 means no limit. */
  readonly connectTimeout: number;
  /** Path of the password file, from the config, URL or PGPASSFILE; undefined means `~/.pgpass`. */
  readonly passfile: string | undefined;
  /** The token sent as-is when the server asks for GSS authentication, if any. */
  readonly gssKrbToken: Uint8Array | undefined;
  /** Largest backend message accepted, in bytes; a larger one fails the connection. */
  readonly maxMessageSize: number;
  /** Whether TCP keepalive is on. */
  readonly keepAlive: boolean;
  /** Milliseconds of idleness before the first keepalive probe; 0 for the OS default. */
  readonly keepAliveIdle: number;
  /** The service whose settings were applied, if any. */
  readonly service: string | undefined;
  /** The signal that aborts the connection attempt, if any. */
  readonly signal: AbortSignal | undefined;
  /** Whether int8 columns decode to `bigint` (otherwise to string). */
  readonly bigint: boolean;
  /** How many prepared statements each connection keeps; 0 when the cache is off. */
  readonly statementCacheSize: number;
  /**
   * Milliseconds (positive, finite; default 5000) that a cancellation
   * may take to settle: a CancelRequest's confirmation (the server closing the cancel socket)
   * and bringing the conversation back in sync after an unsubscribe or a request's `timeout`.
   * Past it the connection fails with a ConnectionError. Only the config object sets it.
   */
  readonly cancelTimeout: number;
}

/** Milliseconds that a cancellation may take to settle unless `cancelTimeout` says otherwise. */
export const defaultCancelTimeout = 5000;

/** 1 GiB, the seed's and libpq's practical ceiling for one backend message. */
export const defaultMaxMessageSize = 1024 * 1024 * 1024;
