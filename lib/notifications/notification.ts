/**
 * A NOTIFY delivered to a connection that LISTENs on its channel: the protocol layer's
 * NotificationResponse, the one definition that notification channels, listeners and pools
 * share.
 */
export type { Notification } from '../protocol';
