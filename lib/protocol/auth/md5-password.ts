import { createHash } from 'node:crypto';
import { ProtocolError } from '../../errors';

function md5Hex(...parts: Uint8Array[]): string {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/**
 * What PostgreSQL stores for a role whose password was set with `password_encryption = md5`:
 * `'md5'` followed by the hex MD5 of the password's bytes followed by the user name's bytes
 * (both UTF-8). Useful to set a password without sending it in clear
 * (`ALTER ROLE ... PASSWORD 'md5…'`) and to play the server in tests.
 */
export function md5StoredPassword(user: string, password: string): string {
  return 'md5' + md5Hex(Buffer.from(password, 'utf8'), Buffer.from(user, 'utf8'));
}

/**
 * The PasswordMessage payload answering AuthenticationMD5Password: `'md5'` followed by
 * `hex(md5(hex(md5(password + user)) + salt))`, where `user` is the user name sent in the
 * startup message and `salt` the 4 random bytes the server sent.
 *
 * @throws ProtocolError when the salt is not 4 bytes long (the message was malformed).
 */
export function md5PasswordMessage(user: string, password: string, salt: Uint8Array): string {
  if (salt.length !== 4) {
    throw new ProtocolError(`the MD5 password salt must be 4 bytes, the server sent ${salt.length}`);
  }
  const inner = md5Hex(Buffer.from(password, 'utf8'), Buffer.from(user, 'utf8'));
  return 'md5' + md5Hex(Buffer.from(inner, 'latin1'), salt);
}
