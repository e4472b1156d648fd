// Confirmed leadership under load on a real kube-apiserver: many callers confirming back to back (a
// confirmed handler under a flood of requests) cost a bounded number of Lease writes, and every
// answer is still true for the leader.
import { LeaderElector } from '../../lib/core/index.js';
import { KubernetesLeaseLock } from '../../lib/kubernetes/index.js';
import { kubeConfigFor } from '../control-plane/control-plane.js';
import { loadCluster, uniqueName, type Cluster } from '../support/cluster.js';
import { CountingLock } from '../support/counting-lock.js';

/** The documented bound: at most one confirmation write per 100 ms. */
const INTERVAL = 100;
const CALLERS = 32;
const FLOOD_MS = 3_000;
/** Short terms: a new Lease leads one lease duration after its create. */
const FAST = { leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 };

describe('confirmLeadership under a flood, on a real kube-apiserver', () => {
  let cluster: Cluster;
  let namespace: string;
  let elector: LeaderElector | undefined;

  beforeAll(async () => {
    cluster = loadCluster();
    namespace = await cluster.uniqueNamespace('confirm');
  });

  afterEach(() => elector?.stop());

  it(`makes at most one Lease write per ${INTERVAL} ms for ${CALLERS} callers confirming back to back`, async () => {
    const lock = new CountingLock(
      new KubernetesLeaseLock({
        kubeConfig: kubeConfigFor(cluster.state, 'leaseUser'),
        namespace,
        name: uniqueName('flood'),
        identity: 'a',
      }),
    );
    elector = new LeaderElector({ lock, ...FAST });
    elector.start();
    await elector.waitForLeadership();

    const writesBefore = lock.counts.update;
    const started = performance.now();
    let confirmed = 0;
    let refused = 0;
    const caller = async () => {
      while (performance.now() - started < FLOOD_MS) {
        if (await elector!.confirmLeadership()) confirmed += 1;
        else refused += 1;
      }
    };
    await Promise.all(Array.from({ length: CALLERS }, caller));
    const elapsed = performance.now() - started;
    const writes = lock.counts.update - writesBefore;

    console.info(
      `${CALLERS} callers for ${Math.round(elapsed)} ms: ${confirmed} confirmations, ${refused} refused, ` +
        `${writes} Lease writes (${((writes * 1_000) / elapsed).toFixed(1)}/s, ` +
        `${(confirmed / Math.max(writes, 1)).toFixed(1)} confirmations per write)`,
    );
    expect(refused).toBe(0);
    expect(confirmed).toBeGreaterThan(CALLERS); // each caller confirmed more than once
    // An upper bound that slowness cannot break: writes start at least INTERVAL apart (the first
    // at once), and no scheduled renew falls due (each write moves it renewInterval on).
    expect(writes).toBeLessThanOrEqual(Math.floor(elapsed / INTERVAL) + 1);
  });
});
