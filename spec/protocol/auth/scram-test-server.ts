import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

/**
 * The server side of SCRAM-SHA-256 (RFC 5802 §3), written independently of the client for the
 * specs: it parses the client's messages, checks the proof and the channel binding, and
 * answers with the server signature, or `e=...` as a real SCRAM server would.
 */
export class ScramTestServer {
  readonly #passwordBytes: Buffer;
  readonly #salt: Buffer;
  readonly #iterations: number;
  readonly #nonceSuffix: string;
  readonly #channelBindingData: Buffer | undefined;
  #clientFirstBare = '';
  #serverFirst = '';
  #gs2Header = '';
  /** What the client sent as gs2 header, e.g. `n,,`, `y,,` or `p=tls-server-end-point,,`. */
  get gs2Header(): string {
    return this.#gs2Header;
  }

  constructor(options: {
    /** The password bytes the verifier was made from (PostgreSQL: the SASLprep'd password). */
    readonly passwordBytes: Buffer;
    readonly salt: Buffer;
    readonly iterations: number;
    readonly nonceSuffix: string;
    readonly channelBindingData?: Buffer;
  }) {
    this.#passwordBytes = options.passwordBytes;
    this.#salt = options.salt;
    this.#iterations = options.iterations;
    this.#nonceSuffix = options.nonceSuffix;
    this.#channelBindingData = options.channelBindingData;
  }

  /** Takes client-first-message, returns server-first-message. */
  first(clientFirst: Buffer): string {
    const text = clientFirst.toString('utf8');
    const match = /^((?:n|y|p=[a-z0-9.-]+),,)(n=[^,]*,r=([^,]+))$/.exec(text);
    if (match === null) throw new Error(`test server: bad client-first ${text}`);
    this.#gs2Header = match[1]!;
    this.#clientFirstBare = match[2]!;
    this.#serverFirst = `r=${match[3]}${this.#nonceSuffix},s=${this.#salt.toString('base64')},i=${this.#iterations}`;
    return this.#serverFirst;
  }

  /** Takes client-final-message, returns server-final-message. */
  final(clientFinal: Buffer): string {
    const text = clientFinal.toString('utf8');
    const match = /^(c=([^,]*),r=([^,]*)),p=([^,]*)$/.exec(text);
    if (match === null) return 'e=invalid-encoding';
    const [, withoutProof, channelBinding, nonce, proof] = match as unknown as [string, string, string, string, string];

    const expectedBinding = Buffer.concat([
      Buffer.from(this.#gs2Header, 'ascii'),
      this.#gs2Header.startsWith('p=') ? (this.#channelBindingData ?? Buffer.alloc(0)) : Buffer.alloc(0),
    ]);
    if (channelBinding !== expectedBinding.toString('base64')) return 'e=channel-bindings-dont-match';
    if (nonce !== /^r=([^,]*)/.exec(this.#serverFirst)![1]) return 'e=other-error';

    const salted = pbkdf2Sync(this.#passwordBytes, this.#salt, this.#iterations, 32, 'sha256');
    const storedKey = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest();
    const serverKey = createHmac('sha256', salted).update('Server Key').digest();
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
    const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest();
    const proofBytes = Buffer.from(proof, 'base64');
    if (proofBytes.length !== 32) return 'e=invalid-proof';
    const clientKey = Buffer.from(proofBytes.map((byte, i) => byte ^ clientSignature[i]!));
    if (!timingSafeEqual(createHash('sha256').update(clientKey).digest(), storedKey)) return 'e=invalid-proof';
    return `v=${createHmac('sha256', serverKey).update(authMessage).digest('base64')}`;
  }
}
