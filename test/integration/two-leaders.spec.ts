// Never two leaders of one Lease, on a real kube-apiserver, in the sequences that once gave two: a
// holder stopped while it waits to lead a Lease it created after a deletion, and a second process
// with the leader's identity when the Lease is deleted. Real electors and Lease locks; the leader is
// cut off from the API server through a TCP proxy (its requests fail, it leads on until its renew
// deadline by its own clock) and the Lease is deleted by an administrator. Each participant's own
// view is sampled (an elector's isLeader(), a client-go process's reports): two at once fail.
import fs from 'node:fs';
import path from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { LeaderElector, type LeaderElectorOptions } from '../../lib/core/index.js';
import { KubernetesLeaseLock } from '../../lib/kubernetes/index.js';
import { TcpProxy } from '../chaos/tcp-proxy.js';
import { kubeConfigFor, kubeConfigThrough } from '../control-plane/control-plane.js';
import { startCandidate, type CandidateProcess } from '../support/candidates.js';
import { loadCluster, uniqueName, type Cluster } from '../support/cluster.js';
import { CountingLock } from '../support/counting-lock.js';
import { eventually } from '../support/eventually.js';
import { LeadershipOverlap } from '../support/leadership-overlap.js';

/** A cut-off leader leads up to renewDeadline (3 s) after its last renew. */
const TIMINGS = { leaseDuration: 4_000, renewDeadline: 3_000, retryPeriod: 500 };
/**
 * With a client-go follower, which retries every retryPeriod plus up to 120 % jitter and must be
 * reconnected and see the new record before the release: more room before the leader's deadline.
 */
const CLIENT_GO_TIMINGS = { leaseDuration: 8_000, renewDeadline: 6_000, retryPeriod: 500 };

interface Candidate {
  readonly elector: LeaderElector;
  readonly lock: CountingLock;
  /** Its warnings and errors. */
  readonly logs: string[];
  /** Set for a candidate that can be cut off. */
  readonly proxy?: TcpProxy;
}

describe('never two leaders on a real kube-apiserver', () => {
  let cluster: Cluster;
  let namespace: string;
  let admin: CoordinationV1Api;
  const electors: LeaderElector[] = [];
  const proxies: TcpProxy[] = [];
  const processes: CandidateProcess[] = [];

  beforeAll(async () => {
    cluster = loadCluster();
    namespace = await cluster.uniqueNamespace('two-leaders');
    admin = cluster.kubeConfigs.admin.makeApiClient(CoordinationV1Api);
  });

  afterEach(async () => {
    for (const proxy of proxies) proxy.restore();
    await Promise.all(electors.splice(0).map((e) => e.stop()));
    await Promise.all(processes.splice(0).map((p) => p.stop()));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });

  /** A proxy in front of the API server, to cut one candidate off. */
  async function proxy(): Promise<{ proxy: TcpProxy; port: number }> {
    const created = new TcpProxy(cluster.state.ports.kubeApiserver);
    proxies.push(created);
    return { proxy: created, port: await created.listen() };
  }

  async function candidate(
    identity: string,
    lease: string,
    options: { cutOffable?: boolean; timings?: Partial<LeaderElectorOptions> } = {},
  ): Promise<Candidate> {
    const through = options.cutOffable ? await proxy() : undefined;
    const kubeConfig = through
      ? kubeConfigThrough(cluster.state, 'leaseUser', through.port)
      : kubeConfigFor(cluster.state, 'leaseUser');
    const lock = new CountingLock(
      new KubernetesLeaseLock({ kubeConfig, namespace, name: lease, identity }),
    );
    const logs: string[] = [];
    const elector = new LeaderElector({
      lock,
      ...TIMINGS,
      ...options.timings,
      logger: { log: () => undefined, warn: (m) => logs.push(m), error: (m) => logs.push(m) },
    });
    electors.push(elector);
    return { elector, lock, logs, ...(through ? { proxy: through.proxy } : {}) };
  }

  /**
   * The Lease, free, as a released one looks: the first candidate acquires it and leads at once
   * (a candidate that creates a Lease it never saw waits one lease duration first).
   */
  const freeLease = (name: string) =>
    admin.createNamespacedLease({
      namespace,
      body: { metadata: { name }, spec: { holderIdentity: '', leaseDurationSeconds: 1 } },
    });

  /** Cuts the leader off right after a renew: it leads on for almost its renew deadline. */
  async function cutOffAfterRenew(leader: Candidate): Promise<void> {
    let last = leader.elector.status().lastRenewAgoMs ?? Infinity;
    await eventually(
      () => {
        const ago = leader.elector.status().lastRenewAgoMs ?? Infinity;
        const renewed = ago < last;
        last = ago;
        return renewed;
      },
      10_000,
      `a renew by ${leader.elector.identity}`,
      1,
    );
    leader.proxy!.cutOff();
  }

  it('a replica stopped while it waits to lead the Lease it created does not hand it to a follower while the cut-off leader leads', async () => {
    const lease = uniqueName('waiting-stopped');
    await freeLease(lease);
    const a = await candidate('a', lease, { cutOffable: true });
    a.elector.start();
    await a.elector.waitForLeadership();
    const b = await candidate('b', lease);
    b.elector.start();
    await eventually(() => b.elector.getLeader() === 'a', 10_000, 'b following a');
    const overlap = new LeadershipOverlap({
      a: () => a.elector.isLeader(),
      b: () => b.elector.isLeader(),
    });

    await cutOffAfterRenew(a);
    await admin.deleteNamespacedLease({ name: lease, namespace });
    // c never saw the Lease: it creates it and holds it, leading only one lease duration later.
    const c = await candidate('c', lease);
    c.elector.start();
    await eventually(() => c.elector.status().holdsLease, 10_000, 'c holding the Lease');
    const whenStopped = { aLeads: a.elector.isLeader(), cLeads: c.elector.isLeader() };
    await c.elector.stop();

    await eventually(() => b.elector.isLeader(), 30_000, 'b leading');
    await eventually(() => !a.elector.isLeader(), 10_000, 'the cut-off a no longer leading');
    const result = overlap.stop();
    expect(c.lock.counts.create).toBe(1);
    expect(whenStopped).toEqual({ aLeads: true, cLeads: false });
    expect(result).toEqual({ overlapMs: 0, together: [] });
  });

  it('the same with a follower that follows client-go: it does not lead while the cut-off leader leads', async () => {
    const lease = uniqueName('waiting-stopped-go');
    await freeLease(lease);
    const a = await candidate('a', lease, { cutOffable: true, timings: CLIENT_GO_TIMINGS });
    a.elector.start();
    await a.elector.waitForLeadership();
    // client-go's candidate through a proxy of its own: it creates a missing Lease at once and
    // leads (client-go's rule), so it is kept off the API server from the deletion until c holds it.
    const goPath = await proxy();
    const kubeconfig = path.join(cluster.state.stateDir, `${lease}.kubeconfig`);
    fs.writeFileSync(
      kubeconfig,
      fs
        .readFileSync(cluster.kubeconfigPaths.leaseUser, 'utf8')
        .replace(`127.0.0.1:${cluster.state.ports.kubeApiserver}`, `127.0.0.1:${goPath.port}`),
    );
    const go = startCandidate({
      impl: 'client-go',
      identity: 'go-b',
      lease,
      namespace,
      kubeconfig,
      clientGoBinary: path.join(path.dirname(cluster.state.binaries.etcd), 'client-go-candidate'),
      ...CLIENT_GO_TIMINGS,
    });
    processes.push(go);
    await go.waitFor((e) => e.event === 'new_leader' && e.leader === 'a', 20_000);
    const overlap = new LeadershipOverlap({
      a: () => a.elector.isLeader(),
      'go-b': () => go.leading,
    });

    await cutOffAfterRenew(a);
    goPath.proxy.cutOff();
    await admin.deleteNamespacedLease({ name: lease, namespace });
    const c = await candidate('c', lease, { timings: CLIENT_GO_TIMINGS });
    c.elector.start();
    await eventually(() => c.elector.status().holdsLease, 10_000, 'c holding the Lease');
    const since = go.events.length;
    goPath.proxy.restore();
    await go.waitFor((e) => e.event === 'new_leader' && e.leader === 'c', 20_000, since);
    const whenStopped = { aLeads: a.elector.isLeader(), cLeads: c.elector.isLeader() };
    await c.elector.stop();

    await go.waitFor((e) => e.event === 'started_leading', 40_000);
    await eventually(() => !a.elector.isLeader(), 10_000, 'the cut-off a no longer leading');
    const result = overlap.stop();
    expect(c.lock.counts.create).toBe(1);
    expect(whenStopped).toEqual({ aLeads: true, cLeads: false });
    expect(result).toEqual({ overlapMs: 0, together: [] });
  });

  it('a second process with the same identity does not lead on a deletion while the cut-off first one leads', async () => {
    const lease = uniqueName('same-identity');
    await freeLease(lease);
    const p1 = await candidate('app-0', lease, { cutOffable: true });
    p1.elector.start();
    await p1.elector.waitForLeadership();
    const p2 = await candidate('app-0', lease);
    p2.elector.start();
    await eventually(
      () => p2.logs.some((m) => m.includes('two replicas share one identity')),
      10_000,
      'p2 reporting its identity in use',
    );
    const overlap = new LeadershipOverlap({
      p1: () => p1.elector.isLeader(),
      p2: () => p2.elector.isLeader(),
    });

    await cutOffAfterRenew(p1);
    await admin.deleteNamespacedLease({ name: lease, namespace });
    const p1LeadsAtDeletion = p1.elector.isLeader();

    await eventually(() => p2.elector.isLeader(), 30_000, 'p2 leading');
    await eventually(() => !p1.elector.isLeader(), 10_000, 'the cut-off p1 no longer leading');
    const result = overlap.stop();
    expect(p1LeadsAtDeletion).toBe(true);
    expect(result).toEqual({ overlapMs: 0, together: [] });
  });
});
