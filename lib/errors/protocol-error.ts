import { ConnectionError } from './connection-error';

/**
 * The server sent something that breaks the wire protocol: a malformed or oversized message,
 * an unknown message type, or a message that makes no sense in the current state. Always
 * fatal for the connection. SQLSTATE 08P01 (protocol_violation).
 */
export class ProtocolError extends ConnectionError {
  constructor(message: string, options: { readonly cause?: unknown } = {}) {
    super(message, { code: '08P01', cause: options.cause });
  }

  /** `'ProtocolError'`, the name that stack traces and `util.inspect` show (on the prototype, so not enumerable). */
  override get name(): string {
    return 'ProtocolError';
  }
}
