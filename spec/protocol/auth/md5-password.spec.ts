import { createHash } from 'node:crypto';
import { ProtocolError } from '../../../lib/errors';
import { md5PasswordMessage, md5StoredPassword } from '../../../lib/protocol/auth';

const md5 = (data: Buffer): string => createHash('md5').update(data).digest('hex');

describe('md5PasswordMessage', () => {
  // Literals computed by hand with the openssl command line:
  //   inner=$(printf '%s' secretpostgres | openssl md5 -r | cut -d' ' -f1)
  //   { printf '%s' "$inner"; printf '\x01\x02\x03\x04'; } | openssl md5 -r
  it('matches a vector computed with openssl', () => {
    expect(md5StoredPassword('postgres', 'secret')).toBe('md553f48b7c4b76a86ce72276c5755f217d');
    expect(md5PasswordMessage('postgres', 'secret', Buffer.from([1, 2, 3, 4]))).toBe('md5bb41a296aab6baccb36ff243a562abff');
  });

  it('hashes user and password as UTF-8 and the salt as raw bytes', () => {
    // printf '%s' 'pässwordjöhn' | openssl md5 -r, then with salt ff 00 7f 80
    expect(md5StoredPassword('jöhn', 'pässword')).toBe('md5337d28ba23eef41b11802807465eec58');
    expect(md5PasswordMessage('jöhn', 'pässword', Buffer.from([0xff, 0x00, 0x7f, 0x80]))).toBe('md599330528e9016704bca8495fca43c75f');
  });

  it('agrees with an independent computation', () => {
    const user = 'alice';
    const password = 'correct horse battery staple';
    const salt = Buffer.from('9f3c0a11', 'hex');
    const inner = md5(Buffer.from(password + user, 'utf8'));
    const expected = 'md5' + md5(Buffer.concat([Buffer.from(inner, 'ascii'), salt]));
    expect(md5PasswordMessage(user, password, salt)).toBe(expected);
    expect(md5PasswordMessage(user, password, salt)).toMatch(/^md5[0-9a-f]{32}$/);
  });

  it('accepts any Uint8Array salt', () => {
    const salt = new Uint8Array([1, 2, 3, 4]);
    expect(md5PasswordMessage('postgres', 'secret', salt)).toBe('md5bb41a296aab6baccb36ff243a562abff');
  });

  it('rejects a salt that is not 4 bytes, without echoing the password', () => {
    for (const salt of [Buffer.alloc(0), Buffer.alloc(3), Buffer.alloc(5)]) {
      let caught: unknown;
      try {
        md5PasswordMessage('postgres', 'hunter2', salt);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ProtocolError);
      expect((caught as ProtocolError).code).toBe('08P01');
      expect((caught as Error).message).not.toContain('hunter2');
    }
  });
});
