import { Observable, Subject, from, type Subscription } from 'rxjs';
import { ConnectionError, PostgresError, ProtocolError, type ErrorFields } from '../errors';
import { sendCancelRequest, type SocketAddress, type Transport } from '../transport';
import { BackendMessageDecoder, terminate, type BackendMessage } from '../wire';
import type { Conversation, ConversationChannel } from './conversation';
import { ConversationQueue } from './conversation-queue';

/** Where a connection is in its life. */
export type ConnectionState = 'connecting' | 'open' | 'closing' | 'closed' | 'failed';

/** A runtime parameter the server reported with ParameterStatus. */
export interface ParameterChange {
  readonly name: string;
  readonly value: string;
}

/** A NotificationResponse: a NOTIFY on a channel this connection listens to. */
export interface Notification {
  readonly channel: string;
  readonly payload: string;
  /** The backend process that sent the NOTIFY. */
  readonly processId: number;
}

/** The identity of a backend for CancelRequest, from BackendKeyData. */
export interface BackendKey {
  readonly processId: number;
  readonly secretKey: number;
}

const defaultCloseTimeout = 5_000;

/**
 * One protocol-level connection: turns the transport's bytes into backend messages, routes
 * them to the running conversations in FIFO order, and keeps the connection-wide state
 * (runtime parameters, BackendKeyData, notices, notifications, how it ended).
 *
 * The first fatal problem wins: a socket error, EOF, a protocol violation or a FATAL
 * ErrorResponse fails every conversation in flight and `closed$`, and every later request
 * fails at once with a ConnectionError whose cause is that first problem.
 */
export class ProtocolConnection {
  readonly #transport: Transport;
  readonly #decoder: BackendMessageDecoder;
  readonly #description: string;
  /** Written conversations, oldest first; the first one receives the messages. */
  readonly #conversations = new ConversationQueue();
  /** Conversations not written yet because a barrier (COPY, a cancel in progress) holds them back. */
  readonly #held: Conversation[] = [];
  readonly #cancelAddress: SocketAddress | undefined;
  /** A CancelRequest in flight: later writes wait until it can no longer hit them. */
  #cancelling: Cancelling | undefined;
  /** The conversation that received rows in the chunk being decoded (for pushback). */
  #receivingRows: Conversation | undefined;
  #pushbackWait: Subscription | undefined;
  /** The conversation whose pending pushback keeps the socket paused. */
  #pushbackOwner: Conversation | undefined;
  readonly #messages = new Subject<BackendMessage>();
  readonly #notices = new Subject<ErrorFields>();
  readonly #notifications = new Subject<Notification>();
  readonly #parameterChanges = new Subject<ParameterChange>();
  readonly #closed = new Subject<void>();
  readonly #parameters = new Map<string, string>();
  readonly #channel: ConversationChannel;
  #state: ConnectionState = 'connecting';
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
    options: { readonly maxMessageSize: number; readonly description: string; readonly cancelAddress?: SocketAddress },
  ) {
    this.#transport = transport;
    this.#cancelAddress = options.cancelAddress;
    this.#description = options.description;
    this.#decoder = new BackendMessageDecoder({ maxMessageSize: options.maxMessageSize });
    this.#channel = {
      write: (bytes, released) => this.#transport.write(bytes, released),
      failConnection: (error) => this.fail(error),
    };
    transport.chunks$.subscribe({
      next: (chunk) => this.#receive(chunk),
      error: (error: unknown) => this.fail(asConnectionError(error)),
      complete: () => this.#endOfStream(),
    });
  }

  /** Where the connection is in its life. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The problem that ended the connection, once it has failed. */
  get failure(): ConnectionError | undefined {
    return this.#failure;
  }

  /** The transport, for pushback (pause/resume) and drain-aware writers. */
  get transport(): Transport {
    return this.#transport;
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
   * Starts a conversation: writes its messages now (pipelined behind those in flight) and
   * routes its replies to it in FIFO order. On a connection that is not usable the
   * conversation fails at once with a ConnectionError linking the cause.
   */
  enqueue(conversation: Conversation): void {
    if (this.#state !== 'open' && !(this.#state === 'connecting' && this.#conversations.length === 0)) {
      conversation.fail(this.unusableError());
      return;
    }
    if (this.#held.length > 0 || !this.#mayWrite(conversation)) {
      this.#held.push(conversation);
      return;
    }
    this.#write(conversation);
  }

  /**
   * The subscriber of a conversation went away. A conversation not written yet is simply
   * dropped. A written one is detached (its replies are read and discarded up to its
   * ReadyForQuery) and, when it is the one the server is running and nothing was written
   * after it, a CancelRequest stops it; later writes are held back until that cancel can no
   * longer hit them. With requests pipelined behind it the cancel is skipped, since it could
   * land on one of those.
   */
  abandon(conversation: Conversation): void {
    const heldAt = this.#held.indexOf(conversation);
    if (heldAt >= 0) {
      this.#held.splice(heldAt, 1);
      return;
    }
    // Written (or already ended, where detaching does nothing): stop delivering.
    conversation.detach?.();
    // Its consumer is gone, so nobody will settle its pushback: read on, or the replies up to
    // its ReadyForQuery (and everything behind it) would wait forever.
    if (this.#pushbackOwner === conversation) this.#pushbackWait?.unsubscribe();
    if (
      conversation.cancelOnAbandon !== false &&
      this.#conversations.head === conversation &&
      this.#conversations.length === 1 &&
      this.#state === 'open' &&
      this.#cancelling === undefined
    ) {
      this.#cancel(conversation);
    }
  }

  #cancel(conversation: Conversation): void {
    const key = this.#backendKey;
    const address = this.#cancelAddress;
    if (key === undefined || address === undefined) return;
    const cancelling: Cancelling = { conversation, ended: false, sent: false };
    this.#cancelling = cancelling;
    const settle = () => {
      cancelling.sent = true;
      this.#afterCancelStep(cancelling);
    };
    sendCancelRequest(address, key).subscribe({ complete: settle, error: settle });
  }

  /**
   * Later writes go out once the cancelled conversation has ended AND the server has closed
   * the cancel socket: the postmaster signals the backend (twice: the process and its process
   * group) before that close, so no SIGINT of this cancel can arrive during a later statement.
   * A signal that reaches an idle backend is discarded by the server.
   */
  #afterCancelStep(cancelling: Cancelling): void {
    if (this.#cancelling !== cancelling || !cancelling.ended || !cancelling.sent) return;
    this.#cancelling = undefined;
    this.#releaseHeld();
  }

  /** Whether a conversation may be written now, given the barriers in force. */
  #mayWrite(conversation: Conversation): boolean {
    if (this.#cancelling !== undefined) return false;
    if (this.#conversations.length === 0) return true;
    if (conversation.exclusive === true) return false;
    return !this.#conversations.hasExclusive;
  }

  #write(conversation: Conversation): void {
    this.#conversations.push(conversation);
    conversation.start(this.#channel);
  }

  /** Writes held conversations as far as the barriers allow. */
  #releaseHeld(): void {
    let released = 0;
    while (released < this.#held.length && this.#state === 'open' && this.#mayWrite(this.#held[released])) {
      this.#write(this.#held[released]);
      released += 1;
    }
    // One splice for the batch: shifting one by one is quadratic with thousands held.
    if (released > 0) this.#held.splice(0, released);
  }

  /** A conversation ended (its ReadyForQuery arrived): move on. */
  #ended(conversation: Conversation): void {
    this.#conversations.shift();
    const cancelling = this.#cancelling;
    if (cancelling !== undefined && cancelling.conversation === conversation) {
      cancelling.ended = true;
      this.#afterCancelStep(cancelling);
    } else if (this.#held.length > 0) {
      this.#releaseHeld();
    }
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
   * Ends the connection gracefully: sends Terminate after what is already written and waits
   * for the server's EOF, at most `timeout` milliseconds (then the socket is destroyed and the
   * promise rejects). Idempotent: later calls return the same promise. On a failed connection
   * it rejects with the error that ended it.
   */
  close(options: { readonly timeout?: number } = {}): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    if (this.#state === 'failed' || this.#state === 'closed') {
      this.#closing = this.#state === 'failed' ? Promise.reject(this.#failure) : Promise.resolve();
      this.#closing.catch(() => undefined);
      return this.#closing;
    }
    this.#closing = new Promise<void>((resolve, reject) => {
      this.#closed.subscribe({ complete: resolve, error: reject });
    });
    this.#closing.catch(() => undefined);
    this.#state = 'closing';
    // A pending pushback keeps the socket paused; the server's EOF must still be read.
    this.#pushbackWait?.unsubscribe();
    for (const held of this.#held.splice(0)) held.fail(this.unusableError());
    const timeout = options.timeout ?? defaultCloseTimeout;
    this.#closeTimer = setTimeout(() => {
      this.fail(
        new ConnectionError(`close: the server did not end the connection within ${timeout} ms`, { code: '08006' }),
      );
    }, timeout);
    this.#conversations.push(terminateConversation);
    terminateConversation.start(this.#channel);
    this.#transport.end();
    return this.#closing;
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
    this.#transport.destroy();
    this.#pushbackWait?.unsubscribe();
    const inFlight = [...this.#conversations.drain(), ...this.#held.splice(0)];
    for (const conversation of inFlight) conversation.fail(error);
    this.#notices.complete();
    this.#parameterChanges.complete();
    this.#notifications.error(error);
    // messages$ is a trace: it ends quietly, so a next-only observer is not an unhandled error.
    this.#messages.complete();
    this.#closed.error(error);
  }

  #receive(chunk: Buffer): void {
    this.#receivingRows = undefined;
    try {
      this.#decoder.decode(chunk, this.#dispatch);
    } catch (error) {
      this.fail(asConnectionError(error));
      return;
    }
    const receiver = this.#receivingRows as Conversation | undefined;
    if (receiver?.pushback !== undefined) this.#applyPushback(receiver);
  }

  /** Pauses the socket while the receiver's pushback is pending (postgres_async's pushback). */
  #applyPushback(receiver: Conversation): void {
    const pending = receiver.pushback?.();
    if (pending === undefined || pending === null || this.#state === 'failed' || this.#state === 'closed') return;
    let settled = false;
    let paused = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      if (paused) this.#transport.resume();
      this.#pushbackWait = undefined;
      this.#pushbackOwner = undefined;
    };
    const wait = from(pending).subscribe({ next: settle, error: settle, complete: settle });
    if (!settled) {
      paused = true;
      this.#transport.pause();
      this.#pushbackWait = wait;
      this.#pushbackOwner = receiver;
      wait.add(settle);
    }
  }

  readonly #dispatch = (message: BackendMessage): void => {
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
      case 'ErrorResponse':
        if (isFatal(message.fields)) this.#fatal ??= new PostgresError(message.fields);
        break;
    }
    const conversation = this.#conversations.head;
    if (conversation === undefined || conversation === terminateConversation) {
      this.#unexpected(message);
      return;
    }
    if (message.name === 'DataRow' || message.name === 'CopyData') this.#receivingRows = conversation;
    if (conversation.handle(message, this.#channel)) this.#ended(conversation);
  };

  /** A message that no conversation waits for: a FATAL while idle, or a protocol violation. */
  #unexpected(message: BackendMessage): void {
    if (message.name === 'ErrorResponse') {
      const cause = this.#fatal ?? new PostgresError(message.fields);
      this.fail(
        new ConnectionError(`server ended the connection: ${cause.message}`, { code: '08006', cause }),
      );
      return;
    }
    this.fail(new ProtocolError(`unexpected ${message.name} while no request was waiting for it`));
  }

  #endOfStream(): void {
    if (this.#state === 'closing' && this.#conversations.length === 1 && this.#conversations.head === terminateConversation) {
      clearTimeout(this.#closeTimer);
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
    const pending = this.#decoder.bufferedBytes;
    const message =
      fatal !== undefined
        ? `server ended the connection: ${fatal.message}`
        : `server closed the connection unexpectedly${pending > 0 ? ` (${pending} bytes of an unfinished message)` : ''}`;
    this.fail(new ConnectionError(`${message} [${this.#description}]`, { code: '08006', cause: fatal }));
  }
}

/** A CancelRequest in progress and what must happen before later writes are safe. */
interface Cancelling {
  readonly conversation: Conversation;
  /** The cancelled conversation's ReadyForQuery has arrived. */
  ended: boolean;
  /** The server has closed the cancel socket (or it failed). */
  sent: boolean;
}

/** Terminate: written last by `close`; it ends when the server's EOF arrives. */
const terminateConversation: Conversation = {
  start: (channel) => channel.write(terminate()),
  handle: () => false,
  fail: () => undefined,
};

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
