/**
 * Unit-testing helpers for apps that use nestjs-kube-leader: an election on an in-memory Lease that
 * the test makes lead or lose.
 */
export {
  LeaderElectionTestingModule,
  type LeaderElectionTestingOptions,
} from './leader-election-testing.module.js';
export { LeaderElectionTestingService } from './leader-election-testing.service.js';
export {
  InvalidArgumentError,
  SetupError,
  TestingTimeoutError,
} from '../leader-election.errors.js';
export { FakeClock } from '../core/fake-clock.js';
export { InMemoryLeaseLock, InMemoryLeaseStore, type LockCall } from '../core/memory-lock.js';
