// Faults on a replica's connection to the API server (its TCP proxy): the leader cut off or slowed,
// and a follower whose watch is black-holed.
import type { ReplicaEvent } from '../checker.js';
import { pick } from '../runner/chaos-run.js';
import { live, startReplica, stopWith } from '../runner/replica-lifecycle.js';
import { CHAOS_TIMINGS, now, sleep } from '../timings.js';
import type { FaultContext, FaultFamily, FaultOutcome } from './fault.js';

/** The leader's connection cut for `ms`, then restored. */
const leaderCut =
  (ms: number) =>
  async ({ leader }: FaultContext) => {
    leader.proxy.cutOff();
    await sleep(ms);
    leader.proxy.restore();
  };

/** The leader's traffic delayed `delayMs` each way for `ms`, then restored. */
const leaderSlowed =
  (delayMs: number, ms: number) =>
  async ({ leader }: FaultContext) => {
    leader.proxy.delay(delayMs);
    await sleep(ms);
    leader.proxy.restore();
  };

/**
 * A follower's connections (its watch among them) stay open but nothing from the server reaches it
 * any more. The other followers are cut off and the leader is SIGTERMed (it releases): only the
 * black-holed follower can take over, and its watch will not tell it. The engine re-opens a watch
 * only after 150 s of silence, far beyond this fault: the follower takes over when its expiry timer
 * reads (about a lease duration). The note records that handover time; the fault checks no overlap
 * and recovery.
 */
async function watchBlackHoled({ run, leader }: FaultContext): Promise<FaultOutcome> {
  const follower = pick(
    run,
    live(run).filter((r) => r !== leader),
  );
  const others = live(run).filter((r) => r !== leader && r !== follower);
  const held = follower.proxy.blackhole();
  await sleep(CHAOS_TIMINGS.leaseDuration); // renewals it does not see
  for (const r of others) r.proxy.cutOff();
  const released = now();
  const ledSince = (e: ReplicaEvent) =>
    e.type === 'change' && e.isLeader === true && e.t > released;
  try {
    await stopWith(leader, 'SIGTERM');
    await follower.waitFor(ledSince, 'leadership', 30_000);
  } finally {
    for (const r of others) r.proxy.restore();
    follower.proxy.restore();
  }
  const led = follower.events.find(ledSince)!;
  const note = `${follower.id} (${held} connections black-holed) led ${Math.round(led.t - released)} ms after ${leader.id}'s SIGTERM`;
  await startReplica(run);
  return { note };
}

export const NETWORK_FAULTS = {
  'cut-leader-short': leaderCut(CHAOS_TIMINGS.renewDeadline / 2),
  'cut-leader-long': leaderCut(CHAOS_TIMINGS.renewDeadline + CHAOS_TIMINGS.leaseDuration),
  // Round trips of ~0.8 s: below the request timeout (renewDeadline / 2 = 1 s).
  'slow-leader-mild': leaderSlowed(400, 4_000),
  // Round trips of ~2.4 s: every request times out, the renew deadline passes.
  'slow-leader-severe': leaderSlowed(1_200, 5_000),
  'watch-black-holed': watchBlackHoled,
} satisfies FaultFamily;
