import type { FireLedger } from './fires/fire-ledger.js';

/**
 * The election-relevant part of a `coordination.k8s.io/v1` Lease, as read from the lock.
 * Fields the server may hold in any shape are nullable: a record written by another client (or by
 * hand) can lack them or carry values we could not parse.
 */
export interface LeaseRecord {
  /** Current holder; `null` or `''` means the lease is free. */
  readonly holderIdentity: string | null;
  /** The holder's advertised lease duration, whole seconds. */
  readonly leaseDurationSeconds: number | null;
  /** When the current holder acquired the lease (wall clock, informational only). */
  readonly acquireTime: Date | null;
  /** When the holder last renewed (wall clock, informational only: expiry is judged locally). */
  readonly renewTime: Date | null;
  /** How many times the lease changed hands; our fencing token. */
  readonly leaseTransitions: number | null;
  /** Opaque version for optimistic concurrency; every write is based on one. */
  readonly resourceVersion: string;
  /**
   * Identity of the stored object (Kubernetes `metadata.uid`), if the lock knows it. A different uid
   * after an update means the object had been deleted and the update re-created it.
   */
  readonly uid?: string | null;
  /**
   * Set on the answer to a create by locks that can tell (an in-process store): no Lease of this
   * name ever existed before, so no leader of it can still be running and the creator leads at
   * once. The Kubernetes lock cannot tell: a Lease found missing may have been deleted under a
   * leader that is cut off from the API server, so its creator waits one lease duration.
   */
  readonly neverExistedBefore?: boolean;
  /**
   * The successor a releasing leader named (`stepDown({ successor })`), on a free Lease only: that
   * follower takes it first. Never written into `holderIdentity` (another process's identity there
   * would defeat the duplicate-identity check). The Kubernetes lock keeps it in an annotation bound
   * to the released record (its holder `''` and `leaseTransitions`): read back only while the Lease
   * still shows that release.
   */
  readonly preferredHolder?: string | null;
  /**
   * On the membership Lease of an election spread over shares only: each replica's entry, by
   * identity, as written (readers check and filter them). The Kubernetes lock keeps it in an
   * annotation (not bound to a holder), within a size budget for its annotations.
   */
  readonly members?: Readonly<Record<string, MemberEntry>> | null;
  /**
   * The ledger of `once` jobs' fires (see `FireLedger`). The Kubernetes lock keeps it in an
   * annotation (not bound to a holder: every holder of ours carries it on, a client-go holder keeps
   * annotations as it found them).
   */
  readonly fires?: FireLedger | null;
  /**
   * The holder's revision (its `revision` option, e.g. the Pod's `pod-template-hash`), as the holder
   * wrote it; on a release, the releasing holder's. The Kubernetes lock keeps it in an annotation
   * bound to the record's holder and `leaseTransitions`: a copy kept into another term reads as none.
   */
  readonly revision?: string | null;
  /**
   * Followers that announced themselves in the holder's term, oldest first (see `RolloutCandidates`):
   * new replicas of another revision than the holder's, and the term's standby. A releasing leader
   * names the newest of another revision, else the newest. Bound like `revision`.
   */
  readonly candidates?: readonly Candidate[] | null;
  /**
   * Where the holder serves requests that followers forward to it (`LeaderElector.advertise`). The
   * Kubernetes lock keeps it in an annotation bound to the record it was written with (holder and
   * `leaseTransitions`): a client-go holder keeps annotations as it found them, so a copy from an
   * earlier term or another holder is never read back.
   */
  readonly leaderAddress?: LeaderAddress | null;
}

/** A follower that announced itself as a successor: its identity and revision. */
export interface Candidate {
  readonly identity: string;
  readonly revision: string;
}

/** Where a leader serves forwarded requests: an IP address (v4 or v6, no zone) and a TCP port. */
export interface LeaderAddress {
  /** IPv4 or IPv6 literal, e.g. the Pod IP. */
  readonly ip: string;
  /** TCP port, 1 to 65535. */
  readonly port: number;
}

/**
 * One replica's entry on the membership Lease. A reader counts it for `ttl` after it saw its value
 * change (on the reader's monotonic clock, as a Lease's expiry): no two clocks are compared.
 */
export interface MemberEntry {
  /**
   * The writer's wall clock at the write plus its ttl, ms since the epoch: new at every renewal,
   * which is what readers watch for. Versions before `ttl` compared it with their own wall clock.
   */
  readonly until: number;
  /** How long the entry counts after a reader saw it change, ms. Absent: an older version's entry. */
  readonly ttl?: number;
  /** How many shares its writer has (`shares`). Absent: an older version's entry. */
  readonly shares?: number;
}

/** What the elector writes. Every field is set on every write. */
export interface LeaseSpec {
  /** The holder; `''` when releasing. */
  readonly holderIdentity: string;
  /** The holder's lease duration in whole seconds (rounded up); 1 when releasing. */
  readonly leaseDurationSeconds: number;
  /** Kept across renewals; set anew when the lease is acquired or released. */
  readonly acquireTime: Date;
  /** The time of this write. */
  readonly renewTime: Date;
  /** Incremented when the lease changes hands, kept otherwise. */
  readonly leaseTransitions: number;
  /** On a release only: the successor the leader names (see `LeaseRecord.preferredHolder`). */
  readonly preferredHolder?: string;
  /** On the membership Lease only (see `LeaseRecord.members`). */
  readonly members?: Readonly<Record<string, MemberEntry>>;
  /** The ledger of `once` jobs' fires (see `LeaseRecord.fires`); absent: none. */
  readonly fires?: FireLedger;
  /** The holder's revision, or the releasing holder's (see `LeaseRecord.revision`); absent: none. */
  readonly revision?: string;
  /** The announced candidates of the holder's term (see `LeaseRecord.candidates`); absent: none. */
  readonly candidates?: readonly Candidate[];
  /** The holder's address for forwarded requests (see `LeaseRecord.leaderAddress`); absent: none. */
  readonly leaderAddress?: LeaderAddress;
}

/** A holder whose Lease was taken over because it expired, as the takeover's log line names it. */
export interface ExpiredHolder {
  readonly holder: string;
  readonly leaseDurationSeconds: number | null;
}

/** The holder of `record` (taken over because it expired), if it names one. */
export function expiredHolder(record: LeaseRecord | null | undefined): ExpiredHolder | undefined {
  if (!record?.holderIdentity) return undefined;
  return { holder: record.holderIdentity, leaseDurationSeconds: record.leaseDurationSeconds };
}

/** True when the record names no holder. */
export function isFree(record: LeaseRecord): boolean {
  return !record.holderIdentity;
}

/**
 * True when two records carry the same election state. Expiry is measured from the moment this
 * process saw the election state change (as client-go does), so metadata-only writes (labels,
 * annotations) do not count as a renewal.
 */
export function sameElectionState(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    (a.holderIdentity ?? '') === (b.holderIdentity ?? '') &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.leaseTransitions === b.leaseTransitions &&
    a.acquireTime?.getTime() === b.acquireTime?.getTime() &&
    a.renewTime?.getTime() === b.renewTime?.getTime()
  );
}
