// An election spread over shares on a real kube-apiserver: 12 jobs on 6 share Leases, replicas
// joining and one cut off (to the others, a crash), each replica with its own client and proxy.
import path from 'node:path';
import { SpreadElector } from '../../lib/core/spread/spread-elector.js';
import { KubernetesLeaseLock } from '../../lib/kubernetes/index.js';
import { TcpProxy } from '../chaos/tcp-proxy.js';
import { kubeConfigThrough } from '../control-plane/control-plane.js';
import { startCandidate } from '../support/candidates.js';
import { loadCluster, uniqueName, type Cluster } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';

const FAST = { leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 };
const SHARES = 6;
const jobs = Array.from({ length: 12 }, (_, i) => `Reports.job${i}`);

describe('SpreadElector on a real kube-apiserver', () => {
  let cluster: Cluster;
  let namespace: string;
  const replicas = new Map<string, { spread: SpreadElector; proxy: TcpProxy }>();

  beforeAll(async () => {
    cluster = loadCluster();
    namespace = await cluster.uniqueNamespace('spread');
  });

  afterEach(async () => {
    await Promise.all([...replicas.values()].map((r) => r.spread.stop()));
    await Promise.all([...replicas.values()].map((r) => r.proxy.close()));
    replicas.clear();
  });

  async function replica(
    identity: string,
    leaseName: string,
    shares = SHARES,
  ): Promise<SpreadElector> {
    const proxy = new TcpProxy(cluster.state.ports.kubeApiserver);
    const kubeConfig = kubeConfigThrough(cluster.state, 'leaseUser', await proxy.listen());
    const spread = new SpreadElector({
      ...FAST,
      leaseName,
      shares,
      membershipInterval: 1_000,
      lockFor: (name) => new KubernetesLeaseLock({ kubeConfig, namespace, name, identity }),
    });
    replicas.set(identity, { spread, proxy });
    spread.start();
    return spread;
  }

  /** Every 5 ms: a job run by two replicas at once is recorded. */
  function monitor() {
    const violations: string[] = [];
    const timer = setInterval(() => {
      for (const job of jobs) {
        const runners = [...replicas].filter(([, r]) => r.spread.electorFor(job).isLeader());
        if (runners.length > 1) violations.push(`${job}: ${runners.map(([id]) => id).join(' + ')}`);
      }
    }, 5);
    return { violations, stop: () => clearInterval(timer) };
  }

  const led = (ids: string[]) => ids.map((id) => replicas.get(id)!.spread.ledShares().length);
  const runnersOf = (job: string, ids: string[]) =>
    ids.filter((id) => replicas.get(id)!.spread.electorFor(job).isLeader());

  it('spreads 12 jobs over 3 replicas, and again after one is cut off and one joins', async () => {
    const lease = uniqueName('spread');
    const watch = monitor();
    await replica('r1', lease);
    await eventually(() => led(['r1'])[0] === SHARES, 20_000, 'r1 leading every share');
    await replica('r2', lease);
    await replica('r3', lease);
    const all = ['r1', 'r2', 'r3'];
    await eventually(() => led(all).every((n) => n === 2), 30_000, 'two shares each');
    expect(jobs.map((job) => runnersOf(job, all).length)).toEqual(jobs.map(() => 1));

    // r3 cut off from the API server: it stops leading within its renew deadline, its shares
    // expire and the others take them; its membership entry expires after 3 s.
    replicas.get('r3')!.proxy.cutOff();
    const live = ['r1', 'r2'];
    await eventually(() => led(live).every((n) => n === 3), 30_000, 'three shares each');
    expect(led(['r3'])).toEqual([0]);
    expect(jobs.map((job) => runnersOf(job, live).length)).toEqual(jobs.map(() => 1));

    // A new replica joins: the others hand it two shares.
    await replica('r4', lease);
    const now = ['r1', 'r2', 'r4'];
    await eventually(() => led(now).every((n) => n === 2), 30_000, 'two shares each again');
    expect(jobs.map((job) => runnersOf(job, now).length)).toEqual(jobs.map(() => 1));
    watch.stop();
    expect(watch.violations).toEqual([]);
  });

  it('shares a share Lease safely with a client-go candidate, which keeps what it holds', async () => {
    const lease = uniqueName('spread-go');
    const go = startCandidate({
      impl: 'client-go',
      identity: 'go-1',
      lease: `${lease}-share-0`,
      namespace,
      kubeconfig: cluster.kubeconfigPaths.leaseUser,
      clientGoBinary: path.join(path.dirname(cluster.state.binaries.etcd), 'client-go-candidate'),
      ...FAST,
    });
    try {
      await go.waitFor((e) => e.event === 'started_leading');
      const ours = [await replica('r1', lease, 3), await replica('r2', lease, 3)];
      const ledShare0: number[] = [];
      ours.forEach((r) =>
        r.electors[0].onChange((e) => e.isLeader && ledShare0.push(e.at.getTime())),
      );
      // The client-go holder keeps share 0; ours split shares 1 and 2, one each.
      await eventually(
        () => ours.every((r) => r.ledShares().length === 1),
        30_000,
        'one share each',
      );
      expect(ours.flatMap((r) => r.ledShares()).sort()).toEqual([1, 2]);
      expect(ours.every((r) => r.electors[0].getLeader() === 'go-1')).toBe(true);

      // client-go releases on SIGTERM: one of ours takes share 0 after that, never before.
      const signalledAt = Date.now();
      go.kill('SIGTERM');
      await eventually(() => ours.some((r) => r.electors[0].isLeader()), 30_000, 'share 0 led');
      expect(ledShare0.length).toBeGreaterThan(0);
      expect(Math.min(...ledShare0)).toBeGreaterThanOrEqual(signalledAt);
      const counts = ours.map((r) => r.ledShares().length).sort();
      expect(counts).toEqual([1, 2]);
    } finally {
      await go.stop();
    }
  });
});
