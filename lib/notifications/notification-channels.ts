import { Observable, Subject, filter, map, type Subscription } from 'rxjs';
import { ConnectionError } from '../errors';
import type { Notification } from './notification';
import { quoteChannelName } from '../types/quote-identifier';

/**
 * What {@link NotificationChannels} needs from a connection; `Connection` satisfies it.
 *
 * - `notificationMessages$`: every NotificationResponse, hot. It must error with the
 *   ConnectionError when the connection fails and complete when it is closed gracefully.
 * - `simpleQuery(sql)`: runs SQL text; cold; completes when the server has finished it (its
 *   ReadyForQuery), errors with the statement's error or a ConnectionError.
 */
export interface ConnectionLike {
  readonly notificationMessages$: Observable<Notification>;
  simpleQuery(sql: string): Observable<unknown>;
}

/**
 * What {@link Connection.channelEvents} emits: `listening` once, when this
 * subscription's LISTEN has completed, then one `notification` per NOTIFY on the channel.
 */
export type ChannelEvent =
  | {
      /** The event's discriminant. */
      readonly type: 'listening';
      /** The channel whose LISTEN has completed. */
      readonly channel: string;
    }
  | {
      /** The event's discriminant. */
      readonly type: 'notification';
      /** The NOTIFY's channel, payload and sender's process ID. */
      readonly notification: Notification;
    };

/** The per-channel state: one Subject, shared by every subscriber of the channel. */
class ChannelEntry {
  /** The hot Subject every subscriber of the channel listens to; registered before LISTEN is sent. */
  readonly notifications = new Subject<Notification>();
  /** Subscribers waiting for the channel to be listened to, to tell them it is. */
  readonly waiting = new Set<() => void>();
  subscribers = 0;
  /** Whether the server listens on the channel, as far as the last completed command says. */
  listening = false;
  /** The LISTEN or UNLISTEN in flight; at most one per channel, so they never overtake each other. */
  command: 'LISTEN' | 'UNLISTEN' | undefined;
  /** Taken out of the registry (unused, failed, or the connection ended); a new entry replaces it. */
  removed = false;

  constructor(
    readonly name: string,
    readonly quoted: string,
  ) {}
}

/** How the connection ended, once it has. */
type Ending = { readonly gracefully: true } | { readonly gracefully: false; readonly error: unknown };

/**
 * The notification channels of one connection: a hot Observable per channel, backed by one
 * Subject per channel, with LISTEN / UNLISTEN by reference count.
 *
 * - The first subscriber of a channel registers its Subject and then sends `LISTEN "name"`,
 *   so nothing that arrives once the server listens can slip by. Later subscribers share the
 *   Subject and the LISTEN. The last unsubscribe sends `UNLISTEN "name"`.
 * - At most one LISTEN or UNLISTEN per channel is in flight; when one completes, the next is
 *   decided by the subscriber count at that moment. So a subscriber that arrives while an
 *   UNLISTEN is pending gets a fresh LISTEN after it, and subscribe/unsubscribe churn ends in
 *   the state the subscribers want.
 * - Every subscriber sees each notification once, in the order the server sent them.
 *   Nothing is replayed: a subscriber sees what arrives while it is subscribed.
 * - Notifications on channels nobody subscribes to (a raw `LISTEN` sent as SQL, or one that
 *   arrives just after the last unsubscribe) are dropped quietly; {@link unrouted$} shows them.
 * - A LISTEN that fails (e.g. inside an aborted transaction) errors the subscribers that were
 *   waiting for it with the server's error and leaves nothing registered; subscribing again
 *   tries again.
 * - When the connection fails, every channel Observable errors with its ConnectionError; a
 *   graceful close completes them. Subscribing afterwards errors with a ConnectionError.
 *
 * Channel names are used exactly as given (quoted by the library: case, dots, spaces and
 * quotes all work) and may have at most 63 bytes (see `validateChannelName`).
 *
 * Caveats that come from PostgreSQL itself:
 * - LISTEN is transactional. Subscribing while the connection is inside an explicit
 *   transaction sends a LISTEN that only takes effect when that transaction commits; if it
 *   rolls back, the server does not listen although the subscription says `listening`.
 *   Subscribe outside transactions.
 * - A NOTIFY is delivered only if and when the sending transaction commits (several identical
 *   NOTIFYs in one transaction may arrive as one). The receiving session gets notifications
 *   only between its own transactions: while this connection is inside a transaction they wait
 *   on the server until it ends.
 * - Notifications travel on the same socket as query results. While a consumer pushes back
 *   on a large result the socket is paused and notifications wait behind the rows; a
 *   subscriber that must hear promptly wants a dedicated connection (see `listen`).
 * - The protocol has no heartbeat: a connection that silently died (half-open TCP) looks like
 *   a quiet channel. `listen` adds a heartbeat and reconnects.
 * - Subscribers are called synchronously as the messages are read; slow work there delays
 *   every other message of the connection.
 */
export class NotificationChannels {
  readonly #connection: ConnectionLike;
  readonly #channels = new Map<string, ChannelEntry>();
  readonly #unrouted = new Subject<Notification>();
  #attached: Subscription | undefined;
  #ending: Ending | undefined;

  /**
   * Notifications that no channel subscriber was waiting for (for example after a raw `LISTEN`
   * sent as SQL). Hot, nothing is kept when nobody subscribes; completes when the connection ends.
   */
  readonly unrouted$: Observable<Notification> = this.#unrouted.asObservable();

  constructor(connection: ConnectionLike) {
    this.#connection = connection;
  }

  /**
   * The names of the channels that have a Subject registered: subscribed, or with a LISTEN or
   * UNLISTEN still in flight. For diagnostics.
   */
  get registeredChannels(): readonly string[] {
    return [...this.#channels.keys()];
  }

  /**
   * A hot Observable of the notifications on `channel`. Subscribing makes the connection listen
   * (the first subscriber sends LISTEN); unsubscribing the last one sends UNLISTEN. To know when
   * the server listens — say, before you trigger a NOTIFY you want to see — use
   * {@link channelEvents}.
   *
   * Errors: TypeError / RangeError for a name that cannot be a channel (empty, NUL, over 63
   * bytes); the PostgresError of a failed LISTEN; the ConnectionError that ended the
   * connection. Completes when the connection is closed gracefully.
   *
   * @example
   * const subscription = channels.channel('jobs').subscribe((n) => console.log(n.payload));
   */
  channel(name: string): Observable<Notification> {
    return this.channelEvents(name).pipe(
      filter((event): event is Extract<ChannelEvent, { type: 'notification' }> => event.type === 'notification'),
      map((event) => event.notification),
    );
  }

  /**
   * Like {@link channel}, with readiness: emits `{ type: 'listening', channel }` first, once
   * the server has completed this channel's LISTEN (at once when it already listens for another
   * subscriber), then `{ type: 'notification', notification }` for each NOTIFY. A notification
   * that arrives before the LISTEN has completed is held back and delivered right after
   * `listening`.
   *
   * @example
   * channels.channelEvents('jobs').subscribe((event) => {
   *   if (event.type === 'listening') startProducer();
   *   else handle(event.notification.payload);
   * });
   */
  channelEvents(name: string): Observable<ChannelEvent> {
    return new Observable<ChannelEvent>((subscriber) => {
      let quoted: string;
      try {
        quoted = quoteChannelName(name);
      } catch (error) {
        subscriber.error(error);
        return;
      }
      this.#attach();
      if (this.#ending !== undefined) {
        subscriber.error(this.#endedError(this.#ending));
        return;
      }
      const entry = this.#entryFor(name, quoted);
      let active = false;
      const early: Notification[] = [];
      const inner = entry.notifications.subscribe({
        next: (notification) => {
          if (active) subscriber.next({ type: 'notification', notification });
          else early.push(notification);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      const activate = () => {
        active = true;
        subscriber.next({ type: 'listening', channel: name });
        for (const notification of early.splice(0)) subscriber.next({ type: 'notification', notification });
      };
      entry.subscribers += 1;
      entry.waiting.add(activate);
      this.#reconcile(entry);
      return () => {
        inner.unsubscribe();
        entry.waiting.delete(activate);
        entry.subscribers -= 1;
        this.#reconcile(entry);
      };
    });
  }

  /** Subscribes to the connection's notifications once, on first use. */
  #attach(): void {
    if (this.#attached !== undefined || this.#ending !== undefined) return;
    this.#attached = this.#connection.notificationMessages$.subscribe({
      next: (notification) => {
        const entry = this.#channels.get(notification.channel);
        if (entry !== undefined) entry.notifications.next(notification);
        else this.#unrouted.next(notification);
      },
      error: (error: unknown) => this.#end({ gracefully: false, error }),
      complete: () => this.#end({ gracefully: true }),
    });
  }

  #end(ending: Ending): void {
    if (this.#ending !== undefined) return;
    this.#ending = ending;
    const entries = [...this.#channels.values()];
    this.#channels.clear();
    for (const entry of entries) {
      entry.removed = true;
      entry.waiting.clear();
      if (ending.gracefully) entry.notifications.complete();
      else entry.notifications.error(ending.error);
    }
    this.#unrouted.complete();
  }

  #endedError(ending: Ending): ConnectionError {
    if (ending.gracefully) return new ConnectionError('connection is closed', { code: '08003' });
    const cause = ending.error;
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new ConnectionError(`connection is no longer usable: ${reason}`, { code: '08003', cause });
  }

  #entryFor(name: string, quoted: string): ChannelEntry {
    let entry = this.#channels.get(name);
    if (entry === undefined) {
      entry = new ChannelEntry(name, quoted);
      this.#channels.set(name, entry);
    }
    return entry;
  }

  /** Moves the channel towards what its subscribers want, one command at a time. */
  #reconcile(entry: ChannelEntry): void {
    if (entry.removed || entry.command !== undefined) return;
    if (entry.subscribers > 0) {
      if (entry.listening) this.#activate(entry);
      else this.#send(entry, 'LISTEN');
    } else if (entry.listening) {
      this.#send(entry, 'UNLISTEN');
    } else {
      this.#remove(entry);
    }
  }

  /** Tells the waiting subscribers that the server listens. */
  #activate(entry: ChannelEntry): void {
    for (const activate of [...entry.waiting]) {
      entry.waiting.delete(activate);
      activate();
    }
  }

  #send(entry: ChannelEntry, command: 'LISTEN' | 'UNLISTEN'): void {
    entry.command = command;
    this.#connection.simpleQuery(`${command} ${entry.quoted}`).subscribe({
      error: (error: unknown) => this.#failed(entry, command, error),
      complete: () => this.#done(entry, command),
    });
  }

  #done(entry: ChannelEntry, command: 'LISTEN' | 'UNLISTEN'): void {
    entry.command = undefined;
    entry.listening = command === 'LISTEN';
    this.#reconcile(entry);
  }

  #failed(entry: ChannelEntry, command: 'LISTEN' | 'UNLISTEN', error: unknown): void {
    entry.command = undefined;
    if (entry.removed) return;
    if (command === 'LISTEN') {
      // The server does not listen. Everyone subscribed now was waiting for this LISTEN (a
      // channel stops listening only once it has no subscribers), so all of them get the error.
      this.#remove(entry);
      entry.waiting.clear();
      entry.notifications.error(error);
      return;
    }
    // UNLISTEN failed (say, inside an aborted transaction): the server still listens. Trying
    // again could loop, so a channel nobody wants is dropped (its notifications are dropped
    // quietly); one that was subscribed again meanwhile is listening already.
    if (entry.subscribers > 0) this.#activate(entry);
    else this.#remove(entry);
  }

  #remove(entry: ChannelEntry): void {
    entry.removed = true;
    if (this.#channels.get(entry.name) === entry) this.#channels.delete(entry.name);
  }
}
