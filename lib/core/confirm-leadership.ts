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

/**
 * Confirmed runs of one elector (see `LeaderElector.confirmLeadership`): callers share writes, one in
 * flight that started after the call, or the next, which starts at least
 * {@link CONFIRMATION_INTERVAL} after the last one a confirmation started.
 */
export class Confirmations {
  /** When the last write a confirmation asked for started. */
  private lastWriteStart = Number.NEGATIVE_INFINITY;
  /** The shared wake-up of the callers waiting for the next write. */
  private pendingWakeUp: { at: number; promise: Promise<void> } | undefined;

  constructor(private readonly loop: ElectionLoop) {}

  /**
   * Renews now and resolves whether the elector leads by it: only a renew that started after this
   * call counts, so an attempt already running is waited for and followed by a new one. Never
   * rejects.
   */
  async confirm(): Promise<boolean> {
    const loop = this.loop;
    const from = loop.clock.now();
    if (!loop.leadingTerm()) return false;
    // An attempt that started before this call proves nothing: wait for it, then run a new one.
    while (loop.runningAttempt && loop.attemptStartedAt < from) {
      await loop.runningAttempt.catch(() => undefined);
    }
    // From here on, every write that succeeds started after this call.
    const writes = loop.successfulWrites;
    while (!loop.runningAttempt && loop.successfulWrites === writes) {
      const at = this.lastWriteStart + CONFIRMATION_INTERVAL;
      if (loop.clock.now() >= at) {
        this.lastWriteStart = loop.clock.now();
        loop.requestAttempt();
      } else if (!loop.leadingTerm()) {
        return false; // no use waiting
      } else {
        await this.wakeUp(at); // a scheduled renew may start meanwhile: it counts as well
      }
    }
    await loop.runningAttempt?.catch(() => undefined);
    return loop.leadingTerm() !== null && loop.successfulWrites > writes;
  }

  /** One timer per time, however many callers wait for it. */
  private wakeUp(at: number): Promise<void> {
    const pending = this.pendingWakeUp;
    if (pending?.at === at) return pending.promise;
    const promise = new Promise<void>((resolve) => {
      this.loop.clock.setTimeout(() => {
        // Gone once fired: a timer that fired a little early is followed by a new one, not a spin.
        if (this.pendingWakeUp?.promise === promise) this.pendingWakeUp = undefined;
        resolve();
      }, at - this.loop.clock.now());
    });
    this.pendingWakeUp = { at, promise };
    return promise;
  }
}
