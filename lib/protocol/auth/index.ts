export { md5PasswordMessage, md5StoredPassword } from './md5-password';
export { prepareScramPassword, saslPrep } from './sasl-prep';
export {
  DEFAULT_SCRAM_MAX_ITERATIONS,
  SCRAM_SHA_256,
  SCRAM_SHA_256_PLUS,
  scramSha256StoredPassword,
  startScramSession,
} from './scram-sha-256';
export type { ScramChannelBinding, ScramMechanism, ScramOptions, ScramSession, ScramStart } from './scram-sha-256';
export { tlsServerEndPoint } from './tls-server-end-point';
