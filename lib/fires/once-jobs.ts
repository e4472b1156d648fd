import { Logger } from '@nestjs/common';
import { filter, Subject, type Observable } from 'rxjs';
import type { CatchUpPolicy } from '../core/fires/catch-up-plan.js';
import { LEDGER_ENTRY_OVERHEAD, LEDGER_SIZE_LIMIT } from '../core/fires/fire-ledger.js';
import { OnceJob, type FireOutcome } from '../core/fires/once-job.js';
import { systemClock, type Clock } from '../core/index.js';
import type { Election } from '../election.js';
import { SetupError } from '../leader-election.errors.js';
import { cronSchedule, type CronMetadata } from './cron-schedule.js';
import { currentRunStorage } from './current-run.js';
import { fireEventOf } from './fire-events.js';
import { LEDGER_TOO_SMALL, outcomeLine } from './fires.messages.js';

/** What `@LeaderOnly({ once: true })` says of its job. */
export interface OnceOptions {
  readonly catchUp: CatchUpPolicy;
  readonly catchUpWindow: number;
  readonly rerunInterrupted: boolean;
}

/** One `once` job as the app registers it. */
export interface OnceJobRegistration {
  readonly election: Election;
  readonly job: string;
  readonly options: OnceOptions;
  readonly cron: CronMetadata;
  /** Runs the method itself (not its `@LeaderOnly` wrapper). */
  readonly run: () => unknown;
  /** Whether the scheduler runs the job now (not disabled, not stopped through its registry). */
  readonly isActive: () => boolean;
}

/**
 * The app's `once` jobs: each tick and each new leader's catch-up goes through its {@link OnceJob},
 * and every outcome is logged, counted and published on {@link fires}. One per app (held by the
 * registry, which the `@LeaderOnly` wrapper reaches).
 */
export class OnceJobs {
  private readonly jobs = new Map<string, { job: OnceJob; registration: OnceJobRegistration }>();
  private readonly outcomes = new Subject<FireOutcome>();
  private readonly logger = new Logger('LeaderElection');
  private readonly stops: (() => void)[] = [];

  /** `clock`: the jobs' wall time and timers (the system's; a fake one in tests). */
  constructor(private readonly clock: Clock = systemClock) {}

  /** Adds a job (at module init). */
  add(registration: OnceJobRegistration): void {
    const { election, job } = registration;
    const once = new OnceJob(
      {
        election: election.name,
        job,
        schedule: cronSchedule(registration.cron),
        ...registration.options,
      },
      {
        clock: this.clock,
        elector: () => (election.holdsBack(job) ? undefined : election.electorFor(job)),
        run: (fire) => currentRunStorage.run(fire, async () => registration.run()),
        report: (outcome) => this.report(election, outcome),
      },
    );
    this.jobs.set(key(election.name, job), { job: once, registration });
  }

  /** Refuses, at bootstrap, jobs whose ledger entries could not fit one Lease's ledger. */
  checkLedgerSizes(): void {
    const perLease = new Map<string, { election: string; jobs: number; bytes: number }>();
    for (const { registration } of this.jobs.values()) {
      const { election, job } = registration;
      const lease = `${election.name}\0${election.engine.shareOf(job) ?? ''}`;
      const sum = perLease.get(lease) ?? { election: election.name, jobs: 0, bytes: 0 };
      sum.jobs += 1;
      sum.bytes += new TextEncoder().encode(JSON.stringify(job)).length + LEDGER_ENTRY_OVERHEAD;
      perLease.set(lease, sum);
    }
    for (const { election, jobs, bytes } of perLease.values()) {
      if (bytes > LEDGER_SIZE_LIMIT) {
        throw new SetupError(LEDGER_TOO_SMALL(election, jobs, bytes, LEDGER_SIZE_LIMIT));
      }
    }
  }

  /** Whether `job` of `election` is a `once` job. */
  has(election: string, job: string): boolean {
    return this.jobs.has(key(election, job));
  }

  /** A cron tick of the job: resolves when its fire (and any missed before it) ran or was decided. */
  tick(election: string, job: string): Promise<void> {
    return this.jobs.get(key(election, job))?.job.tick() ?? Promise.resolve();
  }

  /**
   * From bootstrap on (the scheduler has started its jobs): whenever this replica starts leading a
   * job's Lease, it catches up that job's missed fires; once now for those it leads already.
   * A job's `initialDelay` defers its first catch-up as it defers its first tick.
   */
  start(): void {
    const elections = new Set([...this.jobs.values()].map((entry) => entry.registration.election));
    for (const election of elections) {
      const stop = election.engine.onChange((event) => {
        if (event.isLeader) this.catchUp(election);
      });
      this.stops.push(stop);
      this.catchUp(election);
    }
  }

  stop(): void {
    for (const stop of this.stops.splice(0)) stop();
    this.outcomes.complete();
  }

  /** Outcomes of every `once` job's fires (of `election` when given). */
  fires(election?: string): Observable<FireOutcome> {
    const all = this.outcomes.asObservable();
    return election === undefined ? all : all.pipe(filter((o) => o.election === election));
  }

  private catchUp(election: Election): void {
    for (const { job, registration } of this.jobs.values()) {
      if (registration.election !== election || !registration.isActive()) continue;
      const delay = registration.cron.initialDelay ?? 0;
      if (delay > 0 && !this.delayed.has(job)) {
        this.delayed.add(job);
        const timer = setTimeout(() => void job.catchUp(), delay);
        this.stops.push(() => clearTimeout(timer));
        continue;
      }
      void job.catchUp();
    }
  }

  /** Jobs whose `initialDelay` already deferred a catch-up: later ones run at once. */
  private readonly delayed = new Set<OnceJob>();

  private report(election: Election, outcome: FireOutcome): void {
    const { level, text } = outcomeLine(outcome);
    if (level === 'debug') this.logger.debug(text);
    else if (level === 'log') this.logger.log(text);
    else this.logger.warn(text);
    if (outcome.error !== undefined) {
      const error = outcome.error;
      this.logger.error(
        error instanceof Error ? error.message : String(error),
        error instanceof Error ? error.stack : undefined,
      );
    }
    election.electorFor(outcome.job).countFire(outcome.job, outcome.result);
    const event = fireEventOf(outcome);
    if (event) election.recordEvent(outcome.job, event);
    this.outcomes.next(outcome);
  }
}

function key(election: string, job: string): string {
  return `${election}\0${job}`;
}
