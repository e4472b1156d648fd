/**
 * How many shares each live replica should lead: `floor(S / R)`, and one more for the first
 * `S mod R` replicas in identity order. Every replica that sees the same members computes the
 * same quotas, so the most and the fewest shares led differ by at most one once they agree.
 */
export function shareQuotas(members: Iterable<string>, shares: number): Map<string, number> {
  const sorted = [...new Set(members)].sort();
  const quotas = new Map<string, number>();
  if (sorted.length === 0) return quotas;
  const base = Math.floor(shares / sorted.length);
  const extra = shares % sorted.length;
  sorted.forEach((member, rank) => quotas.set(member, base + (rank < extra ? 1 : 0)));
  return quotas;
}

/** A share this replica should hand over, and to whom. */
export interface Handover {
  readonly share: number;
  readonly successor: string;
}

/** What {@link planHandover} decides from. */
export interface BalanceView {
  /** This replica's identity. */
  readonly self: string;
  /** Live replicas (this one included). */
  readonly members: readonly string[];
  /** The holder of each share as last seen (null: free or unknown). */
  readonly holders: readonly (string | null)[];
  /** The shares this replica leads now. */
  readonly led: readonly number[];
  /**
   * How many shares each member has, as its entry says (a member missing here: as many as this
   * replica). Only a member with as many shares as this replica is named successor.
   */
  readonly shareCounts?: ReadonlyMap<string, number>;
}

/**
 * The share this replica hands over when it leads more than its quota and a live replica leads
 * fewer than its own: that replica becomes the successor (the one furthest below its quota, then
 * by identity) among those with this replica's share count (a rollout that changes `shares` runs
 * replicas with different counts side by side: each count balances its own). Only members share the shares: a holder that is not a member (a replica whose entry
 * is not seen yet, another client such as a client-go peer on a share's Lease) keeps what it holds
 * and is never named successor, since it may not take a share it is handed. Undefined when this
 * replica is within its quota or no member is below theirs.
 */
export function planHandover(view: BalanceView): Handover | undefined {
  const members = new Set([view.self, ...view.members]);
  const counted = view.holders.filter((holder) => !holder || members.has(holder)).length;
  const quotas = shareQuotas(members, counted);
  const own = quotas.get(view.self) ?? 0;
  if (view.led.length <= own) return undefined;
  const counts = new Map<string, number>();
  for (const holder of view.holders) if (holder) counts.set(holder, (counts.get(holder) ?? 0) + 1);
  // The highest share led that a member has: which one moves does not matter for balance, and a
  // fixed choice keeps two replicas that see the same state from moving different shares to the
  // same successor.
  // Only a member with this replica's share count: replicas with another count (a rollout that
  // changes `shares`) count the quotas over other shares, so each could see the other below its
  // quota and hand one share back and forth.
  const handable = (member: string) => {
    const has = view.shareCounts?.get(member) ?? view.holders.length;
    if (has !== view.holders.length) return -1;
    return Math.max(-1, ...view.led);
  };
  let successor: string | undefined;
  let deficit = 0;
  for (const [member, quota] of [...quotas].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const missing = quota - (counts.get(member) ?? 0);
    if (member !== view.self && missing > deficit && handable(member) >= 0) {
      successor = member;
      deficit = missing;
    }
  }
  if (successor === undefined) return undefined;
  return { share: handable(successor), successor };
}
