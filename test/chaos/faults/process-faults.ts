// Faults on replica processes: the leader or a follower killed or stopped, the leader paused, and a
// second process with the leader's identity.
import { pick } from '../runner/chaos-run.js';
import { leadersOverlap } from '../runner/leadership-notes.js';
import { live, startReplica, stopWith } from '../runner/replica-lifecycle.js';
import { CHAOS_TIMINGS, now, sleep } from '../timings.js';
import type { FaultContext, FaultFamily } from './fault.js';

/** The leader stopped with `signal`, and a new replica in its place. */
const leaderStopped =
  (signal: NodeJS.Signals) =>
  async ({ run, leader }: FaultContext) => {
    await stopWith(leader, signal);
    await startReplica(run);
  };

export const PROCESS_FAULTS = {
  'sigkill-leader': leaderStopped('SIGKILL'),
  'sigterm-leader': leaderStopped('SIGTERM'),
  'sigkill-follower': async ({ run, leader }) => {
    const follower = pick(
      run,
      live(run).filter((r) => r !== leader),
    );
    await stopWith(follower, 'SIGKILL');
    await startReplica(run);
  },
  'sigstop-leader': async ({ leader }) => {
    leader.paused = true;
    leader.signal('SIGSTOP');
    await sleep(CHAOS_TIMINGS.leaseDuration + 1_500);
    leader.signal('SIGCONT');
    leader.paused = false;
  },
  'same-identity': async ({ run, leader, start }) => {
    // A second process with the leader's identity (two pods with one hostname), side by side
    // for two lease durations, then SIGKILLed. Its work is logged under its own name.
    const twin = await startReplica(run, { identity: leader.identity });
    await twin.waitFor((e) => e.type === 'ready', 'start-up');
    await sleep(2 * CHAOS_TIMINGS.leaseDuration);
    const both = leadersOverlap(run.events, start, now());
    await stopWith(twin, 'SIGKILL');
    return { note: `${leader.id} and its twin ${twin.id} both led ${both} ms` };
  },
} satisfies FaultFamily;
