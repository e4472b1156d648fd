import type { LeaderWork } from '../../lib/core/elector-status.js';
import type { Random } from './random.js';
import type { SimClock } from './sim-clock.js';

/** Where a replica's leader-only job runs: the elector of its Lease (or share). */
export interface JobSlot {
  readonly job: string;
  readonly lease: string;
  beginLeaderWork(job: string): LeaderWork | null;
}

/** What the work reports to the checker. */
export interface WorkObserver {
  /** Work was admitted (`step` 0) or is about to make side effect `step` (after `isCurrent()`). */
  working(lease: string, step: number, token: string): void;
}

/**
 * A replica's leader-only work, as an app with a cron job runs it: every second (by the replica's
 * clock) each job asks to be admitted; admitted work makes one to three side effects, each after
 * checking `isCurrent()` right before it, as the README asks. Now and then a side effect takes
 * longer than the shutdown grace period, so that stop() has work to wait for, and gives up on it.
 */
export class WorkLoop {
  private running = false;

  constructor(
    private readonly clock: SimClock,
    private readonly random: Random,
    private readonly slots: () => readonly JobSlot[],
    private readonly observer: WorkObserver,
  ) {}

  start(): void {
    this.running = true;
    this.clock.setTimeout(() => this.tick(), this.random.uniform(0, 1000));
  }

  stop(): void {
    this.running = false;
  }

  private tick(): void {
    if (!this.running) return;
    for (const slot of this.slots()) {
      const work = slot.beginLeaderWork(slot.job);
      if (!work) continue;
      this.observer.working(slot.lease, 0, work.fencingToken.toString());
      this.step(slot, work, 1, this.random.int(1, 3));
    }
    this.clock.setTimeout(() => this.tick(), 1000);
  }

  private step(slot: JobSlot, work: LeaderWork, step: number, steps: number): void {
    const long = this.random.chance(0.01);
    const delay = long ? this.random.uniform(11_000, 14_000) : this.random.uniform(20, 1500);
    this.clock.setTimeout(() => {
      if (!work.isCurrent()) return work.end();
      this.observer.working(slot.lease, step, work.fencingToken.toString());
      if (step >= steps) work.end();
      else this.step(slot, work, step + 1, steps);
    }, delay);
  }
}
