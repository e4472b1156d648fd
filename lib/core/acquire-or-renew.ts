import type { ElectionLoop } from './election-loop.js';
import type { LeadsLaterCause } from './elector.messages.js';
import { LockConflictError, LockNotFoundError } from './errors.js';
import { isNewerVersion } from './fencing-token.js';
import { termFieldsEdited } from './leadership.js';
import { expiredHolder, type LeaseRecord } from './lease-record.js';

/**
 * One attempt of the elector's loop:
 * 1. Start from the cached record (our last write, or the watched record), else read.
 * 2. Decide (see `decide`): step down first if the record shows another holder.
 * 3. Wait, or write (create / update based on the record's resourceVersion).
 * 4. On success, take the answer as our term (`onWritten`). On a conflict or not-found, read
 *    again and go back to 2, at most three rounds; then let the watch catch up and retry shortly.
 */
export async function acquireOrRenew(loop: ElectionLoop): Promise<void> {
  let record: LeaseRecord | null | undefined = loop.cachedRecord();
  const fromCache = record !== undefined;
  if (record === undefined) record = await loop.read();

  for (let round = 0; round < 3; round++) {
    if (!loop.canAttempt()) return;
    let decision = loop.decideNow(record);
    if (decision.stepDown !== undefined) {
      loop.loseLeadership(decision.stepDown);
      // Listeners ran: decide again on the state they left.
      decision = loop.decideNow(record);
    }
    if (decision.why === 'identity-in-use') loop.identityGuard.report(record!);
    if (decision.action === 'wait') {
      loop.waitAsFollower(decision.until);
      return;
    }
    const active = decision.why === 'renew' && loop.clock.now() >= loop.leadership!.validFrom;
    // Every write carries the ledger of `once` jobs' fires on; a renew also our claims.
    const renews =
      loop.leadership !== null &&
      decision.spec.holderIdentity === loop.identity &&
      decision.spec.leaseTransitions === loop.leadership.term;
    const basis = decision.action === 'update' ? decision.basedOn : null;
    const fires = loop.fires.forWrite(basis, decision.spec, renews);
    const ours = decision.spec.holderIdentity === loop.identity;
    const rollout = ours ? loop.rollout.forWrite(basis, renews) : {};
    // Our address goes with every write of our terms (never with another holder's record).
    const address = ours ? loop.advertised : undefined;
    const spec = {
      ...decision.spec,
      ...(fires ? { fires } : {}),
      ...rollout,
      ...(address ? { leaderAddress: address } : {}),
    };
    loop.identityGuard.add(spec.renewTime, !active);
    const requestStart = loop.clock.now();
    const wallRequestStart = loop.clock.wallNow().getTime();
    const renewing = loop.leadership !== null;
    // A follower creating a Lease it saw deleted: only its watch can tell whether nobody held
    // the Lease in between (see CreateConfirmation).
    const confirming =
      decision.action === 'create' && !renewing && decision.leadsAfter === undefined;
    if (confirming) loop.confirmation.begin(loop.watch.isLive ? loop.watch.session : -1);
    try {
      const written =
        decision.action === 'create'
          ? await loop.requests.run('create', (signal) => loop.lock.create(spec, { signal }))
          : await loop.requests.run('update', (signal) =>
              loop.lock.update(spec, decision.basedOn.resourceVersion, { signal }),
            );
      if (renewing) loop.metrics.renewed(loop.name, loop.clock.now() - requestStart, true);
      const recreated =
        decision.action === 'update' &&
        !!decision.basedOn.uid &&
        !!written.uid &&
        written.uid !== decision.basedOn.uid;
      let leadsAfter = recreated ? loop.context.leaseDuration : decision.leadsAfter;
      let cause: LeadsLaterCause = recreated
        ? 'recreated'
        : loop.observation?.seenExisting
          ? 'unconfirmed'
          : 'never-seen';
      if (confirming) {
        const verdict = loop.confirmation.verdict(written.resourceVersion, loop.watch.session);
        if (verdict !== 'confirmed') leadsAfter = loop.context.leaseDuration;
        cause = verdict === 'unknown' ? 'awaiting-watch' : 'unconfirmed';
        if (verdict !== 'unknown') loop.confirmation.clear();
      }
      loop.tookOverExpired = decision.why === 'acquire-expired' ? expiredHolder(record) : undefined;
      loop.onWritten(written, requestStart, wallRequestStart, leadsAfter, cause);
      loop.fires.written(written.fires);
      if (cause === 'awaiting-watch' && loop.leadership?.record === written) {
        loop.awaitingConfirmation = {
          term: loop.leadership,
          resourceVersion: written.resourceVersion,
        };
      }
      const waiting = loop.leadership !== null && loop.leadership.validFrom > loop.clock.now();
      loop.identityGuard.answered(decision.spec.renewTime, waiting);
      return;
    } catch (error) {
      if (confirming) loop.confirmation.clear();
      if (renewing) loop.metrics.renewed(loop.name, loop.clock.now() - requestStart, false);
      if (!(error instanceof LockConflictError || error instanceof LockNotFoundError)) throw error;
      // Someone else wrote (or deleted) the Lease: look again before deciding.
      if (round === 0 && fromCache) loop.metrics.slowpathExercised(loop.name);
      const lost = !renewing && error instanceof LockConflictError && loop.watch.isLive;
      if (lost && decision.action === 'update') {
        // Most likely another follower took it: its record comes through the watch (which
        // re-schedules us), so no read. The retry (a read) covers a watch that brings nothing.
        const seen = loop.observation?.record;
        if (!seen || !isNewerVersion(seen, decision.basedOn)) {
          loop.conflictedOn = decision.basedOn.resourceVersion;
          return loop.scheduleAttempt(loop.clock.now() + loop.retryDelay());
        }
        record = seen;
        continue;
      }
      record = await loop.read();
      const ours = loop.leadership?.record;
      if (ours && record?.holderIdentity === loop.identity && termFieldsEdited(ours, record)) {
        loop.onOwnRecordEdited(record);
      }
    }
  }
  // Three conflicts in a row: let the watch catch up and try again shortly.
  loop.scheduleAttempt(loop.clock.now() + loop.retryDelay());
}
