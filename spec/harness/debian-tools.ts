import { accessSync, constants } from 'node:fs';
import { harnessEnv, runCommand } from './run-command';

/** Programs some specs run besides PostgreSQL and PgBouncer, and the Debian package of each. */
const tools: readonly { readonly program: string; readonly path: string; readonly debianPackage: string; readonly usedBy: string }[] = [
  { program: 'chromium', path: '/usr/bin/chromium', debianPackage: 'chromium', usedBy: 'spec/examples/live-page.spec.ts' },
  { program: 'ss', path: '/usr/bin/ss', debianPackage: 'iproute2', usedBy: 'spec/transport/open-socket.spec.ts' },
];

function installed(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure the programs of {@link tools} are there, as `npm test` does for PostgreSQL: when
 * one is missing and this process is root, installs its Debian package with apt-get (and says
 * so); otherwise it names, on stderr, the command that installs them — the specs that need them
 * then fail with their own error, never skip.
 */
export async function ensureDebianTools(): Promise<void> {
  const missing = tools.filter((tool) => !installed(tool.path));
  if (missing.length === 0) return;
  const packages = missing.map((tool) => tool.debianPackage);
  if (process.getuid?.() !== 0) {
    process.stderr.write(
      `${missing.map((tool) => `${tool.program} (for ${tool.usedBy})`).join(', ')} not found; install with:\n\n    sudo apt-get install -y ${packages.join(' ')}\n\n`,
    );
    return;
  }
  process.stderr.write(
    `${missing.map((tool) => tool.program).join(', ')} not found; installing Debian's ${packages.join(', ')} with apt-get ...\n`,
  );
  const env = harnessEnv({ DEBIAN_FRONTEND: 'noninteractive' });
  await runCommand('apt-get', ['update'], { env, inheritOutput: true });
  await runCommand('apt-get', ['install', '-y', ...packages], { env, inheritOutput: true });
}
