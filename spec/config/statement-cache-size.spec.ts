import { parseConnectionString } from '../../lib/config/connection-string';
import { resolveConnectionConfig } from '../../lib/config/resolve-connection-config';
import { expectConfigError } from './expect-config-error';

const secret = 'CacheS3cretPassw0rd';

describe('statement_cache_size in connection strings', () => {
  it.each([
    ['0', 0],
    ['1', 1],
    [' 250 ', 250],
  ])('reads statement_cache_size=%j from a URL as statementCacheSize %d', (text, size) => {
    expect(parseConnectionString(`postgres://h/db?statement_cache_size=${encodeURIComponent(text)}`)).toEqual({
      host: 'h',
      database: 'db',
      statementCacheSize: size,
    });
  });

  it('reads it from the keyword/value form', () => {
    expect(parseConnectionString("host=h statement_cache_size=0 dbname='d'")).toEqual({ host: 'h', database: 'd', statementCacheSize: 0 });
  });

  it('is never sent as a runtime parameter', () => {
    expect(parseConnectionString('postgres://h?statement_cache_size=0').runtimeParameters).toBeUndefined();
  });

  it('is cleared by a later empty value (libpq rule), leaving the default', () => {
    expect(parseConnectionString('host=h statement_cache_size=5 statement_cache_size=').statementCacheSize).toBeUndefined();
    expect(resolveConnectionConfig('host=h statement_cache_size=5 statement_cache_size=', {}).statementCacheSize).toBe(100);
  });

  it('sets the resolved statementCacheSize, and the config object overrides it', () => {
    expect(resolveConnectionConfig('postgres://h/db?statement_cache_size=0', {}).statementCacheSize).toBe(0);
    expect(
      resolveConnectionConfig({ connectionString: 'postgres://h/db?statement_cache_size=0', statementCacheSize: 7 }, {}).statementCacheSize,
    ).toBe(7);
    expect(resolveConnectionConfig('postgres://h/db', {}).statementCacheSize).toBe(100);
  });

  it.each([
    ['negative', `postgres://u:${secret}@h/db?statement_cache_size=-1`],
    ['fractional', `postgres://u:${secret}@h/db?statement_cache_size=1.5`],
    ['not a number', `postgres://u:${secret}@h/db?statement_cache_size=none`],
    ['too large', `postgres://u:${secret}@h/db?statement_cache_size=99999999999999999999`],
    ['keyword/value: negative', `password=${secret} statement_cache_size=-3`],
  ])('refuses a %s value with a ConfigError naming statementCacheSize', (_name, connectionString) => {
    const error = expectConfigError(() => parseConnectionString(connectionString), 'statementCacheSize', [secret]);
    expect(error.message).toContain('statement_cache_size');
  });
});
