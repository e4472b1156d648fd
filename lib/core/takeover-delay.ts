/**
 * Time scale of the takeover spread in ms: about how long one follower's write takes to reach the
 * others' watches on a fast API server (the window in which a second follower's try still conflicts).
 */
export const TAKEOVER_SPREAD_SCALE = 6;

/**
 * The spread covers this many time scales (the share of draws at 0 is e^-5, 0.7 %): up to about 50
 * followers, on average at most two others try within one time scale of the first; with more, a
 * few more (about 4 of 200).
 */
const SPREAD_SCALES = 5;

/**
 * How a follower ranks as the successor of a Lease that is free or expired (see `Succession`):
 * - `named`: the releasing leader named it (`LeaseRecord.preferredHolder`): it tries at once;
 * - `preferred`: it joined the term late and has followed steadily since (in a rolling update, a
 *   new pod): it tries before any other, the latest joiner first (see {@link preferredDelay});
 * - `other`: any other follower: the herd spread below, {@link OTHERS_FROM} ms later;
 * - `other-named`: another follower was named: the others give it {@link NAMED_GRACE} ms first;
 * - `superseded`: a follower of another revision than the releasing leader's was named while this
 *   one is on the leader's (a rolling update replaces it next): it gives the named one
 *   {@link ROLLOUT_GRACE} ms;
 * - `herd`: the releasing leader knew its revision and named nobody (see `RolloutCandidates`): no
 *   rollout is under way, so nobody is preferred and every follower takes the herd spread alone.
 */
export type SuccessorRank = 'named' | 'preferred' | 'other' | 'other-named' | 'superseded' | 'herd';

/** A random part of a preferred follower's delay (ms), so that two of them rarely collide. */
export const PREFERRED_SPREAD = 2;

/** The longest delay of a preferred follower (ms), before {@link OTHERS_FROM}. */
export const PREFERRED_LATEST = 9;

/**
 * A preferred follower's delay: 2 ms per doubling of the time since it joined the term (on the
 * holder's clock), at most {@link PREFERRED_LATEST}, plus up to {@link PREFERRED_SPREAD}: the one
 * that joined last goes first. In back-to-back rollouts the previous rollout's last new replica
 * may also have joined late; the current rollout's new replica joined later still.
 */
export function preferredDelay(joinedAgoMs: number, u: number): number {
  const order = 2 * Math.log2(1 + Math.max(0, joinedAgoMs) / 1000);
  return Math.min(PREFERRED_LATEST, order) + PREFERRED_SPREAD * u;
}

/**
 * Other followers try this many ms later than the herd spread alone would: by then a preferred
 * follower's write (sent within {@link PREFERRED_LATEST} + {@link PREFERRED_SPREAD} ms) has reached
 * the API server, so the others' writes conflict instead of winning, with a few ms to spare for the
 * release event reaching processes at different times on a busy node. The herd spread itself is
 * shifted, not cut: a floor would make every early draw try at the same moment (measured: 49 requests
 * per handover with 50 candidates).
 */
export const OTHERS_FROM = 12;

/** How long the others leave a named successor to take the Lease before they try (ms). */
export const NAMED_GRACE = 100;

/**
 * How long a replica of the old revision leaves a named successor of the new one (ms): a Pod the
 * rollout just started may be slow to see the release on a busy node (a cold process), and an old
 * replica that takes over instead is stopped by the rollout soon after, a second handover. If the
 * named Pod is gone, its own revision's followers still try after {@link NAMED_GRACE}.
 */
export const ROLLOUT_GRACE = 1_000;

/** What {@link takeoverDelay} needs to know. */
export interface TakeoverDelayInput {
  /** Random source in [0, 1). */
  readonly random: () => number;
  /**
   * This follower's rank as successor of a released Lease. Without one (a Lease that expired: its
   * holder crashed), only the herd spread applies.
   */
  readonly rank?: SuccessorRank;
  /** For `preferred`: how long before the release (holder's clock) it joined the term, ms. */
  readonly joinedAgoMs?: number;
}

/**
 * How long a follower waits, once its watch shows the Lease free (released, or expired), before it
 * tries to take it. Every follower sees a release at the same moment; trying at once, N followers
 * send N updates of which N - 1 fail with 409 Conflict.
 *
 * The herd spread is `max(0, scale * (5 + ln(u)))` for a uniform `u` (at most 30 ms): its
 * distribution function grows exponentially (e^(t / scale)). Whatever N, the first try then comes
 * about `scale * ln(N)` before the end of the spread, and on average only e^(w / scale) - 1 others
 * follow within the time `w` its write needs to reach their watches, where they cancel their own
 * try (a new holder re-schedules a follower's attempt). Followers need not know how many they are:
 * a few wait up to 30 ms, many wait less. A slower API server (larger `w`) lets a few more try.
 *
 * On a released Lease a successor preference orders followers by {@link SuccessorRank}: the named
 * one first, then the preferred ones, then the herd. An expired Lease (its holder crashed) is taken
 * with the herd spread only: at its expiry, as exactly as before.
 */
export function takeoverDelay({ random, rank, joinedAgoMs = 0 }: TakeoverDelayInput): number {
  const u = random();
  switch (rank) {
    case undefined:
    case 'herd':
      return herdSpread(u);
    case 'named':
      return 0;
    case 'preferred':
      return preferredDelay(joinedAgoMs, u);
    case 'other-named':
      return NAMED_GRACE + herdSpread(u);
    case 'superseded':
      return ROLLOUT_GRACE + herdSpread(u);
    case 'other':
      return OTHERS_FROM + herdSpread(u);
  }
}

function herdSpread(u: number): number {
  if (!(u > 0)) return 0;
  return Math.max(0, TAKEOVER_SPREAD_SCALE * (SPREAD_SCALES + Math.log(u)));
}
