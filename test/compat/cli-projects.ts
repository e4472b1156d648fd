// The projects the Nest CLI makes (test/compat/cli/<project>: `nest new` output with its lockfile, plus
// only what the README tells a user to add), each running its own `npm test` and `npm run test:e2e`
// with the README's Quick start added, on a given Node: installed from its lockfile in place (skipped
// when unchanged), the packed package installed without saving, then copied (node_modules linked) to
// a work directory where the Quick start's files are written and its `// added` lines applied to the
// generated app.module.ts and main.ts, so that the project's own files stay as the CLI made them.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, installFromLockfile, listCells, nodeBinary, run } from './matrix.js';
import { ADDED, applyAdditions, documentationBlocks, type CliProject } from './readme.js';

export const CLI_DIR = path.join(REPO_ROOT, 'test', 'compat', 'cli');

/** The files a project gets whole: the Quick start's new files and docs/testing.md's example. */
export const README_NEW_FILES = [
  'src/billing.service.ts',
  'src/billing.module.ts',
  'src/billing.service.spec.ts',
];

/** The generated files the Quick start adds lines to. */
export const README_EXTENDED_FILES = ['src/app.module.ts', 'src/main.ts'];

/** Which project runs on which Node (the Node binary of the named compatibility cell). */
export const CLI_RUNS: readonly { project: CliProject; cell: string; nodeMajor: number }[] = [
  { project: 'nest11', cell: 'node22-nest11', nodeMajor: 22 },
  { project: 'nest11', cell: 'node24-nest11', nodeMajor: 24 },
  { project: 'nest12', cell: 'node24-nest12', nodeMajor: 24 },
];

/** The generated scripts each run uses, unchanged. */
export const CLI_SCRIPTS = ['test', 'test:e2e'] as const;
export type CliScript = (typeof CLI_SCRIPTS)[number];

export function projectDir(project: CliProject): string {
  return path.join(CLI_DIR, project);
}

/** Installs the project from its lockfile unless it is installed at this lockfile already. */
export function installProject(project: CliProject): void {
  installFromLockfile(projectDir(project));
}

/**
 * Installs the packed package (not saved) into the project, then makes its work copy in
 * `workRoot`: the project's files (node_modules linked, not copied) with the README's Quick start
 * and testing example. Returns the copy's directory.
 */
export function prepareProject(project: CliProject, tarball: string, workRoot: string): string {
  const dir = projectDir(project);
  run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefer-offline', tarball], dir);
  const work = path.join(workRoot, project);
  fs.mkdirSync(work, { recursive: true });
  for (const entry of fs.readdirSync(dir)) {
    if (entry === 'dist' || entry === 'node_modules') continue;
    fs.cpSync(path.join(dir, entry), path.join(work, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(dir, 'node_modules'), path.join(work, 'node_modules'), 'dir');
  const blocks = documentationBlocks();
  const block = (file: string) => {
    const found = blocks.find((b) => b.file === file);
    if (!found) throw new Error(`neither the README nor docs/ has a block for ${file}`);
    return found.code;
  };
  for (const file of README_NEW_FILES) fs.writeFileSync(path.join(work, file), block(file));
  for (const file of README_EXTENDED_FILES) {
    const code = block(file);
    if (!code.includes(ADDED)) throw new Error(`README's ${file} marks no line "${ADDED}"`);
    const target = path.join(work, file);
    fs.writeFileSync(target, applyAdditions(fs.readFileSync(target, 'utf8'), code));
  }
  return work;
}

/** The environment of a run: the cell's Node first on PATH, a home without a kubeconfig. */
function runEnvironment(cellName: string, home: string, kubeconfig: string | undefined) {
  const cell = listCells().find((c) => c.name === cellName);
  if (!cell) throw new Error(`no compatibility cell ${cellName}`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.dirname(nodeBinary(cell))}${path.delimiter}${process.env.PATH ?? ''}`,
    HOME: home,
    CI: 'true',
    NO_COLOR: '1',
  };
  delete env.NODE_OPTIONS;
  delete env.NODE_ENV;
  delete env.KUBECONFIG;
  delete env.KUBERNETES_SERVICE_HOST;
  if (kubeconfig) env.KUBECONFIG = kubeconfig;
  return env;
}

/**
 * Runs one of the project's own scripts in its work copy with the cell's Node first on PATH, in a
 * home without a kubeconfig; `kubeconfig` names the cluster (KUBECONFIG), or none for local mode.
 */
export function runProjectScript(
  work: string,
  cellName: string,
  script: CliScript,
  kubeconfig: string | undefined,
): { status: number | null; output: string; nodeVersion: string } {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nkl-cli-home-'));
  const env = runEnvironment(cellName, home, kubeconfig);
  try {
    const nodeVersion = spawnSync('node', ['--version'], { cwd: work, env, encoding: 'utf8' });
    // No --forceExit: a run that leaves handles open does not end, and the timeout fails it.
    const result = spawnSync('npm', ['run', script], {
      cwd: work,
      env,
      encoding: 'utf8',
      timeout: 300_000,
    });
    return {
      status: result.status,
      output: `${result.stdout}${result.stderr}`,
      nodeVersion: nodeVersion.stdout.trim(),
    };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** A free port on 127.0.0.1 (bound by the system, then closed). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts the app with one of the project's start scripts (`start`, `start:dev`) as generated, on a
 * free PORT without a kubeconfig, waits until `GET /` answers, and stops it with SIGTERM (to the
 * process group it started: npm, the Nest CLI and the app). Returns the answer and the output.
 */
export async function startProject(
  work: string,
  cellName: string,
  script: 'start' | 'start:dev',
): Promise<{ answer: string; output: string }> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nkl-cli-home-'));
  const port = await freePort();
  const child = spawn('npm', ['run', script], {
    cwd: work,
    env: { ...runEnvironment(cellName, home, undefined), PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm run ${script} exited:\n${output}`);
      const answer = await fetch(`http://127.0.0.1:${port}/`).then(
        async (response) => `${response.status} ${await response.text()}`,
        () => undefined,
      );
      if (answer !== undefined) return { answer, output };
      if (Date.now() > deadline)
        throw new Error(`npm run ${script}: no answer on ${port}:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 250)); // polls until the app listens
    }
  } finally {
    if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    await exited;
    fs.rmSync(home, { recursive: true, force: true });
  }
}
