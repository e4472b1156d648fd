// sample/Dockerfile's steps, run by scripts/docker-steps.ts (no Docker engine needed): the image holds
// the sample's production dependencies only, and the result starts as the image's user, answers the
// probes of sample/k8s/deployment.yaml on the local API server, writes no file, and exits 0 on SIGTERM
// within the Deployment's terminationGracePeriodSeconds.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAllYaml, type V1Deployment } from '@kubernetes/client-node';
import { sampleImage, type SampleImage } from '../support/sample-image.js';
import { loadCluster, uniqueName } from '../support/cluster.js';
import { freeLoopbackPort } from '../control-plane/processes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readJson = (file: string) =>
  JSON.parse(fs.readFileSync(file, 'utf8')) as {
    version: string;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };

/** Development tools that must not reach the image. */
const DEV_ONLY = [
  'jest',
  '@jest/globals',
  'typescript',
  'eslint',
  'typescript-eslint',
  'prettier',
  'jscpd',
  '@swc/core',
  '@swc-node/register',
  '@nestjs/testing',
  'prom-client',
];

/** Names of the packages directly in `node_modules` (scoped ones as `@scope/name`). */
function installedPackages(nodeModules: string): string[] {
  return fs
    .readdirSync(nodeModules)
    .filter((entry) => !entry.startsWith('.'))
    .flatMap((entry) =>
      entry.startsWith('@')
        ? fs.readdirSync(path.join(nodeModules, entry)).map((name) => `${entry}/${name}`)
        : [entry],
    );
}

/** Every path under `dir` with its size and modification time. */
function snapshot(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).map((file) => {
    const stat = fs.lstatSync(path.join(dir, file));
    return `${file} ${stat.size} ${stat.mtimeMs}`;
  });
}

async function waitForStatus(url: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    try {
      last = (await fetch(url, { signal: AbortSignal.timeout(1_000) })).status;
      if (last === 200) return last;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return last;
}

describe('sample/Dockerfile, run step by step', () => {
  let workDir: string;
  let image: SampleImage;
  let buildMs: number;
  let child: ChildProcess | undefined;

  beforeAll(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sample-image-'));
    fs.chmodSync(workDir, 0o755);
    const started = Date.now();
    // Built by its steps in this run, or by an identical run before (the same inputs, by hash).
    image = sampleImage();
    buildMs = Date.now() - started;
    process.stderr.write(
      `[sample-image] ${image.builtNow ? 'built' : 'reused'} in ${buildMs} ms: ${image.runs.map((run) => `${run.command.split(' ').slice(0, 3).join(' ')} ${run.ms} ms`).join('; ')}\n`,
    );
  }, 300_000);

  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('holds the production dependencies only', () => {
    const installed = installedPackages(path.join(image.workdir, 'node_modules'));
    expect(
      installed.filter((name) => DEV_ONLY.includes(name) || name.startsWith('@jest/')),
    ).toEqual([]);
    const wanted = Object.keys(
      readJson(path.join(ROOT, 'sample/image/package.json')).dependencies!,
    );
    expect(wanted.filter((name) => !installed.includes(name))).toEqual([]);
    // npm prune leaves emptied scope folders; the Dockerfile removes them.
    expect(installed.filter((name) => name.endsWith('/'))).toEqual([]);
  });

  it("pins the repository's locked versions", () => {
    const root = readJson(path.join(ROOT, 'package.json'));
    const wanted = readJson(path.join(ROOT, 'sample/image/package.json')).dependencies!;
    for (const [name, version] of Object.entries(wanted)) {
      const expected = name === 'nestjs-kube-leader' ? root.version : root.devDependencies![name];
      expect(`${name}@${version}`).toBe(`${name}@${expected}`);
      const installed = readJson(path.join(image.workdir, 'node_modules', name, 'package.json'));
      expect(`${name}@${installed.version}`).toBe(`${name}@${expected}`);
    }
  });

  it('runs as the image user, answers the probes, writes nothing and ends on SIGTERM within the grace period', async () => {
    expect(image.user).toBe('1000');
    const cluster = loadCluster();
    const namespace = await cluster.uniqueNamespace('sample-image');
    // Readable by the image's user (the state directory's copy is the owner's only).
    const kubeconfig = path.join(workDir, 'kubeconfig');
    fs.copyFileSync(cluster.kubeconfigPaths.leaseUser, kubeconfig);
    fs.chmodSync(kubeconfig, 0o644);
    const before = snapshot(image.root);
    const port = await freeLoopbackPort();

    const asImageUser = process.getuid?.() === 0 ? { uid: 1000, gid: 1000 } : {};
    const [command, ...args] = image.cmd;
    expect(command).toBe('node');
    child = spawn(process.execPath, args, {
      cwd: image.workdir,
      ...asImageUser,
      env: {
        ...image.env,
        PATH: process.env.PATH,
        KUBECONFIG: kubeconfig,
        NAMESPACE: namespace,
        LEASE_NAME: uniqueName('sample-image'),
        POD_NAME: 'sample-image',
        PORT: String(port),
        HOST: '127.0.0.1',
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Nest's shutdown hooks close the app, then re-raise the signal: the process ends by SIGTERM.
    const exited = new Promise<string>((resolve) =>
      child!.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`)),
    );

    const base = `http://127.0.0.1:${port}`;
    const answers = {
      ready: await waitForStatus(`${base}/health/ready`, 30_000),
      live: await waitForStatus(`${base}/health/live`, 5_000),
    };
    expect({ answers, output: answers.ready === 200 ? '' : output }).toEqual({
      answers: { ready: 200, live: 200 },
      output: '',
    });
    const status = (await (await fetch(`${base}/leader`)).json()) as { identity: string };
    expect(status.identity).toMatch(/^sample-image_[0-9a-f]{8}$/);

    const deployment = (
      loadAllYaml(fs.readFileSync(path.join(ROOT, 'sample/k8s/deployment.yaml'), 'utf8')) as {
        kind: string;
      }[]
    ).find((object) => object.kind === 'Deployment') as V1Deployment;
    const gracePeriod = deployment.spec!.template.spec!.terminationGracePeriodSeconds!;
    // A fresh Lease is led one lease duration after its create: a SIGTERM before that leaves it to
    // expire (releasing it would free it for every replica while an earlier leader may still run).
    const ledAtTerm = /became leader of lease \S+\/sample-image/.test(output);
    const termAt = Date.now();
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const end = await Promise.race([
      exited,
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve('still running'), gracePeriod * 1000);
      }),
    ]);
    clearTimeout(timer);
    const released = /released lease \S+\/sample-image/.test(output);
    const leftToExpire = /is not releasing \S*sample-image\S*: its term had not started/.test(
      output,
    );
    expect({ end, released, leftToExpire }).toEqual({
      end: 'SIGTERM',
      released: ledAtTerm,
      leftToExpire: !ledAtTerm,
    });
    process.stderr.write(`[sample-image] exited ${Date.now() - termAt} ms after SIGTERM\n`);
    expect(snapshot(image.root)).toEqual(before);
  });
});
