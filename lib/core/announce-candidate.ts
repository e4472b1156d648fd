import type { ElectionLoop } from './election-loop.js';
import {
  ANNOUNCE_FAILED,
  ANNOUNCED,
  ANNOUNCED_STANDBY,
  WITHDRAW_FAILED,
  WITHDRAWN,
} from './elector.messages.js';
import { LockConflictError } from './errors.js';
import { expiryOf } from './lease-observation.js';
import type { LeaseRecord, LeaseSpec } from './lease-record.js';

/**
 * A follower announces itself as a successor on `record` (just observed) when `RolloutCandidates`
 * says it should: one write conditioned on the record's resourceVersion that adds it to the
 * candidates and keeps the election state. Only while the holder's lease runs: an announcement
 * never competes with a takeover. A conflict (the holder renewed meanwhile, or another follower
 * announced) reads the Lease again and tries again, a few times per term at most.
 *
 * A follower that may become the term's standby draws its time once per term (uniform in one
 * `retryPeriod`, the `standby` timer); `standbyDue` is set when that time came.
 */
export function announceCandidate(
  loop: ElectionLoop,
  record: LeaseRecord,
  standbyDue = false,
): void {
  if (!loop.rollout.enabled || loop.phase !== 'running' || loop.releasing) return;
  if (loop.leadership !== null) return;
  const now = loop.clock.now();
  if (expiryOf(loop.observation, record, now, loop.context.leaseDuration) <= now) return;
  const arrivedInTerm = loop.succession.arrivedInTerm();
  const announcement = loop.rollout.announcement(record, { arrivedInTerm, standbyDue });
  if (!announcement) return drawStandbyTime(loop, record);
  const { spec, kind } = announcement;
  const { identity, name, logger } = loop;
  const ended = () => {
    loop.rollout.announced();
    loop.notifySettled();
  };
  updateOn(loop, record, spec).then(
    (written) => {
      const revision = spec.candidates!.at(-1)!.revision;
      logger?.log(
        kind === 'rollout'
          ? ANNOUNCED(identity, name, revision, spec.holderIdentity)
          : ANNOUNCED_STANDBY(identity, name, revision, spec.holderIdentity),
      );
      ended();
      loop.observeAnswer(written);
    },
    (error: unknown) => {
      if (!(error instanceof LockConflictError)) {
        logger?.debug?.(ANNOUNCE_FAILED(identity, name, error));
        return ended();
      }
      // Another write came first: read again, which announces again if still due (a few tries
      // per term); a standby whose time came stays due until the term has a candidate.
      loop.rollout.announced();
      const term = loop.rollout.standbyTerm(record);
      void loop
        .read()
        .then((current) => {
          // Still the same term without a candidate: its standby time came already. A new
          // term draws its own (the read observed it).
          if (kind !== 'standby' || !current) return;
          if (loop.rollout.standbyTerm(current) === term) announceCandidate(loop, current, true);
        })
        .catch(() => undefined)
        .finally(() => loop.notifySettled());
    },
  );
}

/**
 * A stopping follower takes itself off the candidates (one conditional write, no retry), so that a
 * release does not name a replica that is gone; the others then draw a new standby. Resolves when
 * the write ended; never rejects (a release naming a gone replica costs the others 100 ms).
 */
export async function withdrawCandidate(loop: ElectionLoop): Promise<void> {
  const record = loop.observation?.record;
  if (!record || loop.leadership !== null || loop.rollout.announcing) return;
  const spec = loop.rollout.withdrawal(record);
  if (!spec) return;
  await updateOn(loop, record, spec).then(
    () => loop.logger?.debug?.(WITHDRAWN(loop.identity, loop.name)),
    (error: unknown) => loop.logger?.debug?.(WITHDRAW_FAILED(loop.identity, loop.name, error)),
  );
}

/** One update of the Lease conditioned on `record`'s resourceVersion. */
function updateOn(loop: ElectionLoop, record: LeaseRecord, spec: LeaseSpec): Promise<LeaseRecord> {
  return loop.requests.run('update', (signal) =>
    loop.lock.update(spec, record.resourceVersion, { signal }),
  );
}

/** Sets the `standby` timer for `record`'s term when a draw is due (`RolloutCandidates.standbyDraw`). */
function drawStandbyTime(loop: ElectionLoop, record: LeaseRecord): void {
  const term = loop.rollout.standbyDraw(record);
  if (term === undefined) return;
  loop.timers.clear('standby');
  loop.timers.set('standby', loop.random() * loop.context.retryPeriod, () => {
    const current = loop.observation?.record;
    // Another term by now: this draws for it instead.
    if (current) announceCandidate(loop, current, loop.rollout.standbyTerm(current) === term);
  });
}
