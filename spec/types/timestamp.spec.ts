import fc from 'fast-check';
import { decodeTimestamp, decodeTimestamptz, formatTimestamptz, infinityTime, minusInfinityTime } from '../../lib/types';

const utc = (text: string) => new Date(text).getTime();

describe('decodeTimestamptz', () => {
  it.each([
    ['2024-01-31 12:34:56+00', '2024-01-31T12:34:56.000Z'],
    ['2024-01-31 12:34:56.789+00', '2024-01-31T12:34:56.789Z'],
    ['2024-01-31 12:34:56.7+00', '2024-01-31T12:34:56.700Z'],
    ['2024-01-31 12:34:56.78+00', '2024-01-31T12:34:56.780Z'],
    ['2024-01-31 12:34:56.789999+00', '2024-01-31T12:34:56.789Z'], // truncated, not rounded
    ['2024-01-31 12:34:56.000001+00', '2024-01-31T12:34:56.000Z'],
    ['2024-07-01 12:00:00.5+05:30', '2024-07-01T06:30:00.500Z'],
    ['2024-07-01 12:00:00+02', '2024-07-01T10:00:00.000Z'],
    ['2024-07-01 12:00:00-09:30', '2024-07-01T21:30:00.000Z'],
    ['1900-01-01 00:00:00+00:19:32', '1899-12-31T23:40:28.000Z'],
    ['1900-01-01 00:00:00-00:19:32', '1900-01-01T00:19:32.000Z'],
    ['1970-01-01 00:00:00+00', '1970-01-01T00:00:00.000Z'],
    ['1969-12-31 23:59:59.999+00', '1969-12-31T23:59:59.999Z'],
    ['2000-02-29 00:00:00+00', '2000-02-29T00:00:00.000Z'],
    ['1900-03-01 00:00:00+00', '1900-03-01T00:00:00.000Z'],
    ['0001-01-01 00:00:00+00', '0001-01-01T00:00:00.000Z'],
    ['0099-12-31 23:59:59+00', '0099-12-31T23:59:59.000Z'], // not 1999: Date.UTC's two-digit-year trap
    ['9999-12-31 23:59:59.999999+00', '9999-12-31T23:59:59.999Z'],
    ['10000-01-01 00:00:00+00', '+010000-01-01T00:00:00.000Z'],
    ['275760-09-13 00:00:00+00', '+275760-09-13T00:00:00.000Z'],
    ['0001-12-31 23:00:00+00 BC', '0000-12-31T23:00:00.000Z'],
    ['0044-03-15 12:00:00+00 BC', '-000043-03-15T12:00:00.000Z'],
    ['0044-03-15 12:00:00+01 BC', '-000043-03-15T11:00:00.000Z'],
    ['4713-01-01 00:00:00+00 BC', '-004712-01-01T00:00:00.000Z'],
    ['2024-01-31T12:34:56+00', '2024-01-31T12:34:56.000Z'],
  ])('%s → %s', (text, iso) => {
    expect(decodeTimestamptz(text).getTime()).toBe(utc(iso));
  });

  it('maps infinity and -infinity to the largest and smallest Dates', () => {
    expect(decodeTimestamptz('infinity').getTime()).toBe(8.64e15);
    expect(decodeTimestamptz('-infinity').getTime()).toBe(-8.64e15);
    expect(infinityTime).toBe(8.64e15);
    expect(minusInfinityTime).toBe(-8.64e15);
  });

  it('gives an Invalid Date beyond the Date range (PostgreSQL goes up to 294276 AD)', () => {
    expect(decodeTimestamptz('294276-12-31 23:59:59.999999+00').getTime()).toBeNaN();
  });

  it.each([
    '',
    'infinit',
    'Infinity',
    '2024-01-31',
    '2024-01-31 12:34:56', // no offset
    '24-01-31 12:34:56+00',
    '2024/01/31 12:34:56+00',
    '2024-01-31 12:34:56+00 AD',
    '2024-01-31 12:34:56+00 BCE',
    '2024-01-31 12:34:5x+00',
    '2024-01-31 12:34:56.+00x',
    '01/31/2024 12:34:56 UTC', // DateStyle SQL
    'Wed Jan 31 12:34:56 2024 UTC', // DateStyle Postgres
  ])('gives an Invalid Date for %p (another DateStyle, malformed)', (text) => {
    expect(decodeTimestamptz(text).getTime()).toBeNaN();
  });

  it('agrees with Date for any time between 0001 and 9999', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
        (date) => {
          const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
          expect(decodeTimestamptz(`${iso.slice(0, 10)} ${iso.slice(11, 23)}+00`).getTime()).toBe(date.getTime());
          expect(decodeTimestamptz(`${iso.slice(0, 10)} ${iso.slice(11, 23)}456-03:30`).getTime()).toBe(date.getTime() + 3.5 * 3_600_000);
        },
      ),
    );
  });
});

describe('decodeTimestamp (without time zone: read as UTC)', () => {
  it.each([
    ['2024-01-31 12:34:56', '2024-01-31T12:34:56.000Z'],
    ['2024-01-31 12:34:56.123456', '2024-01-31T12:34:56.123Z'],
    ['0044-03-15 12:00:00 BC', '-000043-03-15T12:00:00.000Z'],
    ['10000-01-01 00:00:00', '+010000-01-01T00:00:00.000Z'],
  ])('%s → %s', (text, iso) => {
    expect(decodeTimestamp(text).getTime()).toBe(utc(iso));
  });

  it('does not depend on the process time zone', () => {
    // Whatever TZ is, the wall-clock fields come back through the getUTC* methods.
    const date = decodeTimestamp('2024-03-31 02:30:00');
    expect([date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes()]).toEqual([
      2024, 2, 31, 2, 30,
    ]);
  });

  it('maps infinity and -infinity like timestamptz', () => {
    expect(decodeTimestamp('infinity').getTime()).toBe(8.64e15);
    expect(decodeTimestamp('-infinity').getTime()).toBe(-8.64e15);
  });

  it('gives an Invalid Date for timestamptz text', () => {
    expect(decodeTimestamp('2024-01-31 12:34:56+00').getTime()).toBeNaN();
  });
});

describe('formatTimestamptz', () => {
  it.each([
    ['2024-01-31T07:04:56.789Z', '2024-01-31T07:04:56.789+00:00'],
    ['1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000+00:00'],
    ['0099-06-01T00:00:00.001Z', '0099-06-01T00:00:00.001+00:00'],
    ['0001-01-01T00:00:00.000Z', '0001-01-01T00:00:00.000+00:00'],
    ['0000-12-31T23:59:59.999Z', '0001-12-31T23:59:59.999+00:00 BC'],
    ['-000043-03-15T12:00:00.000Z', '0044-03-15T12:00:00.000+00:00 BC'],
    ['+010000-01-01T00:00:00.000Z', '10000-01-01T00:00:00.000+00:00'],
  ])('%s → %s', (iso, text) => {
    expect(formatTimestamptz(new Date(iso))).toBe(text);
  });

  it('writes the largest and smallest Dates as infinity and -infinity', () => {
    expect(formatTimestamptz(new Date(8.64e15))).toBe('infinity');
    expect(formatTimestamptz(new Date(-8.64e15))).toBe('-infinity');
  });

  it('throws a RangeError for an Invalid Date', () => {
    expect(() => formatTimestamptz(new Date(NaN))).toThrow(RangeError);
  });

  it('round-trips through decodeTimestamptz for every Date', () => {
    fc.assert(
      fc.property(fc.date({ noInvalidDate: true }), (date) => {
        expect(decodeTimestamptz(formatTimestamptz(date)).getTime()).toBe(date.getTime());
      }),
    );
  });
});
