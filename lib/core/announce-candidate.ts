import type { ElectionLoop } from './election-loop.js';
import { ANNOUNCE_FAILED, ANNOUNCED } from './elector.messages.js';
import { LockConflictError } from './errors.js';
import { expiryOf } from './lease-observation.js';
import type { LeaseRecord } from './lease-record.js';

/**
 * A follower with a revision other than the holder's announces itself as a successor on `record`
 * (just observed) when `RolloutCandidates` says it should: one write conditioned on the record's
 * resourceVersion that adds it to the candidates and keeps the election state. Only while the
 * holder's lease runs: an announcement never competes with a takeover. A conflict (the holder
 * renewed meanwhile) reads the Lease again and tries again, a few times per term at most.
 */
export function announceCandidate(loop: ElectionLoop, record: LeaseRecord): void {
  if (!loop.rollout.enabled || loop.phase !== 'running' || loop.releasing) return;
  if (loop.leadership !== null) return;
  const now = loop.clock.now();
  if (expiryOf(loop.observation, record, now, loop.context.leaseDuration) <= now) return;
  const spec = loop.rollout.announcement(record, loop.succession.arrivedInTerm());
  if (!spec) return;
  const { identity, name, logger } = loop;
  const ended = () => {
    loop.rollout.announced();
    loop.notifySettled();
  };
  loop.requests
    .run('update', (signal) => loop.lock.update(spec, record.resourceVersion, { signal }))
    .then(
      (written) => {
        logger?.log(
          ANNOUNCED(identity, name, spec.candidates!.at(-1)!.revision, spec.holderIdentity),
        );
        ended();
        loop.observeAnswer(written);
      },
      (error: unknown) => {
        if (!(error instanceof LockConflictError)) {
          logger?.debug?.(ANNOUNCE_FAILED(identity, name, error));
          return ended();
        }
        // The holder wrote meanwhile: read again, which announces again (a few tries per term).
        loop.rollout.announced();
        void loop
          .read()
          .catch(() => undefined)
          .finally(() => loop.notifySettled());
      },
    );
}
