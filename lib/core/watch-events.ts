import type { ElectionLoop } from './election-loop.js';
import * as messages from './elector.messages.js';
import { expiryOf } from './lease-observation.js';
import type { LockWatchEvent } from './lock.js';
import { isAnnouncement } from './rollout-candidates.js';
import { reactToWatchEvent } from './watch-reaction.js';

/** Applies one watch event to the elector's loop: see `reactToWatchEvent` for what each means. */
export function onWatchEvent(loop: ElectionLoop, event: LockWatchEvent): void {
  if (event.type === 'BOOKMARK') return;
  loop.confirmation.seen(event, loop.watch.session);
  activateIfConfirmed(loop);
  const reaction = reactToWatchEvent(event, {
    identity: loop.identity,
    campaigning: loop.phase === 'running',
    held: loop.leadership?.record,
    attemptRunning: loop.runningAttempt !== null,
    isForeign: (record) => loop.identityGuard.isForeign(record),
  });
  const record = event.record;
  switch (reaction.kind) {
    case 'ignore':
      return;
    case 'own-echo':
      // A follower announced itself on our record: our next write (a renew, the release) is
      // based on it, so it carries the candidates on instead of conflicting.
      if (loop.leadership && isAnnouncement(loop.leadership.record, record)) {
        loop.leadership.record = record;
        loop.observe(record);
      }
      return;
    case 'deleted':
      // The object's final state first: a change we had not seen yet restarts the countdown.
      if (reaction.observeFinalState) loop.observe(record);
      loop.observeLeaseMissing('watch');
      // Decide once the events already delivered with this one were seen: a late burst may hold
      // a re-creation and a second deletion after it, and we act on the newest state.
      queueMicrotask(() => loop.requestAttempt());
      return;
    case 'identity-in-use':
      // Another process writes under our identity: stop at once, wait as a follower.
      loop.observe(record);
      loop.identityGuard.report(record);
      loop.loseLeadership(messages.WRITES_UNDER_OUR_IDENTITY(loop.identity));
      loop.requestAttempt();
      return;
    case 'own-edited':
      // A peer that reads an edited leaseDurationSeconds literally may take over that long after
      // the edit: we lead no longer than that after our last write, and renew to restore it.
      loop.onOwnRecordEdited(record);
      return;
  }
  loop.observe(record);
  const now = loop.clock.now();
  if (reaction.kind === 'check-hold' || reaction.kind === 'attempt') {
    loop.requestAttempt();
  } else if (reaction.kind === 'takeover-now') {
    loop.scheduleTakeover(now);
  } else if (reaction.kind === 'takeover-at-expiry') {
    loop.scheduleTakeover(expiryOf(loop.observation, record, now, loop.context.leaseDuration));
    loop.emitIfChanged();
  }
}

/** Leads at once when the watch confirmed the create of an activating term (or says why not). */
function activateIfConfirmed(loop: ElectionLoop): void {
  const awaiting = loop.awaitingConfirmation;
  if (!awaiting) return;
  const term = loop.leadership;
  const now = loop.clock.now();
  if (term !== awaiting.term || term.validFrom <= now) {
    loop.awaitingConfirmation = undefined;
    return;
  }
  const verdict = loop.confirmation.verdict(awaiting.resourceVersion, loop.watch.session);
  if (verdict === 'unknown') return;
  loop.awaitingConfirmation = undefined;
  loop.confirmation.clear();
  if (verdict === 'confirmed') {
    term.validFrom = now;
    loop.announceLeadership();
    return;
  }
  const message = messages.LEADS_LATER(
    loop.identity,
    loop.name,
    term.validFrom - now,
    'unconfirmed',
  );
  loop.logger?.log(message);
}
