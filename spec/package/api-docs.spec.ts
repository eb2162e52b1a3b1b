// The API reference (typedoc.json, `npm run docs` → docs/api/) is generated from the TSDoc with
// typedoc's validation as errors: every type in a public signature exported (notExported),
// every export and member documented (notDocumented), every {@link} resolving to a documented
// name (invalidLink). typedoc runs as a child process (it is ESM-only, and jest's module
// sandbox does not load ESM), with `--emit none`: the check without writing the site.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const repositoryRoot = path.resolve(__dirname, '../..');
const typedocBin = path.join(repositoryRoot, 'node_modules/typedoc/bin/typedoc');
const optionsFile = path.join(repositoryRoot, 'typedoc.json');

interface TypedocRun {
  readonly exitCode: number;
  /** stdout and stderr without ANSI colours. */
  readonly output: string;
}

/** Runs typedoc with the options file `options`, without emitting the site. */
function runTypedoc(options: string): Promise<TypedocRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [typedocBin, '--options', options, '--emit', 'none'],
      { cwd: path.dirname(options), maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
      (error, stdout, stderr) => {
        const exitCode = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        // eslint-disable-next-line no-control-regex
        resolve({ exitCode, output: `${stdout}${stderr}`.replace(/\u001b\[[0-9;]*m/g, '') });
      },
    );
  });
}

/** The lines typedoc printed as warnings or errors. */
/** The repository's typedoc.json. */
function repositoryOptions(): {
  readonly entryPoints: string[];
  readonly out: string;
  readonly validation: Record<string, boolean>;
  readonly treatValidationWarningsAsErrors: boolean;
  readonly treatWarningsAsErrors: boolean;
} {
  return JSON.parse(readFileSync(optionsFile, 'utf8'));
}

function problems(output: string): string[] {
  return output.split('\n').filter((line) => /\[(warning|error)\]/.test(line));
}

describe('API reference (typedoc)', () => {
  it('keeps validation on: notExported, notDocumented and invalidLink, as errors', () => {
    const options = repositoryOptions();
    expect(options.entryPoints).toEqual(['lib/index.ts']);
    expect(options.out).toBe('docs/api');
    expect(options.validation).toMatchObject({ notExported: true, notDocumented: true, invalidLink: true });
    expect(options.treatValidationWarningsAsErrors).toBe(true);
    expect(options.treatWarningsAsErrors).toBe(true);
    expect(readFileSync(path.join(repositoryRoot, '.gitignore'), 'utf8').split('\n')).toContain('docs/api/');
  });

  it('documents the public API of lib/index.ts with no warning', async () => {
    const run = await runTypedoc(optionsFile);
    expect(problems(run.output)).toEqual([]);
    expect(run.exitCode).toBe(0);
  }, 60_000);

  describe('on an API that breaks the rules', () => {
    let directory: string;

    beforeAll(async () => {
      directory = await mkdtemp(path.join(tmpdir(), 'rxpg-api-docs-'));
      // typedoc names symbols by their package; without a package.json it skips notExported.
      await writeFile(path.join(directory, 'package.json'), JSON.stringify({ name: 'fixture', version: '1.0.0' }));
      // The repository's options, pointed at this directory's entry point and tsconfig.
      await writeFile(
        path.join(directory, 'typedoc.json'),
        JSON.stringify({ ...repositoryOptions(), entryPoints: ['index.ts'], tsconfig: 'tsconfig.json', out: 'api' }),
      );
      await writeFile(
        path.join(directory, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'node16', strict: true, skipLibCheck: true }, files: ['index.ts'] }),
      );
      await writeFile(
        path.join(directory, 'index.ts'),
        [
          'interface Hidden {',
          '  readonly value: number;',
          '}',
          '',
          '/** Returns a shape that is not exported; see {@link NoSuchName}. */',
          'export function documented(): Hidden {',
          '  return { value: 1 };',
          '}',
          '',
          'export function undocumented(): number {',
          '  return 2;',
          '}',
          '',
        ].join('\n'),
      );
    });

    afterAll(async () => {
      await rm(directory, { recursive: true, force: true });
    });

    it('fails, naming the unexported type, the undocumented export and the broken link', async () => {
      const run = await runTypedoc(path.join(directory, 'typedoc.json'));
      const reported = problems(run.output).join('\n');
      expect(run.exitCode).not.toBe(0);
      expect(reported).toMatch(/Hidden.*is referenced by documented but not included in the documentation/);
      expect(reported).toMatch(/undocumented.*does not have any documentation/);
      expect(reported).toMatch(/Failed to resolve link to "NoSuchName"/);
    }, 60_000);
  });
});
