import { createHash, createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { AuthenticationError } from '../../../lib/errors';
import {
  DEFAULT_SCRAM_MAX_ITERATIONS,
  prepareScramPassword,
  scramSha256StoredPassword,
  startScramSession,
  type ScramOptions,
  type ScramSession,
} from '../../../lib/protocol/auth';
import { ScramTestServer } from './scram-test-server';

// RFC 7677 §3, the SCRAM-SHA-256 example exchange.
const rfc = {
  password: 'pencil',
  username: 'user',
  clientNonce: 'rOprNGfwEbeRWgbNEkqO',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};
const rfcServerNonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';

async function caught(action: () => unknown): Promise<AuthenticationError> {
  try {
    await action();
  } catch (error) {
    expect(error).toBeInstanceOf(AuthenticationError);
    return error as AuthenticationError;
  }
  throw new Error('expected an AuthenticationError');
}

function rfcSession(options: ScramOptions = {}): ScramSession {
  return startScramSession(['SCRAM-SHA-256'], rfc.password, { username: rfc.username, nonce: rfc.clientNonce, ...options }).session;
}

/** Runs a whole exchange against the test server; resolves to the server's final message. */
async function exchange(
  password: string,
  serverPasswordBytes: Buffer,
  options: ScramOptions & { mechanisms?: string[]; iterations?: number; channelBindingData?: Buffer } = {},
): Promise<{ session: ScramSession; serverFinal: string; server: ScramTestServer; mechanism: string }> {
  const server = new ScramTestServer({
    passwordBytes: serverPasswordBytes,
    salt: randomBytes(16),
    iterations: options.iterations ?? 8,
    nonceSuffix: randomBytes(12).toString('base64'),
    ...(options.channelBindingData === undefined ? {} : { channelBindingData: options.channelBindingData }),
  });
  const { mechanism, clientFirstMessage, session } = startScramSession(options.mechanisms ?? ['SCRAM-SHA-256'], password, options);
  const clientFinal = await session.respondToServerFirst(server.first(clientFirstMessage));
  return { session, serverFinal: server.final(clientFinal), server, mechanism };
}

describe('SCRAM-SHA-256 client', () => {
  describe('the RFC 7677 example', () => {
    it('produces the RFC client-first, client-final and accepts the RFC server-final', async () => {
      const { mechanism, clientFirstMessage, session } = startScramSession(['SCRAM-SHA-256'], rfc.password, {
        username: rfc.username,
        nonce: rfc.clientNonce,
      });
      expect(mechanism).toBe('SCRAM-SHA-256');
      expect(clientFirstMessage.toString()).toBe(rfc.clientFirst);
      const clientFinal = await session.respondToServerFirst(rfc.serverFirst);
      expect(clientFinal).toBeInstanceOf(Buffer);
      expect(clientFinal.toString()).toBe(rfc.clientFinal);
      expect(session.isComplete).toBe(false);
      session.verifyServerFinal(rfc.serverFinal);
      expect(session.isComplete).toBe(true);
    });

    it('accepts the server messages as bytes', async () => {
      const session = rfcSession();
      expect((await session.respondToServerFirst(Buffer.from(rfc.serverFirst))).toString()).toBe(rfc.clientFinal);
      session.verifyServerFinal(Buffer.from(rfc.serverFinal));
      expect(session.isComplete).toBe(true);
    });

    it('SASLpreps the password: a SOFT HYPHEN or a non-ASCII space changes nothing', async () => {
      for (const password of ['pen\u00adcil', '\u00adpencil\u200c']) {
        const { session } = startScramSession(['SCRAM-SHA-256'], password, { username: rfc.username, nonce: rfc.clientNonce });
        expect((await session.respondToServerFirst(rfc.serverFirst)).toString()).toBe(rfc.clientFinal);
      }
    });

    it('matches the server side of the RFC example through scramSha256StoredPassword', () => {
      // The verifier's keys must reproduce the RFC's proof and server signature.
      const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
      const verifier = scramSha256StoredPassword(rfc.password, { salt, iterations: 4096 });
      const match = /^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(verifier);
      expect(match).not.toBeNull();
      const storedKey = Buffer.from(match![1]!, 'base64');
      const serverKey = Buffer.from(match![2]!, 'base64');
      const authMessage = `n=user,r=${rfc.clientNonce},${rfc.serverFirst},c=biws,r=${rfcServerNonce}`;
      const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest();
      const proof = Buffer.from(rfc.clientFinal.slice(rfc.clientFinal.indexOf(',p=') + 3), 'base64');
      const clientKey = Buffer.from(proof.map((byte, i) => byte ^ clientSignature[i]!));
      expect(createHash('sha256').update(clientKey).digest()).toEqual(storedKey);
      expect(`v=${createHmac('sha256', serverKey).update(authMessage).digest('base64')}`).toBe(rfc.serverFinal);
    });
  });

  describe('as PostgreSQL runs it', () => {
    it('sends gs2 header "n,," and an empty user name by default, with a random 24-character nonce', () => {
      const first = startScramSession(['SCRAM-SHA-256'], 'secret').clientFirstMessage.toString();
      const second = startScramSession(['SCRAM-SHA-256'], 'secret').clientFirstMessage.toString();
      expect(first).toMatch(/^n,,n=,r=[A-Za-z0-9+/]{24}$/);
      expect(first).not.toBe(second);
    });

    it('with the empty user name the RFC exchange gives another proof, which a server accepts', async () => {
      const server = new ScramTestServer({
        passwordBytes: Buffer.from(rfc.password),
        salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'),
        iterations: 4096,
        nonceSuffix: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
      });
      const { clientFirstMessage, session } = startScramSession(['SCRAM-SHA-256'], rfc.password, { nonce: rfc.clientNonce });
      expect(clientFirstMessage.toString()).toBe(`n,,n=,r=${rfc.clientNonce}`);
      const serverFirst = server.first(clientFirstMessage);
      expect(serverFirst).toBe(rfc.serverFirst);
      const clientFinal = await session.respondToServerFirst(serverFirst);
      expect(clientFinal.toString()).toMatch(/^c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj\)hNlF\$k0,p=[A-Za-z0-9+/]{43}=$/);
      expect(clientFinal.toString()).not.toBe(rfc.clientFinal);
      const serverFinal = server.final(clientFinal);
      expect(serverFinal).toMatch(/^v=/);
      expect(serverFinal).not.toBe(rfc.serverFinal);
      session.verifyServerFinal(serverFinal);
      expect(session.isComplete).toBe(true);
    });

    it('escapes "=" and "," in a user name', () => {
      const { clientFirstMessage } = startScramSession(['SCRAM-SHA-256'], 'x', { username: 'a=b,c', nonce: 'abc' });
      expect(clientFirstMessage.toString()).toBe('n,,n=a=3Db=2Cc,r=abc');
    });

    it('uses the raw password when SASLprep rejects it, as PostgreSQL does', async () => {
      for (const password of ['\u0627\u0031', 'emoji \u{1f511}', 'bell\u0007']) {
        const { serverFinal, session } = await exchange(password, Buffer.from(password, 'utf8'));
        expect(serverFinal).toMatch(/^v=/);
        session.verifyServerFinal(serverFinal);
      }
    });

    it('uses the SASLprep form otherwise', async () => {
      const { serverFinal, session } = await exchange('\u2168\u00aa\u00a0x', Buffer.from('IXa x', 'utf8'));
      session.verifyServerFinal(serverFinal);
      expect(session.isComplete).toBe(true);
    });
  });

  describe('mechanism choice', () => {
    const binding = { type: 'tls-server-end-point' as const, data: createHash('sha256').update('certificate').digest() };

    it('prefers plain SCRAM-SHA-256 without channel-binding data, even when -PLUS is offered', () => {
      const { mechanism, clientFirstMessage } = startScramSession(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'], 'x');
      expect(mechanism).toBe('SCRAM-SHA-256');
      expect(clientFirstMessage.toString()).toMatch(/^n,,/);
    });

    it('uses SCRAM-SHA-256-PLUS with p=tls-server-end-point when given channel-binding data', async () => {
      const { mechanism, server, serverFinal, session } = await exchange('secret', Buffer.from('secret'), {
        mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'],
        channelBinding: binding,
        channelBindingData: binding.data,
      });
      expect(mechanism).toBe('SCRAM-SHA-256-PLUS');
      expect(server.gs2Header).toBe('p=tls-server-end-point,,');
      expect(serverFinal).toMatch(/^v=/);
      session.verifyServerFinal(serverFinal);
      expect(session.isComplete).toBe(true);
    });

    it('sends c= with the gs2 header and the certificate hash', async () => {
      const { session } = startScramSession(['SCRAM-SHA-256-PLUS'], 'x', { nonce: 'abc', channelBinding: binding });
      const clientFinal = (await session.respondToServerFirst('r=abcdef,s=QUJD,i=1')).toString();
      const c = /^c=([^,]*),/.exec(clientFinal)![1]!;
      expect(Buffer.from(c, 'base64')).toEqual(Buffer.concat([Buffer.from('p=tls-server-end-point,,'), binding.data]));
    });

    it('a server bound to another certificate rejects the proof', async () => {
      const { serverFinal } = await exchange('secret', Buffer.from('secret'), {
        mechanisms: ['SCRAM-SHA-256-PLUS'],
        channelBinding: binding,
        channelBindingData: Buffer.alloc(32, 7),
      });
      expect(serverFinal).toBe('e=channel-bindings-dont-match');
    });

    it('says "y" (supported, but not offered) when it has channel-binding data and the server offers only SCRAM-SHA-256', async () => {
      const { mechanism, server, serverFinal } = await exchange('secret', Buffer.from('secret'), { channelBinding: binding });
      expect(mechanism).toBe('SCRAM-SHA-256');
      expect(server.gs2Header).toBe('y,,');
      expect(serverFinal).toMatch(/^v=/);
    });

    it('fails when channel binding is required but not offered, or not available', async () => {
      const notOffered = await caught(() =>
        startScramSession(['SCRAM-SHA-256'], 'x', { channelBinding: binding, requireChannelBinding: true }),
      );
      expect(notOffered.message).toContain('did not offer SCRAM-SHA-256-PLUS');
      const noData = await caught(() => startScramSession(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'], 'x', { requireChannelBinding: true }));
      expect(noData.message).toContain('no channel-binding data');
    });

    it('fails when the server offers no usable mechanism', async () => {
      for (const offered of [[], ['SCRAM-SHA-1'], ['SCRAM-SHA-256-PLUS'], ['scram-sha-256']]) {
        const error = await caught(() => startScramSession(offered, 'x'));
        expect(error.code).toBe('28000');
        expect(error.message).toMatch(/SCRAM-SHA-256/);
      }
    });

    it('rejects invalid options', () => {
      expect(() => startScramSession(['SCRAM-SHA-256'], 'x', { maxIterations: 0 })).toThrow(RangeError);
      expect(() => startScramSession(['SCRAM-SHA-256'], 'x', { maxIterations: 1.5 })).toThrow(RangeError);
      expect(() => startScramSession(['SCRAM-SHA-256'], 'x', { nonce: 'a,b' })).toThrow(TypeError);
      expect(() => startScramSession(['SCRAM-SHA-256'], 'x', { nonce: '' })).toThrow(TypeError);
      expect(() =>
        startScramSession(['SCRAM-SHA-256-PLUS'], 'x', { channelBinding: { type: 'tls-server-end-point', data: Buffer.alloc(0) } }),
      ).toThrow(TypeError);
      expect(() =>
        startScramSession(['SCRAM-SHA-256-PLUS'], 'x', {
          channelBinding: { type: 'tls-unique' as 'tls-server-end-point', data: Buffer.alloc(1) },
        }),
      ).toThrow(TypeError);
    });
  });

  describe('server-first-message checks', () => {
    const serverFirst = (nonce: string, salt: string, iterations: string): string => `r=${nonce},s=${salt},i=${iterations}`;

    it('rejects a nonce that does not extend the client nonce', async () => {
      for (const nonce of ['XOprNGfwEbeRWgbNEkqO%hvYD', 'rOprNGfwEbeRWgbNEkq', rfc.clientNonce]) {
        const error = await caught(() => rfcSession().respondToServerFirst(serverFirst(nonce, 'QUJD', '4096')));
        expect(error.message).toContain('nonce');
      }
    });

    it.each(['0', '-1', '4096.5', '1e3', ' 4096', '', 'abc', '0x10'])('rejects the iteration count %j', async (iterations) => {
      const error = await caught(() => rfcSession().respondToServerFirst(serverFirst(rfcServerNonce, 'QUJD', iterations)));
      expect(error.code).toBe('28000');
      expect(error.message).toMatch(/iteration count/);
    });

    it('refuses more iterations than the cap, before deriving anything', async () => {
      const session = rfcSession({ maxIterations: 10_000 });
      const started = Date.now();
      const error = await caught(() => session.respondToServerFirst(serverFirst(rfcServerNonce, 'QUJD', '10001')));
      expect(error.message).toContain('too many SCRAM iterations');
      expect(error.message).toContain('10000');
      const huge = await caught(() => rfcSession().respondToServerFirst(serverFirst(rfcServerNonce, 'QUJD', '9'.repeat(40))));
      expect(huge.message).toContain('too many SCRAM iterations');
      const justOver = await caught(() =>
        rfcSession().respondToServerFirst(serverFirst(rfcServerNonce, 'QUJD', String(DEFAULT_SCRAM_MAX_ITERATIONS + 1))),
      );
      expect(justOver.message).toContain('too many SCRAM iterations');
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('accepts exactly the cap', async () => {
      const reply = await rfcSession({ maxIterations: 4096 }).respondToServerFirst(rfc.serverFirst);
      expect(reply.toString()).toBe(rfc.clientFinal);
    });

    it.each([
      ['an empty message', ''],
      ['a missing salt', `r=${rfcServerNonce},i=4096`],
      ['attributes out of order', `s=QUJD,r=${rfcServerNonce},i=4096`],
      ['a salt that is not base64', `r=${rfcServerNonce},s=not base64!,i=4096`],
      ['an empty salt', `r=${rfcServerNonce},s=,i=4096`],
      ['a nonce with a control character', `r=${rfc.clientNonce}\u0001x,s=QUJD,i=4096`],
      ['a trailing comma', `${rfc.serverFirst},`],
      ['not attributes at all', 'hello'],
      ['a mandatory extension', `m=ext,${rfc.serverFirst}`],
    ])('rejects %s', async (_what, message) => {
      await caught(() => rfcSession().respondToServerFirst(message));
    });

    it('ignores extensions after the iteration count (RFC 5802 §7)', async () => {
      const reply = await rfcSession().respondToServerFirst(`${rfc.serverFirst},x=future`);
      expect(reply.toString()).toMatch(/^c=biws,r=/);
    });

    it('answers only once, and not after a failure', async () => {
      const session = rfcSession();
      await session.respondToServerFirst(rfc.serverFirst);
      await caught(() => session.respondToServerFirst(rfc.serverFirst));

      const failed = rfcSession();
      await caught(() => failed.respondToServerFirst('garbage'));
      await caught(() => failed.respondToServerFirst(rfc.serverFirst));
      await caught(() => failed.verifyServerFinal(rfc.serverFinal));
    });
  });

  describe('server-final-message checks', () => {
    async function answered(): Promise<ScramSession> {
      const session = rfcSession();
      await session.respondToServerFirst(rfc.serverFirst);
      return session;
    }

    it('rejects a tampered server signature', async () => {
      const signature = Buffer.from(rfc.serverFinal.slice(2), 'base64');
      signature[0]! ^= 1;
      const session = await answered();
      const error = await caught(() => session.verifyServerFinal(`v=${signature.toString('base64')}`));
      expect(error.code).toBe('28000');
      expect(error.message).toBe('SCRAM server signature mismatch: the server could not prove it knows the password');
      expect(session.isComplete).toBe(false);
      await caught(() => session.verifyServerFinal(rfc.serverFinal));
    });

    it('rejects a signature of the wrong length', async () => {
      const error = await caught(async () => (await answered()).verifyServerFinal('v=QUJD'));
      expect(error.message).toContain('server signature mismatch');
    });

    it('reports an e= error, with 28P01 for invalid-proof', async () => {
      const invalidProof = await caught(async () => (await answered()).verifyServerFinal('e=invalid-proof'));
      expect(invalidProof.code).toBe('28P01');
      expect(invalidProof.message).toContain('invalid-proof');
      const other = await caught(async () => (await answered()).verifyServerFinal('e=other-error'));
      expect(other.code).toBe('28000');
    });

    it.each(['', 'x', 'v=not base64!', 'r=abc', `${rfc.serverFinal}\u0000`])('rejects the malformed message %j', async (message) => {
      await caught(async () => (await answered()).verifyServerFinal(message));
    });

    it('must follow the client-final message', async () => {
      const session = rfcSession();
      await caught(() => session.verifyServerFinal(rfc.serverFinal));
      const pending = rfcSession();
      const reply = pending.respondToServerFirst(rfc.serverFirst);
      await caught(() => pending.verifyServerFinal(rfc.serverFinal));
      await expect(reply).resolves.toBeInstanceOf(Buffer);
    });

    it('ignores extensions after the verifier', async () => {
      const session = await answered();
      session.verifyServerFinal(`${rfc.serverFinal},x=future`);
      expect(session.isComplete).toBe(true);
    });
  });

  describe('secrecy', () => {
    const password = 'Secret-Pa55word';
    const secrets = (session: ScramSession, clientFinal: string): string[] => {
      void session;
      const proof = clientFinal.slice(clientFinal.indexOf(',p=') + 3);
      return [password, proof, Buffer.from(proof, 'base64').toString('hex')];
    };
    const shown = (value: unknown): string =>
      [
        JSON.stringify(value),
        inspect(value, { showHidden: true, depth: null, getters: true }),
        Object.keys(value as object).join(','),
      ].join('\n');

    it('keeps the password, keys and proof out of the session object', async () => {
      const { session } = startScramSession(['SCRAM-SHA-256'], password, { nonce: 'abc' });
      expect(shown(session)).not.toContain(password);
      const clientFinal = (await session.respondToServerFirst('r=abcdef,s=QUJD,i=16')).toString();
      for (const secret of secrets(session, clientFinal)) expect(shown(session)).not.toContain(secret);
      expect(Object.keys(session)).toEqual(['mechanism']);
    });

    it('keeps them out of every error', async () => {
      const errors: unknown[] = [];
      const collect = async (action: () => unknown): Promise<void> => {
        try {
          await action();
        } catch (error) {
          errors.push(error);
        }
      };
      await collect(() => startScramSession(['SCRAM-SHA-1'], password));
      const session = startScramSession(['SCRAM-SHA-256'], password, { nonce: 'abc' }).session;
      const clientFinal = (await session.respondToServerFirst('r=abcdef,s=QUJD,i=16')).toString();
      await collect(() => session.verifyServerFinal('v=QUJD'));
      await collect(() =>
        startScramSession(['SCRAM-SHA-256'], password, { nonce: 'abc' }).session.respondToServerFirst('r=abcdef,s=QUJD,i=0'),
      );
      expect(errors).toHaveLength(3);
      for (const error of errors) {
        for (const secret of secrets(session, clientFinal)) expect(shown(error)).not.toContain(secret);
      }
    });
  });

  it('property: any password completes an exchange with a server that stores its SASLprep form', async () => {
    const password = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 24 }),
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)), maxLength: 24 }),
    );
    const serverNonce = fc.string({ unit: fc.constantFrom(...'abcXYZ019+/=!~%$)'.split('')), minLength: 1, maxLength: 32 });
    await fc.assert(
      fc.asyncProperty(
        password,
        fc.uint8Array({ minLength: 1, maxLength: 32 }),
        fc.integer({ min: 1, max: 20 }),
        serverNonce,
        async (pw, salt, iterations, suffix) => {
          const server = new ScramTestServer({
            passwordBytes: Buffer.from(prepareScramPassword(pw), 'utf8'),
            salt: Buffer.from(salt),
            iterations,
            nonceSuffix: suffix,
          });
          const { clientFirstMessage, session } = startScramSession(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'], pw);
          const clientFinal = await session.respondToServerFirst(server.first(clientFirstMessage));
          const serverFinal = server.final(clientFinal);
          expect(serverFinal).toMatch(/^v=/);
          session.verifyServerFinal(serverFinal);
          expect(session.isComplete).toBe(true);

          // And a wrong password is refused by the server.
          const wrong = startScramSession(['SCRAM-SHA-256'], `${pw}x`);
          const wrongFinal = server.final(await wrong.session.respondToServerFirst(server.first(wrong.clientFirstMessage)));
          expect(wrongFinal).toBe('e=invalid-proof');
        },
      ),
      { numRuns: 200 },
    );
  });
});
