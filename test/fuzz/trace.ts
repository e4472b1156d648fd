import type { Scheduler } from './scheduler.js';

/**
 * What happened in one simulated run, one line per event: global time, who (a replica, a Lease, the
 * fault schedule, the checker), what. Two runs of one seed must produce the same lines; a failing
 * seed prints them.
 */
export class Trace {
  readonly lines: string[] = [];

  constructor(private readonly scheduler: Scheduler) {}

  add(who: string, what: string): void {
    this.lines.push(`${formatTime(this.scheduler.now)}  ${who.padEnd(12)} ${what}`);
  }

  /** The last `count` lines, or every line. */
  tail(count = Infinity): string[] {
    return count >= this.lines.length ? this.lines : this.lines.slice(-count);
  }
}

/** `[  12.345 s]`: global simulated time. */
export function formatTime(ms: number): string {
  return `[${(ms / 1000).toFixed(3).padStart(8)} s]`;
}
