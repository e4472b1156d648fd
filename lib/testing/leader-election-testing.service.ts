import { Injectable } from '@nestjs/common';
import { ElectorStoppedError, type LeaderElector } from '../core/index.js';
import { type InMemoryLeaseStore } from '../core/memory-lock.js';
import {
  InvalidArgumentError,
  SetupError,
  TestingTimeoutError,
} from '../leader-election.errors.js';
import {
  NON_EMPTY_STRING,
  NOT_A_TESTING_ELECTION,
  SET_LEADER_NEEDS_IDENTITY,
  TESTING_CHANGE_TIMED_OUT,
  TESTING_ELECTION_NOT_STARTED,
  TESTING_ELECTION_STOPPED,
} from '../leader-election.messages.js';
import { LeaderElectionRegistry } from '../leader-election.registry.js';
import { TestingLeaseLock } from './testing-lease-lock.js';

/** Lease duration the testing module writes for another holder: nobody takes it over during a test. */
export const TESTING_OTHER_HOLDER_SECONDS = 3600;

/** How long a change may take before the service gives up (real milliseconds). */
const CHANGE_TIMEOUT = 5_000;

/**
 * Drives the elections registered by `LeaderElectionTestingModule.forRoot()`: makes this instance
 * lead, makes another instance lead, and resolves once the change is applied (the leadership signal
 * aborted or renewed, `@OnLeaderChange()` handlers called, `@LeaderOnly()` admitting or skipping).
 * Every method takes the election name; without one it addresses the unnamed election.
 *
 * The changes go through the real election engine on an in-memory Lease, as they would on the API
 * server: a lost leadership aborts `leadershipSignal()`, emits a change, and makes `@LeaderOnly()`
 * skip from then on.
 *
 * @example
 * ```ts
 * const leadership = moduleRef.get(LeaderElectionTestingService);
 * await leadership.loseLeadership();
 * expect(await jobs.reconcile()).toBeUndefined(); // skipped on a follower
 * await leadership.becomeLeader();
 * ```
 */
@Injectable()
export class LeaderElectionTestingService {
  constructor(private readonly registry: LeaderElectionRegistry) {}

  /** Makes this instance the leader of `election`; resolves when it leads. */
  async becomeLeader(election?: string): Promise<void> {
    const { elector, lock } = this.resolve(election);
    await this.settled(elector);
    if (elector.isLeader()) return;
    const current = lock.store.current();
    const now = new Date();
    // Released by its holder: the elector sees it on its watch and acquires it at once.
    lock.store.adminWrite({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: current?.leaseTransitions ?? 0,
    });
    await until(elector, () => elector.isLeader(), `${elector.identity} to lead`);
  }

  /**
   * Makes another instance (`otherLeader` of `forRoot()`, default `other-instance`) the leader of
   * `election`; resolves when this instance follows it.
   */
  async loseLeadership(election?: string): Promise<void> {
    const { lock } = this.resolve(election);
    await this.setLeader(lock.otherLeader, election);
  }

  /**
   * Makes `identity` the leader of `election` (this instance when it is this instance's identity);
   * resolves when this instance sees it. Another holder keeps the lease for the rest of the test.
   */
  async setLeader(identity: string, election?: string): Promise<void> {
    if (typeof identity !== 'string' || identity.length === 0) {
      throw new InvalidArgumentError(
        'identity',
        NON_EMPTY_STRING,
        identity,
        SET_LEADER_NEEDS_IDENTITY,
      );
    }
    const { elector, lock } = this.resolve(election);
    if (identity === elector.identity) return this.becomeLeader(election);
    await this.settled(elector);
    if (!elector.isLeader() && elector.getLeader() === identity) return;
    const current = lock.store.current();
    const now = new Date();
    lock.store.adminWrite({
      holderIdentity: identity,
      leaseDurationSeconds: TESTING_OTHER_HOLDER_SECONDS,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: (current?.leaseTransitions ?? 0) + 1,
    });
    await until(
      elector,
      () => !elector.isLeader() && elector.getLeader() === identity,
      `${elector.identity} to follow ${identity}`,
    );
  }

  /**
   * The in-memory Lease of `election`, for fault injection: `failNext()`, `setUnavailable()`, `hold()`,
   * `calls`, `current()` (see `InMemoryLeaseStore`).
   */
  store(election?: string): InMemoryLeaseStore {
    return this.resolve(election, false).lock.store;
  }

  /** Resolves once the election has its first state (it started and saw the Lease). */
  private async settled(elector: LeaderElector): Promise<void> {
    await until(elector, () => elector.currentState !== undefined, 'the election to start');
  }

  private resolve(
    name: string | undefined,
    mustRun = true,
  ): { elector: LeaderElector; lock: TestingLeaseLock } {
    const election = this.registry.get(name);
    const { elector } = election;
    const lock = elector.lock;
    if (!(lock instanceof TestingLeaseLock)) {
      throw new SetupError(NOT_A_TESTING_ELECTION(election.name));
    }
    if (mustRun && elector.status().phase === 'idle') {
      throw new SetupError(TESTING_ELECTION_NOT_STARTED(election.name));
    }
    if (mustRun && elector.status().phase !== 'running') {
      throw new ElectorStoppedError(TESTING_ELECTION_STOPPED(election.name));
    }
    return { elector, lock };
  }
}

/** Resolves when `done()` holds, checked now and after every change event of `elector`. */
export function until(elector: LeaderElector, done: () => boolean, what: string): Promise<void> {
  if (done()) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const finish = (error?: Error) => {
      unsubscribe();
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    const unsubscribe = elector.onChange(() => {
      if (done()) finish();
    });
    const timer = setTimeout(() => {
      const state = elector.currentState;
      finish(
        new TestingTimeoutError(
          TESTING_CHANGE_TIMED_OUT(CHANGE_TIMEOUT, what, state?.leader, elector.status().phase),
        ),
      );
    }, CHANGE_TIMEOUT);
    // Unref'd: the running election keeps the process alive (its timers get to run), and once the
    // testing module closed, a wait left pending must not hold a test process.
    timer.unref();
  });
}
