import { Observable, Subject, type Subscription } from 'rxjs';
import { ConnectionError, PostgresError, ProtocolError, type ErrorFields } from '../errors';
import { sendCancelRequest, type ReleaseCallback, type SocketAddress, type Transport } from '../transport';
import { decodeBackendMessages, terminate, UnfinishedMessageError, type BackendMessage } from '../wire';
import type { Conversation, ConversationChannel } from './conversation';
import { CancelBarrier } from './cancel-barrier';
import { DirectSubscriber } from './direct-subscriber';
import { ConversationQueue } from './conversation-queue';
import { PushbackGate } from './pushback-gate';

/** Where a connection is in its life. */
export type ConnectionState = 'connecting' | 'open' | 'closing' | 'closed' | 'failed';

/**
 * The session's transaction state, from the latest ReadyForQuery: `idle` (no transaction
 * open), `in transaction` (a transaction block is open), `failed transaction` (one is open and
 * aborted: statements fail with 25P02 until ROLLBACK).
 */
export type TransactionStatus = 'idle' | 'in transaction' | 'failed transaction';

/** A runtime parameter the server reported with ParameterStatus. */
export interface ParameterChange {
  /** The parameter's name, e.g. `TimeZone` or `in_hot_standby`. */
  readonly name: string;
  /** Its new value, as text. */
  readonly value: string;
}

/** A NotificationResponse: a NOTIFY on a channel this connection listens to. */
export interface Notification {
  /** The channel name exactly as the server reports it (case and punctuation kept). */
  readonly channel: string;
  /** The payload text; `''` when the NOTIFY had none. */
  readonly payload: string;
  /** The process ID of the backend whose transaction sent the NOTIFY (possibly this connection's own). */
  readonly processId: number;
}

/** The identity of a backend for CancelRequest, from BackendKeyData. */
export interface BackendKey {
  readonly processId: number;
  readonly secretKey: number;
}

const defaultCloseTimeout = 5_000;

/**
 * One protocol-level connection: consumes the socket as an Observable of backend messages
 * ({@link decodeBackendMessages} over the transport's chunks, paused by the pushback gate
 * after each chunk), routes them to the running conversations in FIFO order, and keeps the
 * connection-wide state (runtime parameters, BackendKeyData, notices, notifications, how it
 * ended).
 *
 * The first fatal problem wins: a socket error, EOF, a protocol violation or a FATAL
 * ErrorResponse fails every conversation in flight and `closed$`, and every later request
 * fails at once with a ConnectionError whose cause is that first problem.
 */
export class ProtocolConnection {
  readonly #transport: Transport;
  /** The subscription to the socket's messages: unsubscribed when the connection fails (reading stops). */
  #reading: Subscription | undefined;
  readonly #description: string;
  /** Written conversations, oldest first; the first one receives the messages. */
  readonly #conversations = new ConversationQueue();
  /**
   * Conversations not written yet, in FIFO order: those enqueued during this tick (written at
   * its end, so that one abandoned in the same tick is never sent) and those a barrier (COPY,
   * a cancel in progress) holds back. A Set: abandoning one of thousands is O(1).
   */
  readonly #held = new Set<Conversation>();
  #releaseScheduled = false;
  /** While a conversation's start() runs, its writes are staged here, and sent only if it returns. */
  #starting = false;
  readonly #startWrites: Uint8Array[] = [];
  readonly #startReleases: (ReleaseCallback | undefined)[] = [];
  /**
   * How many of those hold this start's writes. A count rather than `length = 0`, which makes
   * V8 drop the arrays' storage and allocate it again for every request (about 300 bytes).
   */
  #startCount = 0;
  readonly #cancels: CancelBarrier;
  readonly #pushback: PushbackGate;
  readonly #messages = new Subject<BackendMessage>();
  readonly #notices = new Subject<ErrorFields>();
  readonly #notifications = new Subject<Notification>();
  readonly #parameterChanges = new Subject<ParameterChange>();
  readonly #closed = new Subject<void>();
  readonly #parameters = new Map<string, string>();
  readonly #channel: ConversationChannel;
  #state: ConnectionState = 'connecting';
  #transactionStatus: TransactionStatus = 'idle';
  #failure: ConnectionError | undefined;
  #fatal: PostgresError | undefined;
  #backendKey: BackendKey | undefined;
  #closing: Promise<void> | undefined;
  #closeTimer: NodeJS.Timeout | undefined;

  /** Every decoded backend message, before routing. Hot; completes when the connection ends. */
  readonly messages$: Observable<BackendMessage> = this.#messages.asObservable();
  /** NoticeResponse fields (warnings, RAISE NOTICE). Hot; completes with the connection. */
  readonly notices$: Observable<ErrorFields> = this.#notices.asObservable();
  /** NotificationResponse messages. Hot; completes on close, errors when the connection fails. */
  readonly notifications$: Observable<Notification> = this.#notifications.asObservable();
  /** ParameterStatus changes after startup. Hot; completes with the connection. */
  readonly parameterChanges$: Observable<ParameterChange> = this.#parameterChanges.asObservable();
  /** Completes on graceful close; errors with the ConnectionError that ended the connection. */
  readonly closed$: Observable<void> = this.#closed.asObservable();

  constructor(
    transport: Transport,
    options: {
      readonly maxMessageSize: number;
      readonly description: string;
      readonly cancelAddress?: SocketAddress;
      /**
       * Sends a CancelRequest for `key` on a connection of its own and completes once the server
       * has acted on it; default: sendCancelRequest to `cancelAddress` (unit specs pass a fake).
       */
      readonly sendCancelRequest?: (key: BackendKey) => Observable<void>;
      /** Milliseconds a CancelRequest may take to be confirmed and its request to end (the config's `cancelTimeout`). */
      readonly cancelTimeout: number;
    },
  ) {
    this.#transport = transport;
    this.#pushback = new PushbackGate(transport);
    const cancelAddress = options.cancelAddress;
    const sendCancel =
      options.sendCancelRequest ?? (cancelAddress === undefined ? undefined : (key: BackendKey) => sendCancelRequest(cancelAddress, key));
    this.#cancels = new CancelBarrier(
      {
        conversations: this.#conversations,
        cancelRequest: () => {
          const key = this.#backendKey;
          if (this.#state !== 'open' || key === undefined || sendCancel === undefined) return undefined;
          return sendCancel(key);
        },
        lifted: () => this.#releaseHeld(),
        timedOut: (error) => this.fail(error),
      },
      { timeout: options.cancelTimeout, description: options.description },
    );
    this.#description = options.description;
    this.#channel = {
      write: (bytes, released) => {
        if (this.#starting) {
          this.#startWrites[this.#startCount] = bytes;
          this.#startReleases[this.#startCount++] = released;
        } else {
          this.#transport.write(bytes, released);
        }
      },
      failConnection: (error) => this.fail(error),
      get needsDrain() {
        return transport.needsDrain;
      },
      get bufferedBytes() {
        return transport.bufferedBytes;
      },
      drained: () => transport.drained(),
      peerCertificate: () => transport.peerCertificate(),
    };
    const pushback = this.#pushback;
    this.#reading = decodeBackendMessages(transport.chunks$, {
      maxMessageSize: options.maxMessageSize,
      // Pushback is per chunk: asked once the chunk's rows have all been delivered.
      chunkDecoded: () => pushback.chunkDecoded(),
    }).subscribe(
      // Called directly by the decoder, one call per message (see DirectSubscriber).
      new DirectSubscriber<BackendMessage>({
        next: this.#receive,
        error: (error: unknown) => {
          if (error instanceof UnfinishedMessageError) this.#endOfStream(error.bufferedBytes);
          else this.fail(asConnectionError(error));
        },
        complete: () => this.#endOfStream(0),
      }),
    );
    // A transport that delivered (and failed the connection) during subscribe: stop reading.
    if (this.#state === 'failed') this.#reading.unsubscribe();
  }

  /** Where the connection is in its life. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The problem that ended the connection, once it has failed. */
  get failure(): ConnectionError | undefined {
    return this.#failure;
  }

  /**
   * The transaction state reported by the latest ReadyForQuery. While requests are in flight
   * it describes the session after the last one that ended.
   */
  get transactionStatus(): TransactionStatus {
    return this.#transactionStatus;
  }

  /** The runtime parameters as last reported by the server. */
  get parameters(): ReadonlyMap<string, string> {
    return this.#parameters;
  }

  /** BackendKeyData, once received during startup. */
  get backendKey(): BackendKey | undefined {
    return this.#backendKey;
  }

  /** Records BackendKeyData; the startup conversation calls this. A second one is a protocol error. */
  setBackendKey(key: BackendKey): void {
    if (this.#backendKey !== undefined) {
      this.fail(new ProtocolError('server sent BackendKeyData twice'));
      return;
    }
    this.#backendKey = key;
  }

  /** Marks the end of startup: the connection takes requests from now on. */
  markOpen(): void {
    if (this.#state === 'connecting') this.#state = 'open';
  }

  /**
   * Starts a conversation: its messages are written at the end of the current tick
   * (pipelined behind those in flight; all of a tick's writes go out in one socket write),
   * or later when a barrier holds them back, and its replies are routed to it in FIFO order.
   * On a connection that is not usable the conversation fails at once with a ConnectionError
   * linking the cause.
   *
   * A conversation whose `start` throws (a message the protocol cannot carry) is failed with
   * that error: none of its bytes is sent and it never takes a place in the queue, so it can
   * never receive another request's replies.
   */
  enqueue(conversation: Conversation): void {
    if (this.#state === 'connecting' && this.#conversations.length === 0 && this.#held.size === 0) {
      // The startup conversation: nothing can be pipelined with it.
      this.#write(conversation);
      return;
    }
    if (this.#state !== 'open') {
      conversation.fail(this.unusableError());
      return;
    }
    this.#held.add(conversation);
    if (!this.#releaseScheduled) {
      this.#releaseScheduled = true;
      process.nextTick(this.#releaseAtEndOfTick);
    }
  }

  /**
   * Enqueues `conversation` to run next, before anything not yet written, and returns true —
   * only when the conversation now ending (the head, calling from its `handle`) has nothing
   * written behind it. Otherwise returns false and enqueues nothing: a retry written behind
   * requests already pipelined would run after them, e.g. inside a transaction they began.
   */
  enqueueNext(conversation: Conversation): boolean {
    if (this.#state !== 'open' || this.#conversations.length !== 1) return false;
    const held = [...this.#held];
    this.#held.clear();
    this.#held.add(conversation);
    for (const later of held) this.#held.add(later);
    if (!this.#releaseScheduled) {
      this.#releaseScheduled = true;
      process.nextTick(this.#releaseAtEndOfTick);
    }
    return true;
  }

  /**
   * The subscriber of a conversation went away. A conversation not written yet is simply
   * dropped, nothing of it is sent. A written one is detached (its replies are read and
   * discarded up to its ReadyForQuery) and, once every conversation in flight is abandoned, a
   * CancelRequest stops the one the server is running; later writes are held back until that
   * cancel can no longer hit them. While a live request is pipelined behind it the cancel
   * waits, since it could land on that request.
   */
  abandon(conversation: Conversation): void {
    if (this.#held.delete(conversation)) return;
    // Written (or already ended, where detaching does nothing): stop delivering.
    conversation.detach?.();
    this.#pushback.releaseFor(conversation);
    if (conversation.cancelOnAbandon === false || this.#state !== 'open') return;
    this.#cancels.abandoned(conversation);
  }

  /** Whether a conversation may be written now, given the barriers in force. */
  #mayWrite(conversation: Conversation): boolean {
    if (this.#cancels.holding) return false;
    if (this.#conversations.length === 0) return true;
    if (conversation.exclusive === true) return false;
    return !this.#conversations.hasExclusive;
  }

  /**
   * Writes a conversation and gives it its place in the queue — only if its `start` returns:
   * the one rule that keeps a request that fails to start from taking the replies of others.
   */
  #write(conversation: Conversation): void {
    this.#starting = true;
    try {
      conversation.start(this.#channel);
    } catch (error) {
      this.#starting = false;
      this.#clearStartWrites();
      conversation.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.#starting = false;
    if (this.#state === 'failed' || this.#state === 'closed') {
      // Its start failed the connection (failConnection): it was not in the queue yet.
      this.#clearStartWrites();
      conversation.fail(this.#failure ?? this.unusableError());
      return;
    }
    this.#conversations.push(conversation);
    const writes = this.#startWrites;
    const releases = this.#startReleases;
    const count = this.#startCount;
    this.#startCount = 0;
    for (let i = 0; i < count; i++) {
      this.#transport.write(writes[i]!, releases[i]);
      // Not kept alive until the next request overwrites them.
      writes[i] = undefined!;
      releases[i] = undefined;
    }
  }

  /** Drops the writes of a start that failed: none of them is sent. */
  #clearStartWrites(): void {
    this.#startWrites.fill(undefined!, 0, this.#startCount);
    this.#startReleases.fill(undefined, 0, this.#startCount);
    this.#startCount = 0;
  }

  readonly #releaseAtEndOfTick = (): void => {
    this.#releaseScheduled = false;
    this.#releaseHeld();
  };

  /** Writes held conversations as far as the barriers allow. */
  #releaseHeld(): void {
    for (const conversation of this.#held) {
      if (this.#state !== 'open' || !this.#mayWrite(conversation)) return;
      this.#held.delete(conversation);
      this.#write(conversation);
    }
  }

  /** A conversation ended (its ReadyForQuery arrived): move on. */
  #ended(conversation: Conversation): void {
    this.#conversations.shift();
    this.#cancels.ended(conversation);
    if (this.#held.size > 0) this.#releaseHeld();
  }

  /** The ConnectionError given to requests made on a connection that is closing, closed or failed. */
  unusableError(): ConnectionError {
    if (this.#failure !== undefined) {
      return new ConnectionError(`connection is no longer usable: ${this.#failure.message}`, {
        code: '08003',
        cause: this.#failure,
      });
    }
    return new ConnectionError(`connection is ${this.#state === 'connecting' ? 'not open yet' : 'closed'}`, {
      code: '08003',
    });
  }

  /**
   * Ends the connection gracefully: writes what was enqueued before (as far as the barriers
   * allow; what they hold back fails with a ConnectionError), sends Terminate and waits for
   * the server's EOF, at most `timeout` milliseconds (then the socket is destroyed).
   *
   * Never rejects, in any state, however often called (later calls return the same promise):
   * it is called in `finally` blocks without `await`, where a rejection would crash the
   * process. How the connection ended is on `closed$` and `failure`.
   */
  close(options: { readonly timeout?: number } = {}): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    if (this.#state === 'failed' || this.#state === 'closed') {
      this.#closing = Promise.resolve();
      return this.#closing;
    }
    this.#closing = new Promise<void>((resolve) => {
      this.#closed.subscribe({ complete: resolve, error: () => resolve() });
    });
    this.#releaseHeld();
    this.#state = 'closing';
    // A pending pushback keeps the socket paused; the server's EOF must still be read.
    this.#pushback.release();
    this.#failHeld(this.unusableError());
    const timeout = options.timeout ?? defaultCloseTimeout;
    this.#closeTimer = setTimeout(() => {
      this.fail(new ConnectionError(`close: the server did not end the connection within ${timeout} ms`, { code: '08006' }));
    }, timeout);
    this.#conversations.push(terminateConversation);
    terminateConversation.start(this.#channel);
    this.#transport.end();
    return this.#closing;
  }

  /** Fails the conversations not written yet. */
  #failHeld(error: ConnectionError): void {
    const held = [...this.#held];
    this.#held.clear();
    for (const conversation of held) conversation.fail(error);
  }

  /**
   * Tears the connection down at once without Terminate (an aborted connection attempt).
   * Conversations in flight fail with `error`.
   */
  destroy(error: ConnectionError): void {
    this.fail(error);
  }

  /** Fails the connection: the first fatal problem wins; later calls do nothing. */
  fail(error: ConnectionError): void {
    if (this.#state === 'failed' || this.#state === 'closed') return;
    this.#state = 'failed';
    this.#failure = error;
    clearTimeout(this.#closeTimer);
    this.#cancels.stop();
    // Stop reading: the rest of the chunk being decoded (after a FATAL, a bad message) is dropped.
    this.#reading?.unsubscribe();
    this.#transport.destroy();
    this.#pushback.release();
    for (const conversation of this.#conversations.drain()) conversation.fail(error);
    this.#failHeld(error);
    this.#notices.complete();
    this.#parameterChanges.complete();
    this.#notifications.error(error);
    // messages$ is a trace: it ends quietly, so a next-only observer is not an unhandled error.
    this.#messages.complete();
    this.#closed.error(error);
  }

  /**
   * Each message of the socket. What a handler throws fails the connection (as a decoding
   * error does): the conversation it was meant for can no longer be trusted to be in sync.
   */
  readonly #receive = (message: BackendMessage): void => {
    try {
      this.#dispatch(message);
    } catch (error) {
      this.fail(asConnectionError(error));
    }
  };

  #dispatch(message: BackendMessage): void {
    if (this.#state === 'failed' || this.#state === 'closed') return;
    // A Subject's next costs a closure per call even with nobody listening: skip it then.
    if (this.#messages.observed) this.#messages.next(message);
    switch (message.name) {
      case 'NoticeResponse':
        this.#notices.next(message.fields);
        return;
      case 'NotificationResponse':
        this.#notifications.next({ channel: message.channel, payload: message.payload, processId: message.processId });
        return;
      case 'ParameterStatus':
        this.#parameters.set(message.parameterName, message.parameterValue);
        this.#parameterChanges.next({ name: message.parameterName, value: message.parameterValue });
        return;
      case 'ReadyForQuery':
        this.#transactionStatus = transactionStatusOf(message.transactionStatus);
        break;
      case 'ErrorResponse':
        if (isFatal(message.fields)) {
          const fatal = new PostgresError(message.fields);
          this.#fatal ??= fatal;
          // Past startup a FATAL ends the connection, whoever it reaches: every request in
          // flight fails with one ConnectionError whose cause is the server's error, never
          // with the PostgresError for one of them and a ConnectionError for the others.
          if (this.#state !== 'connecting') {
            this.fail(
              new ConnectionError(`server ended the connection: ${fatal.message} [${this.#description}]`, {
                code: '08006',
                cause: fatal,
              }),
            );
            return;
          }
        }
        break;
    }
    const conversation = this.#conversations.head;
    if (conversation === undefined || conversation === terminateConversation) {
      this.#unexpected(message);
      return;
    }
    if (message.name === 'DataRow' || message.name === 'CopyData') this.#pushback.rowsReceived(conversation);
    if (conversation.handle(message, this.#channel)) this.#ended(conversation);
  }

  /** A message that no conversation waits for: a FATAL while idle, or a protocol violation. */
  #unexpected(message: BackendMessage): void {
    if (message.name === 'ErrorResponse') {
      const cause = this.#fatal ?? new PostgresError(message.fields);
      this.fail(new ConnectionError(`server ended the connection: ${cause.message}`, { code: '08006', cause }));
      return;
    }
    this.fail(new ProtocolError(`unexpected ${message.name} while no request was waiting for it`));
  }

  /** The server's EOF, with `pending` bytes of an unfinished message received before it. */
  #endOfStream(pending: number): void {
    if (this.#state === 'closing' && this.#conversations.length === 1 && this.#conversations.head === terminateConversation) {
      clearTimeout(this.#closeTimer);
      this.#cancels.stop();
      this.#conversations.drain();
      this.#state = 'closed';
      this.#transport.destroy();
      this.#notices.complete();
      this.#parameterChanges.complete();
      this.#notifications.complete();
      this.#messages.complete();
      this.#closed.complete();
      return;
    }
    const fatal = this.#fatal;
    const message =
      fatal !== undefined
        ? `server ended the connection: ${fatal.message}`
        : `server closed the connection unexpectedly${pending > 0 ? ` (${pending} bytes of an unfinished message)` : ''}`;
    this.fail(new ConnectionError(`${message} [${this.#description}]`, { code: '08006', cause: fatal }));
  }
}

/** Terminate: written last by `close`; it ends when the server's EOF arrives. */
const terminateConversation: Conversation = {
  start: (channel) => channel.write(terminate()),
  handle: () => false,
  fail: () => undefined,
};

function transactionStatusOf(status: 'I' | 'T' | 'E'): TransactionStatus {
  return status === 'I' ? 'idle' : status === 'T' ? 'in transaction' : 'failed transaction';
}

function isFatal(fields: ErrorFields): boolean {
  const severity = fields.severityNonLocalized ?? fields.severity;
  return severity === 'FATAL' || severity === 'PANIC';
}

function asConnectionError(error: unknown): ConnectionError {
  if (error instanceof ConnectionError) return error;
  return new ConnectionError(`connection failed: ${error instanceof Error ? error.message : String(error)}`, {
    code: '08006',
    cause: error,
  });
}
