import { hasPlannedColumns, opensTransaction, startsWithCopy } from '../../lib/protocol/statement-keywords';

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

describe('startsWithCopy', () => {
  it.each([
    ['COPY t FROM STDIN', true],
    ['  copy t TO STDOUT', true],
    ['-- load\n/* a /* nested */ b */ Copy t FROM STDIN', true],
    ['SELECT 1', false],
    ['COPYRIGHT', false],
    ['/* unterminated COPY', false],
    ['', false],
  ])('%j → %s', (sql, expected) => {
    expect(startsWithCopy(sql)).toBe(expected);
  });
});

describe('hasPlannedColumns', () => {
  it.each([
    ['SELECT 1', true],
    ['with x AS (SELECT 1) SELECT * FROM x', true],
    ['/* c */ INSERT INTO t VALUES (1) RETURNING *', true],
    ['TABLE t', true],
    ['FETCH 3 FROM c', false],
    ['EXECUTE p', false],
    ['CALL proc()', false],
    ['SHOW search_path', false],
    ['EXPLAIN SELECT 1', false],
    ['(SELECT 1)', false],
    ['/* unterminated SELECT', false],
  ])('%j → %s', (sql, expected) => {
    expect(hasPlannedColumns(sql)).toBe(expected);
  });
});
