// A replica of a small Nest app for the fault-injection suite. It logs, as JSON lines on stdout,
// every leadership change it sees and every leader-only work step, with a clock shared by all
// processes on the machine (performance.timeOrigin + performance.now(), in ms).
//
// Environment: KUBECONFIG, NAMESPACE, LEASE, IDENTITY, LEASE_DURATION_MS, RENEW_DEADLINE_MS,
// RETRY_PERIOD_MS, SHUTDOWN_GRACE_MS, CHAOS_RENEW_INTERVAL_MS, CHAOS_REQUEST_TIMEOUT_MS (optional),
// and REPLICA_NAME: the process's name in the event log
// (default IDENTITY). The `same-identity` fault starts a second process with the IDENTITY of another
// under a name of its own, so that the checker tells their work apart.
//
// A `once` cron job (every second, catchUp 'all') logs `once-run` per run and `fire` per outcome.
//
// Spread mode (SHARES and JOBS set, the harness's `spread` option): a second election, `jobs`, on
// the Leases `<LEASE>-jobs-share-<i>` (and `<LEASE>-jobs-members`), spread over SHARES shares, with
// one leader-only interval job per name in JOBS (comma-separated). Each logs `job-start`,
// `job-step`, ... with its name, and checks `isLeaderFor(job)` before each step's side effect;
// its @OnLeaderChange events are logged as `share-change` with the share.
//
// On stdin the harness may send `{"jobStepMs":<ms>}` lines: from then on each step of the spread
// election's jobs takes that long (10 ms at first), e.g. a job that runs for a second while the
// replica hands its share over.
import 'reflect-metadata';
import { createInterface } from 'node:readline';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cron, Interval, ScheduleModule } from '@nestjs/schedule';
import { KubeConfig } from '@kubernetes/client-node';
import {
  LeaderElectionModule,
  LeaderOnly,
  LeaderService,
  OnLeaderChange,
  type LeaderChangeEvent,
} from '../../lib/index.js';

const now = () => performance.timeOrigin + performance.now();
const identity = process.env.IDENTITY ?? 'replica';
const name = process.env.REPLICA_NAME ?? identity;
const emit = (type: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ t: now(), id: name, type, ...fields })}\n`);

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long each step of leader-only work takes, per kind (the harness changes `job`'s). */
const stepMs = { work: 10, job: 10 };
createInterface({ input: process.stdin }).on('line', (line) => {
  try {
    const { jobStepMs } = JSON.parse(line) as { jobStepMs?: unknown };
    if (typeof jobStepMs === 'number' && jobStepMs > 0) stepMs.job = jobStepMs;
  } catch {
    // not a command
  }
});
process.stdin.unref();

/**
 * Leader-only work in small steps, logged as `<kind>-start`, `<kind>-step`, ... with `fields`.
 * Before each step's side effect it checks that it still leads (`leads`, computed from the clock
 * at call time), as the README tells users to do for work that could outlive a lost leadership.
 */
async function steps(
  kind: 'work' | 'job',
  fields: Record<string, unknown>,
  leads: () => boolean,
  token: unknown,
) {
  emit(`${kind}-start`, { ...fields, token });
  let last = now();
  for (let step = 0; step < 4; step++) {
    await pause(stepMs[kind]);
    if (!leads()) {
      emit(`${kind}-abort`, { ...fields, step });
      break;
    }
    last = now();
    emit(`${kind}-step`, { ...fields, step, token });
  }
  emit(`${kind}-end`, { ...fields, last });
}

@Injectable()
class Work {
  private run = 0;
  constructor(private readonly leader: LeaderService) {}

  /** The election's leader-only work (see {@link steps}). */
  @Interval(100)
  @LeaderOnly()
  async steps() {
    const run = ++this.run;
    await steps('work', { run }, () => this.leader.isLeader(), this.leader.fencingToken());
  }

  /** A cron job: each second's run should execute exactly once across replicas. */
  @Cron('* * * * * *')
  @LeaderOnly()
  tick() {
    emit('tick', { slot: Math.round(Date.now() / 1000) });
  }

  /**
   * The same cron job with every fire once: each fire is claimed in the Lease before it runs and
   * caught up after a failover (`catchUp: 'all'`). Logs `once-run` with the fire's instant, and
   * every outcome this replica records as `fire`.
   */
  @Cron('* * * * * *', { timeZone: 'UTC' })
  @LeaderOnly({ once: true, catchUp: 'all', job: 'once-tick' })
  onceTick() {
    const run = this.leader.currentRun()!;
    emit('once-run', { at: run.scheduledAt.getTime(), catchUp: run.catchUp });
  }

  @OnLeaderChange()
  onChange(event: LeaderChangeEvent) {
    emit('change', { isLeader: event.isLeader, leader: event.leader, token: event.fencingToken });
  }
}

/** The spread election's name in the app. */
const JOBS_ELECTION = 'jobs';

/** One leader-only interval job per name, on the spread election, as an app would declare them. */
function jobsProvider(jobs: string[]) {
  @Injectable()
  class Jobs {
    private readonly runs = new Map<string, number>();
    constructor(readonly leader: LeaderService) {}

    async run(job: string) {
      const run = (this.runs.get(job) ?? 0) + 1;
      this.runs.set(job, run);
      await steps(
        'job',
        { job, run },
        () => this.leader.isLeaderFor(job, JOBS_ELECTION),
        this.leader.fencingTokenFor(job, JOBS_ELECTION),
      );
    }

    @OnLeaderChange(JOBS_ELECTION)
    onChange(event: LeaderChangeEvent) {
      emit('share-change', {
        share: event.share,
        isLeader: event.isLeader,
        leader: event.leader,
        token: event.fencingToken,
      });
    }
  }
  for (const job of jobs) {
    const descriptor: PropertyDescriptor = {
      value: function (this: Jobs) {
        return this.run(job);
      },
      writable: true,
      configurable: true,
    };
    Interval(100)(Jobs.prototype, job, descriptor);
    LeaderOnly({ election: JOBS_ELECTION, job })(Jobs.prototype, job, descriptor);
    Object.defineProperty(Jobs.prototype, job, descriptor);
  }
  return Jobs;
}

async function main() {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(process.env.KUBECONFIG!);
  const number = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  const optional = (option: string, value: string | undefined) =>
    value === undefined ? {} : { [option]: Number(value) };
  /** Options of both elections; `election` tags their log lines. */
  const common = (election?: string) => ({
    namespace: process.env.NAMESPACE!,
    identity,
    kubeConfig,
    leaseDuration: number('LEASE_DURATION_MS', 3000),
    renewDeadline: number('RENEW_DEADLINE_MS', 2000),
    retryPeriod: number('RETRY_PERIOD_MS', 500),
    shutdownGracePeriod: number('SHUTDOWN_GRACE_MS', 2000),
    // Unset: the library's defaults for these timings. Set (CHAOS_RENEW_INTERVAL_MS and
    // CHAOS_REQUEST_TIMEOUT_MS of the run): a cadence under test, e.g. the default's ratios.
    ...optional('renewInterval', process.env.CHAOS_RENEW_INTERVAL_MS),
    ...optional('requestTimeout', process.env.CHAOS_REQUEST_TIMEOUT_MS),
    logger: {
      log: (message: string) => emit('log', { level: 'log', message, election }),
      warn: (message: string) => emit('log', { level: 'warn', message, election }),
      error: (message: string) => emit('log', { level: 'error', message, election }),
    },
  });
  const jobs = process.env.JOBS ? process.env.JOBS.split(',') : [];
  const spread = process.env.SHARES
    ? [
        LeaderElectionModule.forRoot({
          ...common(JOBS_ELECTION),
          election: JOBS_ELECTION,
          leaseName: `${process.env.LEASE!}-jobs`,
          shares: Number(process.env.SHARES),
        }),
      ]
    : [];
  @Module({
    imports: [
      ScheduleModule.forRoot(),
      LeaderElectionModule.forRoot({ ...common(), leaseName: process.env.LEASE! }),
      ...spread,
    ],
    providers: [Work, ...(spread.length ? [jobsProvider(jobs)] : [])],
  })
  class ReplicaModule {}

  const app = await NestFactory.create(ReplicaModule, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  app
    .get(LeaderService)
    .fires()
    .subscribe((outcome) =>
      emit('fire', { job: outcome.job, at: outcome.scheduledAt.getTime(), result: outcome.result }),
    );
  await app.init();
  emit('ready');
  const exit = () => emit('exit');
  process.once('exit', exit);
}

main().catch((error: unknown) => {
  emit('fatal', { message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
