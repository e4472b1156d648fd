// The layers of lib/ (README, Contributing): lib/core imports neither Nest, rxjs nor client-node;
// lib/kubernetes is the only importer of @kubernetes/client-node and imports no Nest; the Nest layer
// loads lib/kubernetes only when it builds a Lease lock, so an app started with the testing module
// never loads client-node (checked by running one).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLIENT_NODE = '@kubernetes/client-node';

/** Every module specifier in `file`: imports and re-exports (type-only ones too) and `import()`. */
function specifiersOf(file: string): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const literal = node.argument.literal;
      if (ts.isStringLiteral(literal)) found.push(literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * The TypeScript files under `folder` (`lib` by default; as `lib/...`) and what each imports:
 * packages by name, modules of this repository by their path from the repository root
 * (`./lib/core/lock.js`). Installed packages and build output are skipped.
 */
function libImports(folder = 'lib'): { file: string; imports: string[] }[] {
  const files = fs.readdirSync(path.join(ROOT, folder), { recursive: true, encoding: 'utf8' });
  return files
    .map((file) => file.split(path.sep).join('/'))
    .filter((file) => file.endsWith('.ts') && !/(^|\/)(node_modules|build)\//.test(file))
    .map((file) => path.posix.join(folder, file))
    .sort()
    .map((file) => ({
      file,
      imports: specifiersOf(path.join(ROOT, file)).map((specifier) =>
        specifier.startsWith('.')
          ? `./${path.posix.join(path.posix.dirname(file), specifier)}`
          : specifier,
      ),
    }));
}

/** `<file> imports <target>` for each import of a file in `where` that `forbidden` matches. */
function violations(where: (file: string) => boolean, forbidden: (target: string) => boolean) {
  return libImports()
    .filter(({ file }) => where(file))
    .flatMap(({ file, imports }) =>
      imports.filter(forbidden).map((target) => `${file} imports ${target}`),
    );
}

const under = (folder: string) => (file: string) =>
  file.replace(/^\.\//, '').startsWith(`${folder}/`);
const isPackage = (name: string) => (target: string) =>
  target === name || target.startsWith(`${name}/`);
const isNest = under('@nestjs');
const isRxjs = isPackage('rxjs');
const isClientNode = isPackage(CLIENT_NODE);
const isLocal = (target: string) => target.startsWith('./');
const inCore = under('lib/core');
const inKubernetes = under('lib/kubernetes');

describe('layers', () => {
  it(`only lib/kubernetes imports ${CLIENT_NODE}`, () => {
    expect(violations((file) => !inKubernetes(file), isClientNode)).toEqual([]);
  });

  it('lib/core imports no Nest, rxjs or client-node, and of this repository only lib/core', () => {
    const forbidden = (target: string) =>
      isNest(target) ||
      isRxjs(target) ||
      isClientNode(target) ||
      (isLocal(target) && !inCore(target));
    expect(violations(inCore, forbidden)).toEqual([]);
  });

  it('lib/kubernetes imports no Nest or rxjs, and of this repository only lib/core and itself', () => {
    const forbidden = (target: string) =>
      isNest(target) ||
      isRxjs(target) ||
      (isLocal(target) && !inCore(target) && !inKubernetes(target));
    expect(violations(inKubernetes, forbidden)).toEqual([]);
  });

  it('test/ imports nothing from bench/ (the benchmark uses the test support, not the reverse)', () => {
    const fromTest = libImports('test').flatMap(({ file, imports }) =>
      imports.filter(under('bench')).map((target) => `${file} imports ${target}`),
    );
    expect(fromTest).toEqual([]);
  });
});

describe('what an app really loads', () => {
  /** Runs the probe under the resolve log; the log's lines, and the part after `marker`. */
  async function loadedBy(probe: string, marker: string) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nkl-layers-'));
    const log = path.join(dir, 'resolved.log');
    fs.writeFileSync(log, '');
    try {
      await promisify(execFile)(
        process.execPath,
        [
          '--import',
          path.join(ROOT, 'test/unit/support/record-resolutions.mjs'),
          '--import',
          '@swc-node/register/esm-register',
          path.join(ROOT, probe),
        ],
        { cwd: ROOT, env: { ...process.env, NKL_RESOLVE_LOG: log }, timeout: 60_000 },
      );
      const lines = fs.readFileSync(log, 'utf8').split('\n');
      const at = lines.indexOf(marker);
      return { before: lines.slice(0, at), after: lines.slice(at + 1), markerFound: at >= 0 };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  it(`an app that imports the main entry and starts with LeaderElectionTestingModule never loads ${CLIENT_NODE}`, async () => {
    const { before, after, markerFound } = await loadedBy(
      'test/unit/support/testing-app-probe.ts',
      'PHASE lib/kubernetes',
    );
    // Each line: `<module loaded> <- <module that imported it>`. Kept: where client-node was
    // imported from outside itself (what to fix), not its own files.
    const inClientNode = (url: string) => url.includes(`/node_modules/${CLIENT_NODE}/`);
    const entered = (lines: string[]) =>
      lines.filter((line) => {
        const [loaded, importer = ''] = line.split(' <- ');
        return inClientNode(loaded) && !inClientNode(importer);
      });
    expect(markerFound).toBe(true);
    expect(entered(before)).toEqual([]);
    // The log does see client-node once lib/kubernetes is imported.
    expect(entered(after).length).toBeGreaterThan(0);
  });
});
