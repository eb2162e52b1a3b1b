/**
 * rxpg: a PostgreSQL client whose primitives are RxJS Observables. It speaks the wire protocol
 * itself; queries are cold (nothing is sent before subscribe, each subscribe runs the statement
 * again), unsubscribing cancels the statement on the server, a slow consumer pauses the socket
 * through {@link Pushback}, and COPY is fed from any Observable source.
 *
 * Where to start:
 * - {@link connect} gives one {@link Connection}; {@link withConnection} scopes one to a piece of work.
 * - {@link createPool} gives a {@link Pool} for a service, with {@link Pool.transaction | transactions}.
 * - {@link listen} is a LISTEN that survives connection loss.
 * - {@link toAsyncIterable} and {@link toReadable} bridge a query to pull-style consumers.
 * - Every failure is one of the error classes: {@link PostgresError} for the server's errors,
 *   {@link ConnectionError} when a connection is lost or cannot be made, and their kin.
 *
 * @example
 * import { withConnection } from 'rxpg';
 *
 * // Connects, runs the query, emits its rows, then closes the connection.
 * withConnection('postgres://app@localhost/app', (connection) =>
 *   connection.query<{ now: string }>('SELECT now()::text AS now'),
 * ).subscribe((row) => console.log(row.now));
 *
 * @packageDocumentation
 */
export { connect, withConnection, listen, Connection } from './client';
export type {
  CommandResult,
  Pushback,
  QueryOptions,
  ObjectQueryOptions,
  ArrayQueryOptions,
  RawQueryOptions,
  QueryBatchOptions,
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
export type { Interval, TextDecoder as ValueDecoder, ByteRangeDecoder } from './types';
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
export { dataRowLength, dataRowText, dataRowTexts } from './wire';
export { toAsyncIterable, toReadable } from './interop';
export type { ObjectReadable, PushbackSource, ToAsyncIterableOptions, ToReadableOptions } from './interop';
export { Transaction } from './client';
export type { IsolationLevel, TransactionOptions, AbortableOptions, PromiseExecuteOptions, PromiseQueryOptions } from './client';
/** What Connection, Pool and Transaction share: `query`, `execute` and the Promise conveniences `all`, `first`, `run`. */
export type { Queryable } from './client';
export { TransactionRolledBackError, TransactionStateError } from './errors';
export { StatementCancelledError } from './errors';
export { ValueDecodeError } from './errors';
export type { ValueDecodeErrorContext } from './errors';
// Types that appear in public signatures (parameters, results, option fields).
export type { CopyChunk } from './client/copy-source';
export type { CopyTextRow, TypeRegistryOptions, ArrayDecoderOptions } from './types';
export type { AuthMethod, ChannelBinding, SslNegotiation, HostEntry, LoadBalanceHosts, TargetSessionAttrs } from './config';
export type { ConnectionErrorOptions, PostgresErrorContext } from './errors';
export type { ReconnectOptions } from './client/backoff';
// Every backend message type, as users meet them on `messages$` and in `onFields`.
export type * from './wire/backend-message';
export { createPool, Pool } from './client';
export type { PoolOptions, PoolEndOptions, PoolStats, PoolChannelEvent } from './client';
export { PoolMisuseError, AcquireTimeoutError, ConnectionAttemptsError } from './errors';
export type { ConnectionAttempt } from './errors';
