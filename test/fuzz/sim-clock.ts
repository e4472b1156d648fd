import type { Clock, TimerHandle } from '../../lib/core/clock.js';
import type { Scheduler, SimProcess, Task } from './scheduler.js';

/** How one process's clocks differ from the simulation's global time. */
export interface ClockSkew {
  /** Monotonic origin: the process reads `offset + rate * globalTime`. */
  readonly offset: number;
  /** How fast its clocks run: 1.05 counts 1050 ms while 1000 ms pass globally. */
  readonly rate: number;
  /** Wall-clock time (ms since the epoch) at monotonic 0. */
  readonly wallOrigin: number;
}

/**
 * A process's {@link Clock} in the simulation: its own offset and rate, timers as tasks of the
 * scheduler owned by the process (held while it is paused). The clocks keep running while the
 * process is paused, as they do for a stopped or starved process.
 */
export class SimClock implements Clock {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly process: SimProcess,
    readonly skew: ClockSkew,
  ) {}

  now(): number {
    return this.skew.offset + this.skew.rate * this.scheduler.now;
  }

  wallNow(): Date {
    return new Date(Math.floor(this.skew.wallOrigin + this.now()));
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    // A nanosecond later than exact, so that a timer never fires a rounding error before its due
    // time by this clock (a check that found itself early would re-arm at the same instant).
    const delay = Math.max(0, delayMs) / this.skew.rate + 1e-6;
    return this.scheduler.schedule(this.scheduler.now + delay, this.process, 'timer', callback);
  }

  clearTimeout(handle: TimerHandle): void {
    this.scheduler.cancel(handle as Task);
  }
}
