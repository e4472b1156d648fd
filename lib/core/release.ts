import type { Clock } from './clock.js';
import type { ElectorLogger } from './elector-options.js';
import {
  NOTHING_TO_RELEASE,
  RELEASE_CONFLICTS,
  RELEASE_FAILED,
  RELEASED,
  RELEASED_TO_CANDIDATE,
} from './elector.messages.js';
import { LockConflictError } from './errors.js';
import type { FireLedger } from './fires/fire-ledger.js';
import type { Candidate, LeaseRecord, LeaseSpec } from './lease-record.js';
import type { LeaseLock } from './lock.js';
import type { LockRequests } from './lock-requests.js';

/** Tries at most: a conflict reads the Lease again. */
const RELEASE_TRIES = 3;

/** What {@link releaseLease} needs from its elector. */
export interface ReleaseContext {
  readonly lock: LeaseLock;
  readonly identity: string;
  readonly clock: Clock;
  readonly logger: ElectorLogger | undefined;
  readonly requests: LockRequests;
  /** Whether a record naming our identity carries a write of ours (not a duplicate replica's). */
  readonly isOurs: (record: LeaseRecord) => boolean;
  /** The ledger of `once` jobs' fires that a write based on `record` carries on (see `FireClaims`). */
  readonly ledgerFor?: (record: LeaseRecord, spec: LeaseSpec) => FireLedger | undefined;
  /** Our revision, written with the release (see `RolloutCandidates`); undefined: none. */
  readonly revision?: string;
  /** The successor a release based on `record` names when none is given (see `RolloutCandidates`). */
  readonly successorOf?: (record: LeaseRecord) => Candidate | undefined;
}

/**
 * Hands the Lease back: holder "", duration 1 s, transitions kept; only if the record still names
 * us; `successor`, if given, is named as the preferred next holder. The first try is based on `lastWrite` (our last write, when we hold the Lease: no read
 * first); a conflict reads again, three tries at most. Resolves the written record, or undefined
 * when nothing was released; never rejects: an unreleased Lease expires instead.
 */
export async function releaseLease(
  context: ReleaseContext,
  lastWrite?: LeaseRecord,
  successor?: string,
): Promise<LeaseRecord | undefined> {
  const { lock, identity, clock, logger, requests, isOurs } = context;
  // Named as the start-up and "became leader" lines name it: `lease <namespace>/<name>`.
  const name = lock.description;
  for (let attempt = 1; attempt <= RELEASE_TRIES; attempt++) {
    try {
      const record =
        attempt === 1 && lastWrite
          ? lastWrite
          : await requests.run('get', (signal) => lock.get({ signal }));
      if (!record || record.holderIdentity !== identity || !isOurs(record)) {
        logger?.debug?.(NOTHING_TO_RELEASE(name, identity));
        return undefined;
      }
      const now = clock.wallNow();
      const candidate = successor ? undefined : context.successorOf?.(record);
      const named = successor ?? candidate?.identity;
      const release: LeaseSpec = {
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: record.leaseTransitions ?? 0,
        ...(named ? { preferredHolder: named } : {}),
        ...(context.revision ? { revision: context.revision } : {}),
      };
      const fires = context.ledgerFor?.(record, release);
      const spec = fires ? { ...release, fires } : release;
      const written = await requests.run('update', (signal) =>
        lock.update(spec, record.resourceVersion, { signal }),
      );
      logger?.log(
        candidate
          ? RELEASED_TO_CANDIDATE(identity, name, candidate.identity, candidate.revision)
          : RELEASED(identity, name),
      );
      return written;
    } catch (error) {
      if (error instanceof LockConflictError) continue;
      logger?.warn(RELEASE_FAILED(name, error));
      return undefined;
    }
  }
  logger?.warn(RELEASE_CONFLICTS(name, RELEASE_TRIES));
  return undefined;
}
