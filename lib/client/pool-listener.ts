import {
  EMPTY,
  Observable,
  ReplaySubject,
  Subject,
  Subscription,
  catchError,
  defer,
  filter,
  map,
  of,
  share,
  switchMap,
  takeUntil,
  throwError,
  timer,
} from 'rxjs';
import type { ConnectionConfig } from '../config';
import { ConnectionError } from '../errors';
import { backoffDelay, reconnectPolicy, type ReconnectPolicy } from './backoff';
import type { Notification } from '../notifications/notification';
import { validateChannelName } from '../types/quote-identifier';
import { connect } from './connect';
import type { Connection } from './connection';
import { heartbeat } from './heartbeat';
import type { ListenOptions } from './listener';

/**
 * What `pool.channelEvents(channel)` emits:
 * - `listening` each time the listener's connection has completed this channel's LISTEN:
 *   first with `reconnect: false`, then with `reconnect: true` after every loss of the
 *   connection —
 *   notifications sent meanwhile are lost, so that is when to re-read the state they stand for;
 * - `notification` for each NOTIFY on the channel;
 * - `disconnected` when the listener lost its connection (or an attempt failed); it tries
 *   again with backoff, and nothing is heard until the next `listening`.
 */
export type PoolChannelEvent =
  | {
      /** The event's discriminant. */
      readonly type: 'listening';
      /** The channel now listened to. */
      readonly channel: string;
      /** False the first time, true after a loss of the listener's connection. */
      readonly reconnect: boolean;
    }
  | {
      /** The event's discriminant. */
      readonly type: 'notification';
      /** The NOTIFY's channel, payload and sender's process ID. */
      readonly notification: Notification;
    }
  | {
      /** The event's discriminant. */
      readonly type: 'disconnected';
      /** The channel no longer listened to until the next `listening`. */
      readonly channel: string;
      /** The error that ended the listener's connection or failed an attempt. */
      readonly error: unknown;
    };

/** One state of the listener's connection. */
type ListenerSession =
  { readonly type: 'connected'; readonly connection: Connection } | { readonly type: 'disconnected'; readonly error: unknown };

const defaultHeartbeatInterval = 10_000;

/**
 * A pool's notification listener: one dedicated connection, shared by every channel, made on
 * the first channel subscription and closed after the last one leaves. Each channel is
 * reference-counted on that connection (LISTEN for its first subscriber, UNLISTEN after its
 * last: the connection's own NotificationChannels). When the connection is lost (server gone,
 * network, an unanswered heartbeat) it reconnects with capped, jittered backoff and every
 * subscribed channel is LISTENed again.
 */
export class PoolListener {
  readonly #sessions$: Observable<ListenerSession>;
  readonly #ended = new Subject<void>();
  readonly #closing = new Set<Promise<void>>();
  #isEnded = false;

  constructor(config: ConnectionConfig | string, options: ListenOptions) {
    const heartbeatInterval = options.heartbeatInterval ?? defaultHeartbeatInterval;
    const settings: ListenerSettings = {
      heartbeatInterval,
      connectTimeout: options.connectTimeout ?? 2 * heartbeatInterval,
      reconnect: reconnectPolicy(options.reconnect),
    };
    this.#sessions$ = listenerSessions(config, settings, (closing) => {
      this.#closing.add(closing);
      void closing.then(() => this.#closing.delete(closing));
    }).pipe(share({ connector: () => new ReplaySubject<ListenerSession>(1), resetOnRefCountZero: true }));
  }

  /**
   * The events of `channel` (see {@link PoolChannelEvent}). Hot per channel, cold per
   * subscription: subscribing joins (or starts) the listener and LISTENs if this is the
   * channel's first subscriber; unsubscribing the last one UNLISTENs, and the last of all
   * closes the listener's connection. Completes when the pool ends.
   *
   * Errors: TypeError / RangeError for a name that cannot be a channel (at subscribe, no I/O);
   * the server's PostgresError when it refuses the LISTEN on a healthy connection (a hot
   * standby: 25006). Connection problems are `disconnected` events, never errors.
   */
  channelEvents(channel: string): Observable<PoolChannelEvent> {
    return defer(() => {
      validateChannelName(channel);
      if (this.#isEnded) return EMPTY;
      // Per subscription: its first `listening` is not a reconnect, whenever it joined.
      let listenedBefore = false;
      return this.#sessions$.pipe(
        switchMap((session): Observable<PoolChannelEvent> => {
          if (session.type === 'disconnected') return of({ type: 'disconnected', channel, error: session.error });
          return session.connection.channelEvents(channel).pipe(
            map((event): PoolChannelEvent => {
              if (event.type !== 'listening') return event;
              const reconnect = listenedBefore;
              listenedBefore = true;
              return { type: 'listening', channel, reconnect };
            }),
            // A loss shows up as the next session's `disconnected`. A LISTEN the server refuses
            // (a standby: 25006) would be refused again: that reaches the subscriber.
            catchError((error: unknown) => (error instanceof ConnectionError ? EMPTY : throwError(() => error))),
          );
        }),
        takeUntil(this.#ended),
      );
    });
  }

  /** The notifications on `channel`: {@link channelEvents} without the connection events. */
  notifications(channel: string): Observable<Notification> {
    return this.channelEvents(channel).pipe(
      filter((event): event is Extract<PoolChannelEvent, { type: 'notification' }> => event.type === 'notification'),
      map((event) => event.notification),
    );
  }

  /** Completes every channel subscription, closes the connection; resolves when it is closed. Never rejects. */
  async end(): Promise<void> {
    this.#isEnded = true;
    this.#ended.next();
    await Promise.all([...this.#closing]);
  }
}

interface ListenerSettings {
  readonly heartbeatInterval: number;
  readonly connectTimeout: number;
  readonly reconnect: ReconnectPolicy;
}

/**
 * The listener's connection over time: `connected` with each new connection, `disconnected`
 * after each loss or failed attempt, then a retry after a backoff delay. Never completes;
 * unsubscribing closes the connection (`onClose` gets the close's promise).
 */
function listenerSessions(
  config: ConnectionConfig | string,
  settings: ListenerSettings,
  onClose: (closing: Promise<void>) => void,
): Observable<ListenerSession> {
  return new Observable<ListenerSession>((subscriber) => {
    let failures = 0;
    let attempt: Subscription | undefined;
    let connection: Connection | undefined;
    let retry: Subscription | undefined;
    const start = () => {
      const current = new Subscription();
      attempt = current;
      let lostAlready = false;
      const lose = (error: unknown) => {
        if (lostAlready || subscriber.closed) return;
        lostAlready = true;
        current.unsubscribe();
        if (connection !== undefined) onClose(connection.close({ timeout: 0 }));
        connection = undefined;
        failures += 1;
        subscriber.next({ type: 'disconnected', error });
        retry = timer(backoffDelay(failures, settings.reconnect)).subscribe(start);
      };
      const attemptTimer = timer(settings.connectTimeout).subscribe(() =>
        lose(new ConnectionError(`pool listener: could not connect within ${settings.connectTimeout} ms`, { code: '08001' })),
      );
      current.add(attemptTimer);
      const connecting = connect(config).subscribe({
        next: (opened) => {
          connection = opened;
          attemptTimer.unsubscribe();
          failures = 0;
          current.add(
            opened.closed$.subscribe({
              error: lose,
              complete: () => lose(new ConnectionError('pool listener: the connection was closed', { code: '08003' })),
            }),
          );
          current.add(heartbeat(opened, settings.heartbeatInterval, 'pool listener').subscribe({ error: lose }));
          subscriber.next({ type: 'connected', connection: opened });
        },
        error: lose,
      });
      current.add(connecting);
    };
    start();
    return () => {
      retry?.unsubscribe();
      attempt?.unsubscribe();
      if (connection !== undefined) onClose(connection.close({ timeout: settings.heartbeatInterval }));
      connection = undefined;
    };
  });
}
