// sslpassword, sslsni and sslcrl against a fake TLS server with its own throwaway CA (the
// harness's shared certificates are left alone): the server answers the SSLRequest with S,
// completes the handshake, records what the client sent, and accepts the login.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket, createSecureContext } from 'node:tls';
import { firstValueFrom } from 'rxjs';
import { ConfigError, ConnectionError, connect, type ConnectionConfig } from '../../lib';
import { resolveConnectionConfig } from '../../lib/config';
import { authenticationOk, backendKeyData, readyForQuery } from '../helpers/backend-messages';
import { errorOf } from '../helpers/connections';
import { readUntypedFrame, startFakeServer, type FakeServer } from '../helpers/fake-server';

const passphrase = 'Cl1entKeyPassphrase';
const caConfig = `[ca]
default_ca = own
[own]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 7
[req]
distinguished_name = subject
[subject]
[authority]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
[server]
basicConstraints = critical, CA:FALSE
subjectAltName = DNS:localhost
[client]
basicConstraints = critical, CA:FALSE
extendedKeyUsage = clientAuth
`;

let dir: string;
const file = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A key (encrypted when `pass` is given) and a certificate for it signed by the CA. */
function issue(name: string, subject: string, extensions: string, serial: string, pass?: string): void {
  const encryption = pass === undefined ? [] : ['-aes-256-cbc', '-pass', `pass:${pass}`];
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', ...encryption, '-out', `${name}.key`);
  const passIn = pass === undefined ? [] : ['-passin', `pass:${pass}`];
  openssl('req', '-new', '-key', `${name}.key`, ...passIn, '-subj', subject, '-config', 'ca.cnf', '-out', `${name}.csr`);
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-set_serial',
    serial,
    '-days',
    '7',
    '-extfile',
    'ca.cnf',
    '-extensions',
    extensions,
    '-out',
    `${name}.crt`,
  );
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxpg-tls-keys-'));
  writeFileSync(file('ca.cnf'), caConfig);
  writeFileSync(file('index.txt'), '');
  writeFileSync(file('crlnumber'), '01\n');
  openssl(
    'req',
    '-x509',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=rxpg-tls-keys-ca',
    '-days',
    '7',
    '-config',
    'ca.cnf',
    '-extensions',
    'authority',
  );
  issue('server', '/CN=localhost', 'server', '2');
  issue('client', '/CN=rxpg_cert', 'client', '3', passphrase);
  // A CRL that revokes the server certificate, and one (from before) that revokes nothing.
  openssl('ca', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.crt', '-gencrl', '-out', 'empty.crl');
  openssl('ca', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.crt', '-revoke', 'server.crt');
  openssl('ca', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.crt', '-gencrl', '-out', 'revoked.crl');
  writeFileSync(file('not-a-crl.pem'), readFileSync(file('ca.crt')));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the fake server saw of one TLS client. */
interface Handshake {
  /** The SNI name, or false when none was sent. */
  readonly servername: string | false;
  /** The CN of the client certificate, when one was presented and verified. */
  readonly clientCommonName: string | string[] | undefined;
}

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A fake server that speaks TLS after S and accepts any login; `seen` collects handshakes. */
async function tlsServer(seen: Handshake[], options: { requestClientCertificate?: boolean } = {}): Promise<FakeServer> {
  const secureContext = createSecureContext({
    key: readFileSync(file('server.key')),
    cert: readFileSync(file('server.crt')),
    ca: readFileSync(file('ca.crt')),
  });
  const requestCert = options.requestClientCertificate === true;
  return startFakeServer((socket) => {
    void (async () => {
      await readUntypedFrame(socket);
      socket.write('S');
      const secured = new TLSSocket(socket, { isServer: true, secureContext, requestCert, rejectUnauthorized: requestCert });
      secured.on('error', () => undefined);
      secured.once('secure', () => {
        const peer = secured.getPeerCertificate();
        seen.push({ servername: (secured as TLSSocket & { servername: string | false }).servername, clientCommonName: peer.subject?.CN });
        secured.once('data', () => secured.write(Buffer.concat([authenticationOk(), backendKeyData(1, 2), readyForQuery('I')])));
      });
    })().catch(() => undefined);
  });
}

function config(port: number, extra: Partial<ConnectionConfig> = {}): ConnectionConfig {
  return {
    host: 'localhost',
    hostaddr: '127.0.0.1',
    port,
    user: 'rxpg_cert',
    database: 'postgres',
    sslmode: 'verify-full',
    sslrootcert: file('ca.crt'),
    connectTimeout: 5000,
    ...extra,
  };
}

async function connectAndClose(settings: ConnectionConfig): Promise<void> {
  const connection = await firstValueFrom(connect(settings));
  await connection.close();
}

describe('sslpassword', () => {
  it('decrypts an encrypted client key, which the server then verifies', async () => {
    const seen: Handshake[] = [];
    server = await tlsServer(seen, { requestClientCertificate: true });
    await connectAndClose(config(server.port, { sslcert: file('client.crt'), sslkey: file('client.key'), sslpassword: passphrase }));
    expect(seen.map((handshake) => handshake.clientCommonName)).toEqual(['rxpg_cert']);
  });

  it('works as the connection-string key', async () => {
    const seen: Handshake[] = [];
    server = await tlsServer(seen, { requestClientCertificate: true });
    const connectionString = `postgres://localhost/postgres?sslcert=${file('client.crt')}&sslkey=${file('client.key')}&sslpassword=${passphrase}`;
    await connectAndClose({ ...config(server.port), connectionString });
    expect(seen.map((handshake) => handshake.clientCommonName)).toEqual(['rxpg_cert']);
  });

  it('without it, the encrypted key is a ConfigError before any connection is made', async () => {
    const seen: Handshake[] = [];
    server = await tlsServer(seen, { requestClientCertificate: true });
    const accepted = jest.fn();
    server.nextConnection().then(accepted, () => undefined);
    const error = await errorOf(firstValueFrom(connect(config(server.port, { sslcert: file('client.crt'), sslkey: file('client.key') }))));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe('sslkey');
    expect(error.message).toContain('encrypted');
    expect(error.message).toContain('sslpassword');
    expect(accepted).not.toHaveBeenCalled();
  });

  it('a wrong one is a ConfigError that does not contain it', async () => {
    const wrong = 'Wr0ngPassphrase';
    const error = await errorOf(
      firstValueFrom(connect(config(1, { sslcert: file('client.crt'), sslkey: file('client.key'), sslpassword: wrong }))),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).not.toContain(wrong);
    expect(JSON.stringify(error)).not.toContain(wrong);
  });

  it('is non-enumerable in the settings, from the config and from a connection string', () => {
    const fromObject = resolveConnectionConfig({ host: 'h', user: 'u', sslpassword: passphrase }, {});
    const fromString = resolveConnectionConfig(`host=h user=u sslpassword=${passphrase}`, {});
    for (const resolved of [fromObject, fromString]) {
      expect(resolved.sslpassword).toBe(passphrase);
      expect(JSON.stringify(resolved)).not.toContain(passphrase);
      expect(Object.keys(resolved)).not.toContain('sslpassword');
    }
  });
});

describe('sslsni', () => {
  it('sends the host name as SNI by default', async () => {
    const seen: Handshake[] = [];
    server = await tlsServer(seen);
    await connectAndClose(config(server.port));
    expect(seen.map((handshake) => handshake.servername)).toEqual(['localhost']);
  });

  it('sends no SNI with sslsni=0 (key) or sslsni: false (config)', async () => {
    const seen: Handshake[] = [];
    server = await tlsServer(seen);
    await connectAndClose({ ...config(server.port), connectionString: 'postgres://localhost/postgres?sslsni=0' });
    await connectAndClose(config(server.port, { sslsni: false }));
    expect(seen.map((handshake) => handshake.servername)).toEqual([false, false]);
  });

  it('reads PGSSLSNI and refuses values other than 0 and 1', () => {
    expect(resolveConnectionConfig({ host: 'h', user: 'u' }, { PGSSLSNI: '0' }).sslsni).toBe(false);
    expect(resolveConnectionConfig('host=h user=u sslsni=1', { PGSSLSNI: '0' }).sslsni).toBe(true);
    expect(() => resolveConnectionConfig('host=h user=u sslsni=yes', {})).toThrow(ConfigError);
    expect(() => resolveConnectionConfig({ host: 'h', user: 'u', sslsni: 'no' as unknown as boolean }, {})).toThrow(ConfigError);
  });
});

describe('sslcrl', () => {
  it('a CRL that revokes the server certificate fails the handshake', async () => {
    server = await tlsServer([]);
    const error = await errorOf(firstValueFrom(connect(config(server.port, { sslcrl: file('revoked.crl') }))));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toContain('revoked');
  });

  it('the same server is accepted without the CRL, and with one that revokes nothing', async () => {
    const seen: Handshake[] = [];
    server = await tlsServer(seen);
    await connectAndClose(config(server.port));
    await connectAndClose({ ...config(server.port), connectionString: `postgres://localhost/postgres?sslcrl=${file('empty.crl')}` });
    expect(seen).toHaveLength(2);
  });

  it('is read from PGSSLCRL', () => {
    expect(resolveConnectionConfig({ host: 'h', user: 'u' }, { PGSSLCRL: '/some/crl.pem' }).sslcrl).toBe('/some/crl.pem');
  });

  it.each([
    ['a missing file', 'missing.crl', 'does not exist'],
    ['a file without a PEM CRL', 'not-a-crl.pem', 'no PEM certificate revocation list'],
  ])('%s is a ConfigError', async (_what, name, problem) => {
    const error = await errorOf(firstValueFrom(connect(config(1, { sslcrl: file(name) }))));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe('sslcrl');
    expect(error.message).toContain(problem);
  });
});
