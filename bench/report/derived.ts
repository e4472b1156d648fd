// Figures the report's explanations derive from the timing profile and from the code that the bench
// measures, instead of writing them by hand. Targets are goals reported against, never asserted.
import { RETRY_JITTER_FACTOR } from '../../lib/core/timing.js';
import { WATCH_TIMEOUT_SECONDS } from '../../lib/kubernetes/kubernetes-lease-lock.js';
import type { Profile } from '../lib/context.js';

export { HANDOVER_BURST_MS } from '../scenarios/scale.js';
export { HANDOVER_TAIL_MS } from '../lib/audit.js';
export { settleTime } from '../scenarios/takeover.js';

/** The goals of the headline table. */
export const TARGETS = {
  /** Graceful handover p95 below this (ms). */
  gracefulP95Ms: 300,
  /** Graceful handover p95 with 3 candidates at most this (ms), takeover delay included. */
  gracefulSmallP95Ms: 50,
  /** Graceful handover p95 with many candidates (50) below this (ms). */
  herdP95Ms: 100,
  /** Lease requests per graceful handover with many candidates (50), at most. */
  herdRequests: 5,
  /** Crash failover at most lease duration + this after the last renew (ms). */
  crashSlackMs: 300,
  /** With 3 replicas, client-go sends at least this many times as many Lease requests. */
  fewerRequests: 4,
  /** `@LeaderOnly` overhead per call on the leader below this (ns). */
  gateOverheadNs: 1_000,
  /** Crash failover from the SIGKILL counts as faster only from this ratio on. */
  crashSpeedup: 1.5,
  /** A follower's skip path above this (ns) is explained in section 9. */
  followerSkipNs: 500,
  /** Leadership changes per rolling update of 3 replicas (ours): exactly this many. */
  rolloutChanges: 1,
  /** Time without a leader per rolling update (ours) below this (ms). */
  rolloutLeaderlessMs: 100,
  /** What the full run's series sizes are chosen for (minutes). */
  fullRunMinutes: 25,
} as const;

/** client-go's jitter: a follower polls every retry period plus up to this factor of it. */
export const JITTER_FACTOR = RETRY_JITTER_FACTOR;

/** A client-go follower's polling interval: retry period to retry period x (1 + jitter factor). */
export function pollInterval(profile: Profile): { min: number; max: number; mean: number } {
  return {
    min: profile.retryPeriod,
    max: profile.retryPeriod * (1 + JITTER_FACTOR),
    mean: profile.retryPeriod * (1 + JITTER_FACTOR / 2),
  };
}

/** Polls per minute of one client-go follower, on average. */
export function pollsPerMinute(profile: Profile): number {
  return 60_000 / pollInterval(profile).mean;
}

/** Our followers re-open their watch when the server ends it: bounds in minutes and per minute. */
export const WATCH_REOPEN = {
  minMinutes: WATCH_TIMEOUT_SECONDS.min / 60,
  maxMinutes: WATCH_TIMEOUT_SECONDS.max / 60,
  minPerMinute: 60 / WATCH_TIMEOUT_SECONDS.max,
  maxPerMinute: 60 / WATCH_TIMEOUT_SECONDS.min,
};

/** The 1-based ranks the p95 of `n` values lies between (linear interpolation between ranks). */
export function p95Ranks(n: number): [number, number] {
  const lower = Math.floor(0.95 * (n - 1)) + 1;
  return [lower, Math.min(lower + 1, n)];
}

/** 1st, 2nd, 3rd, 9th, 19th... */
export function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}
