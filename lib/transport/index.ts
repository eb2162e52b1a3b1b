export { Transport } from './transport';
export type { ReleaseCallback } from './transport';
export { isUnreachable, openSocket } from './open-socket';
export { isTlsHandshakeFailure, negotiateTls } from './negotiate-tls';
export type { NegotiatedSocket, TlsRequest } from './negotiate-tls';
export { socketAddress, describeSocketAddress } from './socket-path';
export type { SocketAddress } from './socket-path';
export { sendCancelRequest } from './send-cancel-request';
