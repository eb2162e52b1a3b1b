// The byte-range forms of the text decoders give exactly the text decoders' values, for server
// output and for any other bytes (issue 14 item 4).
import fc from 'fast-check';
import { decodeBool, decodeFloat, decodeInteger, decodeText, decodeTimestamp, decodeTimestamptz, type TextDecoder } from '../../lib/types';
import {
  decodeBoolRange,
  decodeFloatRange,
  decodeIntegerRange,
  decodeTextRange,
  decodeTimestampRange,
  decodeTimestamptzRange,
  textRangeDecoder,
  type ByteRangeDecoder,
} from '../../lib/types/text-range-decoders';

/** Decodes `text` placed between other bytes, so that a decoder reading past its range would show. */
function inPlace(decoder: ByteRangeDecoder, text: string | Buffer): unknown {
  const value = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const bytes = Buffer.concat([Buffer.from('9.9'), value, Buffer.from('77e5')]);
  return decoder(bytes, 3, 3 + value.length);
}

/** Object.is, so that -0 and NaN count. */
function expectSame(actual: unknown, expected: unknown): void {
  if (expected instanceof Date) expect(Object.is((actual as Date).getTime(), expected.getTime())).toBe(true);
  else expect(Object.is(actual, expected)).toBe(true);
}

const pairs: readonly (readonly [string, TextDecoder, ByteRangeDecoder])[] = [
  ['decodeInteger', decodeInteger, decodeIntegerRange],
  ['decodeFloat', decodeFloat, decodeFloatRange],
  ['decodeBool', decodeBool, decodeBoolRange],
  ['decodeText', decodeText, decodeTextRange],
  ['decodeTimestamptz', decodeTimestamptz, decodeTimestamptzRange],
  ['decodeTimestamp', decodeTimestamp, decodeTimestampRange],
];

describe('byte-range text decoders', () => {
  it.each(pairs)('%s: the same value as the text decoder on server output and edge cases', (_, text, range) => {
    const samples = [
      '0',
      '-0',
      '42',
      '-32768',
      '2147483647',
      '-2147483648',
      '4294967295',
      '123456789012345',
      '1234567890123456',
      '99999999999999999999',
      '1.5',
      '-12.375',
      '0.1',
      '3.141592653589793',
      '1.7976931348623157e+308',
      '5e-324',
      '-1.2345678901234567e-100',
      'NaN',
      'Infinity',
      '-Infinity',
      '1.',
      '.5',
      '.',
      '-',
      '',
      ' 5',
      '5 ',
      '+5',
      '1e3',
      '0x10',
      '00012',
      '000000000000000001.5',
      't',
      'f',
      'true',
      'tt',
      '2024-01-31 12:34:56.789123+05:30',
      '2024-01-31 12:34:56',
      '0044-03-15 12:00:00+00 BC',
      'infinity',
      '-infinity',
      '275760-09-13 00:00:00+00',
      '2024-01-31 12:00:00+00:19:32',
      'snow ☃',
      '\u00a05',
      '2024-01-31 12:34:56.7+00',
      '2024-01-31 12:34:56-08',
      '2024-01-31T12:34:56+00',
      '1999-12-31 23:59:59.999999-03:30',
      '2024-01-31 12:34:56+05:3',
      '2024-01-31 12:34:56+',
      '2024-01-31 12:34:56.+00',
      '0001-01-01 00:00:00+00 BC',
    ];
    for (const sample of samples) expectSame(inPlace(range, sample), text(sample));
  });

  it.each(pairs)('%s: the same value as the text decoder on random decimals and bytes (property)', (_, text, range) => {
    const decimal = fc
      .tuple(fc.boolean(), fc.stringMatching(/^[0-9]{1,20}$/), fc.option(fc.stringMatching(/^[0-9]{0,20}$/)))
      .map(([negative, whole, fraction]) => `${negative ? '-' : ''}${whole}${fraction === null ? '' : `.${fraction}`}`);
    fc.assert(
      fc.property(decimal, (sample) => expectSame(inPlace(range, sample), text(sample))),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        const buffer = Buffer.from(bytes);
        expectSame(inPlace(range, buffer), text(buffer.toString('utf8')));
      }),
      { numRuns: 1000 },
    );
  });

  it('decodes every float8 the server can print as +text does', () => {
    fc.assert(
      fc.property(fc.double(), (value) => {
        const printed = String(value);
        expectSame(inPlace(decodeFloatRange, printed), decodeFloat(printed));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads timestamps in place exactly as the text parser does (property)', () => {
    const two = fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, '0'));
    const timestamp = fc
      .tuple(
        fc.integer({ min: 0, max: 99999 }).map((n) => String(n).padStart(4, '0')),
        two,
        two,
        fc.constantFrom(' ', 'T', 'x'),
        two,
        two,
        two,
        fc.option(fc.stringMatching(/^[0-9]{0,8}$/)),
        fc.option(fc.tuple(fc.constantFrom('+', '-', '*'), two, fc.option(two), fc.option(two))),
        fc.constantFrom('', ' BC', 'Z', ':'),
      )
      .map(
        ([year, month, day, separator, hours, minutes, seconds, fraction, offset, tail]) =>
          `${year}-${month}-${day}${separator}${hours}:${minutes}:${seconds}${fraction === null ? '' : `.${fraction}`}` +
          (offset === null
            ? ''
            : `${offset[0]}${offset[1]}${offset[2] === null ? '' : `:${offset[2]}`}${offset[3] === null ? '' : `:${offset[3]}`}`) +
          tail,
      );
    fc.assert(
      fc.property(timestamp, fc.nat(), (text, cut) => {
        // Whole, and cut short anywhere.
        for (const sample of [text, text.slice(0, cut % (text.length + 1))]) {
          expectSame(inPlace(decodeTimestamptzRange, sample), decodeTimestamptz(sample));
          expectSame(inPlace(decodeTimestampRange, sample), decodeTimestamp(sample));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it.each(pairs)('%s: an empty value never reads the byte after it (a `-` there, the next value)', (_, text, range) => {
    for (const after of ['-', '.', '0', 't']) {
      const bytes = Buffer.from(`9${after}`);
      expectSame(range(bytes, 1, 1), text(''));
    }
  });

  it('gives other decoders (a user one) the UTF-8 text of the range', () => {
    const seen: string[] = [];
    const decoder = textRangeDecoder((text) => {
      seen.push(text);
      return text.length;
    });
    expect(inPlace(decoder, 'é☃')).toBe(2);
    expect(seen).toEqual(['é☃']);
    expect(textRangeDecoder(decodeInteger)).toBe(decodeIntegerRange);
  });
});
