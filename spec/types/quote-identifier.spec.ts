import { maxChannelNameBytes, quoteChannelName, quoteIdentifier, validateChannelName } from '../../lib/types';

describe('quoteIdentifier', () => {
  it.each([
    ['channel_one', '"channel_one"'],
    ['channel-2', '"channel-2"'],
    ['MixedCase', '"MixedCase"'],
    ['a.b', '"a.b"'],
    ['with space', '"with space"'],
    ['say "hi"', '"say ""hi"""'],
    ['"', '""""'],
    ["it's", '"it\'s"'],
    ['ünïcödé 🚀', '"ünïcödé 🚀"'],
    ['select', '"select"'],
  ])('quotes %j as %s', (name, quoted) => {
    expect(quoteIdentifier(name)).toBe(quoted);
  });

  it('does not limit the length (the server truncates other identifiers consistently)', () => {
    expect(quoteIdentifier('x'.repeat(100))).toBe(`"${'x'.repeat(100)}"`);
  });

  it.each([
    ['', /must not be empty/],
    ['a\0b', /NUL/],
    ['\uD800x', /surrogate/],
    ['x\uDC00', /surrogate/],
  ])('rejects %j with a TypeError', (name, message) => {
    expect(() => quoteIdentifier(name)).toThrow(TypeError);
    expect(() => quoteIdentifier(name)).toThrow(message);
  });

  it('rejects what is not a string', () => {
    expect(() => quoteIdentifier(42 as unknown as string)).toThrow(new TypeError('an identifier must be a string, got number'));
    expect(() => quoteIdentifier(null as unknown as string)).toThrow(/got null/);
  });
});

describe('channel names', () => {
  it('accept exactly 63 bytes of UTF-8 and refuse 64 with a RangeError', () => {
    expect(maxChannelNameBytes).toBe(63);
    expect(quoteChannelName('c'.repeat(63))).toBe(`"${'c'.repeat(63)}"`);
    expect(() => validateChannelName('c'.repeat(64))).toThrow(RangeError);
    expect(() => validateChannelName('c'.repeat(64))).toThrow(/64 bytes long; PostgreSQL keeps at most 63 bytes/);
  });

  it('count bytes, not characters', () => {
    expect(() => validateChannelName('é'.repeat(31) + 'x')).not.toThrow(); // 63 bytes
    expect(() => validateChannelName('é'.repeat(32))).toThrow(RangeError); // 64 bytes in 32 characters
  });

  it('keep the identifier checks', () => {
    expect(() => validateChannelName('')).toThrow(TypeError);
    expect(() => quoteChannelName('a\0')).toThrow(TypeError);
  });
});
