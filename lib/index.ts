export { LeaderElectionModule, LeaderElectionCoreModule } from './leader-election.module.js';
export { LeaderService } from './leader.service.js';
export { LeaderOnly, type LeaderOnlyOptions } from './decorators/leader-only.decorator.js';
export { OnLeaderChange } from './decorators/on-leader-change.decorator.js';
export { LeaderOnlyInterceptor } from './leader-only.interceptor.js';
export { NotLeaderException } from './not-leader.exception.js';
export { LeaderElectionRegistry } from './leader-election.registry.js';
export {
  DuplicateElectionError,
  InvalidArgumentError,
  LeaseNameTakenError,
  SetupError,
  UnknownElectionError,
} from './leader-election.errors.js';
export { Election } from './election.js';
export type {
  LeaderElectionModuleOptions,
  LeaderElectionOptionsFactory,
} from './interfaces/leader-election-options.interface.js';
export { DEFAULT_ELECTION, LEADER_HEADER } from './leader-election.constants.js';
export {
  LeaderElector,
  DEFAULT_TIMINGS,
  FencingToken,
  InvalidOptionError,
  LeaderElectionError,
  LeadershipLostError,
  ElectorStoppedError,
  LockError,
  LockForbiddenError,
  LockConflictError,
  LockNotFoundError,
  LockUnavailableError,
  LockRejectedError,
  LockGoneError,
  type LeaderChangeEvent,
  type LeaderChangeReason,
  type LeaderElectorOptions,
  type ElectionMetrics,
  type ElectorStatus,
  type LeaderWorkOutcome,
  type LockErrorKind,
  type LockOperation,
  type LeaseLock,
  type LeaseRecord,
  type LeaseSpec,
  type Clock,
} from './core/index.js';
// Raised by the Kubernetes lock only; kept beside the other LockErrors of the hierarchy.
export { LockAnnotationTooLargeError } from './core/errors.js';
