// The protocol's counts are unsigned 16-bit integers: a statement may have up to 65,535
// parameters, and the server's ParameterDescription for it says so in a count above 32,767.
// Issue 10 item 2: read as signed, such a count killed the connection.
import { lastValueFrom, toArray } from 'rxjs';
import type { Connection } from '../../lib';
import { closeOpenedConnections, openConnection } from '../helpers/connections';
import { superuserConfig } from '../helpers/test-servers';

afterEach(closeOpenedConnections);

/** A statement with `count` parameters that returns how many of them are non-null and their sum. */
function statementWith(count: number): string {
  const placeholders = Array.from({ length: count }, (_, i) => `$${i + 1}::int`);
  return `SELECT cardinality(ARRAY[${placeholders.join(',')}]) AS n, (SELECT sum(v) FROM unnest(ARRAY[${placeholders.join(',')}]) AS v) AS total`;
}

const rows = (connection: Connection, sql: string, params: unknown[]) =>
  lastValueFrom(connection.query<Record<string, unknown>>(sql, params).pipe(toArray()));

describe('parameter counts above 32,767', () => {
  const counts = [32767, 32768, 65535];

  describe.each([
    ['cached statements (the default)', {}],
    ['uncached statements (statementCacheSize: 0)', { statementCacheSize: 0 }],
  ])('%s', (_, settings) => {
    it.each(counts)('runs a statement with %d parameters, twice, and the connection stays usable', async (count) => {
      const connection = await openConnection({ ...superuserConfig(), ...settings });
      const sql = statementWith(count);
      const params = Array.from({ length: count }, (_, i) => i % 3);
      const expected = [{ n: count, total: String(params.reduce((sum, value) => sum + value, 0)) }];
      // The second run uses the prepared statement when the cache is on.
      expect(await rows(connection, sql, params)).toEqual(expected);
      expect(await rows(connection, sql, params)).toEqual(expected);
      expect(await rows(connection, 'SELECT 1 AS one', [])).toEqual([{ one: 1 }]);
    });
  });
});
