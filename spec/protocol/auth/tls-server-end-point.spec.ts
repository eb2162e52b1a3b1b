import { X509Certificate } from 'node:crypto';
import { tlsServerEndPoint } from '../../../lib/protocol/auth';
import { ecSha256CertificatePem } from '../../helpers/test-certificate';

// Self-signed test certificates made with `openssl req -x509 -newkey ...`, one per signature
// algorithm (the SHA-256 one is shared, in spec/helpers/test-certificate.ts). The expected hashes
// were computed with
// `openssl x509 -outform der | openssl dgst -sha256|-sha384|-sha512`.

const ecSha384 = `
-----BEGIN CERTIFICATE-----
MIIBkzCCATmgAwIBAgIUc9th1cZ3P5y/9u8+KtZXwtQpj2kwCgYIKoZIzj0EAwMw
HjEcMBoGA1UEAwwTcnhwZy10ZXN0LWVjLXNoYTM4NDAgFw0yNjExMjYxMDIwMTBa
GA8yMTI2MTEwMjEwMjAxMFowHjEcMBoGA1UEAwwTcnhwZy10ZXN0LWVjLXNoYTM4
NDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABHbdf7Bi5Q6iKoK06JMwHN6BQ+Zp
1iVGGizqsDx00XKRb22svumvPpbe46LCN4khjMocBU2bslUtHx99RxYcbbGjUzBR
MB0GA1UdDgQWBBTcL689emz2BX91qXOaIMrGcI7tDDAfBgNVHSMEGDAWgBTcL689
emz2BX91qXOaIMrGcI7tDDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMDA0gA
MEUCIQDyrKP3e5pKgps389p/l7kc5FIxRPgvfdUskUMXuabyYgIgS2BeG0JvNaIG
tPowQRyNwU9CvtjTOzrIyssX8yQNjKo=
-----END CERTIFICATE-----
`;

const ecSha1 = `
-----BEGIN CERTIFICATE-----
MIIBjTCCATSgAwIBAgIURfMspK12bsc4k3A6dha6yCo4H4MwCQYHKoZIzj0EATAc
MRowGAYDVQQDDBFyeHBnLXRlc3QtZWMtc2hhMTAgFw0yNjExMjYxMDIwMTBaGA8y
MTI2MTEwMjEwMjAxMFowHDEaMBgGA1UEAwwRcnhwZy10ZXN0LWVjLXNoYTEwWTAT
BgcqhkjOPQIBBggqhkjOPQMBBwNCAATaJBoGyYAkuY+vEm6asZ+8A44lo3sWZ0AP
8k9NDWikuxeouap1F5qlMoP45haODB5n8zICJBZGKznK0PAFGwLjo1MwUTAdBgNV
HQ4EFgQUk5VkjzDAL8nDs9lJz92iAA+J8+QwHwYDVR0jBBgwFoAUk5VkjzDAL8nD
s9lJz92iAA+J8+QwDwYDVR0TAQH/BAUwAwEB/zAJBgcqhkjOPQQBA0gAMEUCIGHU
MIKA/6F4+5Ntvpc2CoIiF7dWzd9aE4OvAFZueT8eAiEA3ORfIS1Cas2K9VDJbYVp
6OVUk/pXAr2zXhOtgkJUtjc=
-----END CERTIFICATE-----
`;

const pssSha512 = `
-----BEGIN CERTIFICATE-----
MIICdjCCAaugAwIBAgIURELCF5EtiiFTjdx0A0tfbppdieAwQQYJKoZIhvcNAQEK
MDSgDzANBglghkgBZQMEAgMFAKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgMF
AKIDAgEgMBgxFjAUBgNVBAMMDXJ4cGctdGVzdC1wc3MwIBcNMjYxMTI2MTAyMDE0
WhgPMjEyNjExMDIxMDIwMTRaMBgxFjAUBgNVBAMMDXJ4cGctdGVzdC1wc3MwgZ8w
DQYJKoZIhvcNAQEBBQADgY0AMIGJAoGBAMoF7b7h89sHnjLXC7x+7X5GoPPTlHZL
Ici0jsZfjxXKY1GkL7IN8Md/UAcjFkibri+a/QuNImbO5kTz0OSUZfMf60MWdnLB
WmBLICwclhh219E3OCV7XosbqC0tXL4LmnInj1Hl80OABG9lXjRWBuamAv0aupGo
3RikNikty8LbAgMBAAGjUzBRMB0GA1UdDgQWBBQz+Y0hOBRW04liANgAz4Pq+s8W
RzAfBgNVHSMEGDAWgBQz+Y0hOBRW04liANgAz4Pq+s8WRzAPBgNVHRMBAf8EBTAD
AQH/MEEGCSqGSIb3DQEBCjA0oA8wDQYJYIZIAWUDBAIDBQChHDAaBgkqhkiG9w0B
AQgwDQYJYIZIAWUDBAIDBQCiAwIBIAOBgQBs8iyFlzalg66MWQTG7iXkjrXOaOnc
VoFB+klKe4Ih+Q+VSC4VJjJz5c1Z4kDb0KbBOnfCET1I+9PQ7sy/GLiK4ahPpRX4
MTTsiNh16SftHfFj4eRlolmwzrDrPM+rZZUg4eMZbBAPI8FpsUd12J1Alq82UhfJ
S5rscoU0c40iEw==
-----END CERTIFICATE-----
`;

const ed25519 = `
-----BEGIN CERTIFICATE-----
MIIBTzCCAQGgAwIBAgIUMGrEor7Zsfy8/u3E0J5b5OEIGGYwBQYDK2VwMBwxGjAY
BgNVBAMMEXJ4cGctdGVzdC1lZDI1NTE5MCAXDTI2MTEyNjEwMjAxMFoYDzIxMjYx
MTAyMTAyMDEwWjAcMRowGAYDVQQDDBFyeHBnLXRlc3QtZWQyNTUxOTAqMAUGAytl
cAMhACOhO5ngwSfDOdbwPvFwd5/nLs+uG54W3aR6MZCiuevGo1MwUTAdBgNVHQ4E
FgQUM8RHS88bUN/e1ITKv92W3rPwEoowHwYDVR0jBBgwFoAUM8RHS88bUN/e1ITK
v92W3rPwEoowDwYDVR0TAQH/BAUwAwEB/zAFBgMrZXADQQBkWzQReNwyQI2+oW0o
YyHGom2VdEma7jknWESGnTpp4QFkzG4mpcpocvxT0pU/LnYxUArfrZ6/yY/VpjhR
77MJ
-----END CERTIFICATE-----
`;

const hex = (buffer: Buffer | undefined): string | undefined => buffer?.toString('hex');

describe('tlsServerEndPoint (RFC 5929 channel-binding data)', () => {
  it('hashes with the signature hash: ecdsa-with-SHA256 → SHA-256', () => {
    const certificate = new X509Certificate(ecSha256CertificatePem);
    expect(hex(tlsServerEndPoint(certificate))).toBe('151d2bab1fc6dc57c5ab306da8876de32805f661953ebb81f909b56c3c44f814');
    expect(tlsServerEndPoint(certificate)!.toString('hex').toUpperCase()).toBe(certificate.fingerprint256.replace(/:/g, ''));
  });

  it('ecdsa-with-SHA384 → SHA-384', () => {
    expect(hex(tlsServerEndPoint(new X509Certificate(ecSha384)))).toBe(
      '7032a866de4c3ee37241a2ba2ee06d4635f55957cc8627a7521fd3e51729fe893dc626f3a6e2655f8d495b0601e9fb7b',
    );
  });

  it('replaces SHA-1 by SHA-256', () => {
    expect(hex(tlsServerEndPoint(new X509Certificate(ecSha1)))).toBe('e4ccbe614df29f277c7c781ba571098357e1639ab33187330d9f5119b57e234c');
  });

  it('reads the hash of RSASSA-PSS from its parameters (SHA-512)', () => {
    expect(hex(tlsServerEndPoint(new X509Certificate(pssSha512)))).toBe(
      '5418662a1d61227be5da6ce0807155a093503c464914690b1b09d7488ec1b7d4260bd5d31dbc184da253f10cab846981b7f7738b39b930c81603376564dabdce',
    );
  });

  it('accepts the DER bytes themselves', () => {
    const der = new X509Certificate(ecSha256CertificatePem).raw;
    expect(hex(tlsServerEndPoint(der))).toBe('151d2bab1fc6dc57c5ab306da8876de32805f661953ebb81f909b56c3c44f814');
    expect(hex(tlsServerEndPoint(new Uint8Array(der)))).toBe('151d2bab1fc6dc57c5ab306da8876de32805f661953ebb81f909b56c3c44f814');
  });

  it('returns undefined for a signature algorithm with no defined binding (Ed25519)', () => {
    expect(tlsServerEndPoint(new X509Certificate(ed25519))).toBeUndefined();
  });

  it('throws a TypeError on bytes that are not a DER certificate', () => {
    const der = new X509Certificate(ecSha256CertificatePem).raw;
    expect(() => tlsServerEndPoint(Buffer.alloc(0))).toThrow(TypeError);
    expect(() => tlsServerEndPoint(Buffer.from('not a certificate'))).toThrow(TypeError);
    expect(() => tlsServerEndPoint(der.subarray(0, 100))).toThrow(TypeError);
    expect(() => tlsServerEndPoint(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]))).toThrow(TypeError);
  });
});
