import type { Clock } from '../clock.js';
import { isPrintableIdentity } from '../foreign-text.js';
import type { MemberEntry } from '../lease-record.js';
import { MAX_SHARES } from './shares.js';

/**
 * The most entries a replica keeps (its own included): twice the most shares, room for a rolling
 * update's surge of replicas beyond one per share, and a bound on the annotation (about 300 bytes an
 * entry, 40 KB at most) and on the work of each balance check when entries are forged.
 */
export const MAX_MEMBERS = 2 * MAX_SHARES;

/**
 * The longest an entry counts, as a multiple of this replica's own ttl: replicas of one election
 * have the same timings (a rollout may change them), so a ttl far above ours is not one of ours.
 */
const MAX_TTL_FACTOR = 4;

/**
 * Whether `identity` and `entry`, read from the membership Lease, are what a replica writes: an
 * identity as `assertIdentity` accepts it (non-blank printable ASCII, at most 253 characters), a
 * finite `until`, a positive `ttl` and a share count from 1 to {@link MAX_SHARES} when present.
 * Anyone who may write the Lease can write anything into it: the others are ignored, and dropped
 * at the next write.
 */
export function isValidEntry(identity: string, entry: MemberEntry): boolean {
  const { until, ttl, shares } = entry;
  return (
    identity.trim() !== '' &&
    isPrintableIdentity(identity) &&
    Number.isFinite(until) &&
    (ttl === undefined || (Number.isFinite(ttl) && ttl > 0)) &&
    (shares === undefined || (Number.isInteger(shares) && shares >= 1 && shares <= MAX_SHARES))
  );
}

interface Seen {
  /** The entry's value, to tell a renewal. */
  readonly value: string;
  readonly entry: MemberEntry;
  /** When this replica saw that value first, on its monotonic clock. */
  readonly since: number;
}

/**
 * The other replicas' entries as this replica observed them. An entry counts for its `ttl` after
 * this replica saw its value change (its monotonic clock, as a Lease's expiry; never the writer's
 * wall clock against ours); an entry of an older version (without `ttl`) for this replica's own
 * ttl, the same rule. Invalid entries are ignored; beyond {@link MAX_MEMBERS}, the entries seen
 * first are kept (entries added in a flood do not push out the members already there).
 */
export class MemberEntries {
  private seen = new Map<string, Seen>();

  constructor(
    private readonly self: string,
    private readonly ttl: number,
    private readonly clock: Clock,
  ) {}

  /** Takes in the entries of a record read or written. */
  observe(members: Readonly<Record<string, MemberEntry>> | null | undefined): void {
    const now = this.clock.now();
    const valid = new Map(
      Object.entries(members ?? {}).filter(
        ([identity, entry]) => identity !== this.self && isValidEntry(identity, entry),
      ),
    );
    // Those seen before first, in the order first seen, then the new ones.
    const order = [...this.seen.keys()].filter((identity) => valid.has(identity));
    for (const identity of valid.keys()) if (!this.seen.has(identity)) order.push(identity);
    const next = new Map<string, Seen>();
    for (const identity of order.slice(0, MAX_MEMBERS - 1)) {
      const entry = valid.get(identity)!;
      const value = JSON.stringify([entry.until, entry.ttl, entry.shares]);
      const before = this.seen.get(identity);
      next.set(identity, before?.value === value ? before : { value, entry, since: now });
    }
    this.seen = next;
  }

  /** The entries that count now, by identity. */
  live(): Map<string, MemberEntry> {
    const now = this.clock.now();
    const live = new Map<string, MemberEntry>();
    for (const [identity, { entry, since }] of this.seen) {
      const ttl = Math.min(entry.ttl ?? this.ttl, MAX_TTL_FACTOR * this.ttl);
      if (now < since + ttl) live.set(identity, entry);
    }
    return live;
  }
}
