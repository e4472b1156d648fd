import { Injectable } from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { FencingToken, LeaderChangeEvent } from './core/index.js';
import { LeadershipLostError } from './core/errors.js';
import type { FireOutcome, FireRun } from './core/fires/once-job.js';
import { currentRunStorage } from './fires/current-run.js';
import { JOB_HELD_BACK } from './leader-election.messages.js';
import { LeaderElectionRegistry } from './leader-election.registry.js';

/**
 * Status and control of the app's elections. Every method takes the election's name (`election`);
 * without one it addresses the election registered by `forRoot()` without an `election`. In an
 * election spread over shares (the module's `shares` option) each job has its own leader: ask per
 * job ({@link isLeaderFor}, {@link getLeaderFor}, {@link fencingTokenFor}); the methods that ask
 * about the election as a whole throw there, naming these.
 */
@Injectable()
export class LeaderService {
  constructor(private readonly registry: LeaderElectionRegistry) {}

  /**
   * Inside a run of a `@LeaderOnly({ once: true })` job (anywhere in its async call tree): the fire
   * it serves (job, scheduled instant, whether it is caught up late, the claiming term's fencing
   * token, an idempotency key `<job>@<ISO instant>`, a signal that aborts when that term ends).
   * Undefined elsewhere.
   */
  currentRun(): FireRun | undefined {
    return currentRunStorage.getStore();
  }

  /**
   * The outcomes of `once` jobs' fires decided on this replica (of `election` when given): ran,
   * caught-up, coalesced, missed, interrupted, already-ran. Completes at shutdown.
   */
  fires(election?: string): Observable<FireOutcome> {
    if (election !== undefined) this.registry.get(election); // an unknown name is an error
    return this.registry.onceJobs.fires(election);
  }

  /** This instance's identity in the default election. */
  get identity(): string {
    return this.getIdentity();
  }

  /** This instance's identity in `election`. */
  getIdentity(election?: string): string {
    return this.registry.get(election).electors[0].identity;
  }

  /** Whether this instance leads now (computed from the monotonic clock at call time). */
  isLeader(election?: string): boolean {
    return this.registry.get(election).elector.isLeader();
  }

  /** The current holder as last observed, or null. */
  getLeader(election?: string): string | null {
    return this.registry.get(election).elector.getLeader();
  }

  /**
   * The fencing token of the current term while leading, else null: pass it with each write to a
   * system that refuses tokens lower than the highest it has seen (see {@link FencingToken}).
   */
  fencingToken(election?: string): FencingToken | null {
    return this.registry.get(election).elector.fencingToken();
  }

  /**
   * Whether this instance runs `job` now: it leads the share the job runs on (an election spread
   * over shares), or the election (otherwise). `job` is a `@LeaderOnly` method's job name:
   * `ClassName.methodName` unless `@LeaderOnly({ job })` names it. False while the job is held
   * back during a rollout that changes `shares` (replicas with the other count may run it).
   */
  isLeaderFor(job: string, election?: string): boolean {
    const registered = this.registry.get(election);
    return registered.electorFor(job).isLeader() && !registered.holdsBack(job);
  }

  /** Who runs `job`: the holder of its share's Lease (or of the election's) as last observed. */
  getLeaderFor(job: string, election?: string): string | null {
    return this.registry.get(election).electorFor(job).getLeader();
  }

  /**
   * An AbortSignal that aborts when this instance's leadership of `job`'s share (or of the
   * election) ends; already aborted when it does not run `job` (also while the job is held back,
   * see {@link isLeaderFor}).
   */
  leadershipSignalFor(job: string, election?: string): AbortSignal {
    const registered = this.registry.get(election);
    if (registered.holdsBack(job)) {
      return AbortSignal.abort(new LeadershipLostError(JOB_HELD_BACK(job, registered.name)));
    }
    return registered.electorFor(job).leadershipSignal();
  }

  /** The fencing token of the term in which this instance runs `job`, else null (also while held back). */
  fencingTokenFor(job: string, election?: string): FencingToken | null {
    const registered = this.registry.get(election);
    return registered.holdsBack(job) ? null : registered.electorFor(job).fencingToken();
  }

  /**
   * Resolves when this instance leads. Rejects with the signal's reason on abort, or with
   * `ElectorStoppedError` when the app shuts down first.
   */
  waitForLeadership(options?: { signal?: AbortSignal }): Promise<void>;
  waitForLeadership(
    election: string | undefined,
    options?: { signal?: AbortSignal },
  ): Promise<void>;
  waitForLeadership(
    electionOrOptions?: string | { signal?: AbortSignal },
    options?: { signal?: AbortSignal },
  ): Promise<void> {
    if (typeof electionOrOptions === 'object' && electionOrOptions !== null) {
      return this.registry.get().elector.waitForLeadership(electionOrOptions);
    }
    return this.registry.get(electionOrOptions).elector.waitForLeadership(options);
  }

  /**
   * An AbortSignal that aborts when the current leadership ends (already aborted when not
   * leading). Pass it to long-running leader loops.
   */
  leadershipSignal(election?: string): AbortSignal {
    return this.registry.get(election).elector.leadershipSignal();
  }

  /**
   * Hands leadership over on purpose (e.g. before maintenance, or to move work to another
   * replica): no new leader-only work from now on, in-flight work is awaited (up to
   * `shutdownGracePeriod`) while the Lease is still renewed, then the Lease is released, naming
   * `successor` (another replica's identity) as the preferred next holder when given. This
   * instance does not take the Lease again until another replica has led, or for one
   * `leaseDuration`, whichever comes first. Resolves true when it released; false when it did not
   * lead, or when leader work was still running after the grace period (the Lease then expires
   * instead, as on shutdown).
   */
  stepDown(options?: { successor?: string }): Promise<boolean>;
  stepDown(election: string | undefined, options?: { successor?: string }): Promise<boolean>;
  stepDown(
    electionOrOptions?: string | { successor?: string },
    options?: { successor?: string },
  ): Promise<boolean> {
    if (typeof electionOrOptions === 'object' && electionOrOptions !== null) {
      return this.registry.get().elector.stepDown(electionOrOptions);
    }
    return this.registry.get(electionOrOptions).elector.stepDown(options);
  }

  /** Change events, starting with the current state; completes when the app shuts down. */
  changes(election?: string): Observable<LeaderChangeEvent> {
    return this.registry.get(election).changes();
  }
}
