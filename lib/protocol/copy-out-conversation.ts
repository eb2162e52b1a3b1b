import type { ObservableInput } from 'rxjs';
import { PostgresError, ProtocolError, QueryShapeError } from '../errors';
import { bind, copyFail, execute, parse, sync, type BackendMessage, type BindParameter } from '../wire';
import { deliveringPushback, type Conversation, type ConversationChannel } from './conversation';

/** Receives what a COPY TO STDOUT produces. */
export interface CopyOutSink {
  /** CopyOutResponse: whether the data is in binary format. */
  begin(binary: boolean): void;
  /** One CopyData chunk (the sink's own Buffer). */
  chunk(bytes: Buffer): void;
  complete(tag: string): void;
  error(error: Error): void;
  pushback?(): ObservableInput<unknown> | void;
}

/**
 * `COPY ... TO STDOUT` through the extended protocol (Parse/Bind/Execute/Sync in one write):
 * the CopyData chunks go to the sink as they arrive, with pushback. Abandoning it discards
 * the rest and, where safe, cancels it on the server (see ProtocolConnection.abandon).
 */
export class CopyOutConversation implements Conversation {
  /** COPY statements run alone: a COPY FROM STDIN sent here by mistake must not swallow pipelined requests. */
  readonly exclusive = true;
  readonly #sql: string;
  readonly #frames: Buffer;
  readonly #parameterCount: number;
  readonly #sink: CopyOutSink;
  #copying = false;
  #tag = '';
  #error: Error | undefined;
  #detached = false;
  #ended = false;

  constructor(sql: string, parameters: readonly BindParameter[], sink: CopyOutSink) {
    this.#sql = sql;
    this.#parameterCount = parameters.length;
    this.#sink = sink;
    this.#frames = Buffer.concat([parse(sql), bind(parameters), execute(), sync()]);
  }

  start(channel: ConversationChannel): void {
    channel.write(this.#frames);
  }

  detach(): void {
    this.#detached = true;
  }

  pushback(): ObservableInput<unknown> | void {
    return deliveringPushback(this.#sink, !this.#detached && !this.#ended);
  }

  handle(message: BackendMessage, channel: ConversationChannel): boolean {
    switch (message.name) {
      case 'CopyData':
        if (this.#copying && !this.#detached) this.#sink.chunk(message.chunk);
        return false;
      case 'ParseComplete':
      case 'BindComplete':
      case 'CopyDone':
        return false;
      case 'CopyOutResponse':
        this.#copying = true;
        if (!this.#detached) this.#sink.begin(message.binary);
        return false;
      case 'CommandComplete':
        this.#tag = message.tag;
        if (!this.#copying) this.#notCopyOut();
        return false;
      case 'ErrorResponse':
        this.#error ??= new PostgresError(message.fields, { sql: this.#sql, parameterCount: this.#parameterCount });
        return false;
      case 'RowDescription':
      case 'NoData':
      case 'DataRow':
      case 'EmptyQueryResponse':
      case 'PortalSuspended':
        this.#notCopyOut();
        return false;
      case 'CopyInResponse':
        // COPY FROM STDIN by mistake: the server ignores the Sync already sent while in COPY
        // IN, so end the copy and sync again.
        this.#notCopyOut();
        channel.write(Buffer.concat([copyFail('copyOut() cannot feed COPY FROM STDIN'), sync()]));
        return false;
      case 'ReadyForQuery':
        this.#ended = true;
        if (!this.#detached) {
          if (this.#error !== undefined) this.#sink.error(this.#error);
          else this.#sink.complete(this.#tag);
        }
        return true;
      default:
        channel.failConnection(new ProtocolError(`unexpected ${message.name} during COPY TO STDOUT`));
        return false;
    }
  }

  fail(error: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.#detached) this.#sink.error(error);
  }

  #notCopyOut(): void {
    this.#error ??= new QueryShapeError('copyOut() expects a COPY ... TO STDOUT statement', this.#sql);
  }
}
