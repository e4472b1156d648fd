// Who led which share when, from the spread replicas' own reports (test/fixtures/spread-candidate.ts),
// and what follows from it: the balance of shares over the live replicas at any moment, the first
// and the lasting balance after a join or a crash, and two leaders of one share at once.
import type { CandidateProcess } from '../../test/support/candidates.js';
import { eventsOf, type BenchEvent } from './context.js';
import { coverage, type LeadershipInterval } from './leadership.js';

/** A replica process of the spread scenario, and when the bench killed it (SIGKILL), if it did. */
export interface SpreadReplica {
  identity: string;
  process: CandidateProcess;
  killedAt?: number;
}

/** One replica's leadership of one share: from its `started_leading` to its `stopped_leading`. */
export interface ShareInterval extends LeadershipInterval {
  share: number;
}

/**
 * Every replica's leadership intervals per share. An interval ends at the replica's
 * `stopped_leading` for that share, at its `exit`, or when the bench killed it (a killed process
 * runs nothing, whatever its Lease says).
 */
export function shareIntervals(replicas: readonly SpreadReplica[]): ShareInterval[] {
  const intervals: ShareInterval[] = [];
  for (const replica of replicas) {
    const open = new Map<number, ShareInterval>();
    const close = (interval: ShareInterval, at: number) => {
      interval.end = at;
      open.delete(interval.share);
    };
    for (const e of eventsOf(replica.process) as (BenchEvent & { share?: number })[]) {
      if (replica.killedAt !== undefined && e.at >= replica.killedAt) break;
      if (e.event === 'started_leading' && e.share !== undefined && !open.has(e.share)) {
        const interval = { identity: replica.identity, share: e.share, start: e.at, end: null };
        open.set(e.share, interval);
        intervals.push(interval);
      }
      const own = e.share === undefined ? undefined : open.get(e.share);
      if (e.event === 'stopped_leading' && own) close(own, e.at);
      if (e.event === 'exit') for (const interval of [...open.values()]) close(interval, e.at);
    }
    if (replica.killedAt !== undefined) {
      for (const interval of [...open.values()]) close(interval, replica.killedAt);
    }
  }
  return intervals.sort((a, b) => a.start - b.start);
}

/** The holder(s) of each share at `at` (an interval is open on [start, end)). */
export function holdersAt(intervals: readonly ShareInterval[], shares: number, at: number) {
  const holders: string[][] = Array.from({ length: shares }, () => []);
  for (const i of intervals) {
    if (i.start <= at && (i.end === null || at < i.end)) holders[i.share].push(i.identity);
  }
  return holders;
}

/** Shares led per live replica at `at`, in the order of `live`. */
export function ledCounts(
  intervals: readonly ShareInterval[],
  shares: number,
  live: readonly string[],
  at: number,
): number[] {
  const holders = holdersAt(intervals, shares, at).flat();
  return live.map((id) => holders.filter((h) => h === id).length);
}

/**
 * Balanced at `at`: every share has exactly one holder, a live replica, and every live replica
 * leads floor(S/R) or ceil(S/R) shares.
 */
export function balancedAt(
  intervals: readonly ShareInterval[],
  shares: number,
  live: readonly string[],
  at: number,
): boolean {
  const holders = holdersAt(intervals, shares, at);
  if (holders.some((h) => h.length !== 1 || !live.includes(h[0]))) return false;
  const low = Math.floor(shares / live.length);
  const high = Math.ceil(shares / live.length);
  return ledCounts(intervals, shares, live, at).every((n) => n >= low && n <= high);
}

/** The moments in (from, to] at which some share changed hands (a start or an end), in order. */
function changesBetween(intervals: readonly ShareInterval[], from: number, to: number): number[] {
  const times = new Set<number>();
  for (const i of intervals) {
    for (const t of [i.start, i.end]) if (t !== null && t > from && t <= to) times.add(t);
  }
  return [...times].sort((a, b) => a - b);
}

export interface BalanceTimes {
  /** The first moment at or after `from` at which the shares were balanced; null: never. */
  firstAt: number | null;
  /** The start of the balanced stretch that lasts until `to`; null: unbalanced at `to`. */
  lastingAt: number | null;
}

/** When the shares were balanced over `live` in [from, to]. */
export function balanceTimes(
  intervals: readonly ShareInterval[],
  shares: number,
  live: readonly string[],
  from: number,
  to: number,
): BalanceTimes {
  const moments = [from, ...changesBetween(intervals, from, to)];
  let firstAt: number | null = null;
  let lastingAt: number | null = null;
  for (const at of moments) {
    const balanced = balancedAt(intervals, shares, live, at);
    if (balanced && firstAt === null) firstAt = at;
    if (balanced && lastingAt === null) lastingAt = at;
    if (!balanced) lastingAt = null;
  }
  return { firstAt, lastingAt };
}

/** The last moment in (from, to] at which some share changed hands; `from` if none did. */
export function lastChange(intervals: readonly ShareInterval[], from: number, to: number): number {
  return changesBetween(intervals, from, to).at(-1) ?? from;
}

/** `started_leading` reports (share handovers and takeovers) in [from, to). */
export function startsBetween(intervals: readonly ShareInterval[], from: number, to: number) {
  return intervals.filter((i) => i.start >= from && i.start < to).length;
}

/** Time without a leader in [from, to), summed over the shares (ms). */
export function leaderlessShareMs(
  intervals: readonly ShareInterval[],
  shares: number,
  from: number,
  to: number,
): number {
  let total = 0;
  for (let share = 0; share < shares; share++) {
    total += coverage(
      intervals.filter((i) => i.share === share),
      from,
      to,
    ).leaderlessMs;
  }
  return Math.round(total);
}

export interface ShareOverlap {
  /** Shares that two replicas reported leading at the same moment. */
  shares: number[];
  /** Time with two leaders, summed over the shares (ms). */
  totalMs: number;
  maxMs: number;
}

/** Two leaders of one share at once, from the reports, over [from, to). */
export function shareOverlap(
  intervals: readonly ShareInterval[],
  shares: number,
  from: number,
  to: number,
): ShareOverlap {
  const perShare = Array.from(
    { length: shares },
    (_, share) =>
      coverage(
        intervals.filter((i) => i.share === share),
        from,
        to,
      ).overlapMs,
  );
  return {
    shares: perShare.flatMap((ms, share) => (ms > 0 ? [share] : [])),
    totalMs: perShare.reduce((a, b) => a + b, 0),
    maxMs: Math.max(0, ...perShare),
  };
}
