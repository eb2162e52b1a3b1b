// sslnegotiation=direct (PostgreSQL 17): the harness's PostgreSQL 15 does not speak it, so the
// positive cases run against a fake TLS server that sees the raw bytes before any TLS.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import { firstValueFrom } from 'rxjs';
import { ConfigError, ConnectionError, connect, type SslMode } from '../../lib';
import { resolveConnectionConfig } from '../../lib/config';
import { generateTestCertificates, type TestCertificates } from '../harness/tls-certificates';
import { acceptLogin, commandComplete, dataRow, readyForQuery, rowDescription } from '../helpers/backend-messages';
import { errorOf } from '../helpers/connections';
import { testServers } from '../helpers/test-servers';

let dir: string;
let certificates: TestCertificates;
let context: SecureContext;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rxpg-direct-tls-'));
  certificates = await generateTestCertificates(dir);
  context = createSecureContext({ cert: readFileSync(certificates.serverCertFile), key: readFileSync(certificates.serverKeyFile) });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the fake server saw on one connection. */
interface Seen {
  firstBytes?: Buffer;
  alpnOffered?: readonly string[];
  startup?: Buffer;
  query?: string;
}

const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

/**
 * A server that records the first bytes it receives, then speaks TLS on the same socket
 * (selecting ALPN `postgresql` when `alpn` is true, ignoring the extension otherwise), accepts the login and
 * answers one simple query with one row.
 */
async function fakeDirectServer(alpn: boolean): Promise<{ port: number; seen: Seen }> {
  const seen: Seen = {};
  const server = createServer((raw) => {
    sockets.push(raw);
    raw.once('data', (chunk: Buffer) => {
      seen.firstBytes = chunk;
      raw.pause();
      raw.unshift(chunk);
      const secure = new TLSSocket(raw, {
        isServer: true,
        secureContext: context,
        // A server that does not know ALPN ignores the extension (Node's ALPNCallback could only
        // answer with a fatal alert), so the no-ALPN server simply has no callback.
        ...(alpn
          ? {
              ALPNCallback: ({ protocols }: { protocols: string[] }) => {
                seen.alpnOffered = protocols;
                return 'postgresql';
              },
            }
          : {}),
      });
      secure.on('error', () => undefined);
      let buffered = Buffer.alloc(0);
      secure.on('data', (data: Buffer) => {
        buffered = Buffer.concat([buffered, data]);
        if (seen.startup === undefined) {
          if (buffered.length < 4 || buffered.length < buffered.readInt32BE(0)) return;
          seen.startup = buffered.subarray(0, buffered.readInt32BE(0));
          buffered = buffered.subarray(seen.startup.length);
          secure.write(acceptLogin());
        }
        if (buffered.length >= 5 && buffered[0] === 0x51 && buffered.length >= 1 + buffered.readInt32BE(1)) {
          seen.query = buffered.subarray(5, buffered.readInt32BE(1)).toString('utf8');
          buffered = Buffer.alloc(0);
          secure.write(Buffer.concat([rowDescription(['answer']), dataRow(['42']), commandComplete('SELECT 1'), readyForQuery('I')]));
        }
      });
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, seen };
}

const directConfig = (port: number, sslmode: SslMode = 'verify-full') => ({
  host: 'localhost',
  port,
  user: 'app',
  database: 'shop',
  sslmode,
  sslrootcert: certificates.caFile,
  sslnegotiation: 'direct' as const,
  connectTimeout: 5000,
});

describe('sslnegotiation=direct against a fake PostgreSQL 17 server', () => {
  it('sends a TLS ClientHello first (no SSLRequest), offers ALPN postgresql, then logs in and queries over TLS', async () => {
    const { port, seen } = await fakeDirectServer(true);
    const connection = await firstValueFrom(connect(directConfig(port)));
    try {
      // A TLS record of type handshake (22) whose first message is a ClientHello (1); an
      // SSLRequest would start with its length 8 and code 80877103.
      expect(seen.firstBytes?.[0]).toBe(0x16);
      expect(seen.firstBytes?.[5]).toBe(0x01);
      expect(seen.alpnOffered).toEqual(['postgresql']);
      expect(seen.startup?.readInt32BE(4)).toBe(196608);
      expect(seen.startup?.toString('utf8')).toContain('shop');
      const result = await firstValueFrom(connection.simpleQuery('SELECT 42 AS answer'));
      expect(seen.query).toBe('SELECT 42 AS answer');
      expect(result.rows).toEqual([['42']]);
    } finally {
      await connection.close();
    }
  });

  it('works with sslmode=require too (no certificate verification)', async () => {
    const { port, seen } = await fakeDirectServer(true);
    const connection = await firstValueFrom(connect({ ...directConfig(port, 'require'), sslrootcert: undefined }));
    await connection.close();
    expect(seen.alpnOffered).toEqual(['postgresql']);
  });

  it('comes from the connection string and from PGSSLNEGOTIATION as well', async () => {
    const { port, seen } = await fakeDirectServer(true);
    const url = `postgres://app@localhost:${port}/shop?sslmode=require&sslnegotiation=direct`;
    await (await firstValueFrom(connect(url))).close();
    expect(seen.firstBytes?.[0]).toBe(0x16);
    expect(resolveConnectionConfig('host=db sslmode=require', { PGSSLNEGOTIATION: 'direct' }).sslnegotiation).toBe('direct');
    expect(resolveConnectionConfig('host=db', {}).sslnegotiation).toBe('postgres');
  });

  it('refuses a server that selects no ALPN protocol, with a ConnectionError and before any startup packet', async () => {
    const { port, seen } = await fakeDirectServer(false);
    const error = await errorOf(firstValueFrom(connect(directConfig(port))));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('08001');
    expect(error.message).toMatch(/without ALPN/);
    expect(seen.startup).toBeUndefined();
  });
});

describe('sslnegotiation=direct with an sslmode that allows plaintext', () => {
  it.each<SslMode>(['disable', 'allow', 'prefer'])('%s is a ConfigError, as in libpq', async (sslmode) => {
    const error = await errorOf(firstValueFrom(connect({ host: 'localhost', sslmode, sslnegotiation: 'direct' })));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe('sslnegotiation');
    expect(error.message).toBe(
      `weak sslmode "${sslmode}" may not be used with sslnegotiation=direct (use "require", "verify-ca", or "verify-full")`,
    );
  });

  it('the default sslmode (prefer) is refused too, from a connection string', () => {
    expect(() => resolveConnectionConfig('host=db sslnegotiation=direct', {})).toThrow(ConfigError);
  });

  it('an unknown sslnegotiation value is a ConfigError', () => {
    expect(() => resolveConnectionConfig('host=db sslmode=require sslnegotiation=fast', {})).toThrow(/invalid sslnegotiation/);
    expect(() => resolveConnectionConfig('host=db', { PGSSLNEGOTIATION: 'fast' })).toThrow(/PGSSLNEGOTIATION/);
  });
});

describe('sslnegotiation=direct against PostgreSQL 15 (which lacks it)', () => {
  it('fails cleanly with a ConnectionError that names direct SSL, without hanging', async () => {
    const server = testServers().primary;
    const started = Date.now();
    const error = await errorOf(
      firstValueFrom(
        connect({
          host: 'localhost',
          port: server.port,
          user: 'postgres',
          database: 'postgres',
          sslmode: 'require',
          sslnegotiation: 'direct',
        }),
      ),
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/sslnegotiation=direct/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
