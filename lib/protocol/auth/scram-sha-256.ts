import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthenticationError } from '../../errors';
import { prepareScramPassword, saslPrep } from './sasl-prep';

/** The SASL mechanisms this client speaks. */
export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-256-PLUS';

export const SCRAM_SHA_256 = 'SCRAM-SHA-256' satisfies ScramMechanism;
export const SCRAM_SHA_256_PLUS = 'SCRAM-SHA-256-PLUS' satisfies ScramMechanism;

/**
 * The default cap on the PBKDF2 iteration count a server may ask for. PostgreSQL's default is
 * 4096 (`scram_iterations`, settable since PostgreSQL 16); a cap of a million admits servers
 * hardened well past OWASP's 600 000 for PBKDF2-HMAC-SHA-256, while a hostile or spoofed server
 * can make the client spend at most about 0.2 s of one libuv worker thread (as measured on the
 * development machine) per attempt, instead of the minutes that 2^31 - 1 iterations would take.
 */
export const DEFAULT_SCRAM_MAX_ITERATIONS = 1_000_000;

/** Channel-binding data of the TLS connection (RFC 5929), for SCRAM-SHA-256-PLUS. */
export interface ScramChannelBinding {
  readonly type: 'tls-server-end-point';
  /** The certificate hash, as {@link tlsServerEndPoint} computes it. */
  readonly data: Uint8Array;
}

export interface ScramOptions {
  /**
   * The TLS connection's channel-binding data. When given and the server offers
   * SCRAM-SHA-256-PLUS, that mechanism is used and the exchange is bound to this TLS session;
   * when given but the server offers only SCRAM-SHA-256, the client says so (gs2 flag `y`), so
   * that a server that does support channel binding detects a stripped mechanism list.
   * Leave it out on plaintext connections (gs2 flag `n`).
   */
  readonly channelBinding?: ScramChannelBinding;
  /**
   * Refuse to authenticate without channel binding (libpq's `channel_binding=require`). The
   * caller must also refuse servers that skip SASL (trust, cleartext, md5) in that mode.
   */
  readonly requireChannelBinding?: boolean;
  /**
   * The user name in the client-first message. PostgreSQL ignores it and uses the startup
   * message's user, so the default is empty, as libpq sends; set it only to talk to other
   * SCRAM servers or to check the RFC's test vectors.
   */
  readonly username?: string;
  /** The client nonce; for tests only (the default is 18 random bytes in base64). */
  readonly nonce?: string;
  /** The highest PBKDF2 iteration count the server may ask for; default {@link DEFAULT_SCRAM_MAX_ITERATIONS}. */
  readonly maxIterations?: number;
}

/** One client-side SCRAM exchange: answer the server's first message, then check its last. */
export interface ScramSession {
  readonly mechanism: ScramMechanism;
  /** True once {@link verifyServerFinal} has accepted the server's signature. */
  readonly isComplete: boolean;
  /**
   * Takes the server-first-message (AuthenticationSASLContinue's data) and resolves to the
   * client-final-message to send as SASLResponse. The PBKDF2 key derivation runs on libuv's
   * thread pool, so the event loop stays free even at a high iteration count.
   *
   * Rejects with an {@link AuthenticationError} if the message is malformed, its nonce does not
   * extend the client's, or its iteration count is below 1 or above the cap; also when called
   * twice or after a failure.
   */
  respondToServerFirst(serverFirst: string | Uint8Array): Promise<Buffer>;
  /**
   * Checks the server-final-message (AuthenticationSASLFinal's data): the server signature
   * must prove that the server knows the password. Throws an {@link AuthenticationError} on an
   * `e=` error, a wrong signature, a malformed message, or when called out of turn.
   */
  verifyServerFinal(serverFinal: string | Uint8Array): void;
}

export interface ScramStart {
  readonly mechanism: ScramMechanism;
  /** The SASLInitialResponse data: gs2 header and client-first-message-bare. */
  readonly clientFirstMessage: Buffer;
  readonly session: ScramSession;
}

const printableNonce = /^[\x21-\x2b\x2d-\x7e]+$/;
const strictBase64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const attribute = /^([A-Za-z])=(.*)$/s;

function hmac(key: Uint8Array, data: Uint8Array | string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

function derive(password: Uint8Array, salt: Uint8Array, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, 32, 'sha256', (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function malformed(which: string, problem: string): AuthenticationError {
  return new AuthenticationError(`malformed SCRAM ${which}: ${problem}`);
}

/** A server-supplied text, made safe to put in an error message. */
function quote(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(printable.length > 200 ? `${printable.slice(0, 200)}…` : printable);
}

/** Splits a SCRAM message into `[name, value]` attributes; undefined if it is not `a=v,b=w,...`. */
function attributes(message: string): [string, string][] | undefined {
  const result: [string, string][] = [];
  for (const part of message.split(',')) {
    const match = attribute.exec(part);
    if (match === null) return undefined;
    result.push([match[1]!, match[2]!]);
  }
  return result;
}

/** SASLprep a SCRAM user name and escape `=` and `,` as RFC 5802 §5.1 requires. */
function encodeUsername(username: string): string {
  return (saslPrep(username) ?? username).replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function toText(message: string | Uint8Array): { text: string; bytes: Buffer } {
  return typeof message === 'string'
    ? { text: message, bytes: Buffer.from(message, 'utf8') }
    : { text: Buffer.from(message).toString('utf8'), bytes: Buffer.from(message) };
}

function chooseMechanism(offered: readonly string[], options: ScramOptions): { mechanism: ScramMechanism; gs2Header: string } {
  const list = offered.length === 0 ? 'none' : offered.slice(0, 10).map(quote).join(', ');
  const binding = options.channelBinding;
  if (binding !== undefined && offered.includes(SCRAM_SHA_256_PLUS)) {
    return { mechanism: SCRAM_SHA_256_PLUS, gs2Header: `p=${binding.type},,` };
  }
  if (options.requireChannelBinding === true) {
    throw new AuthenticationError(
      binding === undefined
        ? 'channel binding is required, but this connection has no channel-binding data ' +
            '(it does not use TLS, or the server certificate allows none)'
        : `channel binding is required, but the server did not offer SCRAM-SHA-256-PLUS (offered: ${list})`,
    );
  }
  if (offered.includes(SCRAM_SHA_256)) {
    return { mechanism: SCRAM_SHA_256, gs2Header: binding === undefined ? 'n,,' : 'y,,' };
  }
  throw new AuthenticationError(
    offered.includes(SCRAM_SHA_256_PLUS)
      ? 'the server offers only SCRAM-SHA-256-PLUS, which needs channel binding over TLS, ' +
          'and this connection has no channel-binding data'
      : `the server offered no SASL mechanism rxpg supports (offered: ${list}; supported: SCRAM-SHA-256, SCRAM-SHA-256-PLUS)`,
  );
}

/**
 * Starts the client side of a SCRAM-SHA-256 exchange (RFC 5802, RFC 7677) as PostgreSQL runs
 * it, in answer to AuthenticationSASL with the server's mechanism list. The password is
 * prepared with SASLprep, falling back to its raw bytes as PostgreSQL does.
 *
 * @throws AuthenticationError (28000) when the server offers no mechanism this client can use.
 * @throws RangeError / TypeError for invalid options.
 */
export function startScramSession(mechanisms: readonly string[], password: string, options: ScramOptions = {}): ScramStart {
  const maxIterations = options.maxIterations ?? DEFAULT_SCRAM_MAX_ITERATIONS;
  if (!Number.isSafeInteger(maxIterations) || maxIterations < 1 || maxIterations > 0x7fffffff) {
    throw new RangeError('maxIterations must be an integer from 1 to 2147483647');
  }
  const binding = options.channelBinding;
  if (binding !== undefined && (binding.type !== 'tls-server-end-point' || binding.data.length === 0)) {
    throw new TypeError("channelBinding must be { type: 'tls-server-end-point', data: <non-empty certificate hash> }");
  }
  const nonce = options.nonce ?? randomBytes(18).toString('base64');
  if (!printableNonce.test(nonce)) {
    throw new TypeError('the client nonce must be printable ASCII without commas');
  }

  const { mechanism, gs2Header } = chooseMechanism(mechanisms, options);
  const clientFirstBare = `n=${encodeUsername(options.username ?? '')},r=${nonce}`;
  const channelBindingInput = Buffer.concat([
    Buffer.from(gs2Header, 'ascii'),
    mechanism === SCRAM_SHA_256_PLUS ? binding!.data : Buffer.alloc(0),
  ]);
  const session = new ClientScramSession(mechanism, password, nonce, clientFirstBare, channelBindingInput, maxIterations);
  return { mechanism, clientFirstMessage: Buffer.from(gs2Header + clientFirstBare, 'utf8'), session };
}

type State = 'awaiting-server-first' | 'deriving' | 'awaiting-server-final' | 'complete' | 'failed';

class ClientScramSession implements ScramSession {
  readonly mechanism: ScramMechanism;
  readonly #nonce: string;
  readonly #clientFirstBare: string;
  readonly #channelBindingInput: Buffer;
  readonly #maxIterations: number;
  #state: State = 'awaiting-server-first';
  /** The SASLprep'd password bytes, zeroed once derived from. */
  #password: Buffer;
  /** The ServerSignature the server must send back, zeroed once checked. */
  #expectedServerSignature: Buffer | undefined;

  constructor(
    mechanism: ScramMechanism,
    password: string,
    nonce: string,
    clientFirstBare: string,
    channelBindingInput: Buffer,
    maxIterations: number,
  ) {
    this.mechanism = mechanism;
    this.#password = Buffer.from(prepareScramPassword(password), 'utf8');
    this.#nonce = nonce;
    this.#clientFirstBare = clientFirstBare;
    this.#channelBindingInput = channelBindingInput;
    this.#maxIterations = maxIterations;
  }

  get isComplete(): boolean {
    return this.#state === 'complete';
  }

  async respondToServerFirst(serverFirst: string | Uint8Array): Promise<Buffer> {
    if (this.#state !== 'awaiting-server-first') {
      throw new AuthenticationError(`unexpected SCRAM server-first-message (the exchange is ${this.#state})`);
    }
    this.#state = 'deriving';
    try {
      const { text, bytes } = toText(serverFirst);
      const { serverNonce, salt, iterations } = this.#parseServerFirst(text);

      const saltedPassword = await derive(this.#password, salt, iterations);
      this.#password.fill(0);
      const clientKey = hmac(saltedPassword, 'Client Key');
      const serverKey = hmac(saltedPassword, 'Server Key');
      saltedPassword.fill(0);

      const clientFinalWithoutProof = `c=${this.#channelBindingInput.toString('base64')},r=${serverNonce}`;
      const authMessage = Buffer.concat([
        Buffer.from(`${this.#clientFirstBare},`, 'utf8'),
        bytes,
        Buffer.from(`,${clientFinalWithoutProof}`, 'utf8'),
      ]);
      const clientSignature = hmac(sha256(clientKey), authMessage);
      for (let i = 0; i < clientKey.length; i++) clientKey[i]! ^= clientSignature[i]!;
      const proof = clientKey.toString('base64');
      clientKey.fill(0);
      this.#expectedServerSignature = hmac(serverKey, authMessage);
      serverKey.fill(0);

      this.#state = 'awaiting-server-final';
      return Buffer.from(`${clientFinalWithoutProof},p=${proof}`, 'utf8');
    } catch (error) {
      this.#fail();
      throw error;
    }
  }

  verifyServerFinal(serverFinal: string | Uint8Array): void {
    if (this.#state !== 'awaiting-server-final') {
      throw new AuthenticationError(`unexpected SCRAM server-final-message (the exchange is ${this.#state})`);
    }
    try {
      const parsed = attributes(toText(serverFinal).text);
      const [name, value] = parsed?.[0] ?? [];
      if (name === 'e') {
        throw new AuthenticationError(`the server rejected the SCRAM exchange: ${quote(value!)}`, {
          code: value === 'invalid-proof' ? '28P01' : '28000',
        });
      }
      if (name !== 'v') throw malformed('server-final-message', 'it has no verifier (v=) or error (e=)');
      if (!strictBase64.test(value!)) throw malformed('server-final-message', 'the verifier is not base64');
      const received = Buffer.from(value!, 'base64');
      const expected = this.#expectedServerSignature!;
      if (received.length !== expected.length || !timingSafeEqual(received, expected)) {
        throw new AuthenticationError('SCRAM server signature mismatch: the server could not prove it knows the password');
      }
      expected.fill(0);
      this.#expectedServerSignature = undefined;
      this.#state = 'complete';
    } catch (error) {
      this.#fail();
      throw error;
    }
  }

  #parseServerFirst(message: string): { serverNonce: string; salt: Buffer; iterations: number } {
    const which = 'server-first-message';
    const parsed = attributes(message);
    if (parsed === undefined) throw malformed(which, 'it is not a list of a=value attributes');
    if (parsed[0]?.[0] === 'm') {
      throw new AuthenticationError('the server requires a SCRAM extension (m=) that rxpg does not support');
    }
    const [[r, serverNonce] = [], [s, salt] = [], [i, iterations] = []] = parsed;
    if (r !== 'r' || s !== 's' || i !== 'i') throw malformed(which, 'expected the attributes r=, s= and i=, in that order');

    if (!printableNonce.test(serverNonce!)) throw malformed(which, 'the nonce is not printable ASCII');
    if (!serverNonce!.startsWith(this.#nonce) || serverNonce!.length === this.#nonce.length) {
      throw new AuthenticationError('SCRAM nonce mismatch: the server nonce does not extend the client nonce');
    }
    if (salt === '' || !strictBase64.test(salt!)) throw malformed(which, 'the salt is not base64');
    if (!/^[0-9]+$/.test(iterations!)) throw malformed(which, `the iteration count ${quote(iterations!)} is not an integer`);
    const count = Number(iterations);
    if (count < 1) throw malformed(which, 'the iteration count must be at least 1');
    if (count > this.#maxIterations) {
      const asked = iterations!.length > 12 ? 'more than 10^12' : String(count);
      throw new AuthenticationError(
        `the server asked for too many SCRAM iterations: ${asked}, above the limit of ${this.#maxIterations} ` +
          '(raise maxIterations to allow it)',
      );
    }
    return { serverNonce: serverNonce!, salt: Buffer.from(salt!, 'base64'), iterations: count };
  }

  #fail(): void {
    this.#state = 'failed';
    this.#password.fill(0);
    this.#expectedServerSignature?.fill(0);
    this.#expectedServerSignature = undefined;
  }
}

/**
 * The SCRAM verifier PostgreSQL stores for a password (`pg_authid.rolpassword`):
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64 values. Sending this
 * instead of the password in `ALTER ROLE ... PASSWORD '...'` keeps the password off the wire
 * and out of server logs, as libpq's `PQencryptPasswordConn` does. Uses PostgreSQL's defaults:
 * a random 16-byte salt and 4096 iterations. Synchronous: meant for tooling and tests.
 */
export function scramSha256StoredPassword(
  password: string,
  options: { readonly salt?: Uint8Array; readonly iterations?: number } = {},
): string {
  const salt = Buffer.from(options.salt ?? randomBytes(16));
  const iterations = options.iterations ?? 4096;
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > 0x7fffffff) {
    throw new RangeError('iterations must be an integer from 1 to 2147483647');
  }
  const saltedPassword = pbkdf2Sync(Buffer.from(prepareScramPassword(password), 'utf8'), salt, iterations, 32, 'sha256');
  const storedKey = sha256(hmac(saltedPassword, 'Client Key'));
  const serverKey = hmac(saltedPassword, 'Server Key');
  saltedPassword.fill(0);
  const keys = `${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${keys}`;
}
