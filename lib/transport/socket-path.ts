/**
 * Where a host setting points: a unix-domain socket file when the host is a directory path
 * (libpq's rule: a host starting with `/`), else a TCP host and port.
 */
export type SocketAddress =
  { readonly kind: 'unix'; readonly path: string } | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/**
 * Maps a host and port to a socket address. A directory host names the socket file
 * `<dir>/.s.PGSQL.<port>`, as the server creates it.
 *
 * @example
 * socketAddress('/var/run/postgresql', 5432) // { kind: 'unix', path: '/var/run/postgresql/.s.PGSQL.5432' }
 */
export function socketAddress(host: string, port: number): SocketAddress {
  if (host.startsWith('/')) {
    const directory = host.endsWith('/') ? host.slice(0, -1) : host;
    return { kind: 'unix', path: `${directory}/.s.PGSQL.${port}` };
  }
  return { kind: 'tcp', host, port };
}

/** How a socket address reads in an error message. */
export function describeSocketAddress(address: SocketAddress): string {
  return address.kind === 'unix' ? `unix socket ${address.path}` : `${address.host}:${address.port}`;
}
