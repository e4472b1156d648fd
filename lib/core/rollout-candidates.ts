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

/**
 * Succession by revision, for rolling updates: every replica knows its revision (e.g. the Pod's
 * `pod-template-hash`), and the leader writes its own into the Lease. A follower of another
 * revision that joined the term after it began (a Pod the rollout started, not one that saw the
 * current leader take over) announces itself once: one conditional write that adds it to the
 * Lease's candidates and changes nothing else, so no follower counts it as a renewal. The leader
 * carries the candidates on in its renewals, and when it releases it names the newest one as its
 * successor (`LeaseRecord.preferredHolder`): that one tries at once, the others give it 100 ms.
 * A release that carries a revision but names nobody tells the followers that no rollout is
 * under way: they take the herd spread alone.
 *
 * A replica on the previous revision joined before the new leader's term began, so it never
 * announces; if an interrupted rollout left several revisions, the newest announcer is the last
 * rollout's. Without revisions, or with a leader that writes none, nothing is announced.
 */
export class RolloutCandidates {
  /** The term (holder, transitions) this follower announced itself in, or tried to, and how often. */
  private attempt: { readonly term: string; tries: number; inFlight: boolean } | undefined;

  constructor(private readonly context: RolloutContext) {}

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

  /** The successor a release based on `record` (ours) names: the newest announced candidate. */
  successorOf(record: LeaseRecord | undefined): Candidate | undefined {
    if (!this.enabled || record?.holderIdentity !== this.context.identity) return undefined;
    return record.candidates?.at(-1);
  }

  /**
   * The write that announces this follower on `record` (held by another, current), if it should
   * announce now: it has a revision, the holder wrote another one, this follower arrived in the term
   * after it began (`arrivedInTerm`), is not among the candidates yet and has tries left in the term.
   */
  announcement(record: LeaseRecord, arrivedInTerm: boolean): LeaseSpec | undefined {
    const revision = this.context.revision;
    const holder = record.holderIdentity;
    if (revision === undefined || !holder || holder === this.context.identity) return undefined;
    if (!record.revision || record.revision === revision || !arrivedInTerm) return undefined;
    const base = specOf(record);
    if (!base) return undefined;
    const candidates = record.candidates ?? [];
    if (candidates.some((c) => c.identity === this.context.identity)) return undefined;
    const term = `${record.leaseTransitions ?? 0}/${holder}`;
    if (this.attempt?.term !== term) this.attempt = { term, tries: 0, inFlight: false };
    if (this.attempt.inFlight || this.attempt.tries >= ANNOUNCE_TRIES) return undefined;
    this.attempt.tries += 1;
    this.attempt.inFlight = true;
    const self: Candidate = { identity: this.context.identity, revision };
    return {
      ...base,
      candidates: [...candidates, self].slice(-MAX_CANDIDATES),
    };
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
