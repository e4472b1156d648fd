// The `shares` option in a Nest app: what it refuses at bootstrap, and a local run (every share in
// memory, led by this instance) for the per-job API, the share events and the health details.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { KubeConfig } from '@kubernetes/client-node';
import {
  LeaderElectionModule,
  LeaderOnly,
  LeaderService,
  OnLeaderChange,
  type LeaderChangeEvent,
} from '../../../lib/index.js';
import { LeaderElectionError, SpreadElectionError } from '../../../lib/core/errors.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/testing/index.js';

@Injectable()
class Reports {
  readonly runs: string[] = [];
  readonly events: LeaderChangeEvent[] = [];

  @LeaderOnly({ election: 'reports' })
  sales(): void {
    this.runs.push('sales');
  }

  @LeaderOnly({ election: 'reports', job: 'stock' })
  stock(): void {
    this.runs.push('stock');
  }

  @OnLeaderChange('reports')
  changed(event: LeaderChangeEvent): void {
    this.events.push(event);
  }
}

/** A KubeConfig for a server nobody listens on: nothing is sent before the election starts. */
function nowhere(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: false }],
    users: [{ name: 'u', token: 'x' }],
    contexts: [{ name: 'c', cluster: 'c', user: 'u', namespace: 'ns' }],
    currentContext: 'c',
  });
  return kubeConfig;
}

async function boot(...elections: Record<string, unknown>[]) {
  @Module({
    imports: elections.map((options) =>
      LeaderElectionModule.forRoot({ election: 'reports', logger: false, ...options } as never),
    ),
    providers: [Reports],
  })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
}

describe('the shares option', () => {
  const whole = /option "shares": must be a whole number from 1 to 64/;
  it.each([
    ['shares: 0', { shares: 0 }, whole],
    ['shares: 65', { shares: 65 }, whole],
    ['shares: 2.5', { shares: 2.5 }, whole],
    [
      'a Lease name too long for its shares',
      { shares: 2, leaseName: 'a'.repeat(246) },
      /option "leaseName": derives the Lease name "a+-members", which is not a DNS-1123 subdomain/,
    ],
    [
      'a custom lock',
      { shares: 2, lock: new InMemoryLeaseLock(new InMemoryLeaseStore(), 'me') },
      /option "shares": needs the Kubernetes Lease/,
    ],
    [
      'a revision',
      { shares: 2, local: true, revision: '5c6d7e8f9' },
      /option "revision": applies to single elections only/,
    ],
    [
      'waitForLeadership',
      { shares: 2, local: true, waitForLeadership: true },
      /option "waitForLeadership": cannot be combined with "shares"/,
    ],
  ])('refuses %s at bootstrap', async (_, options, message) => {
    await expect(boot({ leaseName: 'reports', ...options })).rejects.toThrow(message);
  });

  it('refuses two elections whose Leases overlap, naming the Lease', async () => {
    await expect(
      boot(
        { leaseName: 'reports', shares: 2, kubeConfig: nowhere(), namespace: 'ns' },
        { election: 'other', leaseName: 'reports-share-1', kubeConfig: nowhere(), namespace: 'ns' },
      ),
    ).rejects.toThrow(/"reports" and "other" would both use the Lease "reports-share-1"/);
  });

  it('runs every job alone in local mode, answers per job and reports each share', async () => {
    const app = await boot({ leaseName: 'reports', shares: 3, local: true });
    await app.init();
    const leader = app.get(LeaderService);
    const reports = app.get(Reports);
    await new Promise((resolve) => setImmediate(resolve));
    expect(leader.isLeaderFor('Reports.sales', 'reports')).toBe(true);
    expect(leader.isLeaderFor('stock', 'reports')).toBe(true);
    expect(leader.getLeaderFor('stock', 'reports')).toBe(leader.getIdentity('reports'));
    expect(leader.fencingTokenFor('stock', 'reports')).not.toBeNull();
    const signal = leader.leadershipSignalFor('stock', 'reports');
    expect(signal.aborted).toBe(false);
    reports.sales();
    reports.stock();
    expect(reports.runs).toEqual(['sales', 'stock']);
    expect(() => leader.isLeader('reports')).toThrow(
      'The leader election "reports" is spread over 3 shares',
    );
    // One of the library's errors, which an app can tell apart from its own.
    expect(() => leader.isLeader('reports')).toThrow(LeaderElectionError);
    expect(() => leader.stepDown('reports')).toThrow(SpreadElectionError);
    const led = reports.events.filter((e) => e.isLeader);
    expect(led.map((e) => [e.share, e.lease]).sort()).toEqual([
      [0, 'reports-share-0'],
      [1, 'reports-share-1'],
      [2, 'reports-share-2'],
    ]);
    await app.close();
    expect(signal.aborted).toBe(true);
  });
});
