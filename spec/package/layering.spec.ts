// The layering of lib/ (docs/architecture.md), enforced by dependency-cruiser with
// .dependency-cruiser.cjs: a layer imports only the layers before it, no run-time import
// cycles, sockets only in lib/transport. The tool runs as a child process (it is ESM-only,
// and jest's module sandbox does not load ESM).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const repositoryRoot = path.resolve(__dirname, '../..');
const configFile = path.join(repositoryRoot, '.dependency-cruiser.cjs');
const depcruise = path.join(repositoryRoot, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

interface CruiseResult {
  readonly summary: { readonly violations: readonly Violation[]; readonly totalCruised: number };
}

/** Runs dependency-cruiser over `lib` in `cwd` and returns its JSON result (violations exit non-zero). */
function cruise(cwd: string): Promise<CruiseResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [depcruise, 'lib', '--config', configFile, '--output-type', 'json'],
      { cwd, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        try {
          resolve(JSON.parse(stdout) as CruiseResult);
        } catch {
          reject(error ?? new Error(`dependency-cruiser printed no JSON: ${stderr}`));
        }
      },
    );
  });
}

/** "rule: from → to", readable in a failure message. */
function describeViolation(violation: Violation): string {
  return `${violation.rule.name}: ${violation.from} → ${violation.to}`;
}

describe('the layering of lib/', () => {
  it('has no lower layer importing a higher one, no run-time cycle and no socket outside lib/transport', async () => {
    const result = await cruise(repositoryRoot);
    expect(result.summary.totalCruised).toBeGreaterThan(50);
    expect(result.summary.violations.map(describeViolation)).toEqual([]);
  });

  it('reports an upward import, a run-time cycle and any net/tls import outside lib/transport, not a barrel or a type-only TLS import', async () => {
    const scratch = await mkdtemp(path.join(tmpdir(), 'rxpg-layering-'));
    try {
      const file = async (relative: string, text: string): Promise<void> => {
        await mkdir(path.dirname(path.join(scratch, relative)), { recursive: true });
        await writeFile(path.join(scratch, relative), text);
      };
      await file('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'node16', strict: true } }));
      await file('lib/errors/upward.ts', "import { value } from '../client/below';\nexport const upward = value;\n");
      await file('lib/client/below.ts', "import { upward } from '../errors/upward';\nexport const value = upward;\n");
      await file(
        'lib/config/socket.ts',
        "import { createConnection } from 'node:net';\nimport type { TLSSocket } from 'node:tls';\n" +
          'export const open = createConnection;\nexport type Socket = TLSSocket;\n',
      );
      // No exception for a pure string check either (lib/config/ip-address.ts replaces isIP).
      await file('lib/client/connect.ts', "import { isIP } from 'node:net';\nexport const numeric = (host: string) => isIP(host) !== 0;\n");
      // A barrel may re-export any layer.
      await file('lib/errors/index.ts', "export * from '../client/below';\n");

      const result = await cruise(scratch);
      expect(result.summary.violations.map(describeViolation).sort()).toEqual([
        'layer-errors: lib/errors/upward.ts → lib/client/below.ts',
        'no-circular: lib/client/below.ts → lib/errors/upward.ts',
        'sockets-only-in-transport: lib/client/connect.ts → net',
        'sockets-only-in-transport: lib/config/socket.ts → net',
      ]);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
