export { connect } from './connect';
export { Connection } from './connection';
export { withConnection } from './with-connection';
export { rowBuilder } from './row-builder';
export type { RawRow, RowMode } from './row-builder';
export type { CommandResult, Pushback, QueryOptions } from './query-options';
export { listen } from './listener';
export type { ListenOptions, ListenerEvent, ListenerConnected, ListenerNotification, ListenerDisconnected } from './listener';
