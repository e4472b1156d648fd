import { printable } from './foreign-text.js';
import { isFree, type LeaseRecord, type LeaseSpec } from './lease-record.js';
import { expiryOf, UNKNOWN_HOLDER, type Observation } from './lease-observation.js';
import { leaseDurationSeconds } from './timing.js';

/** The part of an elector's state that a decision depends on. */
export interface DecisionState {
  /** This candidate's identity. */
  readonly identity: string;
  /** False while stopping: the elector then only keeps (renews) what it holds, never acquires. */
  readonly campaigning: boolean;
  /** Our lease duration in ms (written rounded up to whole seconds). */
  readonly leaseDuration: number;
  /** Our term while we hold the Lease: its `leaseTransitions` and our last successful write. */
  readonly leadership: {
    readonly term: number;
    readonly record: LeaseRecord;
  } | null;
  /** What this process has seen of the Lease so far. */
  readonly observation: Observation | undefined;
  /**
   * The `renewTime`s (ms) of the writes this process sent, including writes whose answer was
   * lost: a record naming our identity with any other `renewTime` was written by someone else.
   */
  readonly sentWrites: { get(time: number): { readonly needsActivation: boolean } | undefined };
  /** The latest `renewTime` (ms) we sent, if any: the next one is strictly later. */
  readonly lastSentRenewTime: number | undefined;
  /**
   * Whether another process was ever seen writing under our identity: a record naming us may then
   * be theirs even when it carries one of our `renewTime`s, so we never skip a wait on its account.
   */
  readonly duplicateSeen?: boolean;
}

/** Why a {@link Decision} was taken: one word per row of the decision table. */
export type DecisionReason =
  /** No Lease, and nobody we know of can still believe it leads: create it. */
  | 'create-missing'
  /** Our Lease was deleted while we lead: create it again, same term. */
  | 'recreate-ours'
  /** The Lease was deleted while someone held it: wait until that holder's lease would have run out. */
  | 'deleted-holder-may-lead'
  /** We lead: renew. */
  | 'renew'
  /** The record names us and carries a write of ours whose answer we missed: take it back, same term. */
  | 'reclaim-own'
  /**
   * The record names our identity but we never wrote it: another process uses our identity, or a
   * previous run of ours held it. Never lead on it: wait for its expiry, then take it over as a
   * new term.
   */
  | 'identity-in-use'
  /** Nobody holds the Lease (released or never held): acquire it, new term. */
  | 'acquire-free'
  /** The holder's lease ran out by our clock: take over, new term. */
  | 'acquire-expired'
  /** Someone else holds an unexpired lease: wait for its expiry (or a watch event). */
  | 'held-by-other'
  /** We are stopping and hold nothing: never acquire. */
  | 'not-campaigning'
  /** We stepped down: no acquisition until another holder took the Lease or the hold ends. */
  | 'held-back';

/** What to do next, and why. */
export type Decision = (
  | {
      readonly action: 'create';
      readonly spec: LeaseSpec;
      /**
       * Lead only this long (ms) after the create's answer, holding the Lease meanwhile: we never
       * saw this Lease, so it may have been deleted under a leader that is cut off from the API
       * server and believes it leads until its renew deadline. Skipped when the lock's answer says
       * no such Lease ever existed (`LeaseRecord.neverExistedBefore`).
       */
      readonly leadsAfter?: number;
    }
  | {
      readonly action: 'update';
      readonly spec: LeaseSpec;
      readonly basedOn: LeaseRecord;
      /** As for a create: reclaiming our own write whose term had to wait. */
      readonly leadsAfter?: number;
    }
  /** Nothing to write. `until`: monotonic time to try again (a holder's expiry), if known. */
  | { readonly action: 'wait'; readonly until?: number }
) & {
  readonly why: DecisionReason;
  /**
   * Set when we lead but the record shows another holder: step down for this reason first. The
   * rest of the decision is what a follower would do.
   */
  readonly stepDown?: string;
};

/**
 * The election's core rule, without side effects: given our state, the Lease as last read (null
 * when it does not exist) and the time, what to write, or how long to wait. client-go's
 * `tryAcquireOrRenew` with a watch: expiry is judged by our monotonic clock from the moment we saw
 * the record change, never by comparing the writer's timestamps with our clock.
 *
 * @param now monotonic time (the elector's clock)
 * @param wallNow wall-clock time, written into `acquireTime` / `renewTime` (informational)
 */
export function decide(
  state: DecisionState,
  record: LeaseRecord | null,
  now: number,
  wallNow: Date,
): Decision {
  const { identity, leadership } = state;
  const durationSeconds = leaseDurationSeconds(state.leaseDuration);
  // Followers see a renewal as a changed renewTime: it must change even when our wall clock stands
  // still or steps back.
  const renewTime =
    state.lastSentRenewTime !== undefined && wallNow.getTime() <= state.lastSentRenewTime
      ? new Date(state.lastSentRenewTime + 1)
      : wallNow;
  const spec = (acquireTime: Date, leaseTransitions: number): LeaseSpec => ({
    holderIdentity: identity,
    leaseDurationSeconds: durationSeconds,
    acquireTime,
    renewTime,
    leaseTransitions,
  });

  // 1. No Lease.
  if (record === null) {
    // 1a. Deleted under us while we lead: re-create it in our term.
    if (leadership) {
      return {
        action: 'create',
        why: 'recreate-ours',
        spec: spec(wallNow, leadership.term),
      };
    }
    if (!state.campaigning) return { action: 'wait', why: 'not-campaigning' };
    // 1b. Deleted while someone held it: that holder may still believe it leads until its lease
    // would have expired. Creating now could make two leaders.
    const observation = state.observation;
    // Missing after a gap in the watch: whoever held it is unknown, so we create it and lead one
    // lease duration after the answer (1c), holding it meanwhile, rather than wait first.
    const unknownHolder = observation?.deletedHolder === UNKNOWN_HOLDER;
    if (
      observation?.deletedHolder &&
      !unknownHolder &&
      !deletedRecordWasOurs(state, observation) &&
      observation.deletedHolderValidUntil !== undefined &&
      now < observation.deletedHolderValidUntil
    ) {
      return {
        action: 'wait',
        why: 'deleted-holder-may-lead',
        until: observation.deletedHolderValidUntil,
      };
    }
    // 1c. Create it, keeping terms increasing across a deletion we saw. A process that never saw
    // the Lease, or lost track of it, cannot know whether it was deleted under a cut-off leader: it
    // leads only one lease duration after the answer, when any such leader has passed its renew
    // deadline.
    const previous = observation?.lastTransitions;
    const transitions = previous === undefined || previous === null ? 0 : nextTerm(previous);
    const create = {
      action: 'create',
      why: 'create-missing',
      spec: spec(wallNow, transitions),
    } as const;
    if (observation?.seenExisting && !unknownHolder) return create;
    // An unknown holder may have advertised a longer duration than ours: wait for that too.
    const unknownUntil = unknownHolder ? (observation?.deletedHolderValidUntil ?? now) - now : 0;
    return { ...create, leadsAfter: Math.max(state.leaseDuration, unknownUntil) };
  }

  // 2. The record names us.
  const holder = record.holderIdentity ?? '';
  const ourWrite =
    record.renewTime === null ? undefined : state.sentWrites.get(record.renewTime.getTime());
  const foreign = holder === identity && !ourWrite;
  if (holder === identity && !foreign) {
    if (!leadership && !state.campaigning) return { action: 'wait', why: 'not-campaigning' };
    // While leading, our own term and acquireTime: an edit of leaseTransitions never moves
    // fencing backwards.
    const acquireTime =
      (leadership ? leadership.record.acquireTime : record.acquireTime) ?? wallNow;
    const transitions = leadership ? leadership.term : (record.leaseTransitions ?? 0);
    const update = {
      action: 'update',
      basedOn: record,
      spec: spec(acquireTime, transitions),
    } as const;
    if (leadership) return { ...update, why: 'renew' };
    // Our write whose term had to wait (a create, a possible re-creation, or still activating): the
    // wait starts again from this answer.
    return ourWrite?.needsActivation
      ? { ...update, why: 'reclaim-own', leadsAfter: state.leaseDuration }
      : { ...update, why: 'reclaim-own' };
  }

  // 3. Someone else holds it, or nobody, or someone else writes under our identity (another
  // replica configured with it, or a previous run of ours): if we led, we lost it.
  const stepDown = !leadership
    ? undefined
    : foreign
      ? `another process writes the lease as "${identity}"`
      : `the lease is now held by "${holder ? printable(holder) : '(nobody)'}"`;
  const lost = stepDown === undefined ? {} : { stepDown };
  if (!state.campaigning) return { action: 'wait', why: 'not-campaigning', ...lost };

  // 4. A holder's lease runs until our clock says it expired.
  if (!isFree(record)) {
    const expiresAt = expiryOf(state.observation, record, now, state.leaseDuration);
    const why = foreign ? 'identity-in-use' : 'held-by-other';
    if (now < expiresAt) return { action: 'wait', why, until: expiresAt, ...lost };
  }
  // 4b. Free or expired, but the Lease was deleted while held before this record appeared: its
  // holder may still lead (the record's own writer, e.g. a creator stopped before it led, or a
  // manifest re-applied, knows nothing of it).
  const deletedUntil = state.observation?.deletedHolderValidUntil;
  if (deletedUntil !== undefined && now < deletedUntil) {
    return { action: 'wait', why: 'deleted-holder-may-lead', until: deletedUntil, ...lost };
  }

  // 5. Free or expired: acquire, a new term.
  return {
    action: 'update',
    why: isFree(record) ? 'acquire-free' : 'acquire-expired',
    basedOn: record,
    spec: spec(wallNow, nextTerm(record.leaseTransitions ?? 0)),
    ...lost,
  };
}

/**
 * Whether the deleted record was written by this process: it names our identity AND carries a
 * `renewTime` we sent, and no other process was ever seen writing under our identity. Only then do
 * we know that its holder (we) does not lead, and may create the Lease again at once.
 */
function deletedRecordWasOurs(state: DecisionState, observation: Observation): boolean {
  const renewTime = observation.deletedHolderRenewTime;
  return (
    observation.deletedHolder === state.identity &&
    renewTime !== undefined &&
    state.sentWrites.get(renewTime) !== undefined &&
    !state.duplicateSeen
  );
}

/** `leaseTransitions` is an int32 on the API server: past its largest value the term wraps to 0. */
const MAX_TERM = 2_147_483_647;

/** The term after `term`: one more, or 0 at the int32 ceiling (a higher value is refused). */
export function nextTerm(term: number): number {
  return term >= MAX_TERM ? 0 : term + 1;
}
