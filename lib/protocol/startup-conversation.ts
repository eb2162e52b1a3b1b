import { AuthenticationError, ConnectionError, PostgresError, ProtocolError } from '../errors';
import { gssResponse, passwordMessage, saslInitialResponse, saslResponse, startupMessage, type BackendMessage } from '../wire';
import { md5PasswordMessage, startScramSession, tlsServerEndPoint, type ScramSession } from './auth';
import type { AuthMethod, ChannelBinding } from '../config';
import type { Conversation, ConversationChannel } from './conversation';
import type { ProtocolConnection } from './protocol-connection';

/** What the startup conversation needs to log in. */
export interface StartupSettings {
  readonly user: string;
  /** The StartupMessage parameters besides `user` (database, application_name, options, ...). */
  readonly parameters: Readonly<Record<string, string>>;
  /** Produces the password when the server asks for one; never called otherwise. */
  readonly password: () => Promise<string | undefined>;
  /** The seed's `gss_krb_token`: sent as-is when the server asks for GSS. */
  readonly gssKrbToken: Uint8Array | undefined;
  /** libpq's `channel_binding`: whether the SCRAM exchange is bound to the TLS session, or must be. */
  readonly channelBinding: ChannelBinding;
  /** libpq's `require_auth`: the methods the server may ask for (`none`: no authentication); undefined: any. */
  readonly requireAuth: readonly AuthMethod[] | undefined;
}

/**
 * The login exchange: StartupMessage, then whatever authentication the server asks for
 * (trust, cleartext, MD5, SCRAM-SHA-256, a single GSS token), BackendKeyData, and the
 * ReadyForQuery that makes the connection usable.
 *
 * Errors (given to `onError`, and the connection fails with them): AuthenticationError for a
 * rejected login (class 28, with the server's ErrorResponse as cause), a missing password, an
 * unsupported method, or a server that cannot prove it knows the SCRAM password;
 * ConnectionError with the server's SQLSTATE for other login errors (database does not exist,
 * too many connections); ProtocolError for a message that makes no sense during startup.
 */
export class StartupConversation implements Conversation {
  /** The server has asked for some authentication (for require_auth's `none`). */
  #authenticated = false;
  /** The TLS channel-binding data, once read (null: not read yet). */
  #binding: { readonly type: 'tls-server-end-point'; readonly data: Buffer } | undefined | null = null;
  readonly #settings: StartupSettings;
  readonly #connection: ProtocolConnection;
  readonly #onReady: () => void;
  readonly #onError: (error: ConnectionError) => void;
  #scram: ScramSession | undefined;
  #ended = false;

  constructor(
    connection: ProtocolConnection,
    settings: StartupSettings,
    callbacks: { readonly onReady: () => void; readonly onError: (error: ConnectionError) => void },
  ) {
    this.#connection = connection;
    this.#settings = settings;
    this.#onReady = callbacks.onReady;
    this.#onError = callbacks.onError;
  }

  start(channel: ConversationChannel): void {
    let bytes: Buffer;
    try {
      bytes = startupMessage({ user: this.#settings.user, ...this.#settings.parameters });
    } catch (error) {
      channel.failConnection(
        new ConnectionError(`invalid startup parameters: ${(error as Error).message}`, { code: '08001', cause: error }),
      );
      return;
    }
    channel.write(bytes);
  }

  handle(message: BackendMessage, channel: ConversationChannel): boolean {
    switch (message.name) {
      case 'AuthenticationOk':
        if (!this.#authenticated && this.#refuseMethod(channel, 'none', 'no authentication')) return false;
        if (this.#settings.channelBinding === 'require' && this.#scram?.mechanism !== 'SCRAM-SHA-256-PLUS') {
          // Trust (no exchange at all) proves nothing about the server either.
          channel.failConnection(
            new AuthenticationError('channel binding is required, but the server authenticated the client without it', {
              code: '28000',
            }),
          );
          return false;
        }
        if (this.#scram !== undefined && !this.#scram.isComplete) {
          // Without SASLFinal the server never proved that it knows the password.
          channel.failConnection(
            new AuthenticationError('server ended SCRAM authentication without proving it knows the password', {
              code: '28000',
            }),
          );
        }
        return false;
      case 'NegotiateProtocolVersion':
        return false;
      case 'AuthenticationCleartextPassword':
        if (this.#refuseMethod(channel, 'password', 'a cleartext password')) return false;
        if (this.#refuseWithoutChannelBinding(channel, 'the server asked for a cleartext password')) return false;
        this.#withPassword(channel, (password) => passwordMessage(password));
        return false;
      case 'AuthenticationMD5Password': {
        if (this.#refuseMethod(channel, 'md5', 'MD5')) return false;
        if (this.#refuseWithoutChannelBinding(channel, 'the server asked for MD5 authentication')) return false;
        const salt = message.salt;
        this.#withPassword(channel, (password) => passwordMessage(md5PasswordMessage(this.#settings.user, password, salt)));
        return false;
      }
      case 'AuthenticationSASL': {
        if (this.#refuseMethod(channel, 'scram-sha-256', 'SASL (SCRAM)')) return false;
        const mechanisms = message.mechanisms;
        if (
          this.#settings.channelBinding === 'require' &&
          (!mechanisms.includes('SCRAM-SHA-256-PLUS') || this.#channelBinding(channel) === undefined) &&
          this.#refuseWithoutChannelBinding(
            channel,
            `the server offered ${mechanisms.slice(0, 5).join(', ') || 'no SASL mechanism'}, and SCRAM-SHA-256-PLUS over TLS is needed`,
          )
        ) {
          return false;
        }
        this.#withPassword(channel, (password) => {
          const binding = this.#settings.channelBinding;
          const { mechanism, clientFirstMessage, session } = startScramSession(mechanisms, password, {
            channelBinding: binding === 'disable' ? undefined : this.#channelBinding(channel),
            requireChannelBinding: binding === 'require',
          });
          this.#scram = session;
          return saslInitialResponse(mechanism, clientFirstMessage);
        });
        return false;
      }
      case 'AuthenticationSASLContinue': {
        const serverFirst = message.data;
        this.#step(channel, () => {
          this.#requireScram()
            .respondToServerFirst(serverFirst)
            .then(
              (reply) => {
                if (!this.#ended) channel.write(saslResponse(reply));
              },
              (error: unknown) => {
                if (!this.#ended) channel.failConnection(asLoginFailure(error));
              },
            );
          return undefined;
        });
        return false;
      }
      case 'AuthenticationSASLFinal':
        this.#step(channel, () => {
          this.#requireScram().verifyServerFinal(message.data);
          return undefined;
        });
        return false;
      case 'AuthenticationGSS': {
        if (this.#refuseMethod(channel, 'gss', 'GSS')) return false;
        if (this.#refuseWithoutChannelBinding(channel, 'the server asked for GSS authentication')) return false;
        const token = this.#settings.gssKrbToken;
        if (token === undefined) {
          channel.failConnection(
            new AuthenticationError('server requested GSS authentication, but no gssKrbToken was provided', {
              code: '28000',
            }),
          );
        } else {
          channel.write(gssResponse(token));
        }
        return false;
      }
      case 'AuthenticationGSSContinue':
        channel.failConnection(
          new AuthenticationError(
            'server continued GSS authentication (GSSContinue); rxpg sends a single gssKrbToken and does not support multi-step GSS',
            { code: '28000' },
          ),
        );
        return false;
      case 'AuthenticationSSPI':
      case 'AuthenticationKerberosV5':
      case 'AuthenticationSCMCredential':
        if (message.name === 'AuthenticationSSPI' && this.#refuseMethod(channel, 'sspi', 'SSPI')) return false;
        channel.failConnection(
          new AuthenticationError(`server requested an unsupported authentication method: ${message.name}`, {
            code: '28000',
          }),
        );
        return false;
      case 'BackendKeyData':
        this.#connection.setBackendKey({ processId: message.processId, secretKey: message.secretKey });
        return false;
      case 'ErrorResponse':
        channel.failConnection(loginError(new PostgresError(message.fields)));
        return false;
      case 'ReadyForQuery':
        if (message.transactionStatus !== 'I') {
          channel.failConnection(new ProtocolError(`unexpected transaction status ${message.transactionStatus} at the end of startup`));
          return false;
        }
        this.#ended = true;
        this.#connection.markOpen();
        this.#onReady();
        return true;
      default:
        channel.failConnection(new ProtocolError(`unexpected ${message.name} during startup`));
        return false;
    }
  }

  fail(error: ConnectionError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#onError(error);
  }

  /**
   * Refuses (and returns true) when `require_auth` does not allow `method`, before any
   * password is produced; otherwise notes that the server asked for authentication.
   */
  #refuseMethod(channel: ConversationChannel, method: AuthMethod, described: string): boolean {
    if (method !== 'none') this.#authenticated = true;
    const allowed = this.#settings.requireAuth;
    if (allowed === undefined || allowed.includes(method)) return false;
    channel.failConnection(
      new AuthenticationError(`the server asked for ${described}, which require_auth does not allow (allowed: ${allowed.join(', ')})`, {
        code: '28000',
      }),
    );
    return true;
  }

  /**
   * Under `channel_binding=require`, a login that cannot end in SCRAM-SHA-256-PLUS (`reason`
   * says why) is refused before any password is produced: such a server cannot prove it is the
   * one the TLS session reached.
   */
  #refuseWithoutChannelBinding(channel: ConversationChannel, reason: string): boolean {
    if (this.#settings.channelBinding !== 'require') return false;
    channel.failConnection(new AuthenticationError(`channel binding is required, but ${reason}`, { code: '28000' }));
    return true;
  }

  /** SCRAM channel binding (tls-server-end-point) when the connection uses TLS, as libpq prefers. */
  #channelBinding(channel: ConversationChannel): { readonly type: 'tls-server-end-point'; readonly data: Buffer } | undefined {
    // Read once: Node 20's getPeerX509Certificate() gave undefined when asked a second time
    // during the same login.
    if (this.#binding === null) {
      const certificate = channel.peerCertificate();
      const data = certificate === undefined ? undefined : tlsServerEndPoint(certificate);
      this.#binding = data === undefined ? undefined : { type: 'tls-server-end-point', data };
    }
    return this.#binding;
  }

  #requireScram(): ScramSession {
    if (this.#scram === undefined) throw new ProtocolError('server continued SASL authentication that was not started');
    return this.#scram;
  }

  /** Runs one authentication step; an error from it fails the login. */
  #step(channel: ConversationChannel, step: () => Buffer | undefined): void {
    try {
      const reply = step();
      if (reply !== undefined) channel.write(reply);
    } catch (error) {
      channel.failConnection(asLoginFailure(error));
    }
  }

  /** Resolves the password (only now that the server asks), then answers with it. */
  #withPassword(channel: ConversationChannel, reply: (password: string) => Buffer): void {
    this.#settings.password().then(
      (password) => {
        if (this.#ended) return;
        if (password === undefined) {
          channel.failConnection(new AuthenticationError('server requested a password, but none was provided', { code: '28P01' }));
          return;
        }
        this.#step(channel, () => reply(password));
      },
      (error: unknown) => {
        if (!this.#ended) channel.failConnection(asLoginFailure(error));
      },
    );
  }
}

/** Maps a login ErrorResponse: class 28 is an AuthenticationError, others keep their SQLSTATE. */
function loginError(error: PostgresError): ConnectionError {
  const code = error.code ?? '08001';
  if (code.startsWith('28')) return new AuthenticationError(error.message, { code, cause: error });
  return new ConnectionError(error.message, { code, cause: error });
}

function asLoginFailure(error: unknown): ConnectionError {
  if (error instanceof ConnectionError) return error;
  return new AuthenticationError(`authentication failed: ${error instanceof Error ? error.message : String(error)}`, {
    code: '28000',
    cause: error,
  });
}
