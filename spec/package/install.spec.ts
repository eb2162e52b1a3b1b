import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { superuserConfig } from '../helpers/test-servers';
import { cjsConsumer, consumerConfigVariable, esmConsumer, expectedConsumerOutput } from './consumer-sources';
import {
  createScratchProject,
  localDependencies,
  offlineInstallFlags,
  repositoryRoot,
  run,
  typescript5Compiler,
  typescript6Compiler,
  writeConsumerTsconfig,
  type ConsumerResolution,
} from './scratch-project';

// The package as a user gets it: `npm pack`'s tarball (what `npm publish` uploads) installed
// into a scratch project, CJS and ESM consumers type-checked with TypeScript 5 and 6 and run
// against the test server; and `npm install git+file://<repo>`, which builds dist/ through the
// `prepare` script in a clone of HEAD.

interface PackedFile {
  readonly path: string;
}

interface PackResult {
  readonly filename: string;
  readonly files: readonly PackedFile[];
}

let workDir: string;
let tarball: string;
let packedFiles: string[];
let consumerDir: string;
let typescript5: string;
/** The git install, started first: it is the slow part (a clone's whole devDependency install). */
let gitInstall: Promise<{ dir: string } | { error: unknown }>;

/** `npm install git+file://<repo>` into a new scratch project: npm clones HEAD and runs prepare. */
async function installFromGit(dir: string): Promise<{ dir: string }> {
  await createScratchProject(dir);
  // Not --offline: npm prepares a git dependency with a full `npm install` of its
  // devDependencies, which may need registry metadata that `npm ci` never cached.
  await run(
    'npm',
    ['install', '--no-save', '--prefer-offline', '--no-audit', '--no-fund', `git+file://${repositoryRoot}`, ...localDependencies()],
    { cwd: dir },
  );
  return { dir };
}

/** Runs a compiled consumer with node and returns what it printed, parsed. */
async function runConsumer(dir: string, file: string): Promise<unknown> {
  const config = JSON.stringify(superuserConfig());
  const { stdout } = await run(process.execPath, [path.join(dir, 'out', file)], { cwd: dir, env: { [consumerConfigVariable]: config } });
  return JSON.parse(stdout);
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'rxpg-install-'));
  gitInstall = installFromGit(path.join(workDir, 'from-git')).catch((error: unknown) => ({ error }));
  // `npm pack` runs `prepare` (clean + tsc) itself: the tarball is built from this work tree.
  const packed = await run('npm', ['pack', '--json', '--pack-destination', workDir], { cwd: repositoryRoot });
  const [result] = JSON.parse(packed.stdout) as PackResult[];
  tarball = path.join(workDir, result!.filename);
  packedFiles = result!.files.map((file) => file.path).sort();

  consumerDir = path.join(workDir, 'from-tarball');
  await createScratchProject(consumerDir);
  await run('npm', ['install', ...offlineInstallFlags, '--ignore-scripts', tarball, ...localDependencies()], { cwd: consumerDir });
  await mkdir(path.join(consumerDir, 'src'));
  await writeFile(path.join(consumerDir, 'src', 'consumer.mts'), esmConsumer);
  await writeFile(path.join(consumerDir, 'src', 'consumer.cts'), cjsConsumer);
  typescript5 = await typescript5Compiler();
}, 90_000);

afterAll(async () => {
  await gitInstall;
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

describe('the npm pack tarball', () => {
  test('holds dist/, LICENSE, README.md and package.json only, with no source maps', () => {
    const outsideDist = packedFiles.filter((file) => !file.startsWith('dist/'));
    expect(outsideDist).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(packedFiles).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts']));
    expect(packedFiles.filter((file) => file.endsWith('.map'))).toEqual([]);
    expect(packedFiles.filter((file) => !/\.(js|d\.ts)$/.test(file) && file.startsWith('dist/'))).toEqual([]);
  });

  test('ships the MIT license and a package.json that installs without scripts on Node 20', async () => {
    const installed = path.join(consumerDir, 'node_modules', 'rxpg');
    expect(await readFile(path.join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the rxpg authors\n/);
    const manifest = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ license: 'MIT', sideEffects: false, engines: { node: '>=20' }, peerDependencies: { rxjs: '^7.8.0' } });
    const scripts = (manifest['scripts'] ?? {}) as Record<string, string>;
    expect(Object.keys(scripts).filter((name) => /^(pre|post)?install$/.test(name))).toEqual([]);
  });

  test('declares no @internal member: Connection has no notificationMessages$', async () => {
    const dist = path.join(consumerDir, 'node_modules', 'rxpg', 'dist');
    const declarations = (await readdir(dist, { recursive: true })).filter((file) => file.endsWith('.d.ts'));
    const texts = await Promise.all(declarations.map((file) => readFile(path.join(dist, file), 'utf8')));
    expect(texts.filter((text) => text.includes('@internal'))).toEqual([]);
    const connection = await readFile(path.join(dist, 'client', 'connection.d.ts'), 'utf8');
    expect(connection).toContain('closed$');
    expect(connection).not.toContain('notificationMessages$');
  });

  test('passes npm publish --dry-run with no warning but the missing login', async () => {
    // dist/ was just built by `npm pack`; --ignore-scripts spares a second build.
    const { stderr } = await run('npm', ['publish', '--dry-run', '--ignore-scripts'], { cwd: repositoryRoot });
    const warnings = stderr.split('\n').filter((line) => /^npm warn/i.test(line) && !/requires you to be logged in/.test(line));
    expect(warnings).toEqual([]);
    expect(stderr).toMatch(/rxpg@\d+\.\d+\.\d+/);
  });
});

describe('consumers of the installed tarball', () => {
  const matrix: [string, ConsumerResolution, () => string][] = [];
  for (const [name, compiler] of [
    ['TypeScript 6', typescript6Compiler],
    ['TypeScript 5', () => typescript5],
  ] as const) {
    for (const resolution of ['nodenext', 'node16', 'bundler'] as const) matrix.push([name, resolution, compiler]);
  }

  test.each(matrix)('%s type-checks the CJS and ESM consumers under %s resolution', async (name, resolution, compiler) => {
    const tsconfig = await writeConsumerTsconfig(consumerDir, resolution);
    const emit = name === 'TypeScript 6' && resolution === 'nodenext' ? [] : ['--noEmit'];
    await run(process.execPath, [compiler(), '-p', tsconfig, ...emit], { cwd: consumerDir });
  });

  test('a CommonJS consumer (require) connects and queries', async () => {
    expect(await runConsumer(consumerDir, 'consumer.cjs')).toEqual(expectedConsumerOutput);
  });

  test('an ES module consumer (named imports through Node’s CJS interop) connects and queries', async () => {
    expect(await runConsumer(consumerDir, 'consumer.mjs')).toEqual(expectedConsumerOutput);
  });

  test('a deep import into dist/ is refused at run time by the exports map', async () => {
    const attempt = run(process.execPath, ['-e', "require('rxpg/dist/client/connection')"], { cwd: consumerDir });
    await expect(attempt).rejects.toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });
});

describe('npm install from the git repository', () => {
  test('builds dist/ through prepare in a clone of HEAD, and both consumers connect and query', async () => {
    const installed = await gitInstall;
    if ('error' in installed) throw installed.error;
    const { dir } = installed;
    expect((await readdir(path.join(dir, 'node_modules', 'rxpg'))).sort()).toEqual(['LICENSE', 'README.md', 'dist', 'package.json']);
    // The consumers as compiled against the tarball's types (the TypeScript 6 nodenext check emits).
    if (!existsSync(path.join(consumerDir, 'out'))) {
      await run(process.execPath, [typescript6Compiler(), '-p', await writeConsumerTsconfig(consumerDir, 'nodenext')], {
        cwd: consumerDir,
      });
    }
    await cp(path.join(consumerDir, 'out'), path.join(dir, 'out'), { recursive: true });
    expect(await runConsumer(dir, 'consumer.cjs')).toEqual(expectedConsumerOutput);
    expect(await runConsumer(dir, 'consumer.mjs')).toEqual(expectedConsumerOutput);
  }, 60_000);
});
