export type { Notification } from './notification';
export { NotificationChannels } from './notification-channels';
export type { ChannelEvent, ConnectionLike } from './notification-channels';
export { notify } from './notify';
export type { QueryConnection } from './notify';
