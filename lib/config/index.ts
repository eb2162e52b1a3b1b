export * from './connection-config';
export type { ConnectionSettings } from './connection-settings';
export { isUnixSocketHost } from './connection-settings';
export { parseConnectionString } from './connection-string';
export { environmentVariables, readEnvironmentSettings } from './environment';
export {
  defaultHost,
  defaultPort,
  defaultSslMode,
  maxMaxMessageSize,
  minMaxMessageSize,
  resolveConnectionConfig,
} from './resolve-connection-config';
export { defaultPasswordFilePath, findPassword, parsePasswordFile, passwordFromFile, resolvePassword } from './password-file';
export type { PasswordFileEntry, PasswordFileTarget, PasswordLookupOptions } from './password-file';
export { sslPolicy } from './ssl-policy';
export type { SslPolicy, SslPolicyConfig } from './ssl-policy';
