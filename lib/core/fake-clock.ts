import type { Clock, TimerHandle } from './clock.js';

interface FakeTimer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/**
 * A manually driven {@link Clock} for tests.
 *
 * `advance(ms)` moves time forward and fires due timers in order, letting promise chains settle
 * between timers. `jump(ms)` moves time WITHOUT firing timers: it models a process that was paused
 * (GC, SIGSTOP, CPU starvation) and has just woken up, before any of its timers ran.
 */
export class FakeClock implements Clock {
  private current: number;
  private wallOrigin: number;
  private nextId = 1;
  private timers: FakeTimer[] = [];
  private holds = 0;

  constructor(options: { start?: number; wallStart?: Date } = {}) {
    this.current = options.start ?? 0;
    this.wallOrigin = (options.wallStart ?? new Date('2026-01-01T00:00:00.000Z')).getTime();
  }

  now(): number {
    return this.current;
  }

  wallNow(): Date {
    return new Date(this.wallOrigin + this.current);
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer: FakeTimer = {
      id: this.nextId++,
      at: this.current + Math.max(0, delayMs),
      callback,
    };
    this.timers.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((timer) => timer !== handle);
  }

  /**
   * Counts a hold on the process (see {@link Clock.keepAlive}) without holding it: this clock's time
   * moves only when a test advances it, so nothing of its own should keep the test process alive.
   */
  keepAlive(): () => void {
    this.holds += 1;
    let held = true;
    return () => {
      if (held) this.holds -= 1;
      held = false;
    };
  }

  /** Number of holds taken by {@link keepAlive} and not released (a stopped elector must leave none). */
  get heldOpen(): number {
    return this.holds;
  }

  /** Number of pending timers (a stopped elector must leave none). */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Time of the next pending timer, or undefined. */
  get nextTimerAt(): number | undefined {
    return this.timers.reduce<number | undefined>(
      (earliest, timer) => (earliest === undefined || timer.at < earliest ? timer.at : earliest),
      undefined,
    );
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await settle();
    for (;;) {
      const due = this.timers
        .filter((timer) => timer.at <= target)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.current = Math.max(this.current, due.at);
      due.callback();
      await settle();
    }
    this.current = target;
    await settle();
  }

  /** Moves time forward by `ms` without firing timers (a paused process waking up). */
  jump(ms: number): void {
    this.current += ms;
  }

  /** Lets pending promise chains run without moving time. */
  async flush(): Promise<void> {
    await settle();
  }
}

/** Waits until the microtask queue and already-queued macrotasks have run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
