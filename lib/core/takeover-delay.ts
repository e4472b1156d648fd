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

/** What {@link takeoverDelay} needs to know. */
export interface TakeoverDelayInput {
  /** Random source in [0, 1). */
  readonly random: () => number;
}

/**
 * How long a follower waits, once its watch shows the Lease free (released, or expired), before it
 * tries to take it. Every follower sees a release at the same moment; trying at once, N followers
 * send N updates of which N - 1 fail with 409 Conflict.
 *
 * The delay is `max(0, scale * (5 + ln(u)))` for a uniform `u` (at most 30 ms): its distribution
 * function grows exponentially (e^(t / scale)). Whatever N, the first try then comes about
 * `scale * ln(N)` before the end of the spread, and on average only e^(w / scale) - 1 others follow
 * within the time `w` its write needs to reach their watches, where they cancel their own try (a
 * new holder re-schedules a follower's attempt). Followers need not know how many they are: a few
 * wait up to 30 ms, many wait less. A slower API server (larger `w`) lets a few more try.
 *
 * The one place that orders followers: a successor preference (e.g. a rollout's new pods) will be
 * an input here.
 */
export function takeoverDelay({ random }: TakeoverDelayInput): number {
  const u = random();
  if (!(u > 0)) return 0;
  return Math.max(0, TAKEOVER_SPREAD_SCALE * (SPREAD_SCALES + Math.log(u)));
}
