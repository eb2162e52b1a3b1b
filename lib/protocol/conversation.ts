import type { X509Certificate } from 'node:crypto';
import type { Observable, ObservableInput } from 'rxjs';
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
  /**
   * When true the conversation is written only once nothing else is in flight, and nothing
   * is written after it until it ends (COPY: the server treats any other message during a
   * COPY as an error, which would swallow the pipelined requests behind it).
   */
  readonly exclusive?: boolean;
  /**
   * False when abandoning the conversation must not send a CancelRequest (COPY IN ends with
   * CopyFail instead).
   */
  readonly cancelOnAbandon?: boolean;
  /** Writes the conversation's opening frontend messages. */
  start(channel: ConversationChannel): void;
  /**
   * Handles one backend message addressed to this conversation. Returns true when the
   * conversation has ended (typically on its ReadyForQuery); the next message then goes to
   * the next conversation.
   */
  handle(message: BackendMessage, channel: ConversationChannel): boolean;
  /**
   * The conversation ends without its ReadyForQuery: the connection ended first (a
   * ConnectionError), or its `start` threw (that error; nothing of it was sent and it never
   * took a place in the queue).
   */
  fail(error: Error): void;
  /**
   * The subscriber went away: stop delivering, keep consuming replies up to ReadyForQuery so
   * the connection stays in sync.
   */
  detach?(): void;
  /**
   * Called after each socket chunk in which this conversation received data. While what it
   * returns is pending, the socket is paused (postgres_async's pushback).
   */
  pushback?(): ObservableInput<unknown> | void;
}

/**
 * What a conversation may do with its connection while it runs: all it sees of the transport
 * under it, so that no code above the protocol layer needs the transport.
 */
export interface ConversationChannel {
  /**
   * Queues frontend bytes (coalesced with the other writes of the same tick). `released`, if
   * given, is called once the buffer may be reused (see Transport.write).
   */
  write(bytes: Uint8Array, released?: () => void): void;
  /** Fails the whole connection (a protocol violation, an authentication failure). */
  failConnection(error: ConnectionError): void;
  /** Whether the write buffer is full: a writer that produces much data (COPY) waits for `drained()`. */
  readonly needsDrain: boolean;
  /** Bytes written but not yet sent (for push sources that must stay bounded). */
  readonly bufferedBytes: number;
  /** Emits once and completes when there is room for more writes (at once if there is). */
  drained(): Observable<void>;
  /** The server's TLS certificate, for SCRAM channel binding; undefined without TLS. */
  peerCertificate(): X509Certificate | undefined;
}

/**
 * A conversation's pushback: the sink's hook, asked only while the conversation still
 * delivers (not after its end, not once its subscriber has gone).
 */
export function deliveringPushback(
  sink: { pushback?(): ObservableInput<unknown> | void },
  delivering: boolean,
): ObservableInput<unknown> | void {
  return delivering && sink.pushback !== undefined ? sink.pushback() : undefined;
}
