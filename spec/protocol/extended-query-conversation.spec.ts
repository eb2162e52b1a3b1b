// Which SQL texts run as exclusive COPY conversations; the round trips are in spec/client.
import { startsWithCopy } from '../../lib/protocol';

describe('startsWithCopy', () => {
  it.each([
    ['COPY t FROM STDIN', true],
    ['copy t to stdout', true],
    ['  \n\tCopy t FROM STDIN', true],
    ['-- load\nCOPY t FROM STDIN', true],
    ['/* a /* nested */ comment */ COPY t FROM STDIN', true],
    ['(COPY t FROM STDIN)', false],
    ['SELECT 1', false],
    ['select copy from t', false],
    ['copying', false],
    ['COPYX', false],
    ['', false],
    ['-- only a comment', false],
    ['Éclair', false],
  ])('%j → %s', (sql, expected) => {
    expect(startsWithCopy(sql)).toBe(expected);
  });
});
