import { DatabaseError } from 'pg-protocol';
import { AuthenticationError, ConnectionError, PostgresError, ProtocolError } from '../../lib';
import { errorFieldsFromCodes } from '../../lib/errors';

describe('PostgresError', () => {
  const fields = errorFieldsFromCodes({ S: 'ERROR', V: 'ERROR', C: '42601', M: 'syntax error at or near "FORM"', P: '10', X: 'ignored' });

  it('is a pg-protocol DatabaseError with every field, a numeric position and its own name', () => {
    const error = new PostgresError(fields, { sql: 'SELECT * FORM t', parameterCount: 2 });
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('PostgresError');
    expect(error.code).toBe('42601');
    expect(error.severityNonLocalized).toBe('ERROR');
    expect(error.position).toBe(10);
    expect(error.parameterCount).toBe(2);
    expect(error.sqlstateClass).toBe('42');
  });

  it('keeps the SQL out of enumerable fields and quotes it in the message only around the position', () => {
    const sql = `SELECT ${'x, '.repeat(100)}* FORM t WHERE ${'y AND '.repeat(100)}true`;
    const at = sql.indexOf('FORM') + 1;
    const error = new PostgresError({ ...fields, position: at }, { sql });
    expect(error.sql).toBe(sql);
    expect(Object.keys(error)).not.toContain('sql');
    expect(JSON.stringify(error)).not.toContain('FORM t');
    expect(error.message).toContain('⟨here⟩FORM t');
    expect(error.message.length).toBeLessThan(200);
  });

  it('reads without a position or SQL as the server message alone', () => {
    expect(new PostgresError({ message: 'boom', code: 'XX000' }).message).toBe('boom');
    expect(new PostgresError({}).message).toBe('unknown server error');
  });
});

describe('connection errors', () => {
  it('chain: ProtocolError and AuthenticationError are ConnectionErrors with their codes and causes', () => {
    const cause = new Error('underlying');
    const protocol = new ProtocolError('bad frame', { cause });
    const auth = new AuthenticationError('password authentication failed', { code: '28P01' });
    const connection = new ConnectionError('gone');
    expect(protocol).toBeInstanceOf(ConnectionError);
    expect(protocol.code).toBe('08P01');
    expect(protocol.cause).toBe(cause);
    expect(protocol.name).toBe('ProtocolError');
    expect(auth.code).toBe('28P01');
    expect(auth.name).toBe('AuthenticationError');
    expect(connection.code).toBe('08006');
    expect(connection.cause).toBeUndefined();
  });
});
