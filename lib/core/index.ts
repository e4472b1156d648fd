/**
 * The election engine: no Nest, no Kubernetes client. Use it directly with any {@link LeaseLock}
 * (for example `KubernetesLeaseLock` from `nestjs-kube-leader/kubernetes`).
 */
export { type Clock, type TimerHandle, SystemClock, systemClock } from './clock.js';
export {
  LeaderElectionError,
  InvalidOptionError,
  LockError,
  LockConflictError,
  LockNotFoundError,
  LockGoneError,
  LockForbiddenError,
  LockRejectedError,
  LockUnavailableError,
  LeadershipLostError,
  ElectorStoppedError,
  SpreadElectionError,
} from './errors.js';
export { FencingToken } from './fencing-token.js';
export type { LeaderAddress, LeaseRecord, LeaseSpec, MemberEntry } from './lease-record.js';
export type {
  LeaseLock,
  LockCallOptions,
  LockOperation,
  LockWatch,
  LockWatchEvent,
  LockWatchHandlers,
} from './lock.js';
export {
  type ElectionTimings,
  DEFAULT_TIMINGS,
  MAX_HONORED_LEASE_DURATION_SECONDS,
} from './timing.js';
export {
  type ElectionMetrics,
  type LeaderWorkOutcome,
  type LockErrorKind,
  type ReleaseSkipReason,
} from './metrics.js';
export { LeaderElector } from './leader-elector.js';
export type { ElectionEngine, ElectionEngineStatus, MembershipStatus } from './election-engine.js';
export type { ElectorLogger, LeaderElectorOptions } from './elector-options.js';
export type {
  ElectorPhase,
  ElectorStatus,
  LeaderChangeEvent,
  LeaderChangeReason,
  LeaderWork,
} from './elector-status.js';
/** The share a job of an election spread over `shares` runs on (stable across replicas). */
export { shareOf } from './spread/shares.js';
