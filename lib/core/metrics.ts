import {
  LockConflictError,
  LockError,
  LockForbiddenError,
  LockGoneError,
  LockNotFoundError,
  LockUnavailableError,
} from './errors.js';
import type { LockOperation } from './lock.js';

export type { LockOperation } from './lock.js';

/**
 * What kind of failure an API error was: `conflict` (409), `not_found` (404), `forbidden`
 * (401/403), `gone` (410), `rejected` (400/422 and other 4xx), `unavailable` (network, 5xx, 429,
 * timeout), `other` (anything that is not a {@link LockError}).
 */
export type LockErrorKind =
  'conflict' | 'not_found' | 'forbidden' | 'gone' | 'rejected' | 'unavailable' | 'other';

/**
 * Why an elector that held the Lease when it stopped did not release it: `disabled`
 * (`releaseOnStop: false`), `work-running` (leader work outlived the grace period),
 * `term-not-started` (its term was still waiting to lead), `not-released` (the release request
 * failed, or the Lease no longer named it).
 */
export type ReleaseSkipReason = 'disabled' | 'work-running' | 'term-not-started' | 'not-released';

/** Whether a `@LeaderOnly` call ran (this instance leads) or was skipped / answered 503. */
export type LeaderWorkOutcome = 'executed' | 'skipped';

/**
 * Hooks through which a {@link LeaderElector} reports what it does, for metrics. Every hook is
 * optional and receives the Lease's name (`LeaderElectorOptions.leaseName`) first. The elector catches whatever
 * a hook throws (logged once): a broken metrics backend never affects the election.
 *
 * The default is no metrics at all. `nestjs-kube-leader/metrics` implements it with prom-client
 * (`PrometheusElectionMetrics`), with client-go's metric names; implement it yourself for another
 * backend.
 *
 * @example
 * ```ts
 * const metrics: ElectionMetrics = {
 *   leaderOn: (leaseName) => statsd.gauge(`leader.${leaseName}`, 1),
 *   leaderOff: (leaseName) => statsd.gauge(`leader.${leaseName}`, 0),
 * };
 * new LeaderElector({ lock, metrics });
 * ```
 */
export interface ElectionMetrics {
  /** The elector started (series can be initialized: this instance does not lead yet). */
  started?(leaseName: string): void;
  /** This instance started leading (client-go's `leaderOn`). */
  leaderOn?(leaseName: string): void;
  /** This instance stopped leading: lost, stepped down or shut down (client-go's `leaderOff`). */
  leaderOff?(leaseName: string): void;
  /**
   * A write based on the cached record (the leader's last write, or the watched record) met a
   * conflict and the record had to be read again (client-go's `slowpathExercised`).
   */
  slowpathExercised?(leaseName: string): void;
  /** A renew (the leader's update of its own record) finished, successfully or not. */
  renewed?(leaseName: string, durationMs: number, succeeded: boolean): void;
  /** A request to the lock failed (a watch that ended with an error counts as `watch`). */
  apiError?(leaseName: string, operation: LockOperation, kind: LockErrorKind): void;
  /** A `@LeaderOnly` call (named `Class.method`) ran on the leader or was skipped on a follower. */
  leaderWork?(leaseName: string, task: string, outcome: LeaderWorkOutcome): void;
  /** The elector stopped holding the Lease without releasing it, and why (the Lease expires). */
  releaseSkipped?(leaseName: string, reason: ReleaseSkipReason): void;
  /**
   * A fire of a `once` job got its outcome (`ran`, `caught-up`, `coalesced`, `missed`,
   * `interrupted`, `already-ran`; see `FireResult`).
   */
  fire?(leaseName: string, job: string, result: string): void;
  /**
   * The Lease's ledger, as this process saw it (followers too), shows a later finished run of a
   * `once` job: `scheduledAt` is that fire's scheduled instant, ms since the epoch. Only fires
   * recorded `done` count (not `claimed`, running or never ended; not `interrupted`, perhaps run
   * partly); called once per job and instant, never with an earlier instant than before.
   */
  jobLastRun?(leaseName: string, job: string, scheduledAt: number): void;
  /**
   * A follower handled a request for a `@LeaderOnly` handler by forwarding it to the leader, with
   * this result (see `ForwardResult` in the Nest layer: `answered`, `retried`, `leading`, `no-leader`,
   * `not-allowed`, `unreachable`, `timeout`, `failed`, `refused`).
   */
  forwardedRequest?(leaseName: string, result: string): void;
}

/** Classifies an error met by a lock request. */
export function lockErrorKind(error: unknown): LockErrorKind {
  if (error instanceof LockConflictError) return 'conflict';
  if (error instanceof LockNotFoundError) return 'not_found';
  if (error instanceof LockForbiddenError) return 'forbidden';
  if (error instanceof LockGoneError) return 'gone';
  if (error instanceof LockUnavailableError) return 'unavailable';
  // Any other lock error (LockRejectedError included) is a refusal.
  if (error instanceof LockError) return 'rejected';
  return 'other';
}

type HookName = keyof ElectionMetrics;

const HOOKS: readonly HookName[] = [
  'started',
  'leaderOn',
  'leaderOff',
  'slowpathExercised',
  'renewed',
  'apiError',
  'leaderWork',
  'releaseSkipped',
  'fire',
  'jobLastRun',
  'forwardedRequest',
];

/**
 * Wraps `metrics` so that every hook exists and none throws: the first failure is reported through
 * `onError`, later ones are ignored. Missing hooks become no-ops.
 */
export function guardMetrics(
  metrics: ElectionMetrics | undefined,
  onError: (hook: string, error: unknown) => void,
): Required<ElectionMetrics> {
  const guarded = {} as Record<HookName, (...args: unknown[]) => void>;
  let reported = false;
  for (const hook of HOOKS) {
    const implementation = metrics?.[hook] as ((...args: unknown[]) => void) | undefined;
    if (typeof implementation !== 'function') {
      guarded[hook] = noop;
      continue;
    }
    guarded[hook] = (...args: unknown[]) => {
      try {
        implementation.apply(metrics, args);
      } catch (error) {
        if (reported) return;
        reported = true;
        onError(hook, error);
      }
    };
  }
  return guarded as unknown as Required<ElectionMetrics>;
}

function noop(): void {}
