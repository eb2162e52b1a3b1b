import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The repository root (the package under test). */
export const repositoryRoot = path.resolve(__dirname, '../..');

/** What a finished child process printed. */
export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `command` and resolves with its output; rejects with an Error carrying the exit code and
 * both outputs when it fails, so a failing step shows why. npm's lifecycle variables of an
 * enclosing `npm test` are dropped: they describe this repository, not the scratch project.
 */
export function run(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CommandOutput> {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries({ ...process.env, ...options.env })) {
    if (!/^npm_(package|lifecycle)_/i.test(name)) env[name] = value;
  }
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(
          new Error(
            `${command} ${args.join(' ')} (in ${options.cwd}) failed: ${error.message}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
          ),
        );
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

/**
 * Installs the dependencies a consumer of the package needs besides the package itself — rxjs
 * (its peer), pg-protocol (its dependency) and @types/node — from this repository's
 * node_modules by path, so installing into a scratch project needs no registry.
 */
export function localDependencies(): string[] {
  return ['rxjs', 'pg-protocol', '@types/node'].map((name) => path.join(repositoryRoot, 'node_modules', name));
}

/** The flags of every scratch install: nothing saved, nothing asked of the registry. */
export const offlineInstallFlags = ['--no-save', '--offline', '--no-audit', '--no-fund'];

/** Makes an empty npm project (a private package.json) in `dir`. */
export async function createScratchProject(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'package.json'),
    `${JSON.stringify({ name: 'rxpg-consumer', version: '1.0.0', private: true }, null, 2)}\n`,
  );
}

/** The TypeScript 5 release the consumers are also checked with (the project itself uses 6). */
export const typescript5Version = '5.9.3';

/**
 * The path of TypeScript 5's `tsc`, installed once into a folder of the system's temp
 * directory and reused by later runs (the registry is asked only the first time; later installs
 * come from npm's cache). Not a devDependency: an aliased `typescript` would take over the
 * project's `tsc` bin link.
 */
export async function typescript5Compiler(): Promise<string> {
  const dir = path.join(tmpdir(), `rxpg-spec-typescript-${typescript5Version}`);
  const tsc = path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    await createScratchProject(dir);
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', `typescript@${typescript5Version}`], {
      cwd: dir,
    });
  }
  return tsc;
}

/** The project's own `tsc` (TypeScript 6). */
export function typescript6Compiler(): string {
  return require.resolve('typescript/bin/tsc', { paths: [repositoryRoot] });
}

/** The module settings a consumer's tsconfig is checked with. */
export type ConsumerResolution = 'node16' | 'nodenext' | 'bundler';

/**
 * Writes `tsconfig.<resolution>.json` into a scratch project: strict, type-checking `src/`.
 * Only `nodenext` checks the installed `.d.ts` files themselves (skipLibCheck off; slower), and
 * only it emits, into `out/` (`.cjs` and `.mjs` that node runs).
 */
export async function writeConsumerTsconfig(dir: string, resolution: ConsumerResolution): Promise<string> {
  const module = resolution === 'bundler' ? { module: 'esnext', moduleResolution: 'bundler' } : { module: resolution };
  const output = resolution === 'nodenext' ? { outDir: 'out', rootDir: 'src', skipLibCheck: false } : { noEmit: true, skipLibCheck: true };
  const config = { compilerOptions: { ...module, target: 'ES2022', strict: true, types: ['node'], ...output }, include: ['src'] };
  const file = `tsconfig.${resolution}.json`;
  await writeFile(path.join(dir, file), `${JSON.stringify(config, null, 2)}\n`);
  return file;
}
