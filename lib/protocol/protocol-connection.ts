import { Observable, Subject } from 'rxjs';
import { ConnectionError, PostgresError, ProtocolError, type ErrorFields } from '../errors';
import type { Transport } from '../transport';
import { BackendMessageDecoder, terminate, type BackendMessage } from '../wire';
import type { Conversation, ConversationChannel } from './conversation';

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
  readonly #conversations: Conversation[] = [];
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

  constructor(transport: Transport, options: { readonly maxMessageSize: number; readonly description: string }) {
    this.#transport = transport;
    this.#description = options.description;
    this.#decoder = new BackendMessageDecoder({ maxMessageSize: options.maxMessageSize });
    this.#channel = {
      write: (bytes) => this.#transport.write(bytes),
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
    this.#conversations.push(conversation);
    conversation.start(this.#channel);
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
    const inFlight = this.#conversations.splice(0);
    for (const conversation of inFlight) conversation.fail(error);
    this.#notices.complete();
    this.#parameterChanges.complete();
    this.#notifications.error(error);
    // messages$ is a trace: it ends quietly, so a next-only observer is not an unhandled error.
    this.#messages.complete();
    this.#closed.error(error);
  }

  #receive(chunk: Buffer): void {
    try {
      this.#decoder.decode(chunk, this.#dispatch);
    } catch (error) {
      this.fail(asConnectionError(error));
    }
  }

  readonly #dispatch = (message: BackendMessage): void => {
    if (this.#state === 'failed' || this.#state === 'closed') return;
    this.#messages.next(message);
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
    const conversation = this.#conversations[0];
    if (conversation === undefined || conversation === terminateConversation) {
      this.#unexpected(message);
      return;
    }
    if (conversation.handle(message, this.#channel)) this.#conversations.shift();
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
    if (this.#state === 'closing' && this.#conversations.length === 1 && this.#conversations[0] === terminateConversation) {
      clearTimeout(this.#closeTimer);
      this.#conversations.length = 0;
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
