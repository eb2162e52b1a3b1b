/**
 * A NOTIFY delivered to a connection that LISTENs on its channel (a NotificationResponse).
 * Structurally the same as the protocol layer's `Notification`, so a `Connection`'s
 * `notificationMessages$` can be used wherever this type is expected.
 */
export interface Notification {
  /** The channel name exactly as the server reports it (case and punctuation kept). */
  readonly channel: string;
  /** The payload text; `''` when the NOTIFY had none. */
  readonly payload: string;
  /** The process ID of the backend whose transaction sent the NOTIFY (possibly this connection's own). */
  readonly processId: number;
}
