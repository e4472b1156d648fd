import { InMemoryLeaseLock, type InMemoryLeaseStore } from '../core/memory-lock.js';

/** The lock `LeaderElectionTestingModule` gives an election: in memory, with the test's settings. */
export class TestingLeaseLock extends InMemoryLeaseLock {
  constructor(
    store: InMemoryLeaseStore,
    identity: string,
    leaseName: string,
    /** Who leads when a test says this instance lost leadership. */
    readonly otherLeader: string,
  ) {
    super(store, identity, leaseName);
  }
}
