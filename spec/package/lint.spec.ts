// ESLint with typescript-eslint's type-aware recommended rules (eslint.config.mjs) over every
// TypeScript file the project compiles, and the bench harness type-checked (it has its own
// tsconfig, outside `npm run typecheck`). The tools run as child processes: ESLint loads its
// ESM config with a dynamic import, which jest's module sandbox does not support.
import { execFile } from 'node:child_process';
import path from 'node:path';

const repositoryRoot = path.resolve(__dirname, '../..');
const eslint = path.join(repositoryRoot, 'node_modules/eslint/bin/eslint.js');
const tsc = path.join(repositoryRoot, 'node_modules/typescript/bin/tsc');

interface LintMessage {
  readonly ruleId: string | null;
  readonly line: number;
  readonly message: string;
}

interface LintResult {
  readonly filePath: string;
  readonly messages: readonly LintMessage[];
}

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a node script in the repository; resolves with its exit code and output, whatever the code. */
function runNode(args: readonly string[], stdin?: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, args, { cwd: repositoryRoot, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
    child.stdin?.end(stdin ?? '');
  });
}

/** ESLint's JSON report as "file:line rule message" lines. */
function problems(outcome: Outcome): string[] {
  let results: LintResult[];
  try {
    results = JSON.parse(outcome.stdout) as LintResult[];
  } catch {
    throw new Error(`eslint exited with ${outcome.code} and printed no JSON: ${outcome.stderr}`);
  }
  return results.flatMap((result) =>
    result.messages.map(
      (message) => `${path.relative(repositoryRoot, result.filePath)}:${message.line} ${message.ruleId ?? 'error'} ${message.message}`,
    ),
  );
}

describe('lint', () => {
  it('finds no problem in lib, spec, examples and bench', async () => {
    const outcome = await runNode([eslint, '--format', 'json', 'lib', 'spec', 'examples', 'bench']);
    expect(problems(outcome)).toEqual([]);
    expect(outcome.code).toBe(0);
  }, 120_000);

  it('reports a floating promise and an assertion that asserts nothing', async () => {
    // Linted as the text of an existing spec file, so that the type-aware rules see it in the project.
    const probe = 'export async function probe(): Promise<void> {}\nprobe();\nexport const answer: number = 42 as number;\n';
    const outcome = await runNode(
      [eslint, '--format', 'json', '--stdin', '--stdin-filename', path.join('spec', 'package', 'lint.spec.ts')],
      probe,
    );
    expect(problems(outcome).map((line) => line.split(' ')[1])).toEqual([
      '@typescript-eslint/no-floating-promises',
      '@typescript-eslint/no-unnecessary-type-assertion',
    ]);
    expect(outcome.code).toBe(1);
  }, 60_000);
});

describe('the bench harness', () => {
  it('type-checks with its own tsconfig', async () => {
    const outcome = await runNode([tsc, '-p', path.join('bench', 'tsconfig.json'), '--noEmit']);
    expect(outcome.stdout + outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
  }, 60_000);
});
