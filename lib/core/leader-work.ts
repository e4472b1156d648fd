import type { Clock } from './clock.js';
import type { LeaderWork } from './elector-status.js';
import type { FencingToken } from './fencing-token.js';

/**
 * Counts the leader-only work an elector admitted and lets shutdown wait for it: the Lease is
 * released only when no admitted work runs any more.
 */
export class LeaderWorkTracker {
  private running = 0;
  private drainWaiters: (() => void)[] = [];

  constructor(private readonly clock: Clock) {}

  /** Number of admitted units still running. */
  get inFlight(): number {
    return this.running;
  }

  /**
   * Admits one unit running under a leadership term with this signal and token; `isCurrent` tells
   * whether that term still leads.
   */
  begin(signal: AbortSignal, fencingToken: FencingToken, isCurrent: () => boolean): LeaderWork {
    this.running += 1;
    let ended = false;
    return {
      signal,
      fencingToken,
      isCurrent,
      end: () => {
        if (ended) return;
        ended = true;
        this.running -= 1;
        if (this.running === 0) {
          for (const waiter of this.drainWaiters.splice(0)) waiter();
        }
      },
    };
  }

  /** Resolves true when nothing runs any more, or false when `timeout` ms pass first. */
  waitForDrain(timeout: number): Promise<boolean> {
    if (this.running === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.drainWaiters = this.drainWaiters.filter((waiter) => waiter !== done);
        resolve(false);
      }, timeout);
      const done = () => {
        this.clock.clearTimeout(timer);
        resolve(true);
      };
      this.drainWaiters.push(done);
    });
  }
}
