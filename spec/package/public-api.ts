import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { repositoryRoot } from './scratch-project';

/** The library's program as tsconfig.build.json compiles it, and the public barrel's exports. */
export interface PublicApi {
  readonly program: ts.Program;
  readonly checker: ts.TypeChecker;
  /** The exported symbols of lib/index.ts, aliases resolved. */
  readonly exported: ReadonlySet<ts.Symbol>;
  /** Their names, as a user imports them. */
  readonly names: ReadonlySet<string>;
}

export function loadPublicApi(): PublicApi {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    path.join(repositoryRoot, 'tsconfig.build.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  );
  if (parsed === undefined) throw new Error('tsconfig.build.json could not be read');
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  const checker = program.getTypeChecker();
  const barrel = checker.getSymbolAtLocation(program.getSourceFile(path.join(repositoryRoot, 'lib', 'index.ts'))!)!;
  const exports = checker.getExportsOfModule(barrel);
  return {
    program,
    checker,
    exported: new Set(exports.map((symbol) => resolveAlias(checker, symbol))),
    names: new Set(exports.map((symbol) => symbol.name)),
  };
}

function resolveAlias(checker: ts.TypeChecker, symbol: ts.Symbol): ts.Symbol {
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
}

function isHidden(node: ts.Node): boolean {
  const member =
    ts.isPropertyDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isAccessor(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isPropertySignature(node) ||
    ts.isMethodSignature(node);
  if (!member) return false;
  if (node.name !== undefined && ts.isPrivateIdentifier(node.name)) return true;
  if (ts.getCombinedModifierFlags(node) & ts.ModifierFlags.Private) return true;
  return ts.getJSDocTags(node).some((tag) => tag.tagName.text === 'internal');
}

/**
 * The library types (declared under lib/) that the public API names in its declarations —
 * parameter, result, property and base types, followed transitively — but lib/index.ts does
 * not export, each with one path from an export to it. Function bodies, `#private`, `private`
 * and `@internal` members are not part of the .d.ts and are skipped.
 */
export function unexportedPublicTypes(api: PublicApi): Map<string, string> {
  const { checker, exported } = api;
  const missing = new Map<string, string>();
  const visited = new Set<ts.Node>();
  const libDir = path.join(repositoryRoot, 'lib') + path.sep;

  const walk = (node: ts.Node, trail: string): void => {
    if (ts.isBlock(node) || isHidden(node)) return;
    const name = ts.isTypeReferenceNode(node)
      ? node.typeName
      : ts.isExpressionWithTypeArguments(node)
        ? node.expression
        : ts.isTypeQueryNode(node)
          ? node.exprName
          : undefined;
    const found = name === undefined ? undefined : checker.getSymbolAtLocation(name);
    if (found !== undefined && !(found.flags & ts.SymbolFlags.TypeParameter)) {
      const symbol = resolveAlias(checker, found);
      const all = symbol.declarations ?? [];
      const declarations = all.filter((declaration) => declaration.getSourceFile().fileName.startsWith(libDir));
      // A global type that lib/ only augments (Buffer) is Node's, not the library's.
      if (declarations.length > 0 && declarations.length === all.length && !exported.has(symbol)) {
        const where = path.relative(repositoryRoot, declarations[0]!.getSourceFile().fileName);
        if (!missing.has(`${symbol.name} (${where})`)) missing.set(`${symbol.name} (${where})`, trail);
      }
      for (const declaration of declarations) visit(declaration, `${trail} > ${symbol.name}`);
    }
    ts.forEachChild(node, (child) => walk(child, trail));
  };
  const visit = (declaration: ts.Node, trail: string): void => {
    if (visited.has(declaration)) return;
    visited.add(declaration);
    walk(declaration, trail);
  };

  for (const symbol of exported) for (const declaration of symbol.declarations ?? []) visit(declaration, symbol.name);
  return missing;
}

/**
 * The names imported from 'rxpg' in the doc comments' examples under lib/ that the package does
 * not export, as `file: name`.
 */
export function exampleImportsNotExported(api: PublicApi): string[] {
  const wrong: string[] = [];
  const libDir = path.join(repositoryRoot, 'lib') + path.sep;
  for (const file of api.program.getRootFileNames().filter((name) => name.startsWith(libDir))) {
    const text = readFileSync(file, 'utf8');
    for (const [, list] of text.matchAll(/^\s*\*\s*import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'rxpg'/gm)) {
      for (const entry of list!.split(',')) {
        const name = entry
          .trim()
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/)[0]!;
        if (name !== '' && !api.names.has(name)) wrong.push(`${path.relative(repositoryRoot, file)}: ${name}`);
      }
    }
  }
  return wrong;
}
