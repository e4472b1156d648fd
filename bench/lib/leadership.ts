// Who led when, from the candidates' own reports, and what that leaves uncovered in a window: the time
// without a leader, the time with two, and the runs of a leader-only task that no one executed.
import type { CandidateProcess } from '../../test/support/candidates.js';
import { eventsOf } from './context.js';

export interface LeadershipInterval {
  identity: string;
  /** Its `started_leading`. */
  start: number;
  /** The earlier of its own `stopped_leading` (or exit) and its release on the API server; null: still leads. */
  end: number | null;
}

/**
 * The leadership intervals of every candidate, in order of start. `releasedAt` gives, per identity,
 * when the API server completed its release: client-go reports `stopped_leading` only after releasing
 * (the callback runs last), ours before, so the earlier of the two is when it stopped leading.
 */
export function leadershipIntervals(
  candidates: readonly CandidateProcess[],
  releasedAt: (identity: string) => number | undefined,
): LeadershipInterval[] {
  const intervals: LeadershipInterval[] = [];
  for (const candidate of candidates) {
    const own: LeadershipInterval[] = [];
    for (const e of eventsOf(candidate)) {
      const open = own.at(-1)?.end === null ? own.at(-1) : undefined;
      if (e.event === 'started_leading' && !open)
        own.push({ identity: e.identity, start: e.at, end: null });
      if ((e.event === 'stopped_leading' || e.event === 'exit') && open) open.end = e.at;
    }
    for (const interval of own) {
      const released = releasedAt(interval.identity);
      if (released !== undefined && released >= interval.start)
        interval.end = Math.min(interval.end ?? released, released);
    }
    intervals.push(...own);
  }
  return intervals.sort((a, b) => a.start - b.start);
}

export interface Coverage {
  /** Each stretch of [from, to) in which no interval was open, in ms. */
  gaps: number[];
  leaderlessMs: number;
  /** Time with two or more intervals open. */
  overlapMs: number;
}

/** How `intervals` cover [from, to): a sweep over their starts and ends. */
export function coverage(
  intervals: readonly LeadershipInterval[],
  from: number,
  to: number,
): Coverage {
  const edges: { at: number; delta: number }[] = [];
  for (const i of intervals) {
    const start = Math.max(i.start, from);
    const end = Math.min(i.end ?? to, to);
    if (end <= start) continue;
    edges.push({ at: start, delta: 1 }, { at: end, delta: -1 });
  }
  // Ends before starts at the same instant: a handover at one instant is neither a gap nor an overlap.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  const gaps: number[] = [];
  let open = 0;
  let last = from;
  let overlapMs = 0;
  for (const edge of [...edges, { at: to, delta: 0 }]) {
    const span = edge.at - last;
    if (span > 0 && open === 0) gaps.push(round1(span));
    if (span > 0 && open >= 2) overlapMs += span;
    open += edge.delta;
    last = edge.at;
  }
  return {
    gaps,
    leaderlessMs: round1(gaps.reduce((a, b) => a + b, 0)),
    overlapMs: round1(overlapMs),
  };
}

export interface TickCount {
  /** Slots of the period whose start lies in the window. */
  expected: number;
  /** Slots in which at least one candidate ran the task. */
  executed: number;
  /** expected - executed. */
  lost: number;
  /** Slots in which two or more candidates ran it. */
  doubled: number;
}

/** Runs of the leader-only task (`tick` events, see test/fixtures/candidate.ts) in [from, to). */
export function countTicks(
  candidates: readonly CandidateProcess[],
  periodMs: number,
  from: number,
  to: number,
): TickCount {
  const first = Math.ceil(from / periodMs);
  const last = Math.ceil(to / periodMs) - 1;
  const runs = new Map<number, number>();
  for (const candidate of candidates) {
    for (const e of eventsOf(candidate)) {
      if (e.event !== 'tick' || e.slot === undefined || e.slot < first || e.slot > last) continue;
      runs.set(e.slot, (runs.get(e.slot) ?? 0) + 1);
    }
  }
  const expected = Math.max(0, last - first + 1);
  const doubled = [...runs.values()].filter((n) => n >= 2).length;
  return { expected, executed: runs.size, lost: expected - runs.size, doubled };
}

export const round1 = (x: number) => Math.round(x * 10) / 10;
