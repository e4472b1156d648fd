import { isFree, sameElectionState, type LeaseRecord } from './lease-record.js';
import { leaseDurationSeconds, MAX_HONORED_LEASE_DURATION_SECONDS } from './timing.js';

/** Stands for "someone we do not know" as the holder of a Lease that vanished while we looked away. */
export const UNKNOWN_HOLDER = '\u0000unknown';

/** What this process knows of the Lease: the last record seen and when it last changed. */
export interface Observation {
  /** The last record seen, or null when the Lease does not exist. */
  readonly record: LeaseRecord | null;
  /** Monotonic time at which the election state last changed as seen by this process. */
  readonly changedAt: number;
  /** When the Lease was seen deleted: until when its last holder may still believe it leads. */
  readonly deletedHolderValidUntil?: number;
  /** When the Lease was seen deleted: who held it ({@link UNKNOWN_HOLDER} when we cannot know). */
  readonly deletedHolder?: string | null;
  /**
   * When the Lease was seen deleted: the `renewTime` (ms) of its last record, which tells whether
   * this process wrote it (a record naming our identity may have been written by a duplicate).
   */
  readonly deletedHolderRenewTime?: number;
  /** The last `leaseTransitions` seen, kept across a deletion so that terms keep increasing. */
  readonly lastTransitions?: number | null;
  /**
   * Whether this process has ever seen the Lease exist. One that has not cannot know whether a
   * missing Lease was deleted under a leader that is cut off and still believes it leads.
   */
  readonly seenExisting?: boolean;
}

/**
 * The observation after seeing `record` at monotonic time `now`. Expiry is measured from the
 * moment the election state changed (client-go's rule), so an unchanged record keeps `changedAt`.
 */
export function observeRecord(
  previous: Observation | undefined,
  record: LeaseRecord,
  now: number,
): Observation {
  const changed = !previous?.record || !sameElectionState(previous.record, record);
  // A Lease deleted while held: its holder may still believe it leads until its lease would have
  // run out, whatever records come after (a new creator that is stopped before it leads leaves the
  // Lease to expire, but a record added free, or by a peer with other rules, may follow).
  // Unless that holder wrote this record itself: it saw the deletion (and re-created the Lease in
  // its term), so it knows whether it leads.
  const writtenByDeletedHolder =
    !!record.holderIdentity && record.holderIdentity === previous?.deletedHolder;
  const deletion =
    previous?.deletedHolderValidUntil !== undefined &&
    now < previous.deletedHolderValidUntil &&
    !writtenByDeletedHolder
      ? {
          deletedHolder: previous.deletedHolder,
          deletedHolderValidUntil: previous.deletedHolderValidUntil,
          deletedHolderRenewTime: previous.deletedHolderRenewTime,
        }
      : {};
  return {
    record,
    changedAt: changed ? now : previous.changedAt,
    lastTransitions: record.leaseTransitions,
    seenExisting: true,
    ...deletion,
  };
}

/**
 * The observation after learning that the Lease does not exist. From a DELETED event of a
 * continuous watch we know its last state and when it last changed, so its holder's lease runs out
 * one holder duration after that. From a read (after a gap in the watch, a 410, a 404) we may have
 * missed renewals, or even a new holder: whoever held it may believe it leads until up to one lease
 * duration from now.
 */
export function observeMissing(
  previous: Observation | undefined,
  source: 'watch' | 'read',
  now: number,
  leaseDuration: number,
): Observation {
  if (previous && previous.record === null) return previous;
  const record = previous?.record ?? null;
  let deletedHolder = record?.holderIdentity ?? null;
  let deletedHolderRenewTime = record?.renewTime?.getTime();
  let deletedHolderValidUntil: number | undefined;
  if (source === 'watch') {
    if (record && previous && !isFree(record)) {
      deletedHolderValidUntil = previous.changedAt + holderDurationMs(record, leaseDuration);
    }
  } else if (previous) {
    deletedHolder = UNKNOWN_HOLDER;
    deletedHolderValidUntil =
      now +
      (record
        ? holderDurationMs(record, leaseDuration)
        : leaseDurationSeconds(leaseDuration) * 1000);
  }
  // A holder of an earlier deletion that may still lead (the Lease re-applied free, then deleted
  // again) is not forgotten: the longer wait stands, and two different holders are "unknown".
  const earlier = previous?.deletedHolderValidUntil;
  if (earlier !== undefined && now < earlier) {
    const later = deletedHolderValidUntil === undefined || earlier > deletedHolderValidUntil;
    if (deletedHolderValidUntil !== undefined && previous!.deletedHolder !== deletedHolder) {
      deletedHolder = UNKNOWN_HOLDER;
      deletedHolderRenewTime = undefined;
    } else if (later) {
      deletedHolder = previous!.deletedHolder ?? null;
      deletedHolderRenewTime = previous!.deletedHolderRenewTime;
    }
    if (later) deletedHolderValidUntil = earlier;
  }
  return {
    record: null,
    changedAt: now,
    deletedHolder,
    deletedHolderValidUntil,
    deletedHolderRenewTime,
    lastTransitions: previous?.lastTransitions ?? null,
    seenExisting: previous?.seenExisting ?? false,
  };
}

/** Monotonic time at which `record` expires for a follower that observed the Lease as `observation`. */
export function expiryOf(
  observation: Observation | undefined,
  record: LeaseRecord,
  now: number,
  leaseDuration: number,
): number {
  const changedAt =
    observation?.record && sameElectionState(observation.record, record)
      ? observation.changedAt
      : now;
  return changedAt + holderDurationMs(record, leaseDuration);
}

/**
 * The duration advertised by the holder, in ms. A missing, zero, negative or non-numeric value is
 * treated as our own lease duration: expiring such a record at once (as a literal reading would)
 * could start a second leader while the holder still works. So is a value above one hour
 * ({@link MAX_HONORED_LEASE_DURATION_SECONDS}): no leader election runs with such a lease, and
 * honoring, say, 2147483647 s written by mistake would block the election for decades once its
 * holder is gone.
 */
export function holderDurationMs(record: LeaseRecord, leaseDuration: number): number {
  const own = leaseDurationSeconds(leaseDuration) * 1000;
  const seconds = record.leaseDurationSeconds;
  if (
    typeof seconds !== 'number' ||
    !Number.isFinite(seconds) ||
    seconds <= 0 ||
    seconds > MAX_HONORED_LEASE_DURATION_SECONDS
  ) {
    return own;
  }
  // Never earlier than our own lease duration either: a shorter value (written by an
  // administrator, or by a peer with other timings) may be shorter than its holder's renew
  // deadline. Waiting longer than advertised is always safe.
  return Math.max(seconds * 1000, own);
}
