export { connect, withConnection, listen, Connection } from './client';
export type {
  CommandResult,
  Pushback,
  QueryOptions,
  RawRow,
  RowMode,
  ListenOptions,
  ListenerEvent,
  ListenerConnected,
  ListenerNotification,
  ListenerDisconnected,
} from './client';
export type { ChannelEvent } from './notifications';
export { TypeRegistry, TypeOid, ParameterError, quoteIdentifier } from './types';
export type { Interval, TextDecoder as ValueDecoder } from './types';
export {
  PostgresError,
  ConnectionError,
  ProtocolError,
  AuthenticationError,
  ConfigError,
  TimeoutError,
  QueryShapeError,
  CopyAbortedError,
} from './errors';
export type { ErrorFields } from './errors';
export type { ConnectionConfig, ResolvedConnectionConfig, SslMode, PasswordSource } from './config';
export type { ConnectionState, Notification, ParameterChange, ResultSet, ResultField, TransactionStatus } from './protocol';
export type { BackendMessage } from './wire';
export { toAsyncIterable, toReadable } from './interop';
export type { PushbackSource, ToAsyncIterableOptions, ToReadableOptions } from './interop';
