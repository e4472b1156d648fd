// The projects the Nest CLI makes (test/compat/cli/<project>: `nest new` output with its lockfile, plus
// only what the README tells a user to add), each running the README's testing example with its own
// `npm test` on a given Node: installed from its lockfile in place (skipped when unchanged), the packed
// package installed without saving, the README's blocks written to src/.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, installFromLockfile, listCells, nodeBinary, run } from './matrix.js';
import { readmeBlocks, type CliProject } from './readme.js';

export const CLI_DIR = path.join(REPO_ROOT, 'test', 'compat', 'cli');

/** The README files a project's test needs: the service and its spec. */
export const README_TEST_FILES = ['src/billing.service.ts', 'src/billing.service.spec.ts'];

/** Which project runs on which Node (the Node binary of the named compatibility cell). */
export const CLI_RUNS: readonly { project: CliProject; cell: string; nodeMajor: number }[] = [
  { project: 'nest11', cell: 'node22-nest11', nodeMajor: 22 },
  { project: 'nest11', cell: 'node24-nest11', nodeMajor: 24 },
  { project: 'nest12', cell: 'node24-nest12', nodeMajor: 24 },
];

export function projectDir(project: CliProject): string {
  return path.join(CLI_DIR, project);
}

/** Installs the project from its lockfile unless it is installed at this lockfile already. */
export function installProject(project: CliProject): void {
  installFromLockfile(projectDir(project));
}

/** Installs the packed package (not saved) and writes the README's service and spec to src/. */
export function prepareProject(project: CliProject, tarball: string): void {
  const dir = projectDir(project);
  run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefer-offline', tarball], dir);
  const blocks = readmeBlocks(fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'));
  for (const file of README_TEST_FILES) {
    const block = blocks.find((b) => b.file === file);
    if (!block) throw new Error(`README has no block for ${file}`);
    fs.writeFileSync(path.join(dir, file), block.code);
  }
}

/** Runs the project's own `npm test` with the cell's Node first on PATH. */
export function runProjectTests(
  project: CliProject,
  cellName: string,
): { status: number | null; output: string; nodeVersion: string } {
  const cell = listCells().find((c) => c.name === cellName);
  if (!cell) throw new Error(`no compatibility cell ${cellName}`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.dirname(nodeBinary(cell))}${path.delimiter}${process.env.PATH ?? ''}`,
    CI: 'true',
    NO_COLOR: '1',
  };
  delete env.NODE_OPTIONS;
  const dir = projectDir(project);
  const nodeVersion = spawnSync('node', ['--version'], { cwd: dir, env, encoding: 'utf8' });
  const result = spawnSync('npm', ['test'], { cwd: dir, env, encoding: 'utf8', timeout: 300_000 });
  return {
    status: result.status,
    output: `${result.stdout}${result.stderr}`,
    nodeVersion: nodeVersion.stdout.trim(),
  };
}
