export { connect, withConnection, listen, Connection } from './client';
export type {
  CommandResult,
  Pushback,
  QueryOptions,
  ObjectQueryOptions,
  ArrayQueryOptions,
  RawQueryOptions,
  QueryRow,
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
export type { ObjectReadable, PushbackSource, ToAsyncIterableOptions, ToReadableOptions } from './interop';
export { Transaction } from './client';
export type { IsolationLevel, TransactionOptions, AbortableOptions, PromiseExecuteOptions, PromiseQueryOptions } from './client';
export { TransactionRolledBackError, TransactionStateError } from './errors';
// Types that appear in public signatures (parameters, results, option fields).
export type { CopyChunk } from './client/copy-source';
export type { CopyTextRow, TypeRegistryOptions, ArrayDecoderOptions } from './types';
export type { ChannelBinding, HostEntry, LoadBalanceHosts, TargetSessionAttrs } from './config';
export type { ConnectionErrorOptions, PostgresErrorContext } from './errors';
export type { ReconnectOptions } from './notifications';
// Every backend message type, as users meet them on `messages$` and in `onFields`.
export type * from './wire/backend-message';
export { createPool, Pool } from './client';
export type { PoolOptions, PoolEndOptions, PoolStats, PoolChannelEvent } from './client';
export { PoolMisuseError, AcquireTimeoutError, ConnectionAttemptsError } from './errors';
export type { AcquireTimeoutState, ConnectionAttempt } from './errors';
