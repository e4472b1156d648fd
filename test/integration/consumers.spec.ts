// The BUILT package, packed as npm would publish it, imported by an ES module Nest app and by a
// CommonJS Nest app (require(esm), Node >= 20.19), each running a real election.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadCluster, uniqueName, type Cluster } from '../support/cluster.js';
import { REPO_ROOT } from '../support/candidates.js';

const APP_BODY = (load: string) => `${load}

class Jobs {
  answer() { return 42; }
}
// The decorators, applied as TypeScript would.
const descriptor = Object.getOwnPropertyDescriptor(Jobs.prototype, 'answer');
Object.defineProperty(Jobs.prototype, 'answer', LeaderOnly()(Jobs.prototype, 'answer', descriptor));
Injectable()(Jobs);

class AppModule {}
Module({
  imports: [
    LeaderElectionModule.forRoot({
      leaseName: process.env.LEASE,
      namespace: process.env.NAMESPACE,
      identity: process.env.IDENTITY,
      kubeConfig: (() => { const kc = new KubeConfig(); kc.loadFromFile(process.env.KUBECONFIG); return kc; })(),
      leaseDuration: 3000, renewDeadline: 2000, retryPeriod: 500,
      logger: false,
    }),
  ],
  providers: [Jobs],
})(AppModule);

(async () => {
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.init();
  const leader = app.get(LeaderService);
  await leader.waitForLeadership();
  const result = { isLeader: leader.isLeader(), identity: leader.identity, gated: app.get(Jobs).answer() };
  await app.close();
  console.log(JSON.stringify(result));
})().catch((error) => { console.error(error); process.exit(1); });
`;

const ESM = APP_BODY(`import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { KubeConfig } from '@kubernetes/client-node';
import { LeaderElectionModule, LeaderOnly, LeaderService } from 'nestjs-kube-leader';`);

const CJS = APP_BODY(`require('reflect-metadata');
const { Injectable, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { KubeConfig } = require('@kubernetes/client-node');
const { LeaderElectionModule, LeaderOnly, LeaderService } = require('nestjs-kube-leader');`);

describe('the built package in consumer apps', () => {
  let cluster: Cluster;
  let namespace: string;
  let workDir: string;

  beforeAll(async () => {
    cluster = loadCluster();
    namespace = await cluster.uniqueNamespace('consumers');
    if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'index.js'))) {
      throw new Error('dist/ is missing: npm test builds it first (npm run build)');
    }
    // Inside the repository, so that the apps' own imports of Nest and client-node resolve to the
    // repository's node_modules, as they would to an app's own.
    workDir = fs.mkdtempSync(path.join(REPO_ROOT, '.control-plane', 'consumers-'));
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', workDir], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .at(-1)!;
    for (const kind of ['esm', 'cjs']) {
      const app = path.join(workDir, kind);
      const installed = path.join(app, 'node_modules', 'nestjs-kube-leader');
      fs.mkdirSync(installed, { recursive: true });
      execFileSync('tar', [
        'xzf',
        path.join(workDir, tarball),
        '-C',
        installed,
        '--strip-components=1',
      ]);
      fs.writeFileSync(
        path.join(app, 'package.json'),
        JSON.stringify({
          name: `consumer-${kind}`,
          private: true,
          type: kind === 'esm' ? 'module' : 'commonjs',
        }),
      );
      fs.writeFileSync(
        path.join(app, kind === 'esm' ? 'main.mjs' : 'main.cjs'),
        kind === 'esm' ? ESM : CJS,
      );
    }
  });

  afterAll(() => {
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('ships only the built output', () => {
    const installed = path.join(workDir, 'esm', 'node_modules', 'nestjs-kube-leader');
    expect(fs.readdirSync(installed).sort()).toEqual([
      'LICENSE',
      'README.md',
      'dist',
      'package.json',
    ]);
    expect(fs.existsSync(path.join(installed, 'dist', 'core', 'index.d.ts'))).toBe(true);
  });

  it.each([
    ['an ES module app', 'esm', 'main.mjs'],
    ['a CommonJS app', 'cjs', 'main.cjs'],
  ])('runs an election in %s', (_label, kind, file) => {
    const identity = `${kind}-consumer`;
    const run = spawnSync(process.execPath, [file], {
      cwd: path.join(workDir, kind),
      env: {
        ...process.env,
        KUBECONFIG: cluster.kubeconfigPaths.leaseUser,
        NAMESPACE: namespace,
        LEASE: uniqueName(kind),
        IDENTITY: identity,
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toEqual({
      isLeader: true,
      identity,
      gated: 42,
    });
  });
});
