import { createHash, X509Certificate } from 'node:crypto';

/** A DER element: its tag byte and where its contents lie in the buffer. */
interface DerElement {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

function readElement(der: Uint8Array, offset: number, limit: number): DerElement {
  if (offset + 2 > limit) throw new TypeError('malformed DER certificate: truncated element');
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4 || start + octets > limit) {
      throw new TypeError('malformed DER certificate: bad length');
    }
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[start + i]!;
    start += octets;
  }
  if (start + length > limit) throw new TypeError('malformed DER certificate: element overruns its parent');
  return { tag, start, end: start + length };
}

function expect(element: DerElement, tag: number, what: string): DerElement {
  if (element.tag !== tag) throw new TypeError(`malformed DER certificate: expected ${what}`);
  return element;
}

const SEQUENCE = 0x30;
const OBJECT_IDENTIFIER = 0x06;

function readObjectIdentifier(der: Uint8Array, element: DerElement): string {
  expect(element, OBJECT_IDENTIFIER, 'an object identifier');
  const arcs: number[] = [];
  let value = 0;
  for (let i = element.start; i < element.end; i++) {
    value = value * 128 + (der[i]! & 0x7f);
    if (!(der[i]! & 0x80)) {
      if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

/** Reads an AlgorithmIdentifier SEQUENCE: its OID and, if present, its parameters element. */
function readAlgorithm(der: Uint8Array, element: DerElement): { oid: string; parameters?: DerElement } {
  expect(element, SEQUENCE, 'an AlgorithmIdentifier');
  const identifier = readElement(der, element.start, element.end);
  const oid = readObjectIdentifier(der, identifier);
  return identifier.end < element.end ? { oid, parameters: readElement(der, identifier.end, element.end) } : { oid };
}

/**
 * The hash RFC 5929 §4.1 prescribes for a signature algorithm: the one the signature uses,
 * except that MD5 and SHA-1 are replaced by SHA-256.
 */
const signatureHashes: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.4': 'sha256', // md5WithRSAEncryption
  '1.2.840.113549.1.1.5': 'sha256', // sha1WithRSAEncryption
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384', // sha384WithRSAEncryption
  '1.2.840.113549.1.1.13': 'sha512', // sha512WithRSAEncryption
  '1.2.840.113549.1.1.14': 'sha224', // sha224WithRSAEncryption
  '1.2.840.10045.4.1': 'sha256', // ecdsa-with-SHA1
  '1.2.840.10045.4.3.1': 'sha224', // ecdsa-with-SHA224
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384', // ecdsa-with-SHA384
  '1.2.840.10045.4.3.4': 'sha512', // ecdsa-with-SHA512
  '1.2.840.10040.4.3': 'sha256', // id-dsa-with-sha1
  '2.16.840.1.101.3.4.3.1': 'sha224', // id-dsa-with-sha224
  '2.16.840.1.101.3.4.3.2': 'sha256', // id-dsa-with-sha256
};

/** Hash algorithm OIDs, for RSASSA-PSS parameters. */
const hashAlgorithms: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha256', // SHA-1, replaced by SHA-256
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '2.16.840.1.101.3.4.2.4': 'sha224',
};

const RSASSA_PSS = '1.2.840.113549.1.1.10';

function pssHash(der: Uint8Array, parameters: DerElement | undefined): string | undefined {
  // RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] EXPLICIT AlgorithmIdentifier DEFAULT sha1, ... }
  if (parameters === undefined || parameters.tag !== SEQUENCE || parameters.start === parameters.end) return 'sha256';
  const first = readElement(der, parameters.start, parameters.end);
  if (first.tag !== 0xa0) return 'sha256';
  return hashAlgorithms[readAlgorithm(der, readElement(der, first.start, first.end)).oid];
}

/**
 * The `tls-server-end-point` channel-binding data of RFC 5929 for a server certificate (DER
 * bytes or a node `X509Certificate`): the certificate hashed with its signature's hash
 * algorithm, SHA-256 standing in for MD5 and SHA-1. This is what SCRAM-SHA-256-PLUS binds to.
 * With node's TLS socket: `tlsServerEndPoint(socket.getPeerX509Certificate()!)`.
 *
 * Returns `undefined` when the signature algorithm names no usable hash (Ed25519, Ed448,
 * unknown algorithms): RFC 5929 defines no binding for those, and PostgreSQL cannot compute
 * one either, so channel binding is not possible with such a certificate.
 *
 * @throws TypeError when the bytes are not a DER certificate.
 */
export function tlsServerEndPoint(certificate: Uint8Array | X509Certificate): Buffer | undefined {
  const der = certificate instanceof X509Certificate ? certificate.raw : certificate;
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, signatureValue }
  const outer = expect(readElement(der, 0, der.length), SEQUENCE, 'a Certificate SEQUENCE');
  const tbs = expect(readElement(der, outer.start, outer.end), SEQUENCE, 'a TBSCertificate SEQUENCE');
  const { oid, parameters } = readAlgorithm(der, readElement(der, tbs.end, outer.end));
  const hash = oid === RSASSA_PSS ? pssHash(der, parameters) : signatureHashes[oid];
  if (hash === undefined) return undefined;
  return createHash(hash).update(der.subarray(0, outer.end)).digest();
}
