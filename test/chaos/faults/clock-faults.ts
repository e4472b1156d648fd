// Faults on the leader's clock (libfaketime, see faketime.ts): its wall clock frozen or stepped
// back, or every clock running slow while it is cut off. Each takes over with a faked replica first
// and replaces it by a plain one after.
import { msToNextSecond, type WallClockControl } from '../faketime.js';
import { acquisitions, leadersOverlap, leadershipNote } from '../runner/leadership-notes.js';
import { replaceFaked, takeOver } from '../runner/replica-lifecycle.js';
import { CHAOS_TIMINGS, now, sleep } from '../timings.js';
import type { FaultContext, FaultFamily, FaultOutcome } from './fault.js';

/** Wall-clock step of the `clock-stepped-back` fault, in seconds. */
const STEP_BACK_S = 30;
/** Clock rates of the rate-skew faults (the leader's clock runs slow). */
const RATE_SKEW = {
  // Inside the margin: the slow leader stops renewDeadline / 0.9 = 2.22 s after its last renew,
  // before the others take over at leaseDuration = 3 s. Bound: rate > renewDeadline / leaseDuration.
  inside: 0.9,
  // Beyond it: it stops only after renewDeadline / 0.5 = 4 s, a second after the others took over.
  beyond: 0.5,
};

/**
 * The leader's wall clock changed by `change` (which returns when it changed) for two lease
 * durations and one second, then real again for one lease duration.
 */
function wallClockFault(what: string, change: (clock: WallClockControl) => Promise<number>) {
  return async ({ run, leader }: FaultContext): Promise<FaultOutcome> => {
    const target = await takeOver(run, leader, { clock: 'wall' });
    const changed = await change(target.wallClock!);
    await sleep(2 * CHAOS_TIMINGS.leaseDuration + 1_000);
    target.wallClock!.restore();
    await sleep(CHAOS_TIMINGS.leaseDuration);
    const note = `${target.id}'s clock ${what}; acquisitions since: ${acquisitions(run.events, changed)}; two leaders ${leadersOverlap(run.events, changed, now())} ms`;
    await replaceFaked(run, target);
    return { note };
  };
}

/**
 * A leader whose every clock (timers included) runs at `rate`, cut off: it stops at its renew
 * deadline by ITS clock, renewDeadline / rate of real time after its last renew.
 */
function rateSkew(rate: number) {
  return async ({ run, leader }: FaultContext): Promise<FaultOutcome> => {
    const target = await takeOver(run, leader, { clock: { rate } });
    await sleep(2 * CHAOS_TIMINGS.leaseDuration); // leading and renewing at its rate
    const cut = now();
    target.proxy.cutOff();
    await sleep(Math.max(CHAOS_TIMINGS.renewDeadline / rate, CHAOS_TIMINGS.leaseDuration) + 1_500);
    target.proxy.restore();
    // How long it still believed it led after another replica took over (negative: a gap).
    const stopped = run.events.find(
      (e) => e.id === target.id && e.type === 'change' && !e.isLeader && e.t > cut,
    );
    const successor = run.events.find(
      (e) => e.id !== target.id && e.type === 'change' && e.isLeader && e.t > cut,
    );
    const note =
      stopped && successor
        ? `rate x${rate}: ${leadershipNote(stopped.t - successor.t)}`
        : `rate x${rate}: ${stopped ? 'nobody took over while cut' : 'it never reported losing leadership'}`;
    await replaceFaked(run, target);
    return { note };
  };
}

export const CLOCK_FAULTS = {
  // The leader's wall clock stops (monotonic clock and timers run on) for two lease durations,
  // then is real again. Frozen on a second boundary: no step, only a stop.
  'clock-frozen': wallClockFault('frozen', async (clock) => {
    await sleep(msToNextSecond());
    const frozen = now();
    clock.freeze();
    return frozen;
  }),
  // The leader's wall clock steps back STEP_BACK_S and runs on; two lease durations later it steps
  // forward to real time again.
  'clock-stepped-back': wallClockFault(`${STEP_BACK_S} s back`, async (clock) => {
    const stepped = now();
    clock.stepBack(STEP_BACK_S);
    return stepped;
  }),
  'clock-rate-skew-inside': rateSkew(RATE_SKEW.inside),
  'clock-rate-skew-beyond': rateSkew(RATE_SKEW.beyond),
} satisfies FaultFamily;
