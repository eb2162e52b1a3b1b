import type { ConnectionError } from '../errors';
import type { BackendMessage } from '../wire';

/**
 * One request/response exchange on a connection: a startup, a query, a COPY, a Terminate.
 * The connection writes conversations in FIFO order (pipelined: later ones may be written
 * before earlier ones end) and routes every backend message that is not asynchronous
 * (NoticeResponse, NotificationResponse, ParameterStatus) to the oldest conversation that has
 * not ended.
 */
export interface Conversation {
  /** Writes the conversation's opening frontend messages. */
  start(channel: ConversationChannel): void;
  /**
   * Handles one backend message addressed to this conversation. Returns true when the
   * conversation has ended (typically on its ReadyForQuery); the next message then goes to
   * the next conversation.
   */
  handle(message: BackendMessage, channel: ConversationChannel): boolean;
  /** The connection ended before this conversation did. */
  fail(error: ConnectionError): void;
}

/** What a conversation may do with its connection while it runs. */
export interface ConversationChannel {
  /** Queues frontend bytes (coalesced with the other writes of the same tick). */
  write(bytes: Buffer): void;
  /** Fails the whole connection (a protocol violation, an authentication failure). */
  failConnection(error: ConnectionError): void;
}
