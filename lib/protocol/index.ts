export { ProtocolConnection } from './protocol-connection';
export type { BackendKey, ConnectionState, Notification, ParameterChange } from './protocol-connection';
export { StartupConversation } from './startup-conversation';
export type { StartupSettings } from './startup-conversation';
export type { Conversation, ConversationChannel } from './conversation';
export { SimpleQueryConversation } from './simple-query-conversation';
export type { ResultSet, ResultField } from './simple-query-conversation';
