import fc from 'fast-check';
import { decodeInterval, formatInterval, type Interval } from '../../lib/types';

const zero: Interval = { years: 0, months: 0, days: 0, hours: 0, minutes: 0, seconds: 0, milliseconds: 0 };
const interval = (fields: Partial<Interval>): Interval => ({ ...zero, ...fields });

describe('decodeInterval', () => {
  describe('IntervalStyle postgres (the default)', () => {
    it.each<[string, Partial<Interval>]>([
      ['00:00:00', {}],
      ['1 year', { years: 1 }],
      ['2 years', { years: 2 }],
      ['1 mon', { months: 1 }],
      ['1 year 6 mons', { years: 1, months: 6 }],
      ['1 day', { days: 1 }],
      ['1 year 2 mons -3 days +04:05:06.5', { years: 1, months: 2, days: -3, hours: 4, minutes: 5, seconds: 6, milliseconds: 500 }],
      ['1 year 2 mons 3 days 04:05:06.789', { years: 1, months: 2, days: 3, hours: 4, minutes: 5, seconds: 6, milliseconds: 789 }],
      [
        '-1 years -2 mons +3 days -04:05:06.000123',
        { years: -1, months: -2, days: 3, hours: -4, minutes: -5, seconds: -6, milliseconds: -0.123 },
      ],
      ['-1 days +02:00:00', { days: -1, hours: 2 }],
      ['100:00:00', { hours: 100 }],
      ['-00:00:01.5', { seconds: -1, milliseconds: -500 }],
      ['-00:00:00.000001', { milliseconds: -0.001 }],
      ['00:00:00.999999', { milliseconds: 999.999 }],
      [
        '-178956970 years -8 mons -2147483648 days -2562047788:00:54.775808',
        {
          years: -178956970,
          months: -8,
          days: -2147483648,
          hours: -2562047788,
          minutes: 0,
          seconds: -54,
          milliseconds: -775.808,
        },
      ],
    ])('%s', (text, fields) => {
      expect(decodeInterval(text)).toEqual(interval(fields));
    });
  });

  describe('IntervalStyle iso_8601', () => {
    it.each<[string, Partial<Interval>]>([
      ['PT0S', {}],
      ['P1Y2M-3DT4H5M6.5S', { years: 1, months: 2, days: -3, hours: 4, minutes: 5, seconds: 6, milliseconds: 500 }],
      ['P-1Y-2M3DT-4H-5M-6.000123S', { years: -1, months: -2, days: 3, hours: -4, minutes: -5, seconds: -6, milliseconds: -0.123 }],
      ['P-1DT2H', { days: -1, hours: 2 }],
      ['P1Y', { years: 1 }],
      ['PT1M', { minutes: 1 }],
      ['P1M', { months: 1 }],
      ['P2W', { days: 14 }],
    ])('%s', (text, fields) => {
      expect(decodeInterval(text)).toEqual(interval(fields));
    });
  });

  describe('IntervalStyle sql_standard', () => {
    it.each<[string, Partial<Interval>]>([
      ['0', {}],
      ['1-2', { years: 1, months: 2 }],
      ['-1-0', { years: -1 }],
      ['3 0:00:00', { days: 3 }],
      ['+1-2 -3 +4:05:06.5', { years: 1, months: 2, days: -3, hours: 4, minutes: 5, seconds: 6, milliseconds: 500 }],
      ['-1-2 -3 -4:05:06.000123', { years: -1, months: -2, days: -3, hours: -4, minutes: -5, seconds: -6, milliseconds: -0.123 }],
      ['+0-0 -1 +2:00:00', { days: -1, hours: 2 }],
    ])('%s', (text, fields) => {
      expect(decodeInterval(text)).toEqual(interval(fields));
    });
  });

  describe('IntervalStyle postgres_verbose', () => {
    it.each<[string, Partial<Interval>]>([
      ['@ 0', {}],
      [
        '@ 1 year 2 mons -3 days 4 hours 5 mins 6.5 secs',
        { years: 1, months: 2, days: -3, hours: 4, minutes: 5, seconds: 6, milliseconds: 500 },
      ],
      [
        '@ 1 year 2 mons 3 days 4 hours 5 mins 6.000123 secs ago',
        { years: -1, months: -2, days: -3, hours: -4, minutes: -5, seconds: -6, milliseconds: -0.123 },
      ],
      ['@ 1 day -2 hours ago', { days: -1, hours: 2 }],
      ['@ 1 min', { minutes: 1 }],
      ['@ 1 sec', { seconds: 1 }],
    ])('%s', (text, fields) => {
      expect(decodeInterval(text)).toEqual(interval(fields));
    });
  });

  it('never produces -0', () => {
    const decoded = decodeInterval('-00:00:00.5');
    for (const value of Object.values(decoded)) expect(Object.is(value, -0)).toBe(false);
    for (const value of Object.values(decodeInterval('@ 0 ago'))) expect(Object.is(value, -0)).toBe(false);
  });

  it('reads infinite intervals (PostgreSQL 17+) as all-infinite fields', () => {
    expect(decodeInterval('infinity')).toEqual({
      years: Infinity,
      months: Infinity,
      days: Infinity,
      hours: Infinity,
      minutes: Infinity,
      seconds: Infinity,
      milliseconds: Infinity,
    });
    expect(decodeInterval('-infinity').days).toBe(-Infinity);
  });

  it('reads an empty text as zero and a bare number as sql_standard days', () => {
    expect(decodeInterval('')).toEqual(zero);
    expect(decodeInterval('P')).toEqual(zero);
    expect(decodeInterval('1')).toEqual(interval({ days: 1 }));
  });

  it.each(['xyzzy', '1 fortnight', '1.5 days', '1:2', '12:3a:00', 'P1X', 'PT1.5H', 'P1H', 'PT1D', '1 year "2"'])(
    'throws a SyntaxError for %p without quoting it',
    (text) => {
      let error: unknown;
      try {
        decodeInterval(text);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(SyntaxError);
      expect((error as Error).message).not.toContain(text);
    },
  );
});

describe('formatInterval', () => {
  it('writes ISO 8601 with per-field signs', () => {
    expect(formatInterval(interval({ years: 1, months: 2, days: -3, hours: 4, minutes: 5, seconds: 6, milliseconds: 500 }))).toBe(
      'P1Y2M-3DT4H5M6.5S',
    );
    expect(formatInterval(zero)).toBe('P0Y0M0DT0H0M0S');
    expect(formatInterval(interval({ milliseconds: -0.123 }))).toBe('P0Y0M0DT0H0M-0.000123S');
    expect(formatInterval(interval({ seconds: 1, milliseconds: -500 }))).toBe('P0Y0M0DT0H0M0.5S');
  });

  it('writes infinite intervals as infinity', () => {
    expect(formatInterval(decodeInterval('infinity'))).toBe('infinity');
    expect(formatInterval(decodeInterval('-infinity'))).toBe('-infinity');
  });

  it('throws a RangeError for a non-finite field', () => {
    expect(() => formatInterval(interval({ days: NaN }))).toThrow(RangeError);
    expect(() => formatInterval(interval({ days: Infinity }))).toThrow(RangeError);
  });

  it('round-trips through decodeInterval (seconds and milliseconds normalized to one sign)', () => {
    const field = fc.integer({ min: -100_000, max: 100_000 });
    fc.assert(
      fc.property(
        field,
        field,
        field,
        field,
        field,
        fc.integer({ min: -86_400_000_000, max: 86_400_000_000 }),
        (years, months, days, hours, minutes, micro) => {
          const seconds = Math.trunc(micro / 1_000_000) + 0; // + 0: no -0
          const milliseconds = (micro - seconds * 1_000_000) / 1000 + 0; // + 0: no -0
          const value = { years, months, days, hours, minutes, seconds, milliseconds };
          expect(decodeInterval(formatInterval(value))).toEqual(value);
        },
      ),
    );
  });
});
