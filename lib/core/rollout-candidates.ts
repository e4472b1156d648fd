import { isPrintableIdentity } from './foreign-text.js';
import { isNewerVersion } from './fencing-token.js';
import {
  sameElectionState,
  type Candidate,
  type LeaseRecord,
  type LeaseSpec,
} from './lease-record.js';

/** The most candidates a Lease keeps; a new one beyond them drops the oldest. */
export const MAX_CANDIDATES = 8;

/** How often a follower tries to announce itself in one term (a try may conflict with a renew). */
export const ANNOUNCE_TRIES = 3;

/**
 * A revision: what a Deployment's `pod-template-hash` or a StatefulSet's `controller-revision-hash`
 * label holds, so at most 63 characters of a label value's alphabet.
 */
export function isRevision(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(value);
}

/** The candidates of a JSON array as read back: well-formed entries only, at most the newest few. */
export function toCandidates(value: unknown): Candidate[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const candidates = value.flatMap((entry: unknown) => {
    if (!entry || typeof entry !== 'object') return [];
    const { identity, revision } = entry as Record<string, unknown>;
    return typeof identity === 'string' && isPrintableIdentity(identity) && isRevision(revision)
      ? [{ identity, revision }]
      : [];
  });
  return candidates.slice(-MAX_CANDIDATES);
}

/** What {@link RolloutCandidates} needs from its elector. */
export interface RolloutContext {
  readonly identity: string;
  /** This replica's revision; undefined: none (the timing heuristic of `Succession` applies). */
  readonly revision: string | undefined;
}

/** Why a follower announces itself (see {@link RolloutCandidates}). */
export type AnnouncementKind = 'rollout' | 'standby';

/** An announcement to write: the record as it is plus this follower, and why. */
export interface Announcement {
  readonly spec: LeaseSpec;
  readonly kind: AnnouncementKind;
}

/**
 * Succession by revision: every replica knows its revision (e.g. the Pod's `pod-template-hash`),
 * and the leader writes its own into the Lease. Followers announce themselves as successors, one
 * conditional write each that adds them to the Lease's candidates and changes nothing else, so no
 * follower counts it as a renewal:
 * - `rollout`: a follower of another revision that joined the term after it began (a Pod the
 *   rollout started, not one that saw the current leader take over) announces itself at once;
 * - `standby`: while the term has no candidate yet, one follower announces itself, so that a
 *   release always names someone: every follower draws a time in the first `retryPeriod` of the
 *   term it sees, and the first whose time comes while the candidates are still empty writes (one
 *   write per term; a few more only when draws fall within one write's time of each other).
 * The leader carries the candidates on in its renewals, and when it releases it names the newest
 * candidate of another revision than its own, else the newest one (`LeaseRecord.preferredHolder`):
 * that one tries at once, the others give it 100 ms. A release that carries a revision but names
 * nobody (no candidate yet) sends the followers the herd spread alone.
 *
 * A replica on the previous revision joined before the new leader's term began, so it never
 * announces for a rollout; if an interrupted rollout left several revisions, the newest announcer
 * is the last rollout's. Without revisions, or with a leader that writes none, nothing is announced.
 */
export class RolloutCandidates {
  /** The term (holder, transitions) this follower announced itself in, or tried to, and how often. */
  private attempt: { readonly term: string; tries: number; inFlight: boolean } | undefined;

  /** The candidates of the last record seen with a holder: whom its release may name. */
  private seen: readonly Candidate[] = [];

  /** The term this follower drew its standby time for (see {@link standbyDraw}). */
  private drawnFor: string | undefined;

  constructor(private readonly context: RolloutContext) {}

  /** Every record this replica sees (reads, writes, watch events). */
  observe(record: LeaseRecord): void {
    if (record.holderIdentity) this.seen = record.candidates ?? [];
  }

  /**
   * Whether `release`, naming `named`, hands over to another revision while this replica is on the
   * releasing leader's: `named` announced itself with another revision than ours, and the release
   * carries ours. A rolling update replaces this replica next, so it gives the named one longer.
   */
  supersededBy(named: string, release: LeaseRecord): boolean {
    const revision = this.context.revision;
    if (revision === undefined || release.revision !== revision) return false;
    const successor = this.seen.find((c) => c.identity === named);
    return successor !== undefined && successor.revision !== revision;
  }

  /** Whether this replica has a revision. */
  get enabled(): boolean {
    return this.context.revision !== undefined;
  }

  /**
   * Our revision and the candidates a write of ours carries: the candidates of `basis` while we
   * renew (same holder, same term), none when a term begins.
   */
  forWrite(basis: LeaseRecord | null, renews: boolean): Pick<LeaseSpec, 'revision' | 'candidates'> {
    const revision = this.context.revision;
    if (revision === undefined) return {};
    const candidates = renews ? basis?.candidates : undefined;
    return candidates?.length ? { revision, candidates } : { revision };
  }

  /**
   * The successor a release based on `record` (ours) names: the newest candidate of another
   * revision (a rollout's new replica), else the newest one (the term's standby).
   */
  successorOf(record: LeaseRecord | undefined): Candidate | undefined {
    if (!this.enabled || record?.holderIdentity !== this.context.identity) return undefined;
    const candidates = record.candidates ?? [];
    const newer = candidates.filter((c) => c.revision !== this.context.revision);
    return newer.at(-1) ?? candidates.at(-1);
  }

  /**
   * Whether this follower should draw a time to announce itself as the standby of `record`'s term:
   * it has a revision, the holder (another) wrote one, and the term has no candidate yet.
   * Undefined when not; else the term's key, so that one draw serves one term.
   */
  standbyTerm(record: LeaseRecord): string | undefined {
    if (!this.followsAnother(record)) return undefined;
    if (!record.revision || record.candidates?.length) return undefined;
    return termOf(record);
  }

  /**
   * The term to draw a standby time for on `record`, if a draw is due: once per term while it has
   * no candidate (a record with candidates lets the next empty one draw again: a standby that
   * withdrew is replaced).
   */
  standbyDraw(record: LeaseRecord): string | undefined {
    const term = this.standbyTerm(record);
    if (term === undefined) {
      if (record.candidates?.length) this.drawnFor = undefined;
      return undefined;
    }
    if (this.drawnFor === term) return undefined;
    this.drawnFor = term;
    return term;
  }

  /**
   * The write that announces this follower on `record` (held by another, current), if it should
   * announce now: it has a revision, the holder wrote one, this follower is not among the
   * candidates yet and has tries left in the term; and either its revision is another than the
   * holder's and it arrived in the term after it began (`arrivedInTerm`: a rollout's new replica),
   * or its standby time came (`standbyDue`) while the term has no candidate.
   */
  announcement(
    record: LeaseRecord,
    { arrivedInTerm, standbyDue }: { arrivedInTerm: boolean; standbyDue: boolean },
  ): Announcement | undefined {
    const revision = this.context.revision;
    if (revision === undefined || !this.followsAnother(record) || !record.revision)
      return undefined;
    const candidates = record.candidates ?? [];
    const rollout = record.revision !== revision && arrivedInTerm;
    const standby = standbyDue && candidates.length === 0;
    if (!rollout && !standby) return undefined;
    const base = specOf(record);
    if (!base) return undefined;
    if (candidates.some((c) => c.identity === this.context.identity)) return undefined;
    const term = termOf(record);
    if (this.attempt?.term !== term) this.attempt = { term, tries: 0, inFlight: false };
    if (this.attempt.inFlight || this.attempt.tries >= ANNOUNCE_TRIES) return undefined;
    this.attempt.tries += 1;
    this.attempt.inFlight = true;
    const self: Candidate = { identity: this.context.identity, revision };
    return {
      spec: { ...base, candidates: [...candidates, self].slice(-MAX_CANDIDATES) },
      kind: rollout ? 'rollout' : 'standby',
    };
  }

  /**
   * The write that takes this follower off `record`'s candidates (held by another) when it stops, so
   * that a release does not name a replica that is gone; undefined when it is not among them.
   */
  withdrawal(record: LeaseRecord): LeaseSpec | undefined {
    if (!this.followsAnother(record)) return undefined;
    const candidates = record.candidates ?? [];
    const rest = candidates.filter((c) => c.identity !== this.context.identity);
    if (rest.length === candidates.length) return undefined;
    const base = specOf(record);
    if (!base) return undefined;
    return rest.length ? { ...base, candidates: rest } : base;
  }

  /** Whether this replica has a revision and `record` names another replica as holder. */
  private followsAnother(record: LeaseRecord): boolean {
    const holder = record.holderIdentity;
    return this.enabled && !!holder && holder !== this.context.identity;
  }

  /** Whether an announcement's write is in flight. */
  get announcing(): boolean {
    return this.attempt?.inFlight === true;
  }

  /** The announcement's write ended (written, conflicted or failed). */
  announced(): void {
    if (this.attempt) this.attempt.inFlight = false;
  }
}

/** A record's term as announcements tell terms apart: its transitions and holder. */
function termOf(record: LeaseRecord): string {
  return `${record.leaseTransitions ?? 0}/${record.holderIdentity ?? ''}`;
}

/**
 * The spec that writes `record` back as it is: the same election state and the same fields of ours,
 * so that an announcement changes only the candidates. Undefined when a field of the election
 * state is missing (not a record of ours).
 */
function specOf(record: LeaseRecord): LeaseSpec | undefined {
  const { holderIdentity, leaseDurationSeconds, acquireTime, renewTime, leaseTransitions } = record;
  if (!holderIdentity || !leaseDurationSeconds || !acquireTime || !renewTime) return undefined;
  if (leaseTransitions === null) return undefined;
  return {
    holderIdentity,
    leaseDurationSeconds,
    acquireTime,
    renewTime,
    leaseTransitions,
    ...(record.members ? { members: record.members } : {}),
    ...(record.fires ? { fires: record.fires } : {}),
    ...(record.revision ? { revision: record.revision } : {}),
    ...(record.leaderAddress ? { leaderAddress: record.leaderAddress } : {}),
  };
}

/**
 * Whether `record`, newer than `held` (our last write) with the same election state, is a
 * follower's announcement on it: the candidates changed. The holder bases its next write on it,
 * which carries the candidates on without a conflict.
 */
export function isAnnouncement(held: LeaseRecord, record: LeaseRecord): boolean {
  if (!isNewerVersion(record, held) || !sameElectionState(held, record)) return false;
  return JSON.stringify(record.candidates ?? []) !== JSON.stringify(held.candidates ?? []);
}
