// The README's TypeScript snippets type-check against the library (issue 13: the README's
// snippets are checked by a spec). Each ```ts block becomes an in-memory module that imports
// 'rxpg' from lib/, behind a prelude that declares the few names a snippet leaves to the
// reader (a row handler, an HTTP response, ...).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const repositoryRoot = path.resolve(__dirname, '..', '..');
const library = path.join(repositoryRoot, 'lib', 'index');

/** What a snippet may use without defining it. */
const prelude = `import { pipeline } from 'node:stream/promises';
import type { Transform, Writable } from 'node:stream';
declare function handle(row: unknown): Promise<void>;
declare function usersFromSomewhere(): AsyncIterable<readonly unknown[]>;
declare const ndjson: Transform;
declare const response: Writable;
declare const amount: number, from: number, to: number;
`;

function readmeSnippets(): string[] {
  const readme = readFileSync(path.join(repositoryRoot, 'README.md'), 'utf8');
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

/** The diagnostics of each snippet, compiled as a module in one program. */
function compileSnippets(snippets: readonly string[]): string[][] {
  const files = snippets.map((_, index) => path.join(__dirname, `readme-snippet-${index + 1}.ts`));
  const sources = new Map(
    files.map((file, index) => [
      file,
      `${prelude}${snippets[index]!.replaceAll("from 'rxpg'", `from ${JSON.stringify(library)}`)}\nexport {};\n`,
    ]),
  );
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'],
    types: ['node'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    esModuleInterop: true,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const text = sources.get(path.resolve(fileName));
    return text === undefined ? getSourceFile(fileName, languageVersion, ...rest) : ts.createSourceFile(fileName, text, languageVersion);
  };
  host.fileExists = (fileName) => sources.has(path.resolve(fileName)) || fileExists(fileName);
  const program = ts.createProgram(files, options, host);
  return files.map((file) => {
    const source = program.getSourceFile(file);
    if (source === undefined) return [`${file} was not compiled`];
    return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map((diagnostic) => {
      const { line } = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      return `line ${line + 1 - prelude.split('\n').length + 1}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`;
    });
  });
}

describe("the README's TypeScript snippets", () => {
  const snippets = readmeSnippets();

  it('are there', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(2);
  });

  it('type-check against the library', () => {
    const diagnostics = compileSnippets(snippets);
    expect(diagnostics).toEqual(snippets.map(() => []));
  }, 60_000);

  it('would catch a snippet that uses the API wrongly', () => {
    const [diagnostics] = compileSnippets(["import { connect } from 'rxpg';\nconnect({ host: 5 });\n"]);
    expect(diagnostics!.join('\n')).toMatch(/not assignable/);
  }, 60_000);
});
