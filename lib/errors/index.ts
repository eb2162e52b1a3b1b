export { errorFieldsFromCodes } from './error-fields';
export type { ErrorFields } from './error-fields';
export { PostgresError } from './postgres-error';
export type { PostgresErrorContext } from './postgres-error';
export { ConnectionError } from './connection-error';
export type { ConnectionErrorOptions } from './connection-error';
export { ProtocolError } from './protocol-error';
export { AuthenticationError } from './authentication-error';
export { ConfigError } from './config-error';
