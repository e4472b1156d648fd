/** How many of our latest writes are remembered: far more than can be in flight or unanswered. */
const REMEMBERED_WRITES = 64;

/**
 * The `renewTime`s of the writes this process sent, recorded before each request goes out (so a
 * write whose answer was lost is ours too). A record naming our identity with a `renewTime` not in
 * here was written by another process using our identity, or by a previous run of ours.
 */
export class SentRenewTimes {
  private readonly times = new Set<number>();
  private newest: number | undefined;

  /** The latest `renewTime` sent (ms), if any. */
  get latest(): number | undefined {
    return this.newest;
  }

  /** Records a write about to be sent. */
  add(renewTime: Date): void {
    const time = renewTime.getTime();
    this.times.add(time);
    this.newest = Math.max(this.newest ?? time, time);
    if (this.times.size > REMEMBERED_WRITES) {
      this.times.delete(this.times.values().next().value!);
    }
  }

  /** Whether a write with this `renewTime` (ms) was sent by this process. */
  has(time: number): boolean {
    return this.times.has(time);
  }
}
