// The election engine + Lease lock on a real kube-apiserver: several candidates with separate
// clients, as the least-privilege user unless stated otherwise.
import { CoordinationV1Api } from '@kubernetes/client-node';
import {
  FencingToken,
  LeaderElector,
  LockForbiddenError,
  LockRejectedError,
  type LeaderElectorOptions,
} from '../../lib/core/index.js';
import { KubernetesLeaseLock } from '../../lib/kubernetes/index.js';
import { PREFERRED_HOLDER_ANNOTATION } from '../../lib/kubernetes/lease-annotations.js';
import { kubeConfigFor, type ControlPlaneUser } from '../control-plane/control-plane.js';
import { startCandidate, type CandidateProcess } from '../support/candidates.js';
import { loadCluster, uniqueName, type Cluster } from '../support/cluster.js';
import { CountingLock } from '../support/counting-lock.js';
import { eventually } from '../support/eventually.js';

const FAST = { leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 };

/** Samples isLeader() of every elector every 5 ms and records any moment with two leaders. */
class TwoLeaderMonitor {
  readonly violations: string[] = [];
  private timer: NodeJS.Timeout;
  constructor(private readonly electors: () => LeaderElector[]) {
    this.timer = setInterval(() => {
      const leaders = this.electors().filter((e) => e.isLeader());
      if (leaders.length > 1) this.violations.push(leaders.map((e) => e.identity).join(' + '));
    }, 5);
  }
  stop() {
    clearInterval(this.timer);
  }
}

describe('LeaderElector on a real kube-apiserver', () => {
  let cluster: Cluster;
  let namespace: string;
  const electors: LeaderElector[] = [];
  const processes: CandidateProcess[] = [];

  beforeAll(async () => {
    cluster = loadCluster();
    namespace = await cluster.uniqueNamespace('elector');
  });

  afterEach(async () => {
    await Promise.all(electors.splice(0).map((e) => e.stop()));
    await Promise.all(processes.splice(0).map((p) => p.stop()));
  });

  function candidate(
    identity: string,
    lease: string,
    options: Partial<LeaderElectorOptions> & { user?: ControlPlaneUser; ns?: string } = {},
  ) {
    const { user = 'leaseUser', ns = namespace, ...rest } = options;
    const lock = new CountingLock(
      new KubernetesLeaseLock({
        kubeConfig: kubeConfigFor(cluster.state, user),
        namespace: ns,
        name: lease,
        identity,
      }),
    );
    const errors: string[] = [];
    const elector = new LeaderElector({
      lock,
      ...FAST,
      logger: { log: () => undefined, warn: (m) => errors.push(m), error: (m) => errors.push(m) },
      ...rest,
    });
    electors.push(elector);
    return { elector, lock, errors };
  }

  it('elects exactly one leader among 5 candidates and keeps it', async () => {
    const lease = uniqueName('five');
    const all = ['a', 'b', 'c', 'd', 'e'].map((id) => candidate(id, lease));
    const monitor = new TwoLeaderMonitor(() => all.map((c) => c.elector));
    all.forEach((c) => c.elector.start());
    await eventually(() => all.some((c) => c.elector.isLeader()), 20_000, 'a leader');
    const leader = all.find((c) => c.elector.isLeader())!;
    await eventually(
      () => all.every((c) => c.elector.getLeader() === leader.elector.identity),
      20_000,
      'everyone agreeing on the leader',
    );
    // Several renew periods later it is still the same single leader, and followers sent no requests.
    const followers = all.filter((c) => c !== leader);
    const before = followers.map((c) => c.lock.snapshot());
    const renewsBefore = leader.lock.counts.update;
    await eventually(() => leader.lock.counts.update >= renewsBefore + 6, 20_000, 'six renewals');
    monitor.stop();
    expect(monitor.violations).toEqual([]);
    expect(all.filter((c) => c.elector.isLeader())).toEqual([leader]);
    expect(followers.map((c) => c.lock.snapshot())).toEqual(before);

    const lease0 = await cluster.kubeConfigs.admin
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: lease, namespace });
    expect(lease0.spec?.holderIdentity).toBe(leader.elector.identity);
    expect(String(lease0.spec?.renewTime)).toMatch(/\.\d{6}Z$/);
    expect(lease0.spec?.leaseDurationSeconds).toBe(3);
  });

  it('hands over after a release with one watch event and a single update by the next leader', async () => {
    const lease = uniqueName('handover');
    const a = candidate('a', lease);
    a.elector.start();
    await a.elector.waitForLeadership();
    const b = candidate('b', lease);
    b.elector.start();
    await eventually(() => b.elector.getLeader() === 'a', 10_000, 'b following a');
    const monitor = new TwoLeaderMonitor(() => [a.elector, b.elector]);
    const before = b.lock.snapshot();
    const aToken = a.elector.fencingToken()!;
    await a.elector.stop();
    await b.elector.waitForLeadership();
    monitor.stop();
    expect(monitor.violations).toEqual([]);
    // b learned of the release from its watch (no read) and acquired with one update.
    expect(b.lock.snapshot()).toEqual({ ...before, update: before.update + 1 });
    expect(b.elector.fencingToken()!.isNewerThan(aToken)).toBe(true);
  });

  it('moves leadership once in a rolling update: a replica that joined the running term succeeds', async () => {
    const lease = uniqueName('rollout');
    const old = ['old-a', 'old-b', 'old-c'].map((id) => candidate(id, lease));
    old[0].elector.start();
    await old[0].elector.waitForLeadership();
    old.slice(1).forEach((c) => c.elector.start());
    const all = [...old];
    const monitor = new TwoLeaderMonitor(() => all.map((c) => c.elector));
    await eventually(
      () => all.every((c) => c.elector.getLeader() === 'old-a'),
      10_000,
      'following',
    );
    const read = () =>
      cluster.kubeConfigs.admin
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: lease, namespace });
    const termAge = (record: Awaited<ReturnType<typeof read>>) =>
      new Date(record.spec!.renewTime!).getTime() - new Date(record.spec!.acquireTime!).getTime();
    // The old replicas saw the term begin: before the rollout the term is more than twice as old
    // as it was when they joined (a fresh Lease is led only after one lease duration, so they joined
    // at about that age).
    const joinedAt = termAge(await read());
    await eventually(
      async () => termAge(await read()) > 2 * joinedAt + 2 * FAST.retryPeriod,
      20_000,
      'an established term',
      200,
    );
    const transitions = async () => (await read()).spec?.leaseTransitions;
    const before = await transitions();
    for (const replaced of old) {
      const fresh = candidate(`new-${replaced.elector.identity}`, lease);
      all.push(fresh);
      fresh.elector.start();
      const leader = () => all.find((c) => c.elector.isLeader())?.elector.identity;
      await eventually(
        () => fresh.elector.getLeader() === leader(),
        10_000,
        'the new one following',
      );
      // Following steadily: its watch answered for more than one retry period.
      await eventually(
        () => Date.now() - (fresh.lock.watchLiveSince ?? Infinity) > 1.5 * FAST.retryPeriod,
        5_000,
        'steady',
      );
      await replaced.elector.stop();
      await eventually(() => leader() !== undefined, 10_000, 'a leader after the stop');
    }
    monitor.stop();
    expect(monitor.violations).toEqual([]);
    expect(all.filter((c) => c.elector.isLeader()).map((c) => c.elector.identity)).toEqual([
      'new-old-a',
    ]);
    expect(await transitions()).toBe(before! + 1);
  });

  it('steps down to a named successor (an annotation, never the holder field), then holds back', async () => {
    const lease = uniqueName('step-down');
    const [a, b, c] = ['a', 'b', 'c'].map((id) => candidate(id, lease));
    a.elector.start();
    await a.elector.waitForLeadership();
    b.elector.start();
    c.elector.start();
    await eventually(
      () => b.elector.getLeader() === 'a' && c.elector.getLeader() === 'a',
      10_000,
      'following',
    );
    const bBefore = b.lock.snapshot();
    expect(await a.elector.stepDown({ successor: 'c' })).toBe(true);
    await c.elector.waitForLeadership();
    expect(b.lock.snapshot()).toEqual(bBefore); // b left it to c: no write
    const record = await cluster.kubeConfigs.admin
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: lease, namespace });
    expect(record.spec?.holderIdentity).toBe('c');
    expect(record.metadata?.annotations?.[PREFERRED_HOLDER_ANNOTATION]).toBeUndefined();
    // Confirmed leadership: one renew per call.
    const updates = c.lock.counts.update;
    expect(await c.elector.confirmLeadership()).toBe(true);
    expect(c.lock.counts.update).toBe(updates + 1);
    expect(a.elector.isLeader()).toBe(false);
  });

  it('fencing tokens only increase: release, deletion, a fresh process, scale to zero', async () => {
    const lease = uniqueName('tokens');
    const admin = cluster.kubeConfigs.admin.makeApiClient(CoordinationV1Api);
    const tokens: FencingToken[] = [];
    const leads = async (c: ReturnType<typeof candidate>) => {
      c.elector.start();
      await c.elector.waitForLeadership();
      tokens.push(c.elector.fencingToken()!);
    };
    const a = candidate('a', lease);
    await leads(a);
    const b = candidate('b', lease);
    b.elector.start();
    await eventually(() => b.elector.getLeader() === 'a', 10_000, 'b following a');
    await a.elector.stop(); // released: b takes over
    await b.elector.waitForLeadership();
    tokens.push(b.elector.fencingToken()!);
    await admin.deleteNamespacedLease({ name: lease, namespace }); // b re-creates it, same term
    await eventually(() => b.lock.counts.create === 1, 10_000, 'b re-creating the Lease');
    expect(b.elector.fencingToken()).toEqual(tokens.at(-1));
    await b.elector.stop(); // scaled to zero
    await admin.deleteNamespacedLease({ name: lease, namespace }); // pruned
    // A process that never saw the Lease: it creates it and leads one lease duration later.
    const c = candidate('c', lease);
    await leads(c);
    const record = await admin.readNamespacedLease({ name: lease, namespace });
    expect(record.spec?.leaseTransitions).toBe(0); // the term restarted; the token did not
    expect(tokens.map(String)).toEqual([...tokens].sort(FencingToken.compare).map(String));
    expect(new Set(tokens.map(String)).size).toBe(tokens.length);
  });

  it('takes over after SIGKILL of the leader process, not before its lease could have expired', async () => {
    const lease = uniqueName('sigkill');
    const common = { kubeconfig: cluster.kubeconfigPaths.leaseUser, namespace, lease, ...FAST };
    const leaderProcess = startCandidate({ impl: 'ours', identity: 'p1', ...common });
    processes.push(leaderProcess);
    await leaderProcess.waitFor((e) => e.event === 'started_leading');
    const follower = candidate('f', lease);
    follower.elector.start();
    await eventually(() => follower.elector.getLeader() === 'p1', 10_000, 'following p1');
    const killedAt = Date.now();
    leaderProcess.kill('SIGKILL');
    await follower.elector.waitForLeadership();
    const tookOverAfter = Date.now() - killedAt;
    // The dead leader renewed at most one retry period before the kill; the follower must wait for
    // the lease duration after it last saw a change.
    expect(tookOverAfter).toBeGreaterThanOrEqual(FAST.leaseDuration - FAST.retryPeriod);
  });

  it('recovers a lease deleted under its leader without ever having two leaders', async () => {
    const lease = uniqueName('deleted');
    const all = ['a', 'b', 'c'].map((id) => candidate(id, lease));
    all[0].elector.start();
    await all[0].elector.waitForLeadership();
    all.slice(1).forEach((c) => c.elector.start());
    await eventually(() => all.every((c) => c.elector.getLeader() === 'a'), 10_000, 'agreement');
    const monitor = new TwoLeaderMonitor(() => all.map((c) => c.elector));
    const admin = cluster.kubeConfigs.admin.makeApiClient(CoordinationV1Api);
    await admin.deleteNamespacedLease({ name: lease, namespace });
    await eventually(
      () =>
        all.filter((c) => c.elector.isLeader()).length === 1 &&
        all.every((c) => c.elector.getLeader() !== null),
      20_000,
      'a leader after the deletion',
    );
    // Keep watching through a full lease duration after the deletion.
    const renews = all[0].lock.counts.update;
    await eventually(() => all[0].lock.counts.update >= renews + 8, 20_000, 'eight more renewals');
    monitor.stop();
    expect(monitor.violations).toEqual([]);
    const recreated = await admin.readNamespacedLease({ name: lease, namespace });
    expect(recreated.spec?.holderIdentity).toBe('a');
    expect(all.slice(1).every((c) => c.lock.counts.create === 0)).toBe(true);
  });

  it('reports a clear RBAC error naming the missing verb and never leads without update', async () => {
    const lease = uniqueName('noupdate');
    const admin = cluster.kubeConfigs.admin.makeApiClient(CoordinationV1Api);
    await admin.createNamespacedLease({
      namespace,
      body: { metadata: { name: lease }, spec: { holderIdentity: '', leaseDurationSeconds: 1 } },
    });
    const reader = candidate('reader', lease, { user: 'leaseReader' });
    reader.elector.start();
    await eventually(() => reader.elector.status().lastError !== undefined, 10_000, 'an error');
    const error = reader.elector.status().lastError as LockForbiddenError;
    expect(error).toBeInstanceOf(LockForbiddenError);
    expect(error.verb).toBe('update');
    expect(error.message).toMatch(
      /user "lease-reader" may not "update" leases\.coordination\.k8s\.io in namespace/,
    );
    expect(reader.errors.join('\n')).toContain('may not "update"');
    expect(reader.elector.isLeader()).toBe(false);
    const record = await admin.readNamespacedLease({ name: lease, namespace });
    expect(record.spec?.holderIdentity).toBe('');
  });

  it('reports a missing namespace and a forbidden namespace clearly', async () => {
    const missing = candidate('x', uniqueName('ns'), { user: 'admin', ns: uniqueName('missing') });
    missing.elector.start();
    await eventually(() => missing.elector.status().lastError !== undefined, 10_000, 'an error');
    expect(missing.elector.status().lastError).toBeInstanceOf(LockRejectedError);
    expect((missing.elector.status().lastError as Error).message).toMatch(
      /namespace "missing-[^"]+" does not exist/,
    );

    const forbidden = candidate('y', uniqueName('ns'), { ns: 'default' });
    forbidden.elector.start();
    await eventually(() => forbidden.elector.status().lastError !== undefined, 10_000, 'an error');
    expect(forbidden.elector.status().lastError).toBeInstanceOf(LockForbiddenError);
    expect((forbidden.elector.status().lastError as Error).message).toMatch(
      /may not "get" .* in namespace "default"/,
    );
    expect(forbidden.elector.isLeader()).toBe(false);
  });
});
