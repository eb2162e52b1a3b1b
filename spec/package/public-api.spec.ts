import { exampleImportsNotExported, loadPublicApi, unexportedPublicTypes, type PublicApi } from './public-api';

// What a user of the package can name: every type in a public signature is exported from
// 'rxpg', and the doc comments' examples import only what the package exports.

/**
 * PostgresError's base: pg-protocol's DatabaseError under a retyped constructor (a `const` and
 * the type it builds on). Users meet it only as PostgresError's inherited members.
 */
const retypedBaseClass = ['DatabaseErrorClass (lib/errors/postgres-error.ts)', 'DatabaseErrorBase (lib/errors/postgres-error.ts)'];

let api: PublicApi;

beforeAll(() => {
  api = loadPublicApi();
}, 30_000);

test('every library type named by a public signature is exported from the package', () => {
  const missing = [...unexportedPublicTypes(api)]
    .filter(([type]) => !retypedBaseClass.includes(type))
    .map(([type, trail]) => `${type} via ${trail}`);
  expect(missing).toEqual([]);
});

test('the copy, stream and option types of public signatures are among the exports', () => {
  for (const name of ['CopyChunk', 'CopyTextRow', 'ObjectReadable', 'TypeRegistryOptions', 'ReconnectOptions', 'HostEntry']) {
    expect(api.names.has(name)).toBe(true);
  }
});

test('a type the barrel does not export is reported with the path that reaches it', () => {
  const withoutCopyChunk: PublicApi = {
    ...api,
    exported: new Set([...api.exported].filter((symbol) => symbol.name !== 'CopyChunk')),
  };
  const missing = unexportedPublicTypes(withoutCopyChunk);
  expect(missing.get('CopyChunk (lib/client/copy-source.ts)')).toMatch(/^connect > Connection\b/);
});

test('every @example imports from rxpg only names the package exports', () => {
  expect(exampleImportsNotExported(api)).toEqual([]);
});
