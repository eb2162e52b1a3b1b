// Host, hostaddr and port lists, target_session_attrs and load_balance_hosts, resolved as libpq
// resolves them (the expectations for the URL and count rules were checked against psql 15).
import type { ConnectionConfig, TargetSessionAttrs } from '../../lib/config/connection-config';
import { configForHost, resolveHostEntries, shuffled } from '../../lib/config/host-list';
import { resolveConnectionConfig } from '../../lib/config/resolve-connection-config';
import { expectConfigError } from './expect-config-error';

const secret = 'HostListS3cretPassw0rd';

/** `host:port` (with `@hostaddr` when there is one) of each resolved entry. */
function hostsOf(input: ConnectionConfig | string, env: NodeJS.ProcessEnv = {}): string[] {
  return resolveConnectionConfig(input, env).hosts.map(
    ({ host, hostaddr, port }) => `${host}${hostaddr === undefined ? '' : `@${hostaddr}`}:${port}`,
  );
}

describe('host lists', () => {
  const cases: [string, ConnectionConfig | string, NodeJS.ProcessEnv, string[]][] = [
    ['one host', 'host=a', {}, ['a:5432']],
    ['no host at all', {}, {}, ['localhost:5432']],
    ['keyword list, one port for all', 'host=a,b,c port=5433', {}, ['a:5433', 'b:5433', 'c:5433']],
    ['keyword list, a port per host', 'host=a,b port=1,2', {}, ['a:1', 'b:2']],
    ['an empty port element is the default port', 'host=a,b port=5998,', {}, ['a:5998', 'b:5432']],
    ['an empty host element is the default host', 'host=a,,b', {}, ['a:5432', 'localhost:5432', 'b:5432']],
    ['a socket directory in a list', 'host=/tmp/sockets,db port=5433', {}, ['/tmp/sockets:5433', 'db:5433']],
    ['URL host:port pairs', 'postgres://a:1,b:2/db', {}, ['a:1', 'b:2']],
    ['URL: a host without a port gets 5432', 'postgres://a:1,b/db', {}, ['a:1', 'b:5432']],
    ['URL: several hosts always set the ports (PGPORT unused)', 'postgres://a,b/db', { PGPORT: '5999' }, ['a:5432', 'b:5432']],
    ['URL: one host leaves the port to PGPORT', 'postgres://a/db', { PGPORT: '5999' }, ['a:5999']],
    ['URL: IPv6 literals in a list', 'postgres://[::1]:1,[fe80::2]/db', {}, ['::1:1', 'fe80::2:5432']],
    ['URL: percent-encoded socket directory in a list', 'postgres://%2Ftmp%2Fs:7,b:8/db', {}, ['/tmp/s:7', 'b:8']],
    ['URL: host and port lists in the query', 'postgres:///db?host=a,b&port=1,2', {}, ['a:1', 'b:2']],
    ['PGHOST list with one PGPORT', {}, { PGHOST: 'a,b', PGPORT: '6000' }, ['a:6000', 'b:6000']],
    ['PGHOST list with a PGPORT list', {}, { PGHOST: 'a,b', PGPORT: '6000,6001' }, ['a:6000', 'b:6001']],
    ['config object arrays', { host: ['a', 'b'], port: [1, 2] }, {}, ['a:1', 'b:2']],
    ['config object comma string', { host: 'a,b', port: 3 }, {}, ['a:3', 'b:3']],
    ['explicit port over a URL port list', { connectionString: 'postgres://a:1,b:2/db', port: 7 }, {}, ['a:7', 'b:7']],
    ['explicit hosts over a URL, keeping its ports', { connectionString: 'postgres://a:1,b:2/db', host: ['c', 'd'] }, {}, ['c:1', 'd:2']],
    ['URL hosts over PGHOST, ports from PGPORT', 'postgres:///db?host=a,b', { PGHOST: 'x,y,z', PGPORT: '9' }, ['a:9', 'b:9']],
    ['hostaddr list with host names', 'host=a,b hostaddr=10.0.0.1,::1 port=1,2', {}, ['a@10.0.0.1:1', 'b@::1:2']],
    ['hostaddr alone: the address is the host', 'hostaddr=10.0.0.1,10.0.0.2', {}, ['10.0.0.1@10.0.0.1:5432', '10.0.0.2@10.0.0.2:5432']],
    ['hostaddr with an empty element looks that host up', 'host=a,b hostaddr=,10.0.0.2', {}, ['a:5432', 'b@10.0.0.2:5432']],
    ['PGHOSTADDR', {}, { PGHOSTADDR: '127.0.0.1', PGHOST: 'db' }, ['db@127.0.0.1:5432']],
    ['config hostaddr array', { host: ['a', 'b'], hostaddr: ['10.0.0.1', '10.0.0.2'] }, {}, ['a@10.0.0.1:5432', 'b@10.0.0.2:5432']],
  ];

  it.each(cases)('%s', (_name, input, env, expected) => {
    expect(hostsOf(input, env)).toEqual(expected);
  });

  it('reports the first entry as host, port and hostaddr', () => {
    const config = resolveConnectionConfig('host=a,b hostaddr=10.0.0.1,10.0.0.2 port=1,2', {});
    expect([config.host, config.port, config.hostaddr]).toEqual(['a', 1, '10.0.0.1']);
    expect(Object.isFrozen(config.hosts) && Object.isFrozen(config.hosts[1])).toBe(true);
  });

  const errors: [string, ConnectionConfig | string, NodeJS.ProcessEnv, string, string][] = [
    ['two ports for three hosts', `host=a,b,c port=1,2 password=${secret}`, {}, 'port', 'could not match 2 port numbers to 3 hosts'],
    ['two ports for the one default host', `port=1,2 password=${secret}`, {}, 'port', 'could not match 2 port numbers to 1 hosts'],
    [
      'three URL ports for two hosts',
      `postgres://u:${secret}@a:1,b:2/db?port=1,2,3`,
      {},
      'port',
      'could not match 3 port numbers to 2 hosts',
    ],
    [
      'host names not matching hostaddrs',
      `hostaddr=127.0.0.1 host=a,b password=${secret}`,
      {},
      'host',
      'could not match 2 host names to 1 hostaddr values',
    ],
    [
      'PGPORT list against PGHOST',
      {},
      { PGHOST: 'a,b,c', PGPORT: '1,2', PGPASSWORD: secret },
      'port',
      'could not match 2 port numbers to 3 hosts',
    ],
    [
      'a port array against a host array',
      { host: ['a', 'b'], port: [1, 2, 3], password: secret },
      {},
      'port',
      'could not match 3 port numbers to 2 hosts',
    ],
    ['a bad port in a list', `host=a,b port=1,x password=${secret}`, {}, 'port', 'invalid port number'],
    ['a name as hostaddr', `hostaddr=db.example.com password=${secret}`, {}, 'hostaddr', 'not a numeric IPv4 or IPv6 address'],
    ['a name in a hostaddr list', `hostaddr=10.0.0.1,db password=${secret}`, {}, 'hostaddr', 'hostaddr element 2 is not a numeric'],
    ['a port array with 0', { host: ['a'], port: [0], password: secret }, {}, 'port', 'port[0]'],
    ['a hostaddr array with a name', { hostaddr: ['x'], password: secret }, {}, 'hostaddr', 'hostaddr[0]'],
  ];

  it.each(errors)('%s is a ConfigError', (_name, input, env, setting, message) => {
    const error = expectConfigError(() => resolveConnectionConfig(input, env), setting, [secret]);
    expect(error.message).toContain(message);
  });
});

describe('target_session_attrs and load_balance_hosts', () => {
  const values: readonly TargetSessionAttrs[] = ['any', 'read-write', 'read-only', 'primary', 'standby', 'prefer-standby'];

  it.each(values)('accepts target_session_attrs=%s from every source', (value) => {
    expect(resolveConnectionConfig(`host=a target_session_attrs=${value}`, {}).targetSessionAttrs).toBe(value);
    expect(resolveConnectionConfig(`postgres://a/db?target_session_attrs=${value}`, {}).targetSessionAttrs).toBe(value);
    expect(resolveConnectionConfig({ targetSessionAttrs: value }, {}).targetSessionAttrs).toBe(value);
    expect(resolveConnectionConfig({}, { PGTARGETSESSIONATTRS: value }).targetSessionAttrs).toBe(value);
  });

  it('defaults to any and disable, with explicit > connection string > environment', () => {
    expect(resolveConnectionConfig({}, {})).toMatchObject({ targetSessionAttrs: 'any', loadBalanceHosts: 'disable' });
    const env = { PGTARGETSESSIONATTRS: 'standby', PGLOADBALANCEHOSTS: 'random' };
    expect(resolveConnectionConfig({}, env)).toMatchObject({ targetSessionAttrs: 'standby', loadBalanceHosts: 'random' });
    expect(resolveConnectionConfig('postgres://a/db?target_session_attrs=primary&load_balance_hosts=disable', env)).toMatchObject({
      targetSessionAttrs: 'primary',
      loadBalanceHosts: 'disable',
    });
    expect(
      resolveConnectionConfig(
        { connectionString: 'host=a target_session_attrs=primary', targetSessionAttrs: 'read-only', loadBalanceHosts: 'random' },
        env,
      ),
    ).toMatchObject({ targetSessionAttrs: 'read-only', loadBalanceHosts: 'random' });
    // An empty value means "not set", as in libpq.
    expect(resolveConnectionConfig('host=a target_session_attrs=', env).targetSessionAttrs).toBe('standby');
  });

  const invalid: [string, ConnectionConfig | string, NodeJS.ProcessEnv, string][] = [
    ['libpq 10 spelling master', 'host=a target_session_attrs=master', {}, 'targetSessionAttrs'],
    ['upper case', 'host=a target_session_attrs=READ-WRITE', {}, 'targetSessionAttrs'],
    [
      'a bad PGTARGETSESSIONATTRS even when overridden',
      { targetSessionAttrs: 'any' },
      { PGTARGETSESSIONATTRS: 'primary-only' },
      'targetSessionAttrs',
    ],
    ['a bad load_balance_hosts', 'host=a load_balance_hosts=round_robin', {}, 'loadBalanceHosts'],
    ['a bad PGLOADBALANCEHOSTS', {}, { PGLOADBALANCEHOSTS: '1' }, 'loadBalanceHosts'],
    ['a non-string loadBalanceHosts', { loadBalanceHosts: 1 as never }, {}, 'loadBalanceHosts'],
  ];

  it.each(invalid)('%s is a ConfigError', (_name, input, env, setting) => {
    expectConfigError(() => resolveConnectionConfig(input, env), setting);
  });
});

describe('resolveHostEntries, configForHost, shuffled', () => {
  it('uses the one port for every host and the default host for a missing one', () => {
    expect(resolveHostEntries(undefined, undefined, 7)).toEqual([{ host: 'localhost', hostaddr: undefined, port: 7 }]);
    expect(resolveHostEntries(['a', ''], undefined, [1, undefined])).toEqual([
      { host: 'a', hostaddr: undefined, port: 1 },
      { host: 'localhost', hostaddr: undefined, port: 5432 },
    ]);
  });

  it('makes the config of one attempt, keeping the password hidden', () => {
    const config = resolveConnectionConfig({ host: ['a', 'b'], port: [1, 2], password: secret }, {});
    const attempt = configForHost(config, config.hosts[1]!);
    expect([attempt.host, attempt.port, attempt.hostaddr, attempt.password]).toEqual(['b', 2, undefined, secret]);
    expect(JSON.stringify(attempt)).not.toContain(secret);
    expect(Object.isFrozen(attempt)).toBe(true);
  });

  it('shuffles into a permutation, every order possible', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const order = shuffled(['a', 'b', 'c']);
      expect([...order].sort()).toEqual(['a', 'b', 'c']);
      seen.add(order.join(''));
    }
    expect(seen.size).toBe(6);
    const sequence = [0.99, 0];
    expect(shuffled(['a', 'b', 'c'], () => sequence.shift() ?? 0)).toEqual(['b', 'a', 'c']);
  });
});
