import { fencingTokenOf, type FencingToken } from './fencing-token.js';
import type { LeaseRecord } from './lease-record.js';

/** Our term while we hold the Lease (activating or leading). Times on the monotonic clock. */
export interface Leadership {
  /**
   * From when we lead. Normally the acquisition itself; later when the acquisition re-created a
   * deleted Lease: until then the term is *activating*.
   */
  validFrom: number;
  /** Deadline: we lead only while now < validUntil. */
  validUntil: number;
  /**
   * The same deadline on the wall clock (ms), which keeps running while the machine is suspended
   * (the monotonic clock stops): we lead only while both clocks are before their deadline.
   */
  wallValidUntil: number;
  /** The term's `leaseTransitions`, kept on every renew. */
  readonly term: number;
  /** The resourceVersion of the write that acquired the term. */
  readonly fencingToken: FencingToken;
  /** Aborted when the term ends: the leadership signal and every admitted work's signal. */
  readonly controller: AbortController;
  /** Our last successful write. */
  record: LeaseRecord;
  /** When the request of our last successful write started. */
  lastWriteStart: number;
  /**
   * Set when someone else edited our record (e.g. shortened leaseDurationSeconds): we lead at most
   * until `until`, until a renew that started after we saw the edit (`seenAt`) succeeds.
   */
  cap?: { readonly until: number; readonly seenAt: number };
}

/**
 * A new term from our write `written`, whose request started at `requestStart` (monotonic) and
 * `wallRequestStart` (wall clock); it leads from `validFrom`.
 */
export function beginTerm(
  written: LeaseRecord,
  validFrom: number,
  requestStart: number,
  wallRequestStart: number,
  renewDeadline: number,
): Leadership {
  return {
    validFrom,
    lastWriteStart: requestStart,
    validUntil: requestStart + renewDeadline,
    wallValidUntil: wallRequestStart + renewDeadline,
    term: written.leaseTransitions ?? 0,
    fencingToken: fencingTokenOf(written),
    controller: new AbortController(),
    record: written,
  };
}

/**
 * A renew succeeded: the term runs until `requestStart + renewDeadline` (never shortened by an
 * older write answering late), but not past a cap that only a newer write supersedes.
 */
export function extendTerm(
  leadership: Leadership,
  written: LeaseRecord,
  requestStart: number,
  wallRequestStart: number,
  renewDeadline: number,
): void {
  leadership.record = written;
  leadership.wallValidUntil = Math.max(leadership.wallValidUntil, wallRequestStart + renewDeadline);
  leadership.lastWriteStart = Math.max(leadership.lastWriteStart, requestStart);
  let extended = Math.max(leadership.validUntil, requestStart + renewDeadline);
  if (leadership.cap) {
    if (requestStart > leadership.cap.seenAt) leadership.cap = undefined;
    else extended = Math.min(extended, leadership.cap.until);
  }
  leadership.validUntil = extended;
}

/** Whether the term's deadline has passed by either clock: it can never lead again. */
export function termLapsed(leadership: Leadership, now: number, wallNow: number): boolean {
  return now >= leadership.validUntil || wallNow >= leadership.wallValidUntil;
}

/**
 * Whether the term leads at monotonic time `now` and wall time `wallNow`: from `validFrom` until
 * the renew deadline by both clocks. A wall clock that steps back never extends the term; one that
 * jumps forward (a suspended machine waking up) ends it.
 */
export function termLeads(leadership: Leadership, now: number, wallNow: number): boolean {
  return (
    now >= leadership.validFrom &&
    now < leadership.validUntil &&
    wallNow < leadership.wallValidUntil
  );
}

/**
 * Someone else edited our record at `now`: a peer that reads its `leaseDurationSeconds` literally
 * may take over that long after our last write (the edit came after it), so the term is capped
 * there. Returns true when that shortens the term.
 */
export function capTerm(leadership: Leadership, edited: LeaseRecord, now: number): boolean {
  const literal = edited.leaseDurationSeconds;
  const advertisedMs =
    typeof literal === 'number' && Number.isFinite(literal) ? Math.max(0, literal) * 1000 : 0;
  const until = Math.min(
    leadership.cap?.until ?? Infinity,
    leadership.lastWriteStart + advertisedMs,
  );
  leadership.cap = { until, seenAt: now };
  if (until >= leadership.validUntil) return false;
  leadership.validUntil = until;
  return true;
}

/**
 * Whether `record`, which names us, differs from our last write in a field peers read: someone
 * else edited it (e.g. shortened leaseDurationSeconds, or reset leaseTransitions).
 */
export function termFieldsEdited(ours: LeaseRecord, record: LeaseRecord): boolean {
  return (
    record.leaseDurationSeconds !== ours.leaseDurationSeconds ||
    record.leaseTransitions !== ours.leaseTransitions
  );
}
