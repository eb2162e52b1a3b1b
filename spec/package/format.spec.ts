// Prettier in check mode over the code (issue 13, item 7): a file that is not formatted fails
// npm test, and `npm run format` fixes it.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const repositoryRoot = path.resolve(__dirname, '..', '..');
const prettier = path.join(repositoryRoot, 'node_modules', 'prettier', 'bin', 'prettier.cjs');

/** The code prettier formats: the same globs as `npm run format`. */
export const formattedFiles = ['lib/**/*.ts', 'spec/**/*.{ts,js}', 'examples/**/*.ts', 'bench/**/*.ts', '*.{js,mjs,cjs}'];

describe('prettier', () => {
  it('finds every source file formatted', async () => {
    const run = promisify(execFile);
    const result = await run(process.execPath, [prettier, '--list-different', ...formattedFiles], { cwd: repositoryRoot }).then(
      () => '',
      (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
    expect(result).toBe('');
  }, 60_000);
});
