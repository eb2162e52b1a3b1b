import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConnectionConfig } from '../../lib/config/resolve-connection-config';
import { readServiceSettings } from '../../lib/config/service-file';
import { expectConfigError } from './expect-config-error';

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rxpg-service-file-'));
  mkdirSync(join(root, 'home'));
  writeFileSync(join(root, 'home', '.pg_service.conf'), '[shop]\nhost=db.internal\nport=6543\ndbname=shop\npassword=s3cret-from-home\n');
  writeFileSync(join(root, 'named.conf'), '[shop]\nhost=named.internal\nkeepalives_idle=9\n');
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const write = (name: string, text: string): string => {
  const file = join(root, name);
  writeFileSync(file, text);
  return file;
};

describe('readServiceSettings', () => {
  it('reads ~/.pg_service.conf from HOME when no file is named', () => {
    const settings = readServiceSettings('shop', undefined, { HOME: join(root, 'home') });
    expect(settings).toEqual({ host: 'db.internal', port: 6543, database: 'shop' });
    expect(settings.password).toBe('s3cret-from-home');
    expect(JSON.stringify(settings)).not.toContain('s3cret');
  });

  it('prefers the serviceFile argument over PGSERVICEFILE and HOME', () => {
    const env = { HOME: join(root, 'home'), PGSERVICEFILE: join(root, 'home', '.pg_service.conf') };
    expect(readServiceSettings('shop', join(root, 'named.conf'), env)).toEqual({ host: 'named.internal', keepAliveIdle: 9000 });
  });

  it('refuses a named file that does not exist, a service no file defines, and an unreadable file', () => {
    expect(expectConfigError(() => readServiceSettings('shop', join(root, 'none.conf'), {}), 'service').message).toContain('not found');
    expect(expectConfigError(() => readServiceSettings('other', undefined, { HOME: join(root, 'home') }), 'service').message).toContain(
      'definition of service "other" not found',
    );
    const unreadable = write('unreadable', '');
    chmodSync(unreadable, 0o000);
    if (process.getuid?.() !== 0) expectConfigError(() => readServiceSettings('shop', unreadable, {}), 'service');
    expectConfigError(() => readServiceSettings('shop', root, {}), 'service');
  });

  it.each([
    ['a line without =', '[shop]\nhost\n'],
    ['a nested service', '[shop]\nservice=other\n'],
    ['a nested servicefile', '[shop]\nservicefile=/x\n'],
    ['an LDAP line', '[shop]\nldap://ldap.example/dc=x\n'],
    ['an unknown keyword', '[shop]\nsearch_path=app\n'],
  ])('refuses %s', (_name, text) => {
    const file = write('bad.conf', text);
    expectConfigError(() => readServiceSettings('shop', file, {}), 'service', ['s3cret']);
  });

  it('refuses a bad value with the setting named by the connection-string rules, without showing it', () => {
    const file = write('bad-port.conf', '[shop]\nport=s3cret\n');
    expectConfigError(() => readServiceSettings('shop', file, {}), 'port', ['s3cret']);
  });
});

describe('resolveConnectionConfig with a service', () => {
  it('takes the config object over the service file, and the service file over the environment', () => {
    const env = { HOME: join(root, 'home'), PGDATABASE: 'fromenv', PGUSER: 'envuser' };
    const config = resolveConnectionConfig({ service: 'shop', host: 'explicit.internal' }, env);
    expect(config).toMatchObject({ service: 'shop', host: 'explicit.internal', port: 6543, database: 'shop', user: 'envuser' });
  });

  it('reads the serviceFile field and PGSERVICE', () => {
    expect(resolveConnectionConfig({ serviceFile: join(root, 'named.conf') }, { PGSERVICE: 'shop' })).toMatchObject({
      host: 'named.internal',
      keepAliveIdle: 9000,
    });
  });

  it('refuses service and serviceFile fields that are not non-empty strings, and a bad keepAliveIdle', () => {
    expectConfigError(() => resolveConnectionConfig({ service: '' }, {}), 'service');
    expectConfigError(() => resolveConnectionConfig({ serviceFile: 5 as unknown as string }, {}), 'serviceFile');
    expectConfigError(() => resolveConnectionConfig({ keepAliveIdle: -1 }, {}), 'keepAliveIdle');
    expectConfigError(() => resolveConnectionConfig({ keepAliveIdle: 1.5 }, {}), 'keepAliveIdle');
  });
});
