/**
 * The election engine: no Nest, no Kubernetes client. Use it directly with any {@link LeaseLock}
 * (for example `KubernetesLeaseLock` from `nestjs-kube-leader/kubernetes`).
 */
export { type Clock, type TimerHandle, SystemClock, systemClock } from './clock.js';
export { FakeClock } from './fake-clock.js';
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
} from './errors.js';
export { FencingToken } from './fencing-token.js';
export type { LeaseRecord, LeaseSpec } from './lease-record.js';
export type {
  LeaseLock,
  LockCallOptions,
  LockOperation,
  LockWatch,
  LockWatchEvent,
  LockWatchHandlers,
} from './lock.js';
export { InMemoryLeaseLock, InMemoryLeaseStore, type LockCall } from './memory-lock.js';
export { type ElectionTimings, DEFAULT_TIMINGS } from './timing.js';
export { type ElectionMetrics, type LeaderWorkOutcome, type LockErrorKind } from './metrics.js';
export {
  LeaderElector,
  MAX_HONORED_LEASE_DURATION_SECONDS,
  type ElectorLogger,
  type ElectorPhase,
  type ElectorStatus,
  type LeaderChangeEvent,
  type LeaderChangeReason,
  type LeaderElectorOptions,
  type LeaderWork,
} from './leader-elector.js';
