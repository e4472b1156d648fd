/**
 * What a Nest app writes: the module, the service, the decorators, and the types and errors their
 * examples need. The engine (`LeaderElector`, locks, the lock errors, timing defaults) is in
 * `nestjs-kube-leader/core`; the Kubernetes lock in `./kubernetes`; test doubles in `./testing`.
 */
export { LeaderElectionModule } from './leader-election.module.js';
export { LeaderService } from './leader.service.js';
export { LeaderOnly, type LeaderOnlyOptions } from './decorators/leader-only.decorator.js';
export type { ForwardingOptions } from './forwarding/forwarding-options.js';
export { OnLeaderChange } from './decorators/on-leader-change.decorator.js';
export { LeaderOnlyInterceptor } from './leader-only.interceptor.js';
export { NotLeaderException } from './not-leader.exception.js';
export {
  DuplicateElectionError,
  InvalidArgumentError,
  LeaseNameTakenError,
  SetupError,
  UnknownElectionError,
} from './leader-election.errors.js';
export type {
  LeaderElectionModuleOptions,
  LeaderElectionOptionsFactory,
  LeaderServiceOptions,
} from './interfaces/leader-election-options.interface.js';
export { DEFAULT_ELECTION, LEADER_HEADER } from './leader-election.constants.js';
export type { CatchUpPolicy } from './core/fires/catch-up-plan.js';
export type { FireOutcome, FireResult, FireRun } from './core/fires/once-job.js';
export {
  FencingToken,
  InvalidOptionError,
  LeaderElectionError,
  LeadershipLostError,
  ElectorStoppedError,
  SpreadElectionError,
  type LeaderChangeEvent,
  type LeaderChangeReason,
  type ElectorStatus,
} from './core/index.js';
