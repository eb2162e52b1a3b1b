import { Observable } from 'rxjs';
import { PostgresError, ProtocolError, QueryShapeError } from '../errors';
import { bind, copyDone, copyFail, execute, flush, parse, sync, type BackendMessage, type BindParameter } from '../wire';
import type { Conversation, ConversationChannel } from './conversation';
import { CopyDataFramer } from './copy-data-framer';

/** How a COPY source writes into the running COPY. */
export interface CopyWriter {
  /** Sends bytes as CopyData. Returns false when the socket's buffer is full: wait for `drained()`. */
  data(bytes: Uint8Array): boolean;
  /** Sends text as CopyData, encoded as UTF-8 (small strings are joined into one message). Returns as `data`. */
  text(chunk: string): boolean;
  /** Emits once the socket has room again. */
  drained(): Observable<void>;
  /** Bytes queued in the socket not yet sent (for push sources that must stay bounded). */
  readonly bufferedBytes: number;
  /** The source is finished: CopyDone. */
  done(): void;
  /** The source failed: CopyFail with a reason; nothing of the COPY is committed. */
  fail(reason: string, cause: unknown): void;
}

/** Feeds a COPY FROM STDIN from some source. */
export interface CopySource {
  /** The server entered COPY IN: start writing. */
  start(writer: CopyWriter): void;
  /** Stop at once and release the source (the server failed the COPY, or the connection ended). */
  stop(): void;
}

/** Receives how a COPY IN ended. */
export interface CopyInSink {
  complete(tag: string): void;
  /** PostgresError from the server, QueryShapeError when the statement was no COPY FROM STDIN. */
  error(error: Error, sourceFailure?: { readonly cause: unknown }): void;
}

/**
 * `COPY ... FROM STDIN` through the extended protocol: Parse/Bind/Execute and Flush (not
 * Sync: the server ignores Sync during COPY IN, so the Sync is sent with CopyDone or
 * CopyFail, or after an error). Exclusive: nothing is pipelined behind a COPY, since the
 * server takes any other message during COPY IN as an error.
 *
 * A server error during the copy stops the source at once. Unsubscribing sends CopyFail
 * (never a CancelRequest): nothing of the COPY is committed.
 */
export class CopyInConversation implements Conversation {
  readonly exclusive = true;
  readonly cancelOnAbandon = false;
  readonly #sql: string;
  readonly #frames: Buffer;
  readonly #parameterCount: number;
  readonly #source: CopySource;
  readonly #sink: CopyInSink;
  #state: 'starting' | 'copying' | 'finishing' | 'not-copy' = 'starting';
  #syncSent = false;
  #tag = '';
  #error: Error | undefined;
  #sourceFailure: { readonly cause: unknown } | undefined;
  #detached = false;
  #ended = false;
  #channel: ConversationChannel | undefined;
  #framer: CopyDataFramer | undefined;

  constructor(sql: string, parameters: readonly BindParameter[], source: CopySource, sink: CopyInSink) {
    this.#sql = sql;
    this.#parameterCount = parameters.length;
    this.#source = source;
    this.#sink = sink;
    this.#frames = Buffer.concat([parse(sql), bind(parameters), execute(), flush()]);
  }

  start(channel: ConversationChannel): void {
    this.#channel = channel;
    channel.write(this.#frames);
  }

  detach(): void {
    if (this.#detached) return;
    this.#detached = true;
    if (this.#state === 'copying') {
      this.#source.stop();
      this.#fail('COPY aborted by the client');
    }
  }

  handle(message: BackendMessage, channel: ConversationChannel): boolean {
    switch (message.name) {
      case 'ParseComplete':
      case 'BindComplete':
        return false;
      case 'CopyInResponse':
        this.#state = 'copying';
        if (this.#detached) this.#fail('COPY aborted by the client');
        else this.#source.start(this.#writer(channel));
        return false;
      case 'ErrorResponse':
        this.#error ??= new PostgresError(message.fields, { sql: this.#sql, parameterCount: this.#parameterCount });
        if (this.#state === 'copying') {
          // The server has given up on the COPY: nothing more of it is written.
          this.#state = 'finishing';
          this.#source.stop();
          this.#framer?.discard();
        }
        this.#sync(channel);
        return false;
      case 'RowDescription':
      case 'NoData':
      case 'DataRow':
      case 'CopyOutResponse':
      case 'CopyData':
      case 'CopyDone':
      case 'EmptyQueryResponse':
      case 'PortalSuspended':
        this.#notCopy(channel);
        return false;
      case 'CommandComplete':
        this.#tag = message.tag;
        if (this.#state !== 'finishing') this.#notCopy(channel);
        return false;
      case 'ReadyForQuery':
        this.#ended = true;
        if (!this.#detached) {
          if (this.#error !== undefined) this.#sink.error(this.#error, this.#sourceFailure);
          else this.#sink.complete(this.#tag);
        }
        return true;
      default:
        channel.failConnection(new ProtocolError(`unexpected ${message.name} during COPY FROM STDIN`));
        return false;
    }
  }

  fail(error: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#source.stop();
    this.#framer?.discard();
    if (!this.#detached) this.#sink.error(error, this.#sourceFailure);
  }

  /** The statement turned out not to be COPY FROM STDIN: it ran, but that is the caller's error. */
  #notCopy(channel: ConversationChannel): void {
    if (this.#state === 'starting') this.#state = 'not-copy';
    this.#error ??= new QueryShapeError('copyIn() expects a COPY ... FROM STDIN statement', this.#sql);
    this.#sync(channel);
  }

  #sync(channel: ConversationChannel): void {
    if (this.#syncSent) return;
    this.#syncSent = true;
    channel.write(sync());
  }

  #fail(reason: string): void {
    if (this.#state !== 'copying' || this.#channel === undefined) return;
    this.#state = 'finishing';
    this.#syncSent = true;
    this.#framer?.discard();
    this.#channel.write(Buffer.concat([copyFail(reason), sync()]));
  }

  #writer(channel: ConversationChannel): CopyWriter {
    const framer = new CopyDataFramer((bytes, released) => channel.write(bytes, released));
    this.#framer = framer;
    return {
      data: (bytes) => {
        if (this.#state !== 'copying') return true;
        framer.bytes(bytes);
        return !channel.needsDrain;
      },
      text: (chunk) => {
        if (this.#state !== 'copying') return true;
        framer.text(chunk);
        return !channel.needsDrain;
      },
      drained: () => channel.drained(),
      get bufferedBytes() {
        return channel.bufferedBytes;
      },
      done: () => {
        if (this.#state !== 'copying') return;
        this.#state = 'finishing';
        this.#syncSent = true;
        framer.flush();
        channel.write(Buffer.concat([copyDone(), sync()]));
      },
      fail: (reason, cause) => {
        if (this.#state !== 'copying') return;
        this.#sourceFailure = { cause };
        this.#fail(reason);
      },
    };
  }
}
