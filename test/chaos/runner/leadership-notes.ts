// What the notes of the Lease and clock faults say about leadership: how long two replicas both
// believed they led, who acquired since a moment, and how a slow clock's leader ended.
import type { ReplicaEvent } from '../checker.js';

/**
 * Milliseconds in [from, to] during which two or more replicas' last change events said they led
 * (their @OnLeaderChange events: what they believed, whether or not work ran), until their
 * process exited.
 */
export function leadersOverlap(events: ReplicaEvent[], from: number, to: number): number {
  const leading = new Set<string>();
  let total = 0;
  let last = from;
  for (const e of events) {
    if (e.type !== 'change' && e.type !== 'process-exit') continue;
    const t = Math.min(Math.max(e.t, from), to);
    if (leading.size >= 2) total += t - last;
    last = t;
    if (e.type === 'change' && e.isLeader) leading.add(e.id);
    else leading.delete(e.id);
  }
  if (leading.size >= 2) total += to - last;
  return Math.round(total);
}

/** Who became leader since `from`, in order ("none" if nobody). */
export function acquisitions(events: ReplicaEvent[], from: number): string {
  const ids = events
    .filter((e) => e.type === 'change' && e.isLeader === true && e.t > from)
    .map((e) => e.id);
  return ids.join(', ') || 'none';
}

/** "led 968 ms after the successor took over", or the gap between them. */
export function leadershipNote(ms: number): string {
  const rounded = Math.round(Math.abs(ms) / 10) * 10;
  return ms > 0
    ? `it led ~${rounded} ms after its successor took over`
    : `it stopped ~${rounded} ms before its successor took over`;
}
