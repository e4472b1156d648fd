// Health, metrics and Kubernetes Events on a real kube-apiserver: two Nest apps as lease-user, the
// leader cut off from the API server by its TCP proxy, the follower taking over; a `once` job's last
// run and the Events about the fires a new leader caught up after a gap.
import 'reflect-metadata';
import fs from 'node:fs';
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { Injectable, Logger, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cron, ScheduleModule } from '@nestjs/schedule';
import { Registry } from 'prom-client';
import { LeaderElectionModule, LeaderOnly, LeaderService } from '../../lib/index.js';
import {
  LeaderElectionHealthIndicator,
  LeaderElectionHealthModule,
} from '../../lib/health/index.js';
import { ELECTION_METRIC_NAMES, PrometheusElectionMetrics } from '../../lib/metrics/index.js';
import { TcpProxy } from '../chaos/tcp-proxy.js';
import { loadCluster, uniqueName, type Cluster } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { RecordingLoggerService } from '../support/recording-logger.js';

const FAST = { leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 };
const HEALTH = { maxApiFailureDuration: 1_500 };

/** A `once` job every second. */
@Injectable()
class Reports {
  @Cron('* * * * * *', { timeZone: 'UTC' })
  @LeaderOnly({ once: true })
  tick(): void {}
}

interface Replica {
  identity: string;
  app: INestApplicationContext;
  registry: Registry;
  logger: RecordingLoggerService;
  proxy: TcpProxy;
  health(): Record<string, unknown>;
  metric(name: string, labels: Record<string, string>): Promise<number | undefined>;
}

/** Grants lease-user `create` on events in `namespace`, and waits until the grant is effective. */
async function grantEventCreate(cluster: Cluster, namespace: string): Promise<void> {
  const rbac = cluster.kubeConfigs.admin.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: 'events-create', namespace },
      rules: [{ apiGroups: [''], resources: ['events'], verbs: ['create'] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'events-create', namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'events-create' },
      subjects: [
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: cluster.users.leaseUser },
      ],
    },
  });
  const events = cluster.kubeConfigs.leaseUser.makeApiClient(CoreV1Api);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      // A dry run checks the authorization without storing anything.
      await events.createNamespacedEvent({
        namespace,
        dryRun: 'All',
        body: {
          metadata: { name: uniqueName('rbac-probe'), namespace },
          involvedObject: { kind: 'Lease', name: 'probe', namespace },
        },
      });
      return;
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 403) || Date.now() > deadline)
        throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('health, metrics and Events on a real kube-apiserver', () => {
  let cluster: Cluster;
  let namespace: string;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    cluster = loadCluster();
    namespace = await cluster.uniqueNamespace('ops');
    await grantEventCreate(cluster, namespace);
  });

  afterEach(async () => {
    for (const replica of replicas.splice(0)) {
      replica.proxy.restore();
      await replica.app.close();
      await replica.proxy.close();
    }
  });

  /** A Nest app electing on `lease` as lease-user through its own TCP proxy. */
  async function startReplica(
    identity: string,
    lease: string,
    options: { ns?: string; waitForLeadership?: boolean; once?: boolean } = {},
  ): Promise<Replica> {
    const proxy = new TcpProxy(cluster.state.ports.kubeApiserver);
    const port = await proxy.listen();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(
      fs
        .readFileSync(cluster.kubeconfigPaths.leaseUser, 'utf8')
        .replace(`127.0.0.1:${cluster.state.ports.kubeApiserver}`, `127.0.0.1:${port}`),
    );
    const registry = new Registry();
    const logger = new RecordingLoggerService();
    @Module({
      imports: [
        ...(options.once ? [ScheduleModule.forRoot()] : []),
        LeaderElectionModule.forRoot({
          leaseName: lease,
          namespace: options.ns ?? namespace,
          identity,
          kubeConfig,
          logger,
          events: true,
          metrics: new PrometheusElectionMetrics({ registry }),
          waitForLeadership: options.waitForLeadership ?? false,
          ...FAST,
        }),
        LeaderElectionHealthModule,
      ],
      providers: options.once ? [Reports] : [],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    const indicator = app.get(LeaderElectionHealthIndicator);
    const replica: Replica = {
      identity,
      app,
      registry,
      logger,
      proxy,
      health: () => indicator.isHealthy('election', HEALTH).election,
      metric: async (name, labels) => {
        const data = await registry.getSingleMetric(name)!.get();
        return data.values.find(
          (v) =>
            Object.keys(v.labels).length === Object.keys(labels).length &&
            Object.entries(labels).every(([key, value]) => v.labels[key] === value),
        )?.value;
      },
    };
    replicas.push(replica);
    return replica;
  }

  it('says at start-up which Lease, API server, namespace source and identity it uses', async () => {
    const lease = uniqueName('startup');
    const a = await startReplica('pod-a', lease, { waitForLeadership: true });
    const server = `127.0.0.1:${a.proxy.port}`;
    expect(a.logger.lines).toContain(
      `log pod-a campaigning for lease ${namespace}/${lease} on https://${server} (namespace from the namespace option)`,
    );
    // waitForLeadership resolves once it leads, after the announcement (log, change event).
    expect(a.app.get(LeaderService).isLeader()).toBe(true);
    expect(a.logger.lines).toContainEqual(
      expect.stringMatching(
        new RegExp(`^log pod-a became leader of lease ${namespace}/${lease} \\(term \\d+`),
      ),
    );
  });

  it('reports health transitions, metric values and Events through a failover', async () => {
    const lease = uniqueName('failover');
    const a = await startReplica('pod-a', lease, { waitForLeadership: true });
    const b = await startReplica('pod-b', lease);
    await eventually(() => b.app.get(LeaderService).getLeader() === 'pod-a', 10_000, 'b follows a');

    expect(a.health()).toEqual(
      expect.objectContaining({ status: 'up', role: 'leader', holder: 'pod-a', state: 'running' }),
    );
    expect(b.health()).toEqual(
      expect.objectContaining({ status: 'up', role: 'follower', holder: 'pod-a' }),
    );
    expect(await a.metric(ELECTION_METRIC_NAMES.masterStatus, { name: lease })).toBe(1);
    expect(await b.metric(ELECTION_METRIC_NAMES.masterStatus, { name: lease })).toBe(0);

    await eventually(
      async () =>
        /leader_election_renew_duration_seconds_count\{[^}]*result="success"\} [1-9]/.test(
          await a.registry.metrics(),
        ),
      10_000,
      'a renewed',
      100,
    );

    // The leader loses its connection to the API server: it steps down at renewDeadline, its
    // health goes down once requests have failed for maxApiFailureDuration, and b takes over.
    a.proxy.cutOff();
    await eventually(() => b.app.get(LeaderService).isLeader(), 10_000, 'b leads');
    expect(b.health()).toEqual(
      expect.objectContaining({ status: 'up', role: 'leader', holder: 'pod-b' }),
    );
    await eventually(() => a.health().status === 'down', 10_000, "a's health down");
    expect(a.health()).toEqual(
      expect.objectContaining({
        status: 'down',
        role: 'follower',
        message: expect.stringMatching(/requests to the API server have been failing for \d+ ms/),
        lastError: expect.stringContaining('LockUnavailableError'),
      }),
    );

    // Metric values after the failover.
    expect(await a.metric(ELECTION_METRIC_NAMES.masterStatus, { name: lease })).toBe(0);
    expect(await b.metric(ELECTION_METRIC_NAMES.masterStatus, { name: lease })).toBe(1);
    expect(
      await a.metric(ELECTION_METRIC_NAMES.transitions, { name: lease, transition: 'lost' }),
    ).toBe(1);
    expect(
      await b.metric(ELECTION_METRIC_NAMES.transitions, { name: lease, transition: 'acquired' }),
    ).toBe(1);
    const aText = await a.registry.metrics();
    expect(aText).toMatch(
      new RegExp(
        `leader_election_renew_duration_seconds_count\\{name="${lease}",result="success"\\} [1-9]`,
      ),
    );
    expect(aText).toMatch(
      new RegExp(
        `leader_election_renew_duration_seconds_count\\{name="${lease}",result="failure"\\} [1-9]`,
      ),
    );
    expect(aText).toMatch(
      new RegExp(
        `leader_election_api_errors_total\\{name="${lease}",operation="update",kind="unavailable"\\} [1-9]`,
      ),
    );

    // Reconnected: a follows b and is healthy again.
    a.proxy.restore();
    await eventually(
      () => a.health().status === 'up' && a.health().holder === 'pod-b',
      15_000,
      "a's health up again, following b",
    );
    expect(a.health()).toEqual(
      expect.objectContaining({ status: 'up', role: 'follower', holder: 'pod-b' }),
    );

    // Shutting down: the indicator says so; b's "stopped leading" is recorded before close resolves.
    const closing = b.app.close();
    await eventually(() => b.health().state === 'shutting_down', 5_000, 'b shutting down');
    expect(b.health()).toEqual(expect.objectContaining({ status: 'down', state: 'shutting_down' }));
    await closing;
    replicas.splice(replicas.indexOf(b), 1);
    await b.proxy.close();

    // The Events, on the Lease, as client-go writes them. a's "stopped leading" happened while it
    // was cut off: it is recorded (retried) once the connection is back.
    const uid = (
      await cluster.kubeConfigs.admin
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: lease, namespace })
    ).metadata?.uid;
    const core = cluster.kubeConfigs.admin.makeApiClient(CoreV1Api);
    const messages = async () =>
      (
        await core.listNamespacedEvent({
          namespace,
          fieldSelector: `involvedObject.kind=Lease,involvedObject.name=${lease}`,
        })
      ).items;
    // b released the Lease on close, so a leads again.
    await eventually(async () => (await messages()).length >= 5, 25_000, 'five Events', 100);
    const events = await messages();
    expect(events.map((e) => e.message).sort()).toEqual([
      'pod-a became leader',
      'pod-a became leader',
      'pod-a stopped leading',
      'pod-b became leader',
      'pod-b stopped leading',
    ]);
    for (const event of events) {
      expect(event).toEqual(
        expect.objectContaining({
          reason: 'LeaderElection',
          type: 'Normal',
          reportingComponent: 'nestjs-kube-leader',
          involvedObject: expect.objectContaining({
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            name: lease,
            namespace,
            uid,
          }),
        }),
      );
    }
  });

  it('exports the last run of a once job, and records an Event per fire caught up or coalesced after a gap', async () => {
    const lease = uniqueName('fires');
    const job = { name: lease, job: 'Reports.tick' };
    const lastRun = ELECTION_METRIC_NAMES.jobLastRun;
    const a = await startReplica('pod-a', lease, { waitForLeadership: true, once: true });
    await eventually(async () => (await a.metric(lastRun, job)) !== undefined, 10_000, 'a run');
    // a stops (releasing the Lease); nobody runs the job for a few fires.
    replicas.splice(replicas.indexOf(a), 1);
    await a.app.close();
    await a.proxy.close();
    const stoppedAt = Date.now();
    await eventually(() => Date.now() - stoppedAt > 3_500, 5_000, 'a gap of fires');
    const b = await startReplica('pod-b', lease, { waitForLeadership: true, once: true });
    const core = cluster.kubeConfigs.admin.makeApiClient(CoreV1Api);
    // b's (a's first catch-up may have recorded one too: a fire due between its term's start and it).
    const fireEvents = async () =>
      (
        await core.listNamespacedEvent({
          namespace,
          fieldSelector: `involvedObject.kind=Lease,involvedObject.name=${lease}`,
        })
      ).items.filter(
        (event) => event.reason?.startsWith('Fire') && event.reportingInstance === 'pod-b',
      );
    await eventually(
      async () => {
        const reasons = (await fireEvents()).map((e) => e.reason);
        return reasons.includes('FireCaughtUp') && reasons.includes('FireCoalesced');
      },
      15_000,
      'FireCaughtUp and FireCoalesced Events',
      100,
    );
    const events = await fireEvents();
    expect(events.filter((e) => e.reason === 'FireCaughtUp')).toHaveLength(1);
    expect(events.filter((e) => e.reason === 'FireCoalesced').length).toBeGreaterThanOrEqual(1);
    for (const event of events) {
      expect(event).toEqual(
        expect.objectContaining({
          type: 'Normal',
          reportingInstance: 'pod-b',
          message: expect.stringMatching(
            /^Reports\.tick fire of \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z \(election "default"\)/,
          ),
        }),
      );
    }
    // The follower-turned-leader exports the last run from the ledger too.
    await eventually(
      async () => (await b.metric(lastRun, job))! * 1000 > stoppedAt,
      10_000,
      'b runs',
    );
  });

  it('keeps electing without permission to create Events, and says which rule is missing, once', async () => {
    const noEvents = await cluster.uniqueNamespace('ops-no-events');
    const lease = uniqueName('no-events');
    const a = await startReplica('pod-a', lease, { ns: noEvents, waitForLeadership: true });
    expect(a.app.get(LeaderService).isLeader()).toBe(true);
    await eventually(
      () => a.logger.lines.some((line) => line.startsWith('warn Could not record Event')),
      10_000,
      'the warning',
    );
    const warnings = a.logger.lines.filter((line) => line.includes('Could not record Event'));
    expect(warnings).toEqual([
      expect.stringMatching(
        /^warn Could not record Event "pod-a became leader" on lease .*\(HTTP 403: .*\)\. Grant it with a Role rule \{ apiGroups: \[""\], resources: \["events"\], verbs: \["create"\] \}/,
      ),
    ]);
    expect(a.health()).toEqual(expect.objectContaining({ status: 'up', role: 'leader' }));
  });
});

Logger.overrideLogger(['error']);
