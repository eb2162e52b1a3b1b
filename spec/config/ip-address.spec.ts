// The IP-literal check of the config layer, against Node's own net.isIP (which it replaces so
// that no file outside lib/transport imports node:net): the same answer on every case.
import { isIP } from 'node:net';
import { ipAddressVersion } from '../../lib/config/ip-address';

const ipv4 = ['0.0.0.0', '127.0.0.1', '10.0.0.1', '192.168.100.200', '255.255.255.255', '1.2.3.4'];

const ipv6 = [
  '::',
  '::1',
  '1::',
  'fe80::1',
  '2001:db8::8a2e:370:7334',
  '2001:0db8:0000:0000:0000:ff00:0042:8329',
  '1:2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7::',
  '::2:3:4:5:6:7:8',
  '1::8',
  'ABCD:EF01::abcd:ef01',
  // Two groups, not an address and a port.
  '::1:5432',
  // Zone ids.
  'fe80::1%eth0',
  'fe80::1%3',
  'fe80::a:b%en0.100',
  '1:2:3:4:5:6:7:8%z',
  'fe80::1%a-b:c',
  // Embedded IPv4.
  '::ffff:10.0.0.1',
  '::10.0.0.1',
  '1::1.2.3.4',
  '1:2:3:4:5:6:1.2.3.4',
  '64:ff9b::192.0.2.33',
  '::ffff:1.2.3.4%x',
];

const notAddresses = [
  '',
  'localhost',
  'db.example.com',
  '/var/run/postgresql',
  '@abstract',
  '1.2.3',
  '1.2.3.4.5',
  '1.2.3.256',
  '01.2.3.4',
  '1.02.3.4',
  '1.2.3.4 ',
  ' 1.2.3.4',
  '1.2.3.4\n',
  '1.2.3.4%x',
  '1..3.4',
  '-1.2.3.4',
  '1e1.2.3.4',
  '0x1.2.3.4',
  '١.٢.٣.٤',
  ':',
  ':::',
  '1:',
  ':1',
  '1:::2',
  '1::2::3',
  '1:2:3:4:5:6:7',
  '1:2:3:4:5:6:7:8:9',
  '1::2:3:4:5:6:7:8',
  '12345::1',
  'g::1',
  'fe80::1%',
  'fe80::1%a_b',
  'fe80::1%a%b',
  'fe80::1%a b',
  '1:2:3:4:5:1.2.3.4',
  '1.2.3.4::',
  '1.2.3.4::1',
  '::1.2.3',
  '::1.2.3.256',
  '::01.2.3.4',
  '1:2:3:4:5:6:7:1.2.3.4',
  '[::1]',
  '[::1]:5432',
];

describe('ipAddressVersion', () => {
  it.each(ipv4)('%j is IPv4', (text) => {
    expect(ipAddressVersion(text)).toBe(4);
    expect(isIP(text)).toBe(4);
  });

  it.each(ipv6)('%j is IPv6', (text) => {
    expect(ipAddressVersion(text)).toBe(6);
    expect(isIP(text)).toBe(6);
  });

  it.each(notAddresses)('%j is not an IP address', (text) => {
    expect(ipAddressVersion(text)).toBe(0);
    expect(isIP(text)).toBe(0);
  });

  it('agrees with net.isIP on strings built from the pieces of addresses', () => {
    const pieces = ['1', 'ff', '0', '255', '256', '01', 'abcd', 'abcde', ':', '::', '.', '%', 'z', '1.2.3.4', ''];
    let compared = 0;
    // Every string of up to four pieces: 15^4 candidates, each checked both ways.
    const build = (prefix: string, depth: number): void => {
      expect([prefix, ipAddressVersion(prefix)]).toEqual([prefix, isIP(prefix)]);
      compared++;
      if (depth === 4) return;
      for (const piece of pieces) build(prefix + piece, depth + 1);
    };
    build('', 0);
    expect(compared).toBeGreaterThan(50_000);
  });
});
