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
}

/**
 * Who takes the Lease first when it becomes free (released) or expires, and when this follower
 * tries: rollout-aware succession.
 *
 * In a rolling update the replicas that are terminated next are the old ones; a new replica has
 * joined a term that was already running. So a follower ranks `preferred` when the first record it
 * saw of the current term was already at least one `leaseDuration` old (`renewTime - acquireTime`,
 * both written by the holder's clock: no clocks are compared), and its watch has been healthy for
 * at least one `retryPeriod` since (a replica that keeps crashing never gets there). Replicas that
 * saw the term begin (started with the leader, or before it) rank `other`. A releasing leader may
 * name its successor (`LeaseRecord.preferredHolder`), which then goes first.
 *
 * After a step-down the former leader holds back: it does not take the Lease again until someone
 * else has acquired it, or until the hold ends (one `leaseDuration`), whichever comes first.
 *
 * Only the order of tries depends on this; whoever writes first wins, as before, and every safety
 * rule still applies. A client-go peer on the same Lease ignores the preference.
 */
export class Succession {
  /** The term seen last: its holder and `acquireTime` (ms). */
  private term: { readonly holder: string; readonly acquiredAt: number } | undefined;
  /** Whether this process joined that term when it was already established. */
  private joinedEstablished = false;
  private holdUntil: number | undefined;

  constructor(private readonly context: SuccessionContext) {}

  /** Every record this process sees (reads, writes, watch events). */
  observe(record: LeaseRecord): void {
    const holder = record.holderIdentity;
    const acquiredAt = record.acquireTime?.getTime();
    if (!holder || acquiredAt === undefined) return; // free: the term that ended still counts
    if (this.term?.holder === holder && this.term.acquiredAt === acquiredAt) return;
    const termAge = (record.renewTime?.getTime() ?? acquiredAt) - acquiredAt;
    this.term = { holder, acquiredAt };
    this.joinedEstablished = termAge >= this.context.leaseDuration;
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

  /** This follower's rank as successor of `record` (the free or expiring Lease). */
  rank(record: LeaseRecord | undefined): SuccessorRank {
    const named = record?.preferredHolder;
    if (named) return named === this.context.identity ? 'named' : 'other-named';
    const steady = this.context.watchHealthyFor() >= this.context.retryPeriod;
    return steady && this.joinedEstablished ? 'preferred' : 'other';
  }

  /**
   * How long to wait before trying to take `record`: ranked when it was released (free), the herd
   * spread only when it expired.
   */
  delay(record: LeaseRecord | undefined, released: boolean): number {
    const rank = released ? this.rank(record) : undefined;
    return takeoverDelay({ random: this.context.random, rank });
  }
}
