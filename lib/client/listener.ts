import { Observable, Subscription, defer, share, startWith, tap } from 'rxjs';
import { connect } from './connect';
import { heartbeat } from './heartbeat';
import type { Connection } from './connection';
import { resolveConnectionConfig, type ConnectionConfig } from '../config';
import { ConnectionError } from '../errors';
import { backoffDelay, reconnectPolicy, type ReconnectOptions, type ReconnectPolicy } from './backoff';
import type { Notification } from '../notifications/notification';
import { quoteIdentifier, validateChannelName } from '../types/quote-identifier';

/** Options of {@link listen}. */
export interface ListenOptions {
  /**
   * How often the listener checks its connection, in milliseconds (default 10000): an empty
   * query, which must be answered within the same interval. A connection that stays silent is
   * taken for dead (half-open) and replaced, so a loss is noticed within two intervals.
   */
  readonly heartbeatInterval?: number;
  /**
   * How long one attempt may take to connect, log in and LISTEN, in milliseconds (default: two
   * heartbeat intervals). An attempt that takes longer is abandoned and retried. The config's
   * own `connectTimeout`, if any, still bounds the connect part.
   */
  readonly connectTimeout?: number;
  /** The wait between attempts: capped exponential backoff with full jitter. */
  readonly reconnect?: ReconnectOptions;
}

/**
 * The listener has a connection that listens on every channel. `reconnect` is false for the
 * first connection of this listener and true after a loss: notifications sent while it was
 * away are lost, so this is the moment to re-read whatever state they stand for.
 * `processId` is the backend's process ID.
 */
export interface ListenerConnected {
  /** The event's discriminant. */
  readonly type: 'connected';
  /** False for the listener's first connection, true after a loss (notifications meanwhile were lost). */
  readonly reconnect: boolean;
  /** The backend's process ID (undefined if the server sent no BackendKeyData). */
  readonly processId: number | undefined;
}

/** A NOTIFY on one of the listener's channels. */
export interface ListenerNotification {
  /** The event's discriminant. */
  readonly type: 'notification';
  /** The NOTIFY's channel, payload and sender's process ID. */
  readonly notification: Notification;
}

/**
 * The listener lost its connection or an attempt to make one failed; it tries again after
 * `retryDelay` milliseconds. `attempt` counts the failures since the last `connected` (1 for
 * the loss itself). The listener hears nothing until the next `connected`.
 */
export interface ListenerDisconnected {
  /** The event's discriminant. */
  readonly type: 'disconnected';
  /** Why: the error that ended the connection or failed the attempt. */
  readonly error: unknown;
  /** Failures since the last `connected`, counting from 1 (the loss itself). */
  readonly attempt: number;
  /** Milliseconds until the next attempt. */
  readonly retryDelay: number;
}

/** What {@link listen} emits. */
export type ListenerEvent = ListenerConnected | ListenerNotification | ListenerDisconnected;

const defaultHeartbeatInterval = 10_000;

/**
 * A listener that survives connection loss. It owns a dedicated connection: it connects,
 * LISTENs on every channel (one round trip), emits `connected`, then forwards the
 * notifications on those channels. After any loss — the server ends the connection, the
 * network fails, a heartbeat goes unanswered, an attempt fails or takes longer than
 * `connectTimeout` — it emits `disconnected` and tries again after a capped exponential
 * backoff with full jitter, LISTENs again and emits `connected` with `reconnect: true`. It
 * never gives up by itself; stop it by unsubscribing, or on a `disconnected` event whose
 * error you consider final (a wrong password, say) with `takeWhile`. Aborting the config's
 * `signal` ends it with the abort's ConnectionError.
 *
 * Delivery is at most once: notifications sent while the listener is disconnected are lost,
 * which is what `connected` with `reconnect: true` is for (re-read the state). Notifications
 * that arrive while LISTEN is still in flight are delivered right after `connected`.
 *
 * Half-open connections (a peer that vanished without a FIN, a proxy that stopped forwarding)
 * are found by the heartbeat: every `heartbeatInterval` an empty query is sent and must be
 * answered within one interval, or the connection is destroyed and replaced — so a dead
 * connection is noticed within two intervals. TCP keepalive stays on as the config says
 * (on by default).
 *
 * Sharing: the returned Observable is shared. The first subscriber starts the listener,
 * later ones join its connection, and when the last one unsubscribes the connection is closed
 * and the timers stop; a new subscriber after that starts afresh. A subscriber that joins
 * while the listener is connected first gets the current `connected` event, so it too knows
 * when to sync. Each call of `listen` makes its own listener (its own connection).
 *
 * Errors: only for bad arguments, at subscribe and before any I/O — ConfigError for the
 * connection config, TypeError / RangeError for a channel name (empty, NUL, over 63 bytes) or
 * an option out of range — and when `config.signal` aborts. Connection problems are
 * `disconnected` events, never errors.
 *
 * @example
 * listen('postgres://app@db/app', ['jobs', 'cache-invalidation']).subscribe((event) => {
 *   if (event.type === 'connected') resync();
 *   else if (event.type === 'notification') handle(event.notification);
 * });
 */
export function listen(
  config: ConnectionConfig | string,
  channels: string | readonly string[],
  options: ListenOptions = {},
): Observable<ListenerEvent> {
  let current: ListenerConnected | undefined;
  const shared$ = defer(() => {
    resolveConnectionConfig(config);
    return reconnectingListener(config, listenerSettings(channels, options));
  }).pipe(
    tap({
      next: (event) => {
        if (event.type === 'connected') current = event;
        else if (event.type === 'disconnected') current = undefined;
      },
      unsubscribe: () => (current = undefined),
      error: () => (current = undefined),
    }),
    share(),
  );
  return defer(() => (current === undefined ? shared$ : shared$.pipe(startWith(current))));
}

interface ListenerSettings {
  readonly channelNames: ReadonlySet<string>;
  /** `LISTEN "a"; LISTEN "b"`. */
  readonly listenSql: string;
  readonly heartbeatInterval: number;
  readonly connectTimeout: number;
  readonly reconnect: ReconnectPolicy;
}

function listenerSettings(channels: string | readonly string[], options: ListenOptions): ListenerSettings {
  const names = typeof channels === 'string' ? [channels] : [...channels];
  if (names.length === 0) throw new TypeError('listen: name at least one channel');
  for (const name of names) validateChannelName(name);
  const channelNames = new Set(names);
  const heartbeatInterval = positiveMilliseconds('heartbeatInterval', options.heartbeatInterval ?? defaultHeartbeatInterval);
  const connectTimeout = positiveMilliseconds('connectTimeout', options.connectTimeout ?? 2 * heartbeatInterval);
  return {
    channelNames,
    listenSql: [...channelNames].map((name) => `LISTEN ${quoteIdentifier(name)}`).join('; '),
    heartbeatInterval,
    connectTimeout,
    reconnect: reconnectPolicy(options.reconnect),
  };
}

function positiveMilliseconds(name: string, value: unknown): number {
  // setTimeout's limit: longer delays fire at once.
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 2_147_483_647) {
    throw new RangeError(`listen: ${name} must be a number of milliseconds > 0, got ${String(value)}`);
  }
  return value;
}

/** Runs sessions one after another, with backoff in between, until unsubscribed. */
function reconnectingListener(config: ConnectionConfig | string, settings: ListenerSettings): Observable<ListenerEvent> {
  const signal = typeof config === 'string' ? undefined : config.signal;
  return new Observable<ListenerEvent>((subscriber) => {
    let failures = 0;
    let connectedBefore = false;
    let session: Subscription | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    const start = () => {
      retryTimer = undefined;
      session = listenerSession(config, settings, connectedBefore).subscribe({
        next: (event) => {
          if (event.type === 'connected') {
            failures = 0;
            connectedBefore = true;
          }
          subscriber.next(event);
        },
        error: (error: unknown) => {
          if (signal?.aborted) {
            // The config's AbortSignal ends the listener: every further attempt would be aborted too.
            subscriber.error(error);
            return;
          }
          failures += 1;
          const retryDelay = backoffDelay(failures, settings.reconnect);
          subscriber.next({ type: 'disconnected', error, attempt: failures, retryDelay });
          if (!subscriber.closed) retryTimer = setTimeout(start, retryDelay);
        },
      });
    };
    start();
    return () => {
      clearTimeout(retryTimer);
      session?.unsubscribe();
    };
  });
}

/**
 * One connection's life: connect, LISTEN, `connected`, notifications and heartbeats. Errors
 * on any loss; never completes. Unsubscribing (or an error) closes the connection: gracefully
 * when the listener is stopped, at once when the connection is considered lost.
 */
function listenerSession(config: ConnectionConfig | string, settings: ListenerSettings, reconnect: boolean): Observable<ListenerEvent> {
  return new Observable<ListenerEvent>((subscriber) => {
    let connection: Connection | undefined;
    let lost = false;
    const lose = (error: unknown) => {
      lost = true;
      subscriber.error(error);
    };
    const limit = settings.connectTimeout;
    const establishing = setTimeout(
      () => lose(new ConnectionError(`listen: could not connect and LISTEN within ${limit} ms`, { code: '08001' })),
      limit,
    );
    const subscriptions = new Subscription(() => clearTimeout(establishing));
    subscriptions.add(
      connect(config).subscribe({
        next: (opened) => {
          connection = opened;
          subscriptions.add(
            onConnection(opened, settings, {
              connected: () => {
                clearTimeout(establishing);
                subscriber.next({ type: 'connected', reconnect, processId: opened.processId });
              },
              notification: (notification) => subscriber.next({ type: 'notification', notification }),
              lost: lose,
            }),
          );
        },
        error: lose,
      }),
    );
    return () => {
      subscriptions.unsubscribe();
      // Destroy a lost connection at once (a half-open one would never answer a Terminate); a
      // stopped listener says goodbye, bounded by one heartbeat interval.
      void connection?.close({ timeout: lost ? 0 : settings.heartbeatInterval });
    };
  });
}

interface SessionHandlers {
  connected(): void;
  notification(notification: Notification): void;
  lost(error: unknown): void;
}

/** Listens on a fresh connection and watches it; returns what to unsubscribe. */
function onConnection(connection: Connection, settings: ListenerSettings, handlers: SessionHandlers): Subscription {
  const subscriptions = new Subscription();
  let listening = false;
  const early: Notification[] = [];
  // Subscribed before LISTEN is sent, so nothing slips by.
  subscriptions.add(
    connection.notificationMessages$.subscribe({
      next: (notification) => {
        if (!settings.channelNames.has(notification.channel)) return;
        if (listening) handlers.notification(notification);
        else early.push(notification);
      },
      error: (error: unknown) => handlers.lost(error),
      complete: () => handlers.lost(new ConnectionError('listen: the connection was closed', { code: '08003' })),
    }),
  );
  subscriptions.add(
    connection.simpleQuery(settings.listenSql).subscribe({
      error: (error: unknown) => handlers.lost(error),
      complete: () => {
        listening = true;
        handlers.connected();
        for (const notification of early.splice(0)) handlers.notification(notification);
        subscriptions.add(heartbeat(connection, settings.heartbeatInterval).subscribe({ error: (error: unknown) => handlers.lost(error) }));
      },
    }),
  );
  return subscriptions;
}
