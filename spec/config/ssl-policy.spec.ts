import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SslMode } from '../../lib/config/connection-config';
import { resolveConnectionConfig } from '../../lib/config/resolve-connection-config';
import { sslPolicy, type SslPolicy, type SslPolicyConfig } from '../../lib/config/ssl-policy';
import { expectConfigError } from './expect-config-error';

const home = '/home/tester';
const defaultRoot = join(home, '.postgresql', 'root.crt');
const defaultCert = join(home, '.postgresql', 'postgresql.crt');
const defaultKey = join(home, '.postgresql', 'postgresql.key');

function config(sslmode: SslMode, host: string, extra: Partial<SslPolicyConfig> = {}): SslPolicyConfig {
  return { host, sslmode, sslrootcert: undefined, sslcert: undefined, sslkey: undefined, ...extra };
}

const existing =
  (...paths: string[]) =>
  (path: string) =>
    paths.includes(path);

const plaintext: SslPolicy = { requestTls: 'never', allowPlaintextFallback: true, verify: 'none' };
const allow: SslPolicy = { requestTls: 'after-plaintext-rejected', allowPlaintextFallback: true, verify: 'none' };
const prefer: SslPolicy = { requestTls: 'first', allowPlaintextFallback: true, verify: 'none' };
const requireUnverified: SslPolicy = { requestTls: 'always', allowPlaintextFallback: false, verify: 'none' };
const verifyWith = (verify: 'ca' | 'full', rootCertFile: string): SslPolicy => ({
  requestTls: 'always',
  allowPlaintextFallback: false,
  verify,
  rootCertFile,
});
const missingRoot = 'error: sslrootcert';

// mode, transport, root certificate present?, expected policy (or the error)
const table: [SslMode, 'tcp' | 'socket', boolean, SslPolicy | typeof missingRoot][] = [
  ['disable', 'tcp', false, plaintext],
  ['disable', 'tcp', true, plaintext],
  ['allow', 'tcp', false, allow],
  ['allow', 'tcp', true, { ...allow, verify: 'ca', rootCertFile: defaultRoot }],
  ['prefer', 'tcp', false, prefer],
  ['prefer', 'tcp', true, { ...prefer, verify: 'ca', rootCertFile: defaultRoot }],
  ['require', 'tcp', false, requireUnverified],
  ['require', 'tcp', true, verifyWith('ca', defaultRoot)],
  ['verify-ca', 'tcp', false, missingRoot],
  ['verify-ca', 'tcp', true, verifyWith('ca', defaultRoot)],
  ['verify-full', 'tcp', false, missingRoot],
  ['verify-full', 'tcp', true, verifyWith('full', defaultRoot)],
  ['disable', 'socket', false, plaintext],
  ['disable', 'socket', true, plaintext],
  ['allow', 'socket', false, plaintext],
  ['allow', 'socket', true, plaintext],
  ['prefer', 'socket', false, plaintext],
  ['prefer', 'socket', true, plaintext],
  ['require', 'socket', false, plaintext],
  ['require', 'socket', true, plaintext],
  ['verify-ca', 'socket', false, plaintext],
  ['verify-ca', 'socket', true, plaintext],
  ['verify-full', 'socket', false, plaintext],
  ['verify-full', 'socket', true, plaintext],
];

describe('sslPolicy: the sslmode table', () => {
  it.each(table)('%s over %s, root certificate present: %s', (mode, transport, rootPresent, expected) => {
    const host = transport === 'tcp' ? 'db.example.com' : '/var/run/postgresql';
    const fileExists = rootPresent ? existing(defaultRoot) : existing();
    const run = () => sslPolicy(config(mode, host), fileExists, home);
    if (expected === missingRoot) {
      const error = expectConfigError(run, 'sslrootcert');
      expect(error.message).toContain('root certificate file');
      expect(error.message).toContain(defaultRoot);
    } else {
      expect(run()).toEqual(expected);
    }
  });
});

describe('sslPolicy: a socket directory as host with a hostaddr', () => {
  // libpq connects over TCP to hostaddr then; host only names the server.
  it.each<[SslMode, SslPolicy]>([
    ['allow', allow],
    ['prefer', prefer],
    ['require', requireUnverified],
    ['verify-full', verifyWith('full', defaultRoot)],
  ])('is TCP: %s applies', (mode, expected) => {
    const socketHost = { hostaddr: '10.0.0.1' };
    expect(sslPolicy(config(mode, '/var/run/postgresql', socketHost), existing(mode === 'verify-full' ? defaultRoot : ''), home)).toEqual(
      expected,
    );
  });

  it('works on a resolved per-host configuration', () => {
    const resolved = resolveConnectionConfig({ host: '/var/run/postgresql', hostaddr: '10.0.0.1', sslmode: 'require' }, {});
    expect(sslPolicy(resolved, existing(), home)).toEqual(requireUnverified);
  });
});

describe('sslPolicy: root certificates', () => {
  it('uses an explicit sslrootcert instead of the default', () => {
    const policy = sslPolicy(config('verify-full', 'db', { sslrootcert: '/etc/ca.pem' }), existing('/etc/ca.pem', defaultRoot), home);
    expect(policy).toEqual(verifyWith('full', '/etc/ca.pem'));
  });

  it('reports a missing explicit sslrootcert for verify-ca, naming the file', () => {
    const error = expectConfigError(
      () => sslPolicy(config('verify-ca', 'db', { sslrootcert: '/etc/missing.pem' }), existing(), home),
      'sslrootcert',
    );
    expect(error.message).toContain('/etc/missing.pem');
  });

  it('makes require verify against an explicit sslrootcert, even a missing one (the TLS file check refuses that)', () => {
    expect(sslPolicy(config('require', 'db', { sslrootcert: '/etc/ca.pem' }), existing('/etc/ca.pem'), home)).toEqual(
      verifyWith('ca', '/etc/ca.pem'),
    );
    expect(sslPolicy(config('require', 'db', { sslrootcert: '/etc/ca.pem' }), existing(defaultRoot), home)).toEqual(
      verifyWith('ca', '/etc/ca.pem'),
    );
  });

  // libpq's initialize_SSL sets SSL_VERIFY_PEER whenever the root file exists, for every
  // sslmode that uses TLS; only verify-full checks the host name.
  it.each(['allow', 'prefer'] as const)('makes %s verify the chain against an explicit sslrootcert, even a missing one', (mode) => {
    const unverified = mode === 'allow' ? allow : prefer;
    const verified = { ...unverified, verify: 'ca', rootCertFile: '/etc/ca.pem' };
    expect(sslPolicy(config(mode, 'db', { sslrootcert: '/etc/ca.pem' }), existing('/etc/ca.pem'), home)).toEqual(verified);
    expect(sslPolicy(config(mode, 'db', { sslrootcert: '/etc/ca.pem' }), existing(defaultRoot), home)).toEqual(verified);
    expect(sslPolicy(config(mode, 'db'), existing(defaultRoot), home)).toEqual({ ...unverified, verify: 'ca', rootCertFile: defaultRoot });
    expect(sslPolicy(config(mode, 'db'), existing(), home)).toEqual(unverified);
    expect(sslPolicy(config(mode, 'db'), existing(defaultRoot), '')).toEqual(unverified);
  });

  it('uses the system CA store for sslrootcert=system with verify-full, without looking for files', () => {
    const fileExists = jest.fn(() => false);
    expect(sslPolicy(config('verify-full', 'db', { sslrootcert: 'system' }), fileExists, home)).toEqual({
      requestTls: 'always',
      allowPlaintextFallback: false,
      verify: 'full',
    });
  });

  it.each(['disable', 'allow', 'prefer', 'require', 'verify-ca'] as const)(
    'refuses sslrootcert=system with %s, over TCP and sockets',
    (mode) => {
      expectConfigError(() => sslPolicy(config(mode, 'db', { sslrootcert: 'system' }), existing(), home), 'sslmode');
      expectConfigError(() => sslPolicy(config(mode, '/tmp', { sslrootcert: 'system' }), existing(), home), 'sslmode');
    },
  );

  it('needs sslrootcert when the home directory is unknown', () => {
    expectConfigError(() => sslPolicy(config('verify-ca', 'db'), existing(), ''), 'sslrootcert');
    expect(sslPolicy(config('verify-ca', 'db', { sslrootcert: '/ca' }), existing('/ca'), '')).toEqual(verifyWith('ca', '/ca'));
    expect(sslPolicy(config('require', 'db'), existing(), '')).toEqual(requireUnverified);
  });
});

describe('sslPolicy: client certificates', () => {
  it('uses the default client certificate and key when they exist', () => {
    expect(sslPolicy(config('prefer', 'db'), existing(defaultCert, defaultKey), home)).toEqual({
      ...prefer,
      clientCertFile: defaultCert,
      clientKeyFile: defaultKey,
    });
  });

  it('omits the defaults when they do not exist', () => {
    expect(sslPolicy(config('require', 'db'), existing(), home)).toEqual(requireUnverified);
    expect(sslPolicy(config('require', 'db'), existing(defaultCert), home)).toEqual({ ...requireUnverified, clientCertFile: defaultCert });
  });

  it('passes explicit paths through whether or not they exist', () => {
    expect(
      sslPolicy(config('verify-full', 'db', { sslcert: '/c.crt', sslkey: '/c.key' }), existing(defaultRoot, defaultCert, defaultKey), home),
    ).toEqual({
      ...verifyWith('full', defaultRoot),
      clientCertFile: '/c.crt',
      clientKeyFile: '/c.key',
    });
  });

  it('sets no client certificate when TLS is never used', () => {
    expect(sslPolicy(config('disable', 'db', { sslcert: '/c.crt' }), existing(defaultCert), home)).toEqual(plaintext);
    expect(sslPolicy(config('require', '/tmp', { sslcert: '/c.crt' }), existing(defaultCert), home)).toEqual(plaintext);
  });
});

describe('sslPolicy: defaults against the real file system', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rxpg-ssl-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds ~/.postgresql/root.crt with fs.existsSync', () => {
    expectConfigError(() => sslPolicy(config('verify-full', 'db'), undefined, dir), 'sslrootcert');
    mkdirSync(join(dir, '.postgresql'));
    writeFileSync(join(dir, '.postgresql', 'root.crt'), 'not really a certificate');
    expect(sslPolicy(config('verify-full', 'db'), undefined, dir)).toEqual(verifyWith('full', join(dir, '.postgresql', 'root.crt')));
  });

  it('works on a resolved configuration', () => {
    const resolved = resolveConnectionConfig('postgres://db.example.com/shop?sslmode=disable', {});
    expect(sslPolicy(resolved, undefined, dir)).toEqual(plaintext);
    const preferred = resolveConnectionConfig('postgres://db.example.com/shop', {});
    expect(sslPolicy(preferred, undefined, dir)).toEqual(prefer);
  });

  it('returns frozen policies', () => {
    expect(Object.isFrozen(sslPolicy(config('prefer', 'db'), existing(), home))).toBe(true);
    expect(Object.isFrozen(sslPolicy(config('disable', 'db'), existing(), home))).toBe(true);
  });
});
