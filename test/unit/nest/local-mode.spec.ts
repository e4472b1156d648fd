// Running locally: without any kubeconfig the app fails at start-up saying where it looked (instead
// of client-node's silent fallback to http://localhost:8080 and an error every few seconds), and
// `local: true` runs the app alone, leading at once, refused inside a pod.
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LeaderElectionModule, LeaderOnly, LeaderService } from '../../../lib/index.js';
import { loadDefaultKubeConfig } from '../../../lib/kubernetes/defaults.js';
import { assertLocalAllowed, localModeClientNodeWarning } from '../../../lib/local-mode.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/testing/index.js';
import { RecordingLoggerService } from '../../support/recording-logger.js';

@Injectable()
class Jobs {
  runs = 0;

  @LeaderOnly()
  run(): void {
    this.runs += 1;
  }
}

async function start(options: Record<string, unknown>, logger = new RecordingLoggerService()) {
  @Module({
    imports: [LeaderElectionModule.forRoot({ leaseName: 'billing', logger, ...options })],
    providers: [Jobs],
  })
  class AppModule {}
  const app = await NestFactory.createApplicationContext(AppModule, {
    logger: false,
    abortOnError: false,
  });
  return { app, logger };
}

/** Runs `body` with the given environment variables set (undefined: unset), then restores them. */
async function withEnv(vars: Record<string, string | undefined>, body: () => Promise<void>) {
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  for (const [key, value] of Object.entries(vars)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    await body();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

describe('without a kubeconfig', () => {
  it('refuses to start, naming every place it looked', () => {
    expect(() =>
      loadDefaultKubeConfig({
        env: {},
        homeConfig: '/nowhere/.kube/config',
        tokenFile: '/nowhere/serviceaccount/token',
      }),
    ).toThrow(
      'Invalid leader election option "kubeConfig": no kubeconfig found: KUBECONFIG is not set, /nowhere/.kube/config does ' +
        'not exist, and this is not a pod (no /nowhere/serviceaccount/token). Point KUBECONFIG at a cluster, ' +
        "or develop without one with the module option local: 'if-no-kubeconfig'",
    );
  });

  it('fails the app at start-up instead of retrying against http://localhost:8080', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nkl-home-'));
    try {
      await withEnv({ KUBECONFIG: undefined, HOME: home }, async () => {
        await expect(start({})).rejects.toThrow(
          `no kubeconfig found: KUBECONFIG is not set, ${home}/.kube/config does not exist`,
        );
      });
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('local: true', () => {
  it('leads alone at once, runs leader-only work, and says so at start-up', async () => {
    await withEnv({ KUBERNETES_SERVICE_HOST: undefined }, async () => {
      const { app, logger } = await start({ local: true, identity: 'dev' });
      try {
        await app.init();
        expect(app.get(LeaderService).isLeader()).toBe(true);
        app.get(Jobs).run();
        expect(app.get(Jobs).runs).toBe(1);
        expect(logger.lines).toContain(
          'warn Local mode: dev leads "billing" alone, on an in-memory Lease (no Kubernetes API, no other ' +
            'replica). For development only: it is refused in a cluster.',
        );
      } finally {
        await app.close();
      }
    });
  });

  it('is refused in a pod (KUBERNETES_SERVICE_HOST set), naming why', async () => {
    await withEnv({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }, async () => {
      await expect(start({ local: true })).rejects.toThrow(
        'Invalid leader election option "local": must not be true in a cluster (KUBERNETES_SERVICE_HOST is set): even a ' +
          'one-replica Deployment runs two pods during every rollout',
      );
    });
  });

  // A pod's service-account token marks a cluster even where KUBERNETES_SERVICE_HOST is empty or unset
  // (a container that clears its environment, a shell started with env -i).
  it('is refused where the service-account token file exists, naming the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nkl-sa-'));
    const tokenFile = path.join(dir, 'token');
    try {
      expect(() => assertLocalAllowed({}, {}, tokenFile)).not.toThrow();
      fs.writeFileSync(tokenFile, 'a-token');
      for (const env of [{}, { KUBERNETES_SERVICE_HOST: '' }]) {
        expect(() => assertLocalAllowed({}, env, tokenFile)).toThrow(
          `Invalid leader election option "local": must not be true in a cluster (this is a pod: ${tokenFile} ` +
            'exists): even a one-replica Deployment runs two pods during every rollout',
        );
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is refused with a custom lock, and must be a boolean', async () => {
    await withEnv({ KUBERNETES_SERVICE_HOST: undefined }, async () => {
      const lock = new InMemoryLeaseLock(new InMemoryLeaseStore(), 'x');
      await expect(start({ local: true, lock })).rejects.toThrow(
        'Invalid leader election option "local": cannot be combined with a custom "lock"',
      );
      await expect(start({ local: 'yes' })).rejects.toThrow(
        `Invalid leader election option "local": must be a boolean or 'if-no-kubeconfig'`,
      );
    });
  });
});

// The README's choice for development: `nest start` (npm run start, start:dev) sets no NODE_ENV, so
// what decides is whether there is a cluster to elect on.
describe("local: 'if-no-kubeconfig'", () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'nkl-home-'));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  const noCluster = () => ({
    KUBECONFIG: undefined,
    HOME: home,
    NODE_ENV: undefined,
    KUBERNETES_SERVICE_HOST: undefined,
  });

  it('leads alone when no kubeconfig is found and NODE_ENV is unset (as nest start leaves it), saying why', async () => {
    await withEnv(noCluster(), async () => {
      const { app, logger } = await start({ local: 'if-no-kubeconfig', identity: 'dev' });
      try {
        expect(app.get(LeaderService).isLeader()).toBe(true);
        app.get(Jobs).run();
        expect(app.get(Jobs).runs).toBe(1);
        expect(logger.lines).toContain(
          `warn Local mode (no kubeconfig found: KUBECONFIG is not set, ${home}/.kube/config does not ` +
            'exist, and this is not a pod): dev leads "billing" alone, on an in-memory Lease (no ' +
            'Kubernetes API, no other replica). For development only: it is refused in a cluster.',
        );
      } finally {
        await app.close();
      }
    });
  });

  it('elects on the cluster when KUBECONFIG names one', async () => {
    const kubeconfig = path.join(home, 'kubeconfig');
    fs.writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{ name: c, cluster: { server: "https://127.0.0.1:1" } }]',
        'users: [{ name: u, user: {} }]',
        'contexts: [{ name: x, context: { cluster: c, user: u, namespace: dev } }]',
        'current-context: x',
      ].join('\n'),
    );
    await withEnv({ ...noCluster(), KUBECONFIG: kubeconfig }, async () => {
      const { app, logger } = await start({ local: 'if-no-kubeconfig', identity: 'dev' });
      await app.close();
      expect(logger.lines.filter((line) => line.includes('Local mode'))).toEqual([]);
      expect(logger.lines).toContain(
        'log dev campaigning for lease dev/billing on https://127.0.0.1:1 (namespace from the kubeconfig context "x")',
      );
    });
  });

  it('stops at start-up without a kubeconfig when NODE_ENV is production', async () => {
    await withEnv({ ...noCluster(), NODE_ENV: 'production' }, async () => {
      await expect(start({ local: 'if-no-kubeconfig' })).rejects.toThrow('no kubeconfig found');
    });
  });

  it('elects in a pod, where the service account is the kubeconfig', async () => {
    await withEnv({ ...noCluster(), KUBERNETES_SERVICE_HOST: '10.96.0.1' }, async () => {
      await expect(start({ local: 'if-no-kubeconfig' })).rejects.toThrow('no kubeconfig found');
    });
  });
});

describe('local mode with a client-node too new for this Node', () => {
  it('warns at once, instead of only at the first start against a cluster', () => {
    expect(localModeClientNodeWarning('20.20.2', { version: '2.0.1' })).toBe(
      '@kubernetes/client-node 2.0.1 needs Node >= 22.19.0, but this process runs Node 20.20.2. ' +
        'Install the client-node that supports it: npm install @kubernetes/client-node@^1.4.0 (or run ' +
        'on Node 22.19.0 or later). Local mode runs without it; against a cluster the app would stop ' +
        'at start-up.',
    );
    expect(localModeClientNodeWarning('22.19.0', { version: '2.0.1' })).toBeUndefined();
    // This repository's own client-node (1.x) runs on this Node.
    expect(localModeClientNodeWarning()).toBeUndefined();
  });
});
