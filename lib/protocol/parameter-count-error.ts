import type { ErrorFields } from '../errors';
import { ParameterError } from '../types';

/** The server's (English) message for a Bind with the wrong number of parameters. */
const bindCountMessage = /^bind message supplies (\d+) parameters?, but prepared statement ".*" requires (\d+)$/s;

/**
 * The error for `given` parameters to a statement that takes `needed`; it names no statement.
 * The position is the first parameter missing, or the first one too many.
 *
 * @example
 * parameterCountError(2, 1).message; // "... the statement takes 2 parameters, but 1 was given"
 */
export function parameterCountError(needed: number, given: number): ParameterError {
  const takes = needed === 0 ? 'no parameters' : needed === 1 ? '1 parameter' : `${needed} parameters`;
  return new ParameterError(
    Math.min(needed, given) + 1,
    `the statement takes ${takes}, but ${given} ${given === 1 ? 'was' : 'were'} given`,
  );
}

/**
 * A wrong parameter count, which the server reports at Bind as a protocol violation (08P01)
 * naming the internal statement, as a ParameterError that says what the caller did; undefined
 * for any other error. `needed` is the statement's count when known (its
 * ParameterDescription); otherwise it is read from the server's (English) message.
 *
 * @example
 * const error = bindParameterCountError(message.fields, 1, entry.parameterCount) ?? new PostgresError(message.fields);
 */
export function bindParameterCountError(fields: ErrorFields, given: number, needed: number | undefined): ParameterError | undefined {
  if (fields.code !== '08P01') return undefined;
  if (needed === undefined) {
    const match = bindCountMessage.exec(fields.message ?? '');
    if (match === null || Number(match[1]) !== given) return undefined;
    needed = Number(match[2]);
  }
  return needed === given ? undefined : parameterCountError(needed, given);
}
