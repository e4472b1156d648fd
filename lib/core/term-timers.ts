import type { Clock, TimerHandle } from './clock.js';
import { termLapsed, type Leadership } from './leadership.js';

/** The elector's timers. */
export type TermTimer = 'attempt' | 'validity' | 'activation' | 'standby';

/** What the term's timers act on: the elector's current term and what to do at its edges. */
export interface TermTimerHost {
  /** The term held now (leading or activating), or null. */
  readonly heldTerm: () => Leadership | null;
  /** The activating term's `validFrom` came: announce it. */
  readonly onActivation: () => void;
  /** The term's deadline passed by either clock without a renew: step down and campaign again. */
  readonly onLapsed: () => void;
}

/**
 * Owns the elector's timers: `attempt` (the next renew, a holder's expiry, a retry), `activation`
 * (an activating term's `validFrom`), `validity` (the term's deadline) and `standby` (a follower's
 * time to announce itself as the term's standby successor, see `RolloutCandidates`). A timer that fires
 * clears its slot first, so `isSet` says whether one is still due.
 */
export class TermTimers {
  private readonly handles: Partial<Record<TermTimer, TimerHandle>> = {};

  constructor(
    private readonly clock: Clock,
    private readonly host: TermTimerHost,
  ) {}

  /** Runs `task` in `delay` ms as the `which` timer (callers clear a running one first). */
  set(which: TermTimer, delay: number, task: () => void): void {
    this.handles[which] = this.clock.setTimeout(() => {
      this.handles[which] = undefined;
      task();
    }, delay);
  }

  isSet(which: TermTimer): boolean {
    return this.handles[which] !== undefined;
  }

  clear(which: TermTimer): void {
    const handle = this.handles[which];
    if (handle !== undefined) {
      this.clock.clearTimeout(handle);
      this.handles[which] = undefined;
    }
  }

  /** Announces an activating term at its `validFrom`; a timer that fires early waits again. */
  scheduleActivation(term: Leadership): void {
    this.set('activation', term.validFrom - this.clock.now(), () => {
      if (this.host.heldTerm() !== term) return;
      if (this.clock.now() < term.validFrom) this.scheduleActivation(term);
      else this.host.onActivation();
    });
  }

  /** Steps down when the term's deadline passes by either clock (checked after `delay`, or then). */
  scheduleValidityCheck(delay?: number): void {
    this.clear('validity');
    const term = this.host.heldTerm();
    if (!term) return;
    const now = this.clock.now();
    const wallNow = this.clock.wallNow().getTime();
    const due = Math.min(term.validUntil - now, term.wallValidUntil - wallNow);
    this.set('validity', delay ?? due, () => {
      if (this.host.heldTerm() !== term) return;
      if (termLapsed(term, this.clock.now(), this.clock.wallNow().getTime())) {
        this.host.onLapsed();
      } else {
        this.scheduleValidityCheck();
      }
    });
  }
}
