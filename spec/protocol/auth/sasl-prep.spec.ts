import fc from 'fast-check';
import { prepareScramPassword, saslPrep } from '../../../lib/protocol/auth';

describe('saslPrep', () => {
  describe('the examples of RFC 4013 §3', () => {
    it('removes SOFT HYPHEN (mapped to nothing)', () => {
      expect(saslPrep('I\u00adX')).toBe('IX');
    });

    it('leaves "user" and "USER" alone (no case folding)', () => {
      expect(saslPrep('user')).toBe('user');
      expect(saslPrep('USER')).toBe('USER');
    });

    it('normalises U+00AA FEMININE ORDINAL INDICATOR to "a"', () => {
      expect(saslPrep('\u00aa')).toBe('a');
    });

    it('normalises U+2168 ROMAN NUMERAL NINE to "IX"', () => {
      expect(saslPrep('\u2168')).toBe('IX');
    });

    it('rejects U+0007 BELL (prohibited); the password is then used raw', () => {
      expect(saslPrep('\u0007')).toBeUndefined();
      expect(prepareScramPassword('\u0007')).toBe('\u0007');
    });

    it('rejects U+0627 U+0031 (bidi: a RandAL string must end with RandAL); the password is then used raw', () => {
      expect(saslPrep('\u0627\u0031')).toBeUndefined();
      expect(prepareScramPassword('\u0627\u0031')).toBe('\u0627\u0031');
    });
  });

  describe('mapping (RFC 4013 §2.1)', () => {
    it('maps non-ASCII spaces to U+0020', () => {
      expect(saslPrep('a\u00a0b\u3000c\u2003d')).toBe('a b c d');
    });

    it('maps U+200B to a space, as PostgreSQL does (it is in both C.1.2 and B.1)', () => {
      expect(saslPrep('a\u200bb')).toBe('a b');
    });

    it('removes the other B.1 characters', () => {
      expect(saslPrep('p\u034fa\u200cs\u200ds\u2060w\ufe0fo\ufeffrd\u1806')).toBe('password');
    });

    it('rejects a non-ASCII input that maps to nothing, as PostgreSQL does', () => {
      expect(saslPrep('\u00ad')).toBeUndefined();
      expect(prepareScramPassword('\u00ad\u200c')).toBe('\u00ad\u200c');
    });
  });

  describe('normalisation (NFKC)', () => {
    it('composes and applies compatibility mappings', () => {
      expect(saslPrep('e\u0301')).toBe('\u00e9');
      expect(saslPrep('\ufb01')).toBe('fi');
      expect(saslPrep('\uff21\uff42\uff43')).toBe('Abc');
      expect(saslPrep('\u2168\u00ad')).toBe('IX');
    });

    it('keeps an already normalised non-ASCII password', () => {
      expect(saslPrep('pässwörd')).toBe('pässwörd');
      expect(saslPrep('пароль')).toBe('пароль');
      expect(saslPrep('密码')).toBe('密码');
    });
  });

  describe('prohibited output (RFC 4013 §2.3)', () => {
    it.each([
      ['an ASCII control character in a non-ASCII string', '\u00e9\u0000'],
      ['a non-ASCII control character', 'a\u0085b'],
      ['a private-use character', '\ue000'],
      ['a non-character code point', '\ufdd0'],
      ['a lone surrogate', '\u00e9\ud800'],
      ['a character inappropriate for plain text', '\ufffc'],
      ['an ideographic description character', '\u2ff0'],
      ['a display-changing character', '\u202e'],
      ['a tagging character', '\u{e0001}'],
      ['a code point unassigned in Unicode 3.2 (U+0221)', '\u0221'],
      ['an emoji (unassigned in Unicode 3.2)', 'pass\u{1f600}'],
    ])('rejects %s', (_what, input) => {
      expect(saslPrep(input)).toBeUndefined();
      expect(prepareScramPassword(input)).toBe(input);
    });

    it('checks the mapped string before normalisation, as PostgreSQL does', () => {
      // U+0340 is prohibited (C.8) although NFKC would turn it into the allowed U+0300.
      expect(saslPrep('a\u0340')).toBeUndefined();
      // U+2135 ALEF SYMBOL is L before NFKC (and R after it), so no bidi rule applies.
      expect(saslPrep('\u21351')).toBe('\u05d01');
    });
  });

  describe('bidirectional strings (RFC 3454 §6)', () => {
    it('accepts a RandAL string that starts and ends with RandAL characters', () => {
      expect(saslPrep('\u0627\u0628')).toBe('\u0627\u0628');
      expect(saslPrep('\u05d0\u0031\u05d1')).toBe('\u05d0\u0031\u05d1');
    });

    it('rejects RandAL mixed with L', () => {
      expect(saslPrep('\u05d0a\u05d1')).toBeUndefined();
    });

    it('rejects a RandAL string that does not start with RandAL', () => {
      expect(saslPrep('1\u05d0')).toBeUndefined();
    });
  });

  it('returns printable ASCII unchanged', () => {
    expect(saslPrep('')).toBe('');
    expect(saslPrep(' P@ss w0rd~ ')).toBe(' P@ss w0rd~ ');
  });

  const anyString = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.string({ unit: 'grapheme' }),
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)) }),
  );

  it('never throws, and prepareScramPassword always returns the prepared form or the input', () => {
    fc.assert(
      fc.property(anyString, (input) => {
        const prepared = saslPrep(input);
        expect(prepareScramPassword(input)).toBe(prepared ?? input);
        if (prepared !== undefined) expect(prepared).toBe(prepared.normalize('NFKC'));
      }),
    );
  });
});
