// The login state machine on its own, over the fake transport (the spec plays the server):
// what it writes for each authentication method, and how each failure ends the connection.
// The same exchanges against a real PostgreSQL are in spec/client/connect*.spec.ts.
import { X509Certificate, createHash } from 'node:crypto';
import { AuthenticationError, ConnectionError, PostgresError, ProtocolError } from '../../lib';
import {
  acceptLogin,
  authenticationCode,
  authenticationMD5Password,
  authenticationOk,
  authenticationSASL,
  authenticationSASLContinue,
  authenticationSASLFinal,
  backendKeyData,
  dataRow,
  errorResponse,
  negotiateProtocolVersion,
  parameterStatus,
  readyForQuery,
} from '../helpers/backend-messages';
import { fakeSession, startLogin, startupSettings, type FakeSession, destroyFakeSessions } from '../helpers/fake-session';
import { FakeTransport, cstringsOf, startupParametersOf, type FrontendMessage } from '../helpers/fake-transport';
import { ecSha256CertificatePem } from '../helpers/test-certificate';
import { ScramTestServer } from './auth/scram-test-server';

afterEach(destroyFakeSessions);

function only(messages: FrontendMessage[]): FrontendMessage {
  expect(messages).toHaveLength(1);
  return messages[0]!;
}

/** The body of a SASLInitialResponse: the mechanism and the client-first message. */
function saslInitial(message: FrontendMessage): { mechanism: string; data: Buffer } {
  expect(message.name).toBe('PasswordMessage');
  const [mechanism] = cstringsOf(message.body, 1) as [string];
  const at = Buffer.byteLength(mechanism) + 1;
  const length = message.body.readInt32BE(at);
  return { mechanism, data: message.body.subarray(at + 4, at + 4 + length) };
}

function scramServer(channelBindingData?: Buffer): ScramTestServer {
  return new ScramTestServer({
    passwordBytes: Buffer.from('sesame'),
    salt: Buffer.from('salt of the earth'),
    iterations: 4096,
    nonceSuffix: 'server-nonce',
    channelBindingData,
  });
}

/** Runs the SCRAM exchange up to the client's final message; returns it. */
async function scramUpToClientFinal(session: FakeSession, server: ScramTestServer, mechanisms: string[]): Promise<FrontendMessage> {
  session.transport.push(authenticationSASL(mechanisms));
  const initial = saslInitial(only(await session.transport.nextWritten()));
  session.transport.push(authenticationSASLContinue(server.first(initial.data)));
  return only(await session.transport.nextWritten());
}

describe('StartupConversation (fake transport)', () => {
  it('writes the StartupMessage with the user and parameters, and opens on trust', () => {
    const session = fakeSession();
    const outcome = startLogin(session, startupSettings({ parameters: { database: 'app', application_name: 'spec' } }));
    const startup = only(session.transport.takeWritten());
    expect(startup.name).toBe('StartupMessage');
    expect(startup.body.readInt32BE(0)).toBe(196608); // protocol 3.0
    expect(startupParametersOf(startup.body)).toEqual({ user: 'ada', database: 'app', application_name: 'spec' });
    expect(session.connection.state).toBe('connecting');

    session.transport.push(acceptLogin({ processId: 7, secretKey: 99, parameters: { server_version: '16.0', TimeZone: 'UTC' } }));
    expect(outcome).toEqual({ ready: true, error: undefined });
    expect(session.connection.state).toBe('open');
    expect(session.connection.backendKey).toEqual({ processId: 7, secretKey: 99 });
    expect(Object.fromEntries(session.connection.parameters)).toEqual({ server_version: '16.0', TimeZone: 'UTC' });
    expect(session.transport.takeWritten()).toEqual([]);
  });

  it('opens only at ReadyForQuery, however the replies are split into chunks', () => {
    const session = fakeSession();
    const outcome = startLogin(session);
    const bytes = acceptLogin();
    for (let i = 0; i < bytes.length; i++) {
      expect(outcome.ready).toBe(false);
      session.transport.push(bytes.subarray(i, i + 1));
    }
    expect(outcome.ready).toBe(true);
  });

  it('ignores NegotiateProtocolVersion', () => {
    const session = fakeSession();
    const outcome = startLogin(session);
    session.transport.push(negotiateProtocolVersion(0, ['_pq_.x']), acceptLogin());
    expect(outcome.ready).toBe(true);
  });

  it('answers a cleartext password request with the password, asked for only then', async () => {
    const session = fakeSession();
    let asked = 0;
    const outcome = startLogin(
      session,
      startupSettings({
        password: () => {
          asked++;
          return Promise.resolve('sesame');
        },
      }),
    );
    session.transport.takeWritten();
    expect(asked).toBe(0);
    session.transport.push(authenticationCode(3));
    const reply = only(await session.transport.nextWritten());
    expect(reply.name).toBe('PasswordMessage');
    expect(cstringsOf(reply.body, 1)).toEqual(['sesame']);
    expect(asked).toBe(1);
    session.transport.push(acceptLogin());
    expect(outcome.ready).toBe(true);
  });

  it('answers an MD5 request with md5(md5(password + user) + salt)', async () => {
    const session = fakeSession();
    const outcome = startLogin(session, startupSettings({ passwordText: 'sesame' }));
    session.transport.takeWritten();
    const salt = Buffer.from([1, 2, 3, 4]);
    session.transport.push(authenticationMD5Password(salt));
    const reply = only(await session.transport.nextWritten());
    const inner = createHash('md5').update('sesameada').digest('hex');
    const expected = `md5${createHash('md5')
      .update(Buffer.concat([Buffer.from(inner), salt]))
      .digest('hex')}`;
    expect(cstringsOf(reply.body, 1)).toEqual([expected]);
    session.transport.push(acceptLogin());
    expect(outcome.ready).toBe(true);
  });

  it('runs SCRAM-SHA-256 to the end and checks the server signature', async () => {
    const session = fakeSession();
    const outcome = startLogin(session, startupSettings({ passwordText: 'sesame' }));
    session.transport.takeWritten();
    const server = scramServer();
    const final = await scramUpToClientFinal(session, server, ['SCRAM-SHA-256']);
    expect(server.gs2Header).toBe('n,,'); // no TLS: no channel binding
    const serverFinal = server.final(final.body);
    expect(serverFinal).toMatch(/^v=/);
    session.transport.push(authenticationSASLFinal(serverFinal), acceptLogin());
    expect(outcome).toEqual({ ready: true, error: undefined });
  });

  it('binds SCRAM to the TLS certificate the transport reports (SCRAM-SHA-256-PLUS)', async () => {
    const certificate = new X509Certificate(ecSha256CertificatePem);
    const session = fakeSession(new FakeTransport({ peerCertificate: certificate }));
    const outcome = startLogin(session, startupSettings({ passwordText: 'sesame', channelBinding: 'require' }));
    session.transport.takeWritten();
    const server = scramServer(createHash('sha256').update(certificate.raw).digest());
    const final = await scramUpToClientFinal(session, server, ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']);
    expect(server.gs2Header).toBe('p=tls-server-end-point,,');
    const serverFinal = server.final(final.body);
    expect(serverFinal).toMatch(/^v=/); // the binding data matched
    session.transport.push(authenticationSASLFinal(serverFinal), acceptLogin());
    expect(outcome).toEqual({ ready: true, error: undefined });
  });

  describe('failures end the connection', () => {
    async function failedLogin(
      script: (session: FakeSession) => Promise<void> | void,
      settings = startupSettings({ passwordText: 'sesame' }),
      transport = new FakeTransport(),
    ): Promise<{ error: ConnectionError; session: FakeSession }> {
      const session = fakeSession(transport);
      const outcome = startLogin(session, settings);
      session.transport.takeWritten();
      await script(session);
      for (let i = 0; i < 100 && outcome.error === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 1));
      expect(outcome.ready).toBe(false);
      expect(outcome.error).toBeInstanceOf(ConnectionError);
      expect(session.connection.state).toBe('failed');
      expect(session.connection.failure).toBe(outcome.error);
      expect(session.transport.closed).toBe(true);
      return { error: outcome.error!, session };
    }

    it('a server SCRAM signature that does not match: AuthenticationError', async () => {
      const { error } = await failedLogin(async (session) => {
        await scramUpToClientFinal(session, scramServer(), ['SCRAM-SHA-256']);
        session.transport.push(authenticationSASLFinal(`v=${Buffer.alloc(32).toString('base64')}`));
      });
      expect(error).toBeInstanceOf(AuthenticationError);
    });

    it('AuthenticationOk without SASLFinal: the server never proved it knows the password', async () => {
      const { error } = await failedLogin(async (session) => {
        await scramUpToClientFinal(session, scramServer(), ['SCRAM-SHA-256']);
        session.transport.push(authenticationOk());
      });
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error.message).toMatch(/without proving/);
    });

    it('a server-first message whose nonce does not extend the client’s: AuthenticationError', async () => {
      const { error } = await failedLogin(async (session) => {
        session.transport.push(authenticationSASL(['SCRAM-SHA-256']));
        await session.transport.nextWritten();
        session.transport.push(authenticationSASLContinue('r=someone-else,s=c2FsdA==,i=4096'));
      });
      expect(error).toBeInstanceOf(AuthenticationError);
    });

    it('SASLContinue before any SASL exchange: ProtocolError', async () => {
      const { error } = await failedLogin((session) => session.transport.push(authenticationSASLContinue('r=x,s=c2FsdA==,i=4096')));
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error.message).toMatch(/not started/);
    });

    it('channel_binding=require without TLS: refused before any password is produced', async () => {
      let asked = 0;
      const settings = startupSettings({
        channelBinding: 'require',
        password: () => {
          asked++;
          return Promise.resolve('sesame');
        },
      });
      const { error, session } = await failedLogin((session) => session.transport.push(authenticationSASL(['SCRAM-SHA-256'])), settings);
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error.message).toMatch(/channel binding is required/);
      expect(asked).toBe(0);
      expect(session.transport.takeWritten()).toEqual([]);
    });

    it('channel_binding=require and trust: AuthenticationError', async () => {
      const { error } = await failedLogin(
        (session) => session.transport.push(acceptLogin()),
        startupSettings({ channelBinding: 'require' }),
      );
      expect(error).toBeInstanceOf(AuthenticationError);
    });

    it('require_auth refuses a method it does not list, before any password is produced', async () => {
      const { error, session } = await failedLogin(
        (session) => session.transport.push(authenticationCode(3)),
        startupSettings({ requireAuth: ['scram-sha-256'], passwordText: 'sesame' }),
      );
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error.message).toMatch(/require_auth/);
      expect(session.transport.takeWritten()).toEqual([]);
    });

    it('a password request with no password: AuthenticationError 28P01', async () => {
      const { error } = await failedLogin(
        (session) => session.transport.push(authenticationCode(3)),
        startupSettings({ passwordText: undefined }),
      );
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error.code).toBe('28P01');
    });

    it('a password callback that rejects: AuthenticationError with it as cause', async () => {
      const failure = new Error('vault sealed');
      const { error } = await failedLogin(
        (session) => session.transport.push(authenticationCode(3)),
        startupSettings({ password: () => Promise.reject(failure) }),
      );
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error.cause).toBe(failure);
    });

    it('an unsupported method (KerberosV5) and multi-step GSS: AuthenticationError', async () => {
      const kerberos = await failedLogin((session) => session.transport.push(authenticationCode(2)));
      expect(kerberos.error).toBeInstanceOf(AuthenticationError);
      const gss = await failedLogin((session) => session.transport.push(authenticationCode(8, Buffer.from('token'))));
      expect(gss.error.message).toMatch(/GSSContinue/);
    });

    it('GSS sends the gssKrbToken as is; without one, AuthenticationError', async () => {
      const session = fakeSession();
      const outcome = startLogin(session, startupSettings({ gssKrbToken: Buffer.from('krb-token') }));
      session.transport.takeWritten();
      session.transport.push(authenticationCode(7));
      const reply = only(session.transport.takeWritten());
      expect(reply).toMatchObject({ name: 'PasswordMessage', body: Buffer.from('krb-token') });
      session.transport.push(acceptLogin());
      expect(outcome.ready).toBe(true);

      const { error } = await failedLogin((session) => session.transport.push(authenticationCode(7)));
      expect(error.message).toMatch(/gssKrbToken/);
    });

    it('ErrorResponse 28P01 at login: AuthenticationError whose cause is the server’s error', async () => {
      const { error } = await failedLogin((session) =>
        session.transport.push(
          authenticationCode(3),
          errorResponse({ S: 'FATAL', V: 'FATAL', C: '28P01', M: 'password authentication failed for user "ada"' }),
        ),
      );
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error.code).toBe('28P01');
      expect(error.cause).toBeInstanceOf(PostgresError);
      expect(error.message).toMatch(/password authentication failed/);
    });

    it('ErrorResponse of another class at login (no such database): ConnectionError with its SQLSTATE', async () => {
      const { error } = await failedLogin((session) =>
        session.transport.push(errorResponse({ S: 'FATAL', V: 'FATAL', C: '3D000', M: 'database "app" does not exist' })),
      );
      expect(error).not.toBeInstanceOf(AuthenticationError);
      expect(error.code).toBe('3D000');
    });

    it('a message that makes no sense during startup: ProtocolError', async () => {
      const { error } = await failedLogin((session) => session.transport.push(authenticationOk(), dataRow(['1'])));
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error.message).toMatch(/unexpected DataRow during startup/);
    });

    it('ReadyForQuery inside a transaction at the end of startup: ProtocolError', async () => {
      const { error } = await failedLogin((session) => session.transport.push(authenticationOk(), readyForQuery('T')));
      expect(error).toBeInstanceOf(ProtocolError);
    });

    it('BackendKeyData twice: ProtocolError', async () => {
      const { error } = await failedLogin((session) =>
        session.transport.push(authenticationOk(), backendKeyData(1, 2), parameterStatus('a', 'b'), backendKeyData(1, 2)),
      );
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error.message).toMatch(/BackendKeyData twice/);
    });

    it('an authentication code that does not exist: the connection fails', async () => {
      const { error } = await failedLogin((session) => session.transport.push(authenticationCode(99)));
      expect(error).toBeInstanceOf(ConnectionError);
    });

    it('EOF during login: ConnectionError', async () => {
      const { error } = await failedLogin((session) => {
        session.transport.push(authenticationOk());
        session.transport.pushEnd();
      });
      expect(error.message).toMatch(/closed the connection/);
    });

    it('a socket error during login: ConnectionError with the socket’s error as cause', async () => {
      const { error } = await failedLogin((session) => session.transport.pushError('read ECONNRESET'));
      expect(error.code).toBe('08006');
      expect((error.cause as Error).message).toBe('read ECONNRESET');
    });
  });
});
