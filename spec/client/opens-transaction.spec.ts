import { opensTransaction } from '../../lib/client/opens-transaction';

describe('opensTransaction', () => {
  it.each([
    'BEGIN',
    'begin',
    '  Begin Isolation Level Serializable',
    'BEGIN;',
    'START TRANSACTION READ ONLY',
    'start\n\ttransaction',
    '-- leading comment\nBEGIN',
    '/* a */ /* b /* nested */ still b */ begin',
    '/* unterminated',
  ])('true for %j', (sql) => {
    expect(opensTransaction(sql)).toBe(true);
  });

  it.each([
    'SELECT 1',
    "SELECT 'BEGIN'",
    'BEGINNING',
    'COMMIT',
    'ROLLBACK',
    'SAVEPOINT s',
    'START',
    'WITH begin AS (SELECT 1) SELECT * FROM begin',
    '-- only a comment',
    '',
  ])('false for %j', (sql) => {
    expect(opensTransaction(sql)).toBe(false);
  });
});
