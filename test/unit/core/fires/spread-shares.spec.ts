// `once` jobs of an election spread over shares: each job is claimed on its share's elector, so its
// ledger entry lives in its share's Lease; a job that moves to another share (the shares changed)
// finds no entry there and starts without history (nothing before its new share's term caught up).
import type { Clock } from '../../../../lib/core/clock.js';
import { FakeClock } from '../../../../lib/core/fake-clock.js';
import { OnceJob, type FireOutcome } from '../../../../lib/core/fires/once-job.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../../lib/core/memory-lock.js';
import { shareOf } from '../../../../lib/core/spread/shares.js';
import { SpreadElector } from '../../../../lib/core/spread/spread-elector.js';
import { every, T } from '../../support/once-replicas.js';

const STAYS = 'Billing.reminder'; // share 0 of 2, share 0 of 3
const MOVES = 'Reports.hourly'; // share 1 of 2, share 2 of 3
const schedule = every(1_000);

interface Fire {
  readonly replica: string;
  readonly job: string;
  readonly at: number;
  readonly catchUp: boolean;
}

/** Replicas of an app whose two `once` jobs tick every second, on an election spread over shares. */
class SpreadApp {
  readonly clock = new FakeClock({ wallStart: new Date('2026-12-07T10:00:00.200Z') });
  readonly stores = new Map<string, InMemoryLeaseStore>();
  readonly runs: Fire[] = [];
  readonly outcomes: (FireOutcome & { replica: string })[] = [];

  store(name: string): InMemoryLeaseStore {
    let store = this.stores.get(name);
    if (!store) this.stores.set(name, (store = new InMemoryLeaseStore()));
    return store;
  }

  /** Job names with an entry in the ledger of Lease `name`. */
  ledgerJobs(name: string): string[] {
    return Object.keys(this.store(name).current()?.fires?.jobs ?? {}).sort();
  }

  /** The job's instants in [from, to] that neither ran nor got an outcome (already-ran aside). */
  unaccounted(job: string, from: number, to: number): number[] {
    const seen = new Set([
      ...this.runs.filter((run) => run.job === job).map((run) => run.at),
      ...this.outcomes
        .filter((o) => o.job === job && o.result !== 'already-ran')
        .map((o) => o.scheduledAt.getTime()),
    ]);
    const missing: number[] = [];
    for (let at = schedule.next(from - 1)!; at <= to; at = schedule.next(at)!) {
      if (!seen.has(at)) missing.push(at);
    }
    return missing;
  }

  start(id: string, shares: number): () => Promise<void> {
    const clock: Clock = this.clock;
    const spread = new SpreadElector({
      ...T,
      leaseName: 'jobs',
      shares,
      clock,
      random: () => 0.5,
      lockFor: (name) => new InMemoryLeaseLock(this.store(name), id, name),
    });
    const jobs = [STAYS, MOVES].map(
      (job) =>
        new OnceJob(
          {
            election: 'jobs',
            job,
            schedule,
            catchUp: 'latest',
            catchUpWindow: 300_000,
            rerunInterrupted: false,
          },
          {
            clock,
            elector: () => (spread.holdsBack(job) ? undefined : spread.electorFor(job)),
            run: (fire) => {
              const { scheduledAt, catchUp } = fire;
              this.runs.push({ replica: id, job, at: scheduledAt.getTime(), catchUp });
              return Promise.resolve();
            },
            report: (outcome) => this.outcomes.push({ ...outcome, replica: id }),
          },
        ),
    );
    spread.onChange((event) => {
      if (!event.isLeader) return;
      for (const job of jobs)
        if (spread.shareOf(job.options.job) === event.share) void job.catchUp();
    });
    let timer: ReturnType<Clock['setTimeout']>;
    const arm = () => {
      const now = clock.wallNow().getTime();
      timer = clock.setTimeout(
        () => {
          arm();
          for (const job of jobs) void job.tick();
        },
        schedule.next(now)! - now,
      );
    };
    spread.start();
    arm();
    return async () => {
      clock.clearTimeout(timer);
      await spread.stop();
    };
  }
}

describe('once jobs spread over shares', () => {
  it("keeps each job's entry in its share's Lease; a job moved to another share starts without history", async () => {
    expect([shareOf(STAYS, 2), shareOf(STAYS, 3), shareOf(MOVES, 2), shareOf(MOVES, 3)]).toEqual([
      0, 0, 1, 2,
    ]);
    const app = new SpreadApp();
    const stopA = app.start('a', 2);
    await app.clock.advance(8_000);
    expect(app.ledgerJobs('jobs-share-0')).toEqual([STAYS]);
    expect(app.ledgerJobs('jobs-share-1')).toEqual([MOVES]);
    const ranByA = (job: string) =>
      app.runs.filter((run) => run.job === job && run.replica === 'a').length;
    expect(ranByA(STAYS)).toBeGreaterThanOrEqual(4);
    expect(ranByA(MOVES)).toBeGreaterThanOrEqual(4);
    await stopA();
    const stoppedAt = app.clock.wallNow().getTime();
    await app.clock.advance(10_000); // nobody runs the jobs
    // The shares change: the next replica runs three.
    const stopB = app.start('b', 3);
    await app.clock.advance(10_000);
    const leaseOf = (job: string) => app.store(`jobs-share-${shareOf(job, 3)}`).current()!;
    const firstRun = (job: string) =>
      Math.min(
        ...app.runs.filter((run) => run.job === job && run.replica === 'b').map((r) => r.at),
      );
    // The job that stayed catches up the fires missed meanwhile (its entry is in share 0's Lease).
    expect(app.unaccounted(STAYS, stoppedAt, firstRun(STAYS))).toEqual([]);
    // The moved one finds no entry in share 2's Lease: nothing before that share's term is caught up.
    const termStart = leaseOf(MOVES).acquireTime!.getTime();
    const movedReported = app.outcomes.filter((o) => o.job === MOVES && o.replica === 'b');
    expect(movedReported.filter((o) => o.scheduledAt.getTime() < termStart)).toEqual([]);
    expect(app.unaccounted(MOVES, stoppedAt, termStart - 1).length).toBeGreaterThanOrEqual(9);
    expect(app.ledgerJobs('jobs-share-2')).toEqual([MOVES]);
    expect(leaseOf(MOVES).fires!.jobs[MOVES].at).toBeGreaterThan(termStart);
    // Its old entry stays in share 1's Lease (pruned only after max(7 days, 10 periods)).
    expect(app.ledgerJobs('jobs-share-1')).toEqual([MOVES]);
    const doubles = app.runs.filter(
      (run, i) => app.runs.findIndex((o) => o.job === run.job && o.at === run.at) !== i,
    );
    expect(doubles).toEqual([]);
    await stopB();
  });
});
