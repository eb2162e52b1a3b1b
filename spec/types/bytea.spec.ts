import fc from 'fast-check';
import { decodeBytea } from '../../lib/types';

describe('decodeBytea', () => {
  it('reads the hex format', () => {
    expect(decodeBytea('\\x')).toEqual(Buffer.alloc(0));
    expect(decodeBytea('\\x00ff')).toEqual(Buffer.from([0x00, 0xff]));
    expect(decodeBytea('\\xDEADbeef')).toEqual(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  });

  it('reads the escape format: octal escapes, doubled backslashes, plain bytes', () => {
    expect(decodeBytea('\\000\\377\\\\A')).toEqual(Buffer.from([0x00, 0xff, 0x5c, 0x41]));
    expect(decodeBytea('abc')).toEqual(Buffer.from('abc'));
    expect(decodeBytea('')).toEqual(Buffer.alloc(0));
    expect(decodeBytea('a\\\\')).toEqual(Buffer.from('a\\'));
  });

  it('keeps a lone backslash rather than failing', () => {
    expect(decodeBytea('a\\9')).toEqual(Buffer.from('a\\9'));
    expect(decodeBytea('\\')).toEqual(Buffer.from('\\'));
  });

  it('round-trips any bytes through the hex format', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(decodeBytea('\\x' + Buffer.from(bytes).toString('hex'))).toEqual(Buffer.from(bytes));
      }),
    );
  });

  it('round-trips any bytes through the escape format', () => {
    const escape = (bytes: Uint8Array) =>
      Array.from(bytes, (byte) =>
        byte === 0x5c ? '\\\\' : byte < 0x20 || byte > 0x7e ? '\\' + byte.toString(8).padStart(3, '0') : String.fromCharCode(byte),
      ).join('');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(decodeBytea(escape(bytes))).toEqual(Buffer.from(bytes));
      }),
    );
  });
});
