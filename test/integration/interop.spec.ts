// Interoperability with client-go's leaderelection (the reference implementation): our candidates
// and a Go candidate share one Lease; leadership moves correctly on release and on crash, and the
// leadership intervals reported by all processes never overlap.
import path from 'node:path';
import {
  startCandidate,
  type CandidateOptions,
  type CandidateProcess,
} from '../support/candidates.js';
import { loadCluster, uniqueName, type Cluster } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';

const FAST = { leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 };

interface Interval {
  identity: string;
  start: number;
  end: number;
}

/**
 * Leadership intervals from each process's own reports: from started_leading to stopped_leading
 * (or exit). For a process we killed or terminated, the interval ends at the signal at the latest:
 * a client-go candidate reports stopped_leading only after releasing, but its leader work is
 * cancelled at the signal; our candidates report stopped_leading before they release.
 */
function intervals(processes: CandidateProcess[], signalledAt: Map<string, number>): Interval[] {
  const result: Interval[] = [];
  for (const p of processes) {
    let start: number | undefined;
    for (const e of p.events) {
      if (e.event === 'started_leading') start = e.at;
      if ((e.event === 'stopped_leading' || e.event === 'exit') && start !== undefined) {
        const signalled = p.options.impl === 'client-go' ? signalledAt.get(p.identity) : undefined;
        result.push({ identity: p.identity, start, end: Math.min(e.at, signalled ?? e.at) });
        start = undefined;
      }
    }
    if (start !== undefined) {
      result.push({
        identity: p.identity,
        start,
        end: signalledAt.get(p.identity) ?? Number.POSITIVE_INFINITY,
      });
    }
  }
  return result.sort((a, b) => a.start - b.start);
}

function overlaps(list: Interval[]): string[] {
  const found: string[] = [];
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const a = list[i];
      const b = list[j];
      if (a.identity !== b.identity && a.start < b.end && b.start < a.end) {
        found.push(
          `${a.identity} [${a.start}, ${a.end}) overlaps ${b.identity} [${b.start}, ${b.end})`,
        );
      }
    }
  }
  return found;
}

describe('interoperability with client-go leaderelection on one Lease', () => {
  let cluster: Cluster;
  let namespace: string;
  const processes: CandidateProcess[] = [];
  const signalledAt = new Map<string, number>();

  beforeAll(async () => {
    cluster = loadCluster();
    namespace = await cluster.uniqueNamespace('interop');
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
  });

  function start(
    impl: CandidateOptions['impl'],
    identity: string,
    lease: string,
  ): CandidateProcess {
    const process = startCandidate({
      impl,
      identity,
      lease,
      namespace,
      kubeconfig: cluster.kubeconfigPaths.leaseUser,
      clientGoBinary: path.join(path.dirname(cluster.state.binaries.etcd), 'client-go-candidate'),
      ...FAST,
    });
    processes.push(process);
    return process;
  }

  function signal(p: CandidateProcess, name: NodeJS.Signals) {
    signalledAt.set(p.identity, Date.now());
    p.kill(name);
  }

  const leaderNow = () => processes.filter((p) => p.leading && !signalledAt.has(p.identity));

  it('alternates leadership between client-go and our candidates on release and on crash, never two leaders', async () => {
    const lease = uniqueName('interop');
    const go1 = start('client-go', 'go-1', lease);
    await go1.waitFor((e) => e.event === 'started_leading');
    const ours1 = start('ours', 'ours-1', lease);
    const ours2 = start('ours', 'ours-2', lease);
    await ours1.waitFor((e) => e.event === 'new_leader' && e.leader === 'go-1');
    await ours2.waitFor((e) => e.event === 'new_leader' && e.leader === 'go-1');

    // 1. client-go releases (ReleaseOnCancel): one of ours takes over.
    signal(go1, 'SIGTERM');
    await eventually(
      () => leaderNow().length === 1,
      30_000,
      'one of ours leading after the Go release',
    );
    const first = leaderNow()[0];
    expect(first.options.impl).toBe('ours');

    // 2. A new Go candidate follows our leader.
    const go2 = start('client-go', 'go-2', lease);
    await go2.waitFor((e) => e.event === 'new_leader' && e.leader === first.identity);

    // 3. Our leader crashes: after the lease duration, the other ours or the Go candidate leads.
    signal(first, 'SIGKILL');
    await eventually(() => leaderNow().length === 1, 30_000, 'a leader after the crash');
    const second = leaderNow()[0];
    expect(second.identity).not.toBe(first.identity);

    // 4. Whoever leads now releases; the remaining candidate takes over.
    signal(second, 'SIGTERM');
    await eventually(() => leaderNow().length === 1, 30_000, 'a leader after the second release');
    const third = leaderNow()[0];
    expect([go2.identity, ours2.identity, ours1.identity]).toContain(third.identity);
    expect(third.identity).not.toBe(second.identity);

    // 5. If a Go candidate was never leader so far, crash ours until it must lead.
    if (third.options.impl === 'ours') {
      signal(third, 'SIGKILL');
      await go2.waitFor((e) => e.event === 'started_leading', 30_000);
    }

    const all = intervals(processes, signalledAt);
    expect(overlaps(all)).toEqual([]);
    // Both implementations led at some point.
    const implementations = new Set(
      all.map((i) => processes.find((p) => p.identity === i.identity)!.options.impl),
    );
    expect(implementations).toEqual(new Set(['ours', 'client-go']));
  });

  it('keeps rollout-aware succession safe with a client-go peer: the new replica succeeds, never two leaders', async () => {
    const lease = uniqueName('interop-rollout');
    const old = start('ours', 'ours-old', lease);
    await old.waitFor((e) => e.event === 'started_leading');
    const ledAt = Date.now();
    const go = start('client-go', 'go-peer', lease);
    await go.waitFor((e) => e.event === 'new_leader' && e.leader === 'ours-old');
    // The term is established (older than one lease duration) when the new replica joins it.
    await eventually(() => Date.now() - ledAt > FAST.leaseDuration, 10_000, 'an established term');
    const fresh = start('ours', 'ours-new', lease);
    await fresh.waitFor((e) => e.event === 'new_leader' && e.leader === 'ours-old');
    const followingAt = Date.now();
    await eventually(
      () => Date.now() - followingAt > FAST.retryPeriod,
      5_000,
      'following steadily',
    );
    signal(old, 'SIGTERM');
    await fresh.waitFor((e) => e.event === 'started_leading', 10_000);
    // client-go still takes over when ours releases the Lease last.
    signal(fresh, 'SIGTERM');
    await go.waitFor((e) => e.event === 'started_leading', 30_000);
    const all = intervals([old, go, fresh], signalledAt); // this Lease's candidates only
    expect(overlaps(all)).toEqual([]);
    expect([...all].sort((a, b) => a.start - b.start).map((i) => i.identity)).toEqual([
      'ours-old',
      'ours-new',
      'go-peer',
    ]);
  });
});
