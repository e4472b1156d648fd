// Faults of the membership of an election spread over shares (spread runs only): a replica joins,
// leaves (SIGTERM) or crashes (SIGKILL), or joins with its wall clock minutes behind. Each ends
// with the replica count it began with: a join is followed by an old follower's graceful exit once
// the newcomer leads its quota; a leave or crash, once every share runs again, by a newcomer.
import { pick } from '../runner/chaos-run.js';
import { leasesHeldBy } from '../runner/lease-access.js';
import { waitForSharesRunning } from '../runner/recovery-waits.js';
import { live, retire, startReplica, stopWith } from '../runner/replica-lifecycle.js';
import type { Replica, ReplicaOptions } from '../runner/replica-process.js';
import { ledShares, shareQuota, waitForQuota } from '../runner/share-views.js';
import { CHAOS_TIMINGS, sleep } from '../timings.js';
import type { FaultContext, FaultFamily, FaultOutcome } from './fault.js';

/** How far behind the `clock-behind-spread` replica's wall clock runs, in seconds. */
const CLOCK_BEHIND_S = 5 * 60;

/** How a {@link joinThenRetire} goes. */
interface Join {
  replica?: ReplicaOptions;
  /** Called once the newcomer started. */
  setUp?: (joiner: Replica) => Promise<void>;
  /** After it led its quota, how long it must keep leading it (ms). */
  holdMs?: number;
  /** The newcomer leaves at the end, not an old follower. */
  joinerLeaves?: boolean;
}

/**
 * A replica joins; once it leads its quota (and kept it `holdMs`), an old follower of the
 * election (not its leader) stops gracefully, keeping the count, or with `joinerLeaves` the
 * newcomer itself.
 */
async function joinThenRetire(
  { run, leader }: FaultContext,
  join: Join = {},
): Promise<FaultOutcome> {
  const old = live(run).filter((r) => r !== leader);
  const joiner = await startReplica(run, join.replica);
  await join.setUp?.(joiner);
  const problems: string[] = [];
  const late = await waitForQuota(run, joiner);
  if (late) problems.push(late);
  await sleep(join.holdMs ?? 0);
  const led = ledShares(joiner).length;
  const quota = shareQuota(run, joiner);
  if (!late && led < quota)
    problems.push(
      `${joiner.id} led ${led} share(s) ${join.holdMs} ms after it led its quota ${quota}`,
    );
  const leaving = join.joinerLeaves ? joiner : pick(run, old);
  await retire(leaving);
  return {
    note: `${joiner.id} led ${led} share(s) (quota ${quota}); then ${leaving.id} left`,
    ...(problems.length ? { problems } : {}),
  };
}

/**
 * A follower of the election that leads shares (any follower if none does) stops with `signal`;
 * once every share runs again on the others, a new replica joins and takes its quota. With
 * SIGTERM, no Lease may name it after it exited (it released its shares).
 */
function memberStopped(signal: 'SIGTERM' | 'SIGKILL') {
  return async ({ run, leader }: FaultContext): Promise<FaultOutcome> => {
    const followers = live(run).filter((r) => r !== leader);
    const holding = followers.filter((r) => ledShares(r).length > 0);
    const stopped = pick(run, holding.length ? holding : followers);
    const shares = ledShares(stopped);
    await stopWith(stopped, signal);
    const unreleased = signal === 'SIGTERM' ? await leasesHeldBy(run, stopped.identity) : [];
    await waitForSharesRunning(run, 60_000);
    const joiner = await startReplica(run);
    const problem = await waitForQuota(run, joiner);
    return {
      note: `${stopped.id} (shares ${shares.join(', ') || 'none'}) stopped with ${signal}; ${joiner.id} joined`,
      ...(signal === 'SIGTERM' ? { unreleased } : {}),
      ...(problem ? { problems: [problem] } : {}),
    };
  };
}

export const SPREAD_MEMBER_FAULTS = {
  'spread-join': (fault) => joinThenRetire(fault),
  'spread-leave': memberStopped('SIGTERM'),
  'spread-crash': memberStopped('SIGKILL'),
  // A replica whose wall clock runs minutes behind from its start (membership entries and share
  // Leases written with it) joins and must get its quota; then it leaves itself.
  'clock-behind-spread': async (fault) => {
    const outcome = await joinThenRetire(fault, {
      replica: { clock: 'wall' },
      // Once it is up (its first line): its event times (performance.timeOrigin, fixed at its
      // start) stay real; it writes its entries and Leases with the clock behind.
      setUp: async (joiner) => {
        await joiner.waitFor(() => true, 'its first event');
        joiner.wallClock!.stepBack(CLOCK_BEHIND_S);
      },
      holdMs: 2 * CHAOS_TIMINGS.leaseDuration,
      joinerLeaves: true,
    });
    return { ...outcome, note: `wall clock ${CLOCK_BEHIND_S} s behind: ${outcome.note}` };
  },
} satisfies FaultFamily;
