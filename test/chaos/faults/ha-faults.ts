// Faults of the HA shape (`ha` runs: three etcd members, two API servers behind a balancer), the
// routine events of a managed control plane: the API servers restarted one by one, an etcd member
// or the etcd leader killed, one API server cut from etcd while its clients stay on it, clients
// moved to another server (one whose cache lags, too), slow etcd writes, quorum lost and regained.
// Each ends with every member healthy and both servers ready again.
import { ETCD_MEMBERS, type HaControlPlane } from '../../control-plane/ha/ha-control-plane.js';
import { slowEtcdWrites } from '../../control-plane/ha/slow-writes.js';
import type { ChaosRun } from '../runner/chaos-run.js';
import { CHAOS_TIMINGS, sleep } from '../timings.js';
import type { FaultFamily, FaultOutcome } from './fault.js';

function haOf(run: ChaosRun): HaControlPlane {
  if (!run.ha) throw new Error('an HA fault kind needs a run in the HA shape (ha)');
  return run.ha;
}

/** Every member healthy and both servers ready: the shape is whole again. */
async function whole(ha: HaControlPlane): Promise<void> {
  await ha.waitForMembers(120_000);
  await ha.waitUntilReady(120_000);
}

/** Each API server stopped with `signal`, started again and ready, one after the other. */
const rollingRestart =
  (signal: 'SIGTERM' | 'SIGKILL') =>
  async ({ run }: { run: ChaosRun }): Promise<FaultOutcome> => {
    const ha = haOf(run);
    const took: number[] = [];
    for (const [i] of ha.ha.servers.entries()) {
      const begun = performance.now();
      await ha.stopServer(i, { signal });
      await ha.startServer(i, { timeoutMs: 120_000 });
      took.push(Math.round(performance.now() - begun));
    }
    await whole(ha);
    return { note: `servers back after ${took.join(' / ')} ms` };
  };

/** A member SIGKILLed (the leader, or a follower), down 1-3 s, started again. */
const memberKilled =
  (which: 'leader' | 'follower') =>
  async ({ run }: { run: ChaosRun }): Promise<FaultOutcome> => {
    const ha = haOf(run);
    const leader = await ha.etcdLeader();
    if (leader === undefined) throw new Error('no etcd leader before the fault');
    const followers = [...Array(ETCD_MEMBERS).keys()].filter((i) => i !== leader);
    const victim =
      which === 'leader' ? leader : followers[Math.floor(run.random() * followers.length)];
    await ha.stopMember(victim, { signal: 'SIGKILL' });
    await sleep(1_000 + run.random() * 2_000);
    await ha.startMember(victim);
    await whole(ha);
    return {
      note: `etcd-${victim} killed (leader was etcd-${leader}, now etcd-${await ha.etcdLeader()})`,
    };
  };

/**
 * Every client moved onto one server (the balancer pinned to it, the others' connections
 * dropped), then that server cut from etcd for 12 s while the clients stay connected to it; new
 * connections go round robin again (or, with health checks, to the server whose /readyz passes).
 */
async function serverCutFromEtcd({ run }: { run: ChaosRun }): Promise<FaultOutcome> {
  const ha = haOf(run);
  const server = Math.floor(run.random() * ha.ha.servers.length);
  await ha.balancer({ op: 'pin', server, drop: true });
  await sleep(4 * CHAOS_TIMINGS.retryPeriod);
  await ha.balancer({ op: 'pin', server: null });
  await ha.balancer({ op: 'cut-etcd', server });
  await sleep(12_000);
  const during = await ha.balancer();
  await ha.balancer({ op: 'restore-etcd', server });
  await whole(ha);
  const s = during.servers[server];
  return {
    note: `kube-apiserver-${server} cut from etcd 12 s with ${s.open} client connection(s) open${during.healthChecks ? `, ${s.healthy ? 'still' : 'not'} in the balancer's rotation` : ''}`,
  };
}

/**
 * Every client moved from one server to the other: all onto A, then all connections dropped and
 * new ones sent to B, whose etcd links are delayed by `lagMs` (its watch cache lags behind A's: a
 * watch resumed there from A's newer resourceVersion waits, and fails with 504 "Too large resource
 * version" after 3 s).
 */
const clientsMoved =
  (lagMs: number) =>
  async ({ run }: { run: ChaosRun }): Promise<FaultOutcome> => {
    const ha = haOf(run);
    const from = Math.floor(run.random() * ha.ha.servers.length);
    const to = (from + 1) % ha.ha.servers.length;
    await ha.balancer({ op: 'pin', server: from, drop: true });
    await sleep(4 * CHAOS_TIMINGS.retryPeriod);
    if (lagMs) await ha.balancer({ op: 'delay-etcd', server: to, ms: lagMs });
    await sleep(lagMs);
    await ha.balancer({ op: 'pin', server: to, drop: true });
    await sleep(lagMs ? 2 * lagMs + 2_000 : 4 * CHAOS_TIMINGS.retryPeriod);
    await ha.balancer({ op: 'restore-etcd', server: to });
    await ha.balancer({ op: 'pin', server: null });
    await whole(ha);
    return {
      note: `clients moved from kube-apiserver-${from} to kube-apiserver-${to}${lagMs ? ` (its etcd ${lagMs} ms behind)` : ''}`,
    };
  };

/** Every member's fdatasync delayed (strace fault injection) for 8 s: each etcd write waits. */
async function slowWrites({ run }: { run: ChaosRun }): Promise<FaultOutcome> {
  const ha = haOf(run);
  const delayMs = 300 + Math.round(run.random() * 500);
  const delayed = await slowEtcdWrites(
    ha.ha.members.map((m) => m.pid),
    delayMs,
    8_000,
  );
  await whole(ha);
  return {
    note: `fdatasync delayed ${delayMs} ms on ${ETCD_MEMBERS} members for 8 s (${delayed} calls delayed)`,
  };
}

/** Two members stopped (quorum lost) for 5 s, then started again (quorum regained). */
async function quorumLost({ run }: { run: ChaosRun }): Promise<FaultOutcome> {
  const ha = haOf(run);
  const kept = Math.floor(run.random() * ETCD_MEMBERS);
  const stopped = [...Array(ETCD_MEMBERS).keys()].filter((i) => i !== kept);
  await Promise.all(stopped.map((i) => ha.stopMember(i, { signal: 'SIGKILL' })));
  await sleep(5_000);
  await Promise.all(stopped.map((i) => ha.startMember(i, false)));
  await whole(ha);
  return { note: `etcd-${stopped.join(' and etcd-')} down 5 s` };
}

export const HA_FAULT_FAMILY = {
  'ha-apiservers-rolling-restart': rollingRestart('SIGTERM'),
  'ha-apiservers-rolling-kill': rollingRestart('SIGKILL'),
  'ha-etcd-leader-killed': memberKilled('leader'),
  'ha-etcd-follower-killed': memberKilled('follower'),
  'ha-apiserver-cut-from-etcd': serverCutFromEtcd,
  'ha-clients-moved': clientsMoved(0),
  'ha-clients-moved-to-lagging-server': clientsMoved(3_500),
  'ha-etcd-slow-writes': slowWrites,
  'ha-etcd-quorum-lost': quorumLost,
} satisfies FaultFamily;
