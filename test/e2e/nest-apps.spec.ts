// Real Nest applications (several per test, each with its own Kubernetes client) on the real
// kube-apiserver: scheduling, HTTP gating, change handlers, shutdown.
import 'reflect-metadata';
import { type DynamicModule, type INestApplication } from '@nestjs/common';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { LeaderElectionModule } from '../../lib/index.js';
import { kubeConfigFor } from '../control-plane/control-plane.js';
import { createNestApp, type Execution } from '../fixtures/nest-app.js';
import { loadCluster, uniqueName, type Cluster } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';

const FAST = { leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 };

describe('Nest apps on a real kube-apiserver', () => {
  let cluster: Cluster;
  let namespace: string;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    cluster = loadCluster();
    namespace = await cluster.uniqueNamespace('nest');
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close().catch(() => undefined)));
  });

  function electionModule(
    lease: string,
    identity: string,
    extra: Record<string, unknown> = {},
  ): DynamicModule {
    return LeaderElectionModule.forRoot({
      leaseName: lease,
      namespace,
      identity,
      kubeConfig: kubeConfigFor(cluster.state, 'leaseUser'),
      logger: false,
      ...FAST,
      ...extra,
    });
  }

  /** The shared Nest app (test/fixtures/nest-app.ts), closed after the test. */
  async function createApp(name: string, imports: unknown[], executions: Execution[] = []) {
    const created = await createNestApp({ name, imports, executions });
    apps.push(created.app);
    return created;
  }

  it('runs leader-only jobs on exactly one of 3 apps, in both decorator orders, and moves them when the leader closes', async () => {
    const lease = uniqueName('cron');
    const executions: Execution[] = [];
    const instances = await Promise.all(
      ['app-1', 'app-2', 'app-3'].map((name) =>
        createApp(name, [electionModule(lease, name)], executions),
      ),
    );
    await eventually(() => instances.some((i) => i.leader.isLeader()), 20_000, 'a leader');
    const first = instances.find((i) => i.leader.isLeader())!;
    const firstName = first.leader.identity;
    await eventually(
      () =>
        ['interval-below', 'interval-above', 'cron'].every((job) =>
          executions.some((e) => e.job === job),
        ),
      20_000,
      'every job to run',
    );
    expect(new Set(executions.map((e) => e.app))).toEqual(new Set([firstName]));

    const closingAt = performance.now();
    await first.app.close();
    const closedAt = performance.now();
    apps.splice(apps.indexOf(first.app), 1);
    const rest = instances.filter((i) => i !== first);
    await eventually(() => rest.some((i) => i.leader.isLeader()), 20_000, 'a new leader');
    const second = rest.find((i) => i.leader.isLeader())!;
    await eventually(
      () => executions.filter((e) => e.app === second.leader.identity).length >= 6,
      20_000,
      'jobs on the new leader',
    );

    // Per instance counts, and zero overlap between instances.
    const byApp = (app: string) => executions.filter((e) => e.app === app);
    // The first app's last jobs may run while it closes (shutdown waits for them), never after.
    expect(byApp(firstName).every((e) => e.end <= closedAt)).toBe(true);
    expect(byApp(second.leader.identity).every((e) => e.start >= closingAt)).toBe(true);
    const third = rest.find((i) => i !== second)!;
    expect(byApp(third.leader.identity)).toEqual([]);
    const lastOfFirst = Math.max(...byApp(firstName).map((e) => e.end));
    const firstOfSecond = Math.min(...byApp(second.leader.identity).map((e) => e.start));
    expect(lastOfFirst).toBeLessThanOrEqual(firstOfSecond);
  });

  it('delivers every transition, in order, to @OnLeaderChange on every instance', async () => {
    const lease = uniqueName('changes');
    const a = await createApp('ch-a', [electionModule(lease, 'ch-a')]);
    await a.leader.waitForLeadership();
    const b = await createApp('ch-b', [electionModule(lease, 'ch-b')]);
    await eventually(() => b.watcher.events.length === 1, 10_000, 'b first event');
    await a.app.close();
    apps.splice(apps.indexOf(a.app), 1);
    await b.leader.waitForLeadership();

    expect(a.watcher.events.map((e) => [e.isLeader, e.leader])).toEqual([
      [true, 'ch-a'],
      [false, 'ch-a'], // stepping down: no new leader work, lease not yet released
      [false, null], // released
    ]);
    const seenByB = b.watcher.events.map((e) => [e.isLeader, e.leader]);
    expect(seenByB[0]).toEqual([false, 'ch-a']);
    expect(seenByB.at(-1)).toEqual([true, 'ch-b']);
    // Every event's previousLeader is the leader of the event before it.
    for (const events of [a.watcher.events, b.watcher.events]) {
      events.forEach((event, i) =>
        expect(event.previousLeader).toBe(i === 0 ? null : events[i - 1].leader),
      );
    }
  });

  it('aborts leadershipSignal when an administrator takes the lease away', async () => {
    const lease = uniqueName('signal');
    const a = await createApp('sig-a', [electionModule(lease, 'sig-a')]);
    await a.leader.waitForLeadership();
    const signal = a.leader.leadershipSignal();
    const admin = cluster.kubeConfigs.admin.makeApiClient(CoordinationV1Api);
    const current = await admin.readNamespacedLease({ name: lease, namespace });
    await admin.replaceNamespacedLease({
      name: lease,
      namespace,
      body: { ...current, spec: { ...current.spec, holderIdentity: 'administrator' } },
    });
    await eventually(() => signal.aborted, 10_000, 'signal aborted');
    expect(a.leader.isLeader()).toBe(false);
    expect(a.leader.getLeader()).toBe('administrator');
  });

  it('releases the lease on app.close() and leaves no timers behind', async () => {
    const lease = uniqueName('close');
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const a = await createApp('close-a', [electionModule(lease, 'close-a')]);
    await a.leader.waitForLeadership();
    await a.app.close();
    apps.splice(apps.indexOf(a.app), 1);
    const admin = cluster.kubeConfigs.admin.makeApiClient(CoordinationV1Api);
    const released = await admin.readNamespacedLease({ name: lease, namespace });
    expect(released.spec?.holderIdentity).toBe('');
    expect(released.spec?.leaseDurationSeconds).toBe(1);
    await eventually(
      () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length <= timersBefore,
      5_000,
      'timers back to the count before the app',
    );
  });

  it('boots and stays up when the API server is unreachable, without leading', async () => {
    const unreachable = new KubeConfig();
    unreachable.loadFromOptions({
      clusters: [{ name: 'gone', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'c', cluster: 'gone', user: 'u' }],
      currentContext: 'c',
    });
    const warnings: string[] = [];
    const logger = {
      log: () => undefined,
      error: (m: string) => warnings.push(m),
      warn: (m: string) => warnings.push(m),
    };
    const a = await createApp('offline', [
      LeaderElectionModule.forRoot({
        leaseName: 'offline',
        namespace: 'default',
        identity: 'offline',
        kubeConfig: unreachable,
        logger,
        ...FAST,
      }),
    ]);
    await eventually(() => warnings.length > 0, 10_000, 'a warning');
    expect(warnings[0]).toMatch(/ECONNREFUSED|connect/);
    expect(a.leader.isLeader()).toBe(false);
  });
});
