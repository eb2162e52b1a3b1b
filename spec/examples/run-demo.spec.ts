// The README's `npm run demo`, run as a user runs it: it builds the examples, starts its own
// throwaway PostgreSQL, runs the demo and stops the server again.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

describe('npm run demo', () => {
  it('runs the demo against its own throwaway server and exits 0', async () => {
    const { stdout } = await promisify(execFile)('npm', ['run', 'demo'], {
      cwd: path.resolve(__dirname, '..', '..'),
      maxBuffer: 16 * 2 ** 20,
    });
    expect(stdout).toMatch(/== unsubscribe cancels the query on the server/);
    expect(stdout).toMatch(/after unsubscribe: backend is idle/);
    expect(stdout).toMatch(/state after close\(\): closed/);
  }, 120_000);
});
