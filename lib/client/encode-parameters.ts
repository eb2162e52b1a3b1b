import { encodeParameter } from '../types';
import type { BindParameter } from '../wire';
import { checkParameterCount } from '../wire/frontend-messages';

/**
 * Encodes a request's parameters for Bind, in order.
 *
 * Errors: TypeError when `params` is not an array, RangeError for more than 65535,
 * ParameterError for a value that cannot be sent (naming its position, never the value).
 *
 * @example
 * encodeParameters([42, 'text', null]); // ['42', 'text', null]
 */
export function encodeParameters(params: readonly unknown[]): BindParameter[] {
  if (!Array.isArray(params)) throw new TypeError('query parameters must be an array');
  // Before any value is encoded; the protocol's one check of its limit.
  checkParameterCount(params.length);
  const encoded = new Array<BindParameter>(params.length);
  for (let i = 0; i < params.length; i++) encoded[i] = encodeParameter(params[i], i);
  return encoded;
}
