import { isNewerVersion } from './fencing-token.js';
import { termFieldsEdited } from './leadership.js';
import { isFree, type LeaseRecord } from './lease-record.js';
import type { LockWatchEvent } from './lock.js';

/** What the elector is, as far as a watch event matters. */
export interface WatchView {
  readonly identity: string;
  /** Whether it campaigns (running, not stopping). */
  readonly campaigning: boolean;
  /** The record of the term it holds (leading or activating), if any. */
  readonly held: LeaseRecord | undefined;
  /** Whether an attempt (read, decide, write) is in flight. */
  readonly attemptRunning: boolean;
  /** Whether a record naming our identity was written by another process (see `IdentityGuard`). */
  readonly isForeign: (record: LeaseRecord) => boolean;
}

/**
 * What the elector does about one watch event. Every reaction but `ignore` and `own-*` first
 * observes the record (a `deleted` one only while no term is held: the object's final state).
 *
 * | reaction | when | then |
 * | --- | --- | --- |
 * | ignore | a bookmark | nothing |
 * | deleted | the Lease was deleted | record the absence; decide once the burst it came in was seen |
 * | identity-in-use | we hold a term and a newer record under our identity was not written by us | step down, report, campaign again |
 * | own-echo | we hold a term and the record is ours with our term's fields | nothing (an echo of our write) |
 * | own-edited | we hold a term and someone edited our record's term fields | cap the term, renew at once |
 * | check-hold | we hold a term and the record names someone else | renew at once: the answer tells whether we lost it |
 * | stay | not campaigning, or the echo of the write our running attempt makes | nothing more |
 * | attempt | the record names us, or it is free while an attempt runs | an attempt now (or right after the running one) |
 * | takeover-now | the Lease is free | a takeover after our takeover delay |
 * | takeover-at-expiry | another process holds it | a takeover at its expiry |
 */
export type WatchReaction =
  | { readonly kind: 'ignore' }
  | { readonly kind: 'deleted'; readonly observeFinalState: boolean }
  | { readonly kind: 'identity-in-use' }
  | { readonly kind: 'own-echo' }
  | { readonly kind: 'own-edited' }
  | { readonly kind: 'check-hold' }
  | { readonly kind: 'stay' }
  | { readonly kind: 'attempt' }
  | { readonly kind: 'takeover-now' }
  | { readonly kind: 'takeover-at-expiry' };

/** The elector's reaction to a watch event: a pure function of the event and the elector's view. */
export function reactToWatchEvent(event: LockWatchEvent, view: WatchView): WatchReaction {
  if (event.type === 'BOOKMARK') return { kind: 'ignore' };
  if (event.type === 'DELETED') return { kind: 'deleted', observeFinalState: !view.held };
  const record = event.record;
  const holder = record.holderIdentity ?? '';
  const held = view.held;
  if (held && view.isForeign(record) && isNewerVersion(record, held)) {
    return { kind: 'identity-in-use' };
  }
  if (held && holder === view.identity) {
    // Usually an echo of one of our writes (only renewTime differs). Anything else means someone
    // edited our record, e.g. shortened leaseDurationSeconds.
    const edited =
      termFieldsEdited(held, record) ||
      record.acquireTime?.getTime() !== held.acquireTime?.getTime();
    return { kind: edited ? 'own-edited' : 'own-echo' };
  }
  // Possibly taken over, or an event older than our last write (watch events and write responses
  // race): renewing with our resourceVersion tells which.
  if (held) return { kind: 'check-hold' };
  if (!view.campaigning) return { kind: 'stay' };
  // Our own name while an attempt runs: most likely the echo of its write; its result decides.
  if (holder === view.identity && view.attemptRunning) return { kind: 'stay' };
  if (holder === view.identity || (isFree(record) && view.attemptRunning))
    return { kind: 'attempt' };
  return { kind: isFree(record) ? 'takeover-now' : 'takeover-at-expiry' };
}
