import { shareOf } from './shares.js';

/** What a {@link ShareCountGate} decides from: this replica's view of the membership. */
export interface ShareCountView {
  /**
   * The share counts the other members published when this replica's entry was first written
   * (`Membership.joinedAmong`), or undefined before that write: the counts this replica defers to.
   */
  readonly joinedAmong: ReadonlySet<number> | undefined;
  /** The share counts of the other live members now. */
  readonly liveCounts: ReadonlySet<number>;
  /** Whether the membership's requests are failing (the view may be stale). */
  readonly failing: boolean;
}

/** Why a job is held back: no membership entry written yet, or the counts it waits for. */
export type HoldReason =
  { readonly kind: 'not-joined' } | { readonly kind: 'older'; readonly counts: number[] };

/**
 * Keeps a job from running on this replica's mapping while replicas with another share count
 * that maps the job to another share may still run it (a rollout that changes `shares`).
 *
 * The rule: a replica defers to the counts that were already in the membership when its own entry
 * was first written. Entries are written with conditional updates, so of any two replicas with
 * different counts, the one whose entry came second saw the other's count, and defers to it: a job
 * that the two counts map to different shares waits on it while a member with that count is live
 * (or the membership's requests fail, when that cannot be told). The first keeps running the job
 * on its own mapping. Two replicas that each defer to the other's count both wait (safe, the job
 * runs nowhere meanwhile). Before its first write a replica knows no counts: every job waits.
 */
export class ShareCountGate {
  /** Each job's share by count, computed once (every `@LeaderOnly` call asks). */
  private readonly shares = new Map<string, Map<number, number>>();

  constructor(private readonly own: number) {}

  /** Why `job` must not run here now, or undefined when it may (on its own share's leader). */
  holdReason(job: string, view: ShareCountView): HoldReason | undefined {
    if (view.joinedAmong === undefined) return { kind: 'not-joined' };
    const mine = this.shareOf(job, this.own);
    const counts = [...view.joinedAmong].filter(
      (count) =>
        count !== this.own &&
        (view.failing || view.liveCounts.has(count)) &&
        this.shareOf(job, count) !== mine,
    );
    return counts.length === 0
      ? undefined
      : { kind: 'older', counts: counts.sort((a, b) => a - b) };
  }

  /** `job`'s share when there are `count` shares. */
  shareOf(job: string, count: number): number {
    let byCount = this.shares.get(job);
    if (!byCount) this.shares.set(job, (byCount = new Map()));
    let share = byCount.get(count);
    if (share === undefined) byCount.set(count, (share = shareOf(job, count)));
    return share;
  }
}
