export { connect, withConnection, Connection } from './client';
export {
  PostgresError,
  ConnectionError,
  ProtocolError,
  AuthenticationError,
  ConfigError,
} from './errors';
export type { ErrorFields } from './errors';
export type { ConnectionConfig, ResolvedConnectionConfig, SslMode, PasswordSource } from './config';
export type { ConnectionState, Notification, ParameterChange, ResultSet, ResultField } from './protocol';
export type { BackendMessage } from './wire';
