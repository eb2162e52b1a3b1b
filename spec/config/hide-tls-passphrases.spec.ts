import { inspect } from 'node:util';
import { resolveConnectionConfig } from '../../lib/config';
import { configForHost } from '../../lib/config/host-list';

const passphrase = 'Tl5Passphr4se-not-for-logs';
const keyPassphrase = 'K3yEntryPassphr4se-not-for-logs';
const pfxPassphrase = 'PfxEntryPassphr4se-not-for-logs';

/** Every way a config is commonly logged. */
function renderings(value: unknown): string[] {
  return [
    JSON.stringify(value),
    inspect(value, { depth: 10 }),
    String(Object.keys(value as object)),
    `${inspect(Object.entries(value as object), { depth: 10 })}`,
  ];
}

describe('resolveConnectionConfig: passphrases in tls', () => {
  it('keeps tls.passphrase readable but out of JSON.stringify, Object.keys and util.inspect', () => {
    const config = resolveConnectionConfig({ host: 'db', user: 'u', tls: { passphrase, servername: 'db.internal' } }, {});
    expect(config.tls?.passphrase).toBe(passphrase);
    expect(config.tls?.servername).toBe('db.internal');
    expect(Object.keys(config.tls!)).toEqual(['servername']);
    for (const text of [...renderings(config), ...renderings(config.tls)]) expect(text).not.toContain(passphrase);
  });

  it('hides the passphrase of each tls.key and tls.pfx entry, keeping the entries usable', () => {
    const key = { pem: 'PEM', passphrase: keyPassphrase };
    const pfx = { buf: Buffer.from('PFX'), passphrase: pfxPassphrase };
    const config = resolveConnectionConfig({ host: 'db', user: 'u', tls: { key: ['plain', key], pfx: [pfx] } }, {});
    const keys = config.tls?.key as Array<string | { pem: string; passphrase?: string }>;
    expect(keys[0]).toBe('plain');
    expect(keys[1]).toMatchObject({ pem: 'PEM' });
    expect((keys[1] as { passphrase?: string }).passphrase).toBe(keyPassphrase);
    expect((config.tls?.pfx as Array<{ passphrase?: string }>)[0]!.passphrase).toBe(pfxPassphrase);
    for (const text of renderings(config)) {
      expect(text).not.toContain(keyPassphrase);
      expect(text).not.toContain(pfxPassphrase);
    }
  });

  it('leaves the caller’s object alone, and passes options without a passphrase through as they are', () => {
    const tls = { passphrase, servername: 'db.internal' };
    resolveConnectionConfig({ host: 'db', user: 'u', tls }, {});
    expect(Object.keys(tls)).toEqual(['passphrase', 'servername']);
    const plain = { servername: 'db.internal' };
    expect(resolveConnectionConfig({ host: 'db', user: 'u', tls: plain }, {}).tls).toBe(plain);
  });

  it('stays hidden in the per-host config that a Connection exposes', () => {
    const config = resolveConnectionConfig({ host: ['db1', 'db2'], user: 'u', tls: { passphrase } }, {});
    const forHost = configForHost(config, config.hosts[1]!);
    expect(forHost.tls?.passphrase).toBe(passphrase);
    for (const text of renderings(forHost)) expect(text).not.toContain(passphrase);
  });

  it('hides a private key given without a passphrase in tls.key or tls.pfx, keeping it readable', () => {
    const key = '-----BEGIN PRIVATE KEY-----\nUnencrypted-key-not-for-logs\n-----END PRIVATE KEY-----\n';
    const pfx = Buffer.from('Pfx-bytes-not-for-logs');
    const config = resolveConnectionConfig({ host: 'db', user: 'u', tls: { key, pfx, servername: 'db.internal' } }, {});
    expect(config.tls?.key).toBe(key);
    expect(config.tls?.pfx).toBe(pfx);
    expect(Object.keys(config.tls!)).toEqual(['servername']);
    for (const text of renderings(config)) {
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toContain('pfx');
    }
  });
});
