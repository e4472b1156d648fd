// Leaderless time: the longest stretch of a fault window in which no process of an election
// believed it led, from the leadership each reported. The same measure for the replicas (their
// change events) and for client-go's candidates (started/stopped_leading), so the two compare.
import type { ReplicaEvent } from '../checker.js';

/** One process leading from `start` to `end` (Infinity: still leading). */
export interface LeadershipSpan {
  id: string;
  start: number;
  end: number;
}

/** The replicas' spans: from a change event with isLeader true to the next false, or their exit. */
export function replicaSpans(events: ReplicaEvent[]): LeadershipSpan[] {
  const open = new Map<string, number>();
  const spans: LeadershipSpan[] = [];
  for (const e of events) {
    const leads = e.type === 'change' && e.isLeader === true;
    const ends = (e.type === 'change' && e.isLeader === false) || e.type === 'process-exit';
    if (leads && !open.has(e.id)) open.set(e.id, e.t);
    else if (ends && open.has(e.id)) {
      spans.push({ id: e.id, start: open.get(e.id)!, end: e.t });
      open.delete(e.id);
    }
  }
  for (const [id, start] of open) spans.push({ id, start, end: Infinity });
  return spans;
}

/** The longest part of [from, to] that no span covers, ms. */
export function longestLeaderless(spans: LeadershipSpan[], from: number, to: number): number {
  const covering = spans
    .filter((s) => s.end > from && s.start < to)
    .sort((a, b) => a.start - b.start);
  let longest = 0;
  let reached = from;
  for (const span of covering) {
    if (span.start > reached) longest = Math.max(longest, span.start - reached);
    reached = Math.max(reached, span.end);
  }
  return Math.round(Math.max(longest, to - reached));
}

/**
 * Fencing tokens of the replicas' work, in the order it was admitted: a later term's token must be
 * greater than every earlier term's (resourceVersions from two API servers over one etcd). Returns
 * the violations found.
 */
export function fencingTokenProblems(events: ReplicaEvent[]): string[] {
  const problems: string[] = [];
  let last: { id: string; token: bigint } | undefined;
  for (const e of events) {
    // The token is a FencingToken: JSON gives its decimal string.
    if (e.type !== 'work-start' || e.token === null || e.token === undefined) continue;
    const token = BigInt(String(e.token));
    if (last && (token < last.token || (token === last.token && e.id !== last.id)))
      problems.push(`fencing token ${token} of ${e.id} after ${last.token} of ${last.id}`);
    if (!last || token >= last.token) last = { id: e.id, token };
  }
  return problems;
}
