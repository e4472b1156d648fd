import type { LeaderElector } from '../../lib/core/leader-elector.js';
import { OnceJob } from '../../lib/core/fires/once-job.js';
import type { FireSchedule } from '../../lib/core/fires/fire-schedule.js';
import type { Random } from './random.js';
import type { SimClock } from './sim-clock.js';

/** A job every second, in UTC: its fires are whole seconds of the replica's wall clock. */
const EVERY_SECOND: FireSchedule = {
  next: (after) => (Math.floor(after / 1000) + 1) * 1000,
  zone: 'UTC',
  explicitZone: true,
};

/** What the ticker reports to the checker. */
export interface FireObserver {
  /** A run of the fire at `at` (its scheduled instant, ms) started. */
  fired(at: number, token: string): void;
}

/**
 * A replica's `once` cron job (fuzz option `--once`): every second by the replica's wall clock (which
 * faults may step, freeze or skew) it ticks the job, which claims the fire in the Lease before it
 * runs; a new leader catches up (`catchUp: 'all'`). A run lasts 20 ms to 1.5 s.
 */
export class OnceTicker {
  private running = false;
  private readonly job: OnceJob;

  constructor(
    private readonly clock: SimClock,
    private readonly random: Random,
    private readonly elector: LeaderElector,
    observer: FireObserver,
  ) {
    this.job = new OnceJob(
      {
        election: 'fuzz',
        job: 'once',
        schedule: EVERY_SECOND,
        catchUp: 'all',
        catchUpWindow: 300_000,
        rerunInterrupted: false,
      },
      {
        clock,
        elector: () => elector,
        run: (fire) => {
          observer.fired(fire.scheduledAt.getTime(), fire.fencingToken.toString());
          return new Promise<void>((resolve) =>
            clock.setTimeout(() => resolve(), random.uniform(20, 1500)),
          );
        },
        report: () => undefined,
      },
    );
    elector.onChange((event) => {
      if (event.isLeader && this.running) void this.job.catchUp();
    });
  }

  start(): void {
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
  }

  /** The next whole second of the wall clock (a stepped clock is seen at the next tick). */
  private arm(): void {
    const now = this.clock.wallNow().getTime();
    const delay = Math.max(1, Math.min(1000, EVERY_SECOND.next(now)! - now));
    this.clock.setTimeout(() => {
      if (!this.running) return;
      this.arm();
      void this.job.tick();
    }, delay);
  }
}
