// An election that cannot reach its API server (a kubeconfig pointing at a closed port) does not
// start quietly: the first error says why, and when no request has been answered one renew deadline
// after start, a warning says so. A real closed port on 127.0.0.1, no mocked HTTP.
import 'reflect-metadata';
import net from 'node:net';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { KubeConfig } from '@kubernetes/client-node';
import type { LeaseLock } from '../../../lib/core/index.js';
import { LeaderElectionModule } from '../../../lib/index.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/testing/index.js';
import { RecordingLoggerService } from '../../support/recording-logger.js';
import { eventually } from '../../support/eventually.js';

const TIMINGS = { leaseDuration: 1500, renewDeadline: 1000, retryPeriod: 200 };

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function kubeConfigFor(server: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'dev', server }],
    users: [{ name: 'dev', token: 'secret-token-0123456789abcdefghijklmnop' }],
    contexts: [{ name: 'dev', cluster: 'dev', user: 'dev', namespace: 'apps' }],
    currentContext: 'dev',
  });
  return kubeConfig;
}

async function startWith(options: Record<string, unknown>, logger: RecordingLoggerService) {
  @Module({
    imports: [
      LeaderElectionModule.forRoot({
        leaseName: 'billing',
        identity: 'a',
        logger,
        ...TIMINGS,
        ...options,
      }),
    ],
  })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { logger: false });
}

describe('an election that cannot reach the API server', () => {
  it('warns one renew deadline after start, naming the lease, the deadline and the cause', async () => {
    const port = await closedPort();
    const logger = new RecordingLoggerService();
    const app = await startWith({ kubeConfig: kubeConfigFor(`https://127.0.0.1:${port}`) }, logger);
    try {
      const warning = () =>
        logger.lines.filter((line) => line.includes('has not reached the API server'));
      await eventually(() => warning().length > 0, 10_000, 'the warning');
      expect(warning()).toEqual([
        'warn lease apps/billing has not reached the API server within the renew deadline (1 s) of its ' +
          'start, so this instance cannot lead; it keeps retrying. Last error: LockUnavailableError: get ' +
          `lease apps/billing: connect ECONNREFUSED 127.0.0.1:${port}: nothing accepts connections there ` +
          "(is the API server running, and is it the kubeconfig's server?)",
      ]);
      // The first failure already said why, at warn level.
      expect(logger.lines.find((line) => line.startsWith('warn Error'))).toContain(
        `connect ECONNREFUSED 127.0.0.1:${port}`,
      );
    } finally {
      await app.close();
    }
  });

  it('says nothing when the election reaches its lock', async () => {
    // Shared like a Kubernetes Lease (not the in-memory lock of tests and local mode, never checked).
    const inner = new InMemoryLeaseLock(new InMemoryLeaseStore(), 'a', 'billing');
    const lock: LeaseLock = {
      identity: inner.identity,
      description: 'lease apps/billing',
      get: (options) => inner.get(options),
      create: (spec, options) => inner.create(spec, options),
      update: (spec, version, options) => inner.update(spec, version, options),
      watch: (handlers, options) => inner.watch(handlers, options),
    };
    const logger = new RecordingLoggerService();
    const app = await startWith({ lock, identity: undefined }, logger);
    try {
      // Past the check (one renew deadline after start), while the election runs.
      await eventually(() => logger.lines.some((line) => line.includes('became leader')), 10_000);
      await new Promise((resolve) => setTimeout(resolve, TIMINGS.renewDeadline + 200));
    } finally {
      await app.close();
    }
    expect(logger.lines.filter((line) => line.includes('has not reached'))).toEqual([]);
  });
});
