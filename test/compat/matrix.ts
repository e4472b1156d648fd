// The compatibility matrix: consumer apps ("cells") with their own package.json and lockfile, each
// pinning one combination of Node, Nest and client-node, with or without the optional peers.
//
//   cell            Node                       Nest  client-node  optional peers
//   node20-nest11   the machine's (20.x)       11    1.x          terminus 11, schedule 6, prom-client
//   node20-nest12   the machine's (20.x)       12    1.x          none
//   node22-nest11   npm package node@22        11    2.x          terminus 12, schedule 12, prom-client
//   node24-nest11   npm package node@24        11    2.x          none
//   node24-nest12   npm package node@24        12    2.x          terminus 12, schedule 12, prom-client
//
// installCells() installs every cell whose lockfile changed since its last install (`.ci/run`
// calls it through `npm run compat:install`; the matrix test calls it too, so `npm test` works without
// it). prepareCell() then installs the packed package (`npm pack`) into the cell with `npm install`,
// which checks our peer ranges against the cell's versions, and compiles the app in test/compat/app
// twice with TypeScript (as an ES module and as CommonJS) against the built declarations.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '../..');
const CELLS_DIR = path.join(HERE, 'cells');
const APP_DIR = path.join(HERE, 'app');
const STAMP = '.compat-installed';

export interface Cell {
  /** Directory name under test/compat/cells. */
  name: string;
  dir: string;
  /** Major version of Node the cell's apps run on. */
  nodeMajor: number;
  /** Whether the cell installs @nestjs/terminus, @nestjs/schedule and prom-client. */
  optionalPeers: boolean;
  /** Versions the cell pins, from its package.json. */
  pinned: Record<string, string>;
}

export const OPTIONAL_PEERS = ['@nestjs/schedule', '@nestjs/terminus', 'prom-client'];

export function listCells(): Cell[] {
  return fs
    .readdirSync(CELLS_DIR)
    .filter((name) => fs.existsSync(path.join(CELLS_DIR, name, 'package.json')))
    .sort()
    .map((name) => {
      const dir = path.join(CELLS_DIR, name);
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      const pinned = { ...manifest.dependencies, ...manifest.devDependencies };
      const nodeMajor = pinned.node
        ? Number(pinned.node.split('.')[0])
        : Number(process.versions.node.split('.')[0]);
      return {
        name,
        dir,
        nodeMajor,
        optionalPeers: OPTIONAL_PEERS.every((peer) => peer in pinned),
        pinned,
      };
    });
}

/** The Node binary a cell's apps run on: its own `node` package, or the one running this code. */
export function nodeBinary(cell: Cell): string {
  return cell.pinned.node
    ? path.join(cell.dir, 'node_modules', 'node', 'bin', 'node')
    : process.execPath;
}

/** The version of `pkg` installed in the cell (from its node_modules). */
export function installedVersion(cell: Cell, pkg: string): string {
  const manifest = path.join(cell.dir, 'node_modules', ...pkg.split('/'), 'package.json');
  return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** Runs a command to completion; throws with its output when it exits non-zero. */
export function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed in ${path.relative(REPO_ROOT, cwd)} (exit ${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`,
    );
  }
}

/**
 * Installs the consumer app in `dir` from its lockfile unless it is installed at this lockfile
 * already (a stamp in its node_modules); returns whether it installed.
 */
export function installFromLockfile(dir: string): boolean {
  const stamp = path.join(dir, 'node_modules', STAMP);
  const hash = createHash('sha256')
    .update(fs.readFileSync(path.join(dir, 'package-lock.json')))
    .digest('hex');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === hash) return false;
  // Not `npm ci`: as for the repository itself (see .ci/run), the lockfiles cannot list other
  // platforms' optional binaries (jest's resolver has some) that this registry does not serve.
  // `npm install --no-save` installs exactly the locked versions.
  run('npm', ['install', '--no-save', '--no-audit', '--no-fund'], dir);
  fs.writeFileSync(stamp, hash);
  return true;
}

/** Installs every cell whose lockfile changed since its last install, from its lockfile. */
export function installCells(log: (line: string) => void = () => {}): void {
  for (const cell of listCells()) {
    const started = Date.now();
    if (!installFromLockfile(cell.dir)) {
      log(`${cell.name}: up to date`);
      continue;
    }
    log(`${cell.name}: installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

/** Packs the built package (dist/ must exist) into `destination`; returns the tarball's path. */
export function packPackage(destination: string): string {
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'index.js'))) {
    throw new Error('dist/ is missing: build the package first (npm run build; npm test does)');
  }
  // --ignore-scripts: dist/ was just built (npm test builds first); the prepack build is for publishing.
  const output = execFileSync(
    'npm',
    ['pack', '--silent', '--ignore-scripts', '--pack-destination', destination],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    },
  );
  return path.join(destination, output.trim().split('\n').at(-1)!);
}

/**
 * Installs the tarball into the cell (npm checks the peer ranges and fails on a conflict) without
 * touching its lockfile.
 */
export function installTarball(cell: Cell, tarball: string): void {
  run(
    'npm',
    ['install', '--no-save', '--no-audit', '--no-fund', '--prefer-offline', tarball],
    cell.dir,
  );
}

export interface Compiled {
  /** The app's entry points: <cell>/build/dist/main.mjs and main.cjs. */
  esm: string;
  cjs: string;
  /** The user's jest test (app/billing.test.ts): build/dist/billing.test.mjs and .cjs. */
  testEsm: string;
  testCjs: string;
}

export interface JestRun {
  status: number | null;
  passed: number;
  failed: number;
  output: string;
}

/**
 * Runs one compiled test file with the cell's jest on the cell's Node, in jest's native ESM mode
 * (`--experimental-vm-modules`), which also lets a CommonJS test `require()` ES modules on Node >= 24.9.
 */
export function runJest(cell: Cell, testFile: string): JestRun {
  const results = path.join(path.dirname(testFile), `${path.basename(testFile)}.results.json`);
  const jest = spawnSync(
    nodeBinary(cell),
    [
      '--experimental-vm-modules',
      '--no-warnings=ExperimentalWarning',
      path.join(cell.dir, 'node_modules', 'jest', 'bin', 'jest.js'),
      '--ci',
      '--rootDir',
      path.dirname(testFile),
      '--runTestsByPath',
      testFile,
      '--json',
      '--outputFile',
      results,
    ],
    { cwd: cell.dir, encoding: 'utf8', timeout: 120_000 },
  );
  const summary = fs.existsSync(results)
    ? (JSON.parse(fs.readFileSync(results, 'utf8')) as {
        numPassedTests: number;
        numFailedTests: number;
      })
    : { numPassedTests: 0, numFailedTests: 0 };
  return {
    status: jest.status,
    passed: summary.numPassedTests,
    failed: summary.numFailedTests,
    output: `${jest.stdout}${jest.stderr}`,
  };
}

/**
 * Writes the app (test/compat/app) into <cell>/build/src as .mts and .cts files and compiles them with
 * the repository's TypeScript against the cell's node_modules, checking every declaration file
 * (skipLibCheck off). Throws with the compiler's output on an error.
 */
export function compileApp(cell: Cell): Compiled {
  const build = path.join(cell.dir, 'build');
  fs.rmSync(build, { recursive: true, force: true });
  const src = path.join(build, 'src');
  fs.mkdirSync(src, { recursive: true });
  const main = cell.optionalPeers ? 'main-with-optional-peers.ts' : 'main.ts';
  for (const [ext, out] of [
    ['mts', 'mjs'],
    ['cts', 'cjs'],
  ] as const) {
    const rewrite = (text: string) =>
      text.replaceAll("'./election-app.js'", `'./election-app.${out}'`);
    fs.writeFileSync(
      path.join(src, `election-app.${ext}`),
      rewrite(fs.readFileSync(path.join(APP_DIR, 'election-app.ts'), 'utf8')),
    );
    fs.writeFileSync(
      path.join(src, `main.${ext}`),
      rewrite(fs.readFileSync(path.join(APP_DIR, main), 'utf8')),
    );
    fs.copyFileSync(path.join(APP_DIR, 'billing.test.ts'), path.join(src, `billing.test.${ext}`));
  }
  fs.writeFileSync(
    path.join(build, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023'],
          types: ['node'],
          strict: true,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          skipLibCheck: false,
          rootDir: 'src',
          outDir: 'dist',
        },
        include: ['src'],
      },
      null,
      2,
    ),
  );
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  run(process.execPath, [tsc, '-p', path.join(build, 'tsconfig.json')], build);
  const dist = path.join(build, 'dist');
  return {
    esm: path.join(dist, 'main.mjs'),
    cjs: path.join(dist, 'main.cjs'),
    testEsm: path.join(dist, 'billing.test.mjs'),
    testCjs: path.join(dist, 'billing.test.cjs'),
  };
}
