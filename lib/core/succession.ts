import type { LeaseRecord } from './lease-record.js';
import { takeoverDelay, type SuccessorRank } from './takeover-delay.js';

/** What {@link Succession} needs from its elector. */
export interface SuccessionContext {
  readonly identity: string;
  readonly leaseDuration: number;
  readonly retryPeriod: number;
  readonly random: () => number;
  /** How long the follower's watch has been open and healthy, ms (0 when it is not). */
  readonly watchHealthyFor: () => number;
  /**
   * Whether a release naming `named` hands over to another revision than this replica's, which is
   * the releasing leader's (see `RolloutCandidates.supersededBy`).
   */
  readonly supersededBy?: (named: string, release: LeaseRecord) => boolean;
}

/**
 * Who takes the Lease first when it becomes free (released) or expires, and when this follower
 * tries: rollout-aware succession.
 *
 * In a rolling update the replicas that are terminated next are the old ones; a new replica joined
 * the current term late. So a follower ranks `preferred` when it joined the term in its second half
 * so far: the term's age when this process first saw it (`renewTime - acquireTime` of that record)
 * is at least half its age at the last record seen. Both ages come from the holder's own clock, so
 * no clocks are compared. It must also follow steadily: its watch healthy for at least one
 * `retryPeriod` (a replica that keeps crashing never gets there). Replicas that saw the term begin
 * (started with the leader, or before it) rank `other`. A releasing leader may name its successor
 * (`LeaseRecord.preferredHolder`), which then goes first.
 *
 * After a step-down the former leader holds back: it does not take the Lease again until someone
 * else has acquired it, or until the hold ends (one `leaseDuration`), whichever comes first.
 *
 * Only the order of tries depends on this; whoever writes first wins, as before, and every safety
 * rule still applies. A client-go peer on the same Lease ignores the preference.
 */
export class Succession {
  /**
   * The term seen last: its holder and `acquireTime`, its age when this process first saw it, and
   * its age at the last record seen (ms, all on the holder's clock).
   */
  private term:
    | { readonly holder: string; readonly acquiredAt: number; joinedAt: number; lastAge: number }
    | undefined;
  private holdUntil: number | undefined;
  /** The first record this process saw: its term (see {@link termKey}). */
  private firstSeen: string | undefined;

  constructor(private readonly context: SuccessionContext) {}

  /** Every record this process sees (reads, writes, watch events). */
  observe(record: LeaseRecord): void {
    this.firstSeen ??= termKey(record);
    const holder = record.holderIdentity;
    const acquiredAt = record.acquireTime?.getTime();
    if (!holder || acquiredAt === undefined) return; // free: the term that ended still counts
    const age = Math.max(0, (record.renewTime?.getTime() ?? acquiredAt) - acquiredAt);
    if (this.term?.holder === holder && this.term.acquiredAt === acquiredAt) {
      this.term.lastAge = Math.max(this.term.lastAge, age);
      return;
    }
    this.term = { holder, acquiredAt, joinedAt: age, lastAge: age };
    if (holder !== this.context.identity) this.holdUntil = undefined; // someone else leads
  }

  /** After a step-down at `now`: hold back for one lease duration, or until another holder. */
  holdBack(now: number): void {
    this.holdUntil = now + this.context.leaseDuration;
  }

  /** Until when this instance holds back from taking the Lease, if it does at `now`. */
  heldBackUntil(now: number): number | undefined {
    return this.holdUntil !== undefined && this.holdUntil > now ? this.holdUntil : undefined;
  }

  /**
   * Whether this process arrived while the current term ran: the first record it saw was of this
   * term. One that saw an earlier term (or the free Lease) saw this one begin: in a rolling update,
   * a replica of the previous revision.
   */
  arrivedInTerm(): boolean {
    const term = this.term;
    return term !== undefined && this.firstSeen === `${term.holder}@${term.acquiredAt}`;
  }

  /** This follower's rank as successor of `record` (the free or expiring Lease). */
  rank(record: LeaseRecord | undefined): SuccessorRank {
    const named = record?.preferredHolder;
    if (named === this.context.identity) return 'named';
    if (named) return this.context.supersededBy?.(named, record!) ? 'superseded' : 'other-named';
    // Released by a leader that knew its revision and named nobody: no rollout is under way.
    if (record?.revision) return 'herd';
    const steady = this.context.watchHealthyFor() >= this.context.retryPeriod;
    const term = this.term;
    const joinedLate = term !== undefined && term.joinedAt > 0 && 2 * term.joinedAt >= term.lastAge;
    return steady && joinedLate ? 'preferred' : 'other';
  }

  /**
   * How long to wait before trying to take `record`: ranked when it was released (free), the herd
   * spread only when it expired.
   */
  delay(record: LeaseRecord | undefined, released: boolean): number {
    const rank = released ? this.rank(record) : undefined;
    const joinedAgoMs = this.term ? this.term.lastAge - this.term.joinedAt : 0;
    return takeoverDelay({ random: this.context.random, rank, joinedAgoMs });
  }
}

/** A record's term as {@link Succession} tells terms apart: its holder and acquireTime. */
function termKey(record: LeaseRecord): string {
  return `${record.holderIdentity ?? ''}@${record.acquireTime?.getTime() ?? ''}`;
}
