// Issue 10 item 6: the server closes the connection on a message over 1 GiB - 1 bytes. A
// request whose Bind would be that large is refused before a byte of it is written, with a
// RangeError that says so, and the connection stays usable.
import { lastValueFrom, toArray } from 'rxjs';
import { closeOpenedConnections, errorOf, openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';

afterEach(closeOpenedConnections);

describe('a request over the server message limit', () => {
  it('is refused with a RangeError naming Bind and its size, and the connection stays usable', async () => {
    const connection = await openConnection(superuserConfig());
    const value = 'x'.repeat(360_000_000);
    const error = await errorOf(lastValueFrom(connection.query('SELECT length($1) + length($2) + length($3) AS n', [value, value, value])));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toMatch(
      /^the Bind message would be at least 1080000\d{3} bytes; the server accepts at most 1073741823 \(1 GiB - 1\)/,
    );
    expect(error.message).not.toMatch(/xxx/);
    expect(await lastValueFrom(connection.query('SELECT 1 AS one').pipe(toArray()))).toEqual([{ one: 1 }]);
    expect(await lastValueFrom(connection.query('SELECT length($1) AS n', ['abc']).pipe(toArray()))).toEqual([{ n: 3 }]);
  });
});
