import type { ElectionLoop } from './election-loop.js';

/**
 * The least time between the starts of two writes that confirmations make, in ms. A stream of
 * confirmations (a confirmed handler under load) would otherwise write the Lease once per round trip
 * (about 250 a second on loopback), and the API server's fairness queues the leader's own renews
 * behind them. 100 ms bounds that to 10 writes a second, the order of an ordinary client's rate
 * (client-go's default is 5 a second, bursts of 10), and delays a confirmed run by at most 100 ms
 * plus a round trip; a confirmation with none in the last 100 ms writes at once.
 */
export const CONFIRMATION_INTERVAL = 100;

/** Per loop: when the last write a confirmation asked for started, and the shared wake-up. */
const lastWriteStart = new WeakMap<ElectionLoop, number>();
const wakeUps = new WeakMap<ElectionLoop, { at: number; promise: Promise<void> }>();

/**
 * Renews now and resolves whether the elector leads by it (see `LeaderElector.confirmLeadership`):
 * only a renew that started after this call counts, so an attempt already running is waited for
 * and followed by a new one. Callers share writes: one in flight that started after the call, or
 * the next, which starts at least {@link CONFIRMATION_INTERVAL} after the last one a confirmation
 * started. Never rejects.
 */
export async function confirmLeadership(loop: ElectionLoop): Promise<boolean> {
  const from = loop.clock.now();
  if (!loop.leadingTerm()) return false;
  // An attempt that started before this call proves nothing: wait for it, then run a new one.
  while (loop.runningAttempt && loop.attemptStartedAt < from) {
    await loop.runningAttempt.catch(() => undefined);
  }
  // From here on, every write that succeeds started after this call.
  const writes = loop.successfulWrites;
  while (!loop.runningAttempt && loop.successfulWrites === writes) {
    const at = (lastWriteStart.get(loop) ?? Number.NEGATIVE_INFINITY) + CONFIRMATION_INTERVAL;
    if (loop.clock.now() >= at) {
      lastWriteStart.set(loop, loop.clock.now());
      loop.requestAttempt();
    } else if (!loop.leadingTerm()) {
      return false; // no use waiting
    } else {
      await wakeUp(loop, at); // a scheduled renew may start meanwhile: it counts as well
    }
  }
  await loop.runningAttempt?.catch(() => undefined);
  return loop.leadingTerm() !== null && loop.successfulWrites > writes;
}

/** One timer per loop and time, however many callers wait for it. */
function wakeUp(loop: ElectionLoop, at: number): Promise<void> {
  const pending = wakeUps.get(loop);
  if (pending?.at === at) return pending.promise;
  const promise = new Promise<void>((resolve) => {
    loop.clock.setTimeout(() => {
      // Gone once fired: a timer that fired a little early is followed by a new one, not a spin.
      if (wakeUps.get(loop)?.promise === promise) wakeUps.delete(loop);
      resolve();
    }, at - loop.clock.now());
  });
  wakeUps.set(loop, { at, promise });
  return promise;
}
