import type { Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions, type TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import { Observable } from 'rxjs';
import { ConfigError, ConnectionError, ProtocolError } from '../errors';
import { sslRequest } from '../wire';

/** How one attempt asks for TLS, derived from libpq's sslmode by the config layer. */
export interface TlsRequest {
  /** `true`: fail when the server refuses TLS; `false`: go on in plaintext on the same socket. */
  readonly required: boolean;
  /** `none`: encrypt only; `ca`: the certificate must chain to the CA; `full`: and match the host. */
  readonly verify: 'none' | 'ca' | 'full';
  /** The host name the certificate must match under `full`, and the SNI name. */
  readonly host: string;
  /** `false`: send no SNI (libpq's `sslsni=0`); otherwise a host name (never an IP) is sent. */
  readonly sni?: boolean;
  /** PEM contents of the trusted CA(s); absent means Node's default store. */
  readonly ca?: Buffer;
  /** The file {@link ca} was read from, named when the verification fails (never its contents). */
  readonly rootCertFile?: string;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** Extra Node TLS options, merged last. */
  readonly extra?: TlsConnectionOptions;
  /**
   * libpq 17's `sslnegotiation=direct`: start the TLS handshake at once, without SSLRequest,
   * offering ALPN `postgresql`, and refuse a server that does not select it. Only for a
   * request that is `required` (there is no plaintext answer to fall back on).
   */
  readonly direct?: boolean;
}

/** The ALPN protocol name PostgreSQL 17 registers for its direct TLS connections. */
export const postgresAlpnProtocol = 'postgresql';

const handshakeFailures = new WeakSet<Error>();

/**
 * Whether an error is a failed TLS handshake or certificate check after the server agreed to
 * TLS (libpq's `prefer` then retries in plaintext).
 */
export function isTlsHandshakeFailure(error: unknown): boolean {
  return error instanceof Error && handshakeFailures.has(error);
}

/** The socket after negotiation: TLS-wrapped, or the original one when the server said no. */
export interface NegotiatedSocket {
  readonly socket: Socket;
  readonly encrypted: boolean;
}

/**
 * Sends SSLRequest and acts on the server's one-byte answer: `S` wraps the socket in TLS and
 * verifies the certificate as asked; `N` goes on in plaintext, or fails when TLS is required.
 * With `request.direct` (libpq's `sslnegotiation=direct`) it sends no SSLRequest and starts
 * the handshake at once, offering ALPN `postgresql`.
 * Cold; unsubscribing before it emits destroys the socket.
 *
 * Errors: ConnectionError `08001` when the server refuses TLS that is required, when the
 * handshake or the verification fails (the message then says "server certificate verification
 * failed" and names what it was verified against: the root certificate file, `tls.ca` or the
 * system's trusted roots), or when the socket ends first; under `direct`, also when
 * the server selects no ALPN protocol or another one than `postgresql`; ProtocolError when the
 * server answers anything but `S` or `N`, or sends bytes before the TLS handshake (which a
 * man in the middle could use to inject plaintext, CVE-2021-23222); ConfigError (setting
 * `tls`) when Node cannot build a TLS context from the request (the client layer checks the
 * certificate files before any I/O, so this is left for options given in `extra`).
 *
 * @example
 * negotiateTls(socket, { required: true, verify: 'full', host: 'db.example.com', ca })
 */
export function negotiateTls(socket: Socket, request: TlsRequest): Observable<NegotiatedSocket> {
  return new Observable<NegotiatedSocket>((subscriber) => {
    let tlsSocket: TLSSocket | undefined;
    let handedOver = false;
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('end', onEnd);
    };
    const fail = (error: Error) => {
      cleanup();
      subscriber.error(error);
    };
    const onError = (error: Error) =>
      fail(new ConnectionError(`SSL negotiation failed: ${error.message}`, { code: '08001', cause: error }));
    const onEnd = () => fail(new ConnectionError('server closed the connection during SSL negotiation', { code: '08001' }));
    const onData = (chunk: Buffer) => {
      cleanup();
      socket.pause();
      if (chunk.length > 1) {
        subscriber.error(new ProtocolError('received unencrypted data after the SSL response'));
        return;
      }
      const answer = String.fromCharCode(chunk[0]!);
      if (answer === 'N') {
        if (request.required) {
          subscriber.error(new ConnectionError('server does not support SSL, but SSL was required (sslmode)', { code: '08001' }));
          return;
        }
        handedOver = true;
        subscriber.next({ socket, encrypted: false });
        subscriber.complete();
        return;
      }
      if (answer !== 'S') {
        subscriber.error(new ProtocolError(`server does not understand SSLRequest (answered ${JSON.stringify(answer)} instead of S or N)`));
        return;
      }
      startHandshake();
    };
    // `extra` is merged last: a `tls.ca` there replaces the root file's certificates.
    const verifiedAgainst = () =>
      request.extra?.ca !== undefined
        ? ' against tls.ca'
        : request.rootCertFile !== undefined
          ? ` against the root certificate file "${request.rootCertFile}"`
          : request.ca === undefined
            ? " against the system's trusted roots"
            : '';
    const startHandshake = () => {
      // Node sends no SNI when servername is undefined, whatever `host` is.
      const servername = request.sni !== false && isIP(request.host) === 0 ? request.host : undefined;
      const options: TlsConnectionOptions = {
        socket,
        // Without `host`, Node checks the certificate against 'localhost'.
        host: request.host,
        servername,
        ca: request.ca,
        cert: request.cert,
        key: request.key,
        rejectUnauthorized: request.verify !== 'none',
        ...(request.verify === 'ca' ? { checkServerIdentity: () => undefined } : {}),
        ...(request.direct === true ? { ALPNProtocols: [postgresAlpnProtocol] } : {}),
        ...request.extra,
      };
      let secured: TLSSocket;
      try {
        secured = tlsConnect(options);
      } catch (error) {
        // Node builds the secure context synchronously and throws for unusable options (a
        // certificate or key it cannot load): inside this data handler that would escape as an
        // uncaught exception and leave the attempt hanging.
        subscriber.error(new ConfigError(`the TLS settings cannot be used: ${(error as Error).message}`, { setting: 'tls', cause: error }));
        return;
      }
      tlsSocket = secured;
      secured.once('error', (error: Error) => {
        // A server before PostgreSQL 17 reads the ClientHello as a malformed startup packet and
        // hangs up: say so, since Node's message alone does not.
        const hint = request.direct === true ? ' (sslnegotiation=direct: the server may not support direct SSL, new in PostgreSQL 17)' : '';
        // Node sets authorizationError when it rejects the server's certificate (chain or host
        // name); its message alone ("self-signed certificate in certificate chain") does not
        // say that this was the check, nor against what.
        const rejected = !secured.authorizationError
          ? ''
          : (error as NodeJS.ErrnoException).code === 'ERR_TLS_CERT_ALTNAME_INVALID'
            ? 'server certificate does not match the host name: '
            : `server certificate verification failed${verifiedAgainst()}: `;
        const failure = new ConnectionError(`SSL connection failed: ${rejected}${error.message}${hint}`, { code: '08001', cause: error });
        handshakeFailures.add(failure);
        subscriber.error(failure);
      });
      secured.once('secureConnect', () => {
        secured.removeAllListeners('error');
        secured.pause();
        if (request.direct === true && secured.alpnProtocol !== postgresAlpnProtocol) {
          // libpq's check (fe-secure-openssl.c): without ALPN, a direct connection could have
          // reached some other TLS service that would take the StartupMessage for its own.
          subscriber.error(
            new ConnectionError(
              secured.alpnProtocol === false
                ? 'direct SSL connection was established without ALPN protocol negotiation extension'
                : 'SSL connection was established with unexpected ALPN protocol',
              { code: '08001' },
            ),
          );
          return;
        }
        handedOver = true;
        subscriber.next({ socket: secured, encrypted: true });
        subscriber.complete();
      });
    };
    if (request.direct === true) {
      // No SSLRequest: the ClientHello is the first thing the server receives.
      startHandshake();
    } else {
      socket.on('data', onData);
      socket.on('error', onError);
      socket.on('end', onEnd);
      socket.resume();
      socket.write(sslRequest());
    }
    return () => {
      cleanup();
      if (!handedOver) {
        tlsSocket?.destroy();
        socket.destroy();
      }
    };
  });
}
