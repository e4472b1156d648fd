/**
 * Samples, every few milliseconds, who believes it leads (each from its own view: an elector's
 * `isLeader()`, a process's last report) and adds up the time during which two or more did. Only
 * the time between two consecutive samples that both saw two leaders counts, so a late timer can
 * hide a short overlap but never invent one.
 */
export class LeadershipOverlap {
  private overlapMs = 0;
  private readonly seen = new Set<string>();
  private previous: { at: number; leaders: string[] } | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly views: Readonly<Record<string, () => boolean>>,
    intervalMs = 2,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Stops sampling (after a last sample): the overlap in ms and who led together. */
  stop(): { overlapMs: number; together: string[] } {
    this.sample();
    clearInterval(this.timer);
    return { overlapMs: Math.round(this.overlapMs), together: [...this.seen] };
  }

  private sample(): void {
    const at = performance.now();
    const leaders = Object.keys(this.views).filter((name) => this.views[name]());
    if (leaders.length >= 2) {
      this.seen.add(leaders.join(' + '));
      if (this.previous && this.previous.leaders.length >= 2)
        this.overlapMs += at - this.previous.at;
    }
    this.previous = { at, leaders };
  }
}
