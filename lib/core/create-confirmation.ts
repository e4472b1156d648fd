import type { LockWatchEvent } from './lock.js';

/** What the watch says of a create made after it showed the Lease deleted. */
export type CreateVerdict = 'confirmed' | 'refuted' | 'unknown';

/**
 * Whether nobody held the Lease between the deletion a follower acted on and its create.
 *
 * Kubernetes has no precondition on create, and a read that answers 404 proves only that the Lease
 * is missing now: the create may land on a later absence, after someone else created the Lease, led
 * and lost it again, and that leader may still believe it leads (a late burst of watch events, an
 * ABA). A watch delivers every change of one key, in order: when the first event after the DELETED
 * the create acted on is the create's own ADDED, in the same watch session, nobody held the Lease in
 * between and the creator may lead at once. Any other event first, or a new watch session (a gap, a
 * 410), and it waits one lease duration from the answer, like any creator that does not know who
 * held the Lease last.
 */
export class CreateConfirmation {
  private pending:
    { readonly session: number; first?: { type: string; resourceVersion: string } } | undefined;
  /** The last event of the current watch session, if any. */
  private last: { session: number; type: string; resourceVersion: string } | undefined;

  /** Records an event of watch session `session`. */
  seen(event: LockWatchEvent, session: number): void {
    if (event.type === 'BOOKMARK') return;
    const seen = { type: event.type, resourceVersion: event.record.resourceVersion };
    this.last = { session, ...seen };
    const pending = this.pending;
    if (pending && pending.first === undefined) {
      pending.first = pending.session === session ? seen : { type: 'GAP', resourceVersion: '' };
    }
  }

  /**
   * A create is about to be sent on an observation of a missing Lease: the watch (live, in session
   * `session`) can confirm it only if its last event is the deletion.
   */
  begin(session: number): void {
    const last = this.last;
    this.pending =
      last && last.session === session && last.type === 'DELETED' ? { session } : undefined;
  }

  /** The verdict on the create that wrote `resourceVersion`, as far as the watch has shown. */
  verdict(resourceVersion: string, session: number): CreateVerdict {
    const pending = this.pending;
    if (!pending) return 'refuted';
    if (pending.session !== session) return 'refuted';
    if (pending.first === undefined) return 'unknown';
    return pending.first.type === 'ADDED' && pending.first.resourceVersion === resourceVersion
      ? 'confirmed'
      : 'refuted';
  }

  /** Forgets the pending create. */
  clear(): void {
    this.pending = undefined;
  }
}
