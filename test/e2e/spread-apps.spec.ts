// Nest apps whose leader-only jobs are spread over shares, on the real kube-apiserver: 12 interval
// jobs, 6 shares, apps joining and leaving; each job runs on exactly one app at a time.
import 'reflect-metadata';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Interval, ScheduleModule } from '@nestjs/schedule';
import {
  LeaderElectionModule,
  LeaderOnly,
  LeaderService,
  OnLeaderChange,
  type LeaderChangeEvent,
} from '../../lib/index.js';
import { kubeConfigFor } from '../control-plane/control-plane.js';
import { loadCluster, uniqueName, type Cluster } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';

const FAST = { leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 };
const SHARES = 6;
const JOBS = Array.from({ length: 12 }, (_, i) => `job${i}`);

interface Run {
  readonly app: string;
  readonly job: string;
  readonly at: number;
}

/** 12 leader-only interval jobs of the `reports` election, as an app would declare them. */
function reportsProvider(app: string, runs: Run[], shares: Map<number, boolean>) {
  @Injectable()
  class Reports {
    @OnLeaderChange('reports')
    onChange(event: LeaderChangeEvent) {
      if (event.share !== undefined) shares.set(event.share, event.isLeader);
    }
  }
  for (const job of JOBS) {
    const descriptor: PropertyDescriptor = {
      value: function run() {
        runs.push({ app, job, at: performance.now() });
      },
      writable: true,
      configurable: true,
    };
    Interval(100)(Reports.prototype, job, descriptor);
    LeaderOnly({ election: 'reports', job })(Reports.prototype, job, descriptor);
    Object.defineProperty(Reports.prototype, job, descriptor);
  }
  return Reports;
}

describe('Nest apps with jobs spread over shares on a real kube-apiserver', () => {
  let cluster: Cluster;
  let namespace: string;
  const apps = new Map<
    string,
    { app: INestApplication; leader: LeaderService; shares: Map<number, boolean> }
  >();

  beforeAll(async () => {
    cluster = loadCluster();
    namespace = await cluster.uniqueNamespace('spread-apps');
  });

  afterEach(async () => {
    await Promise.all([...apps.values()].map(({ app }) => app.close().catch(() => undefined)));
    apps.clear();
  });

  async function start(name: string, lease: string, runs: Run[]) {
    const shares = new Map<number, boolean>();
    @Module({
      imports: [
        ScheduleModule.forRoot(),
        LeaderElectionModule.forRoot({
          election: 'reports',
          leaseName: lease,
          shares: SHARES,
          namespace,
          identity: name,
          kubeConfig: kubeConfigFor(cluster.state, 'leaseUser'),
          logger: false,
          ...FAST,
        }),
      ],
      providers: [reportsProvider(name, runs, shares)],
    })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger: false });
    await app.init();
    apps.set(name, { app, leader: app.get(LeaderService), shares });
  }

  /** Shares each app leads, by its @OnLeaderChange events. */
  const led = (names: string[]) =>
    names.map((name) => [...apps.get(name)!.shares.values()].filter(Boolean).length);

  /** Every 5 ms: a job that two apps would run at once is recorded. */
  function monitor() {
    const violations: string[] = [];
    const timer = setInterval(() => {
      for (const job of JOBS) {
        const runners = [...apps].filter(([, a]) => a.leader.isLeaderFor(job, 'reports'));
        if (runners.length > 1) violations.push(`${job}: ${runners.map(([n]) => n).join(' + ')}`);
      }
    }, 5);
    return { violations, stop: () => clearInterval(timer) };
  }

  /** The apps that ran `job` after `since`. */
  const ranBy = (runs: Run[], job: string, since: number) => [
    ...new Set(runs.filter((r) => r.job === job && r.at > since).map((r) => r.app)),
  ];

  it('runs each job on one app, spreads the shares as apps join, and moves them when one closes', async () => {
    const lease = uniqueName('reports');
    const runs: Run[] = [];
    const watch = monitor();
    await start('app-1', lease, runs);
    await eventually(() => led(['app-1'])[0] === SHARES, 20_000, 'app-1 leading every share');
    await start('app-2', lease, runs);
    await start('app-3', lease, runs);
    const all = ['app-1', 'app-2', 'app-3'];
    await eventually(() => led(all).every((n) => n === 2), 30_000, 'two shares each');

    // Balanced: over the next runs every job runs on exactly one app, the one LeaderService names.
    const since = performance.now();
    await eventually(() => JOBS.every((job) => ranBy(runs, job, since).length > 0), 10_000, 'runs');
    for (const job of JOBS) {
      const runners = all.filter((name) => apps.get(name)!.leader.isLeaderFor(job, 'reports'));
      expect(ranBy(runs, job, since)).toEqual(runners);
      expect(apps.get('app-1')!.leader.getLeaderFor(job, 'reports')).toBe(runners[0]);
    }
    expect(() => apps.get('app-1')!.leader.isLeader('reports')).toThrow(/isLeaderFor/);

    // app-3 closes: it releases its shares and leaves the membership; the others take 3 each.
    await apps.get('app-3')!.app.close();
    apps.delete('app-3');
    await eventually(() => led(['app-1', 'app-2']).every((n) => n === 3), 30_000, 'three each');
    watch.stop();
    expect(watch.violations).toEqual([]);
  });
});
