// Kubernetes Events about `once` jobs' fires (the module's `events` option): one per fire caught up,
// coalesced, missed or interrupted, naming the job and the fire's instant, recorded on the Lease of
// the elector that decides the job. The recorder itself is tested on the real API server
// (test/integration/operability.spec.ts); here, what reaches it.
import { Logger } from '@nestjs/common';
import { LeaderElector } from '../../../lib/core/index.js';
import { FakeClock } from '../../../lib/core/fake-clock.js';
import type { FireOutcome, FireResult } from '../../../lib/core/fires/once-job.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/core/memory-lock.js';
import { SingleElection } from '../../../lib/core/single-election.js';
import { SpreadElector } from '../../../lib/core/spread/spread-elector.js';
import { Election } from '../../../lib/election.js';
import { fireEventRecorder } from '../../../lib/election.factory.js';
import { fireEventOf, type FireEvent } from '../../../lib/fires/fire-events.js';
import { OnceJobs } from '../../../lib/fires/once-jobs.js';

const T = { leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 };
const START = new Date('2026-12-07T10:00:00.200Z');
const JOB = 'Reports.hourly';

describe('Events about fires of once jobs', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']));

  it('maps caught-up, coalesced, missed and interrupted fires to Events; ran and already-ran to none', () => {
    const outcome = (result: FireResult): FireOutcome => ({
      election: 'default',
      job: JOB,
      scheduledAt: new Date('2026-12-07T09:00:00Z'),
      result,
    });
    const results: FireResult[] = [
      'ran',
      'caught-up',
      'coalesced',
      'missed',
      'interrupted',
      'already-ran',
    ];
    const events = results.map((result) => fireEventOf(outcome(result)));
    expect(events.map((event) => event && `${event.type} ${event.reason}`)).toEqual([
      undefined,
      'Normal FireCaughtUp',
      'Normal FireCoalesced',
      'Warning FireMissed',
      'Warning FireInterrupted',
      undefined,
    ]);
    for (const event of events.filter((e) => e !== undefined)) {
      expect(event.message).toContain(`${JOB} fire of 2026-12-07T09:00:00.000Z`);
    }
  });

  it("records one Event per fire a new leader did not see run, through the job's election", async () => {
    const clock = new FakeClock({ wallStart: START });
    const store = new InMemoryLeaseStore();
    // The last claim, 20 s ago, by a term whose holder stopped before recording its end.
    const claimedAt = START.getTime() - 20_200;
    store.adminWrite({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: new Date(claimedAt),
      renewTime: new Date(claimedAt),
      leaseTransitions: 0,
      fires: {
        term: 0,
        jobs: { [JOB]: { at: claimedAt, term: 0, state: 'claimed', zone: 'UTC', period: 1_000 } },
      },
    });
    const elector = new LeaderElector({
      ...T,
      lock: new InMemoryLeaseLock(store, 'a', 'jobs'),
      leaseName: 'jobs',
      clock,
      random: () => 0.5,
    });
    const events: (FireEvent & { job: string })[] = [];
    const election = new Election(
      'default',
      'jobs',
      'ns',
      new SingleElection(elector),
      undefined,
      undefined,
      (job, event) => events.push({ job, ...event }),
    );
    const jobs = new OnceJobs(clock);
    let runs = 0;
    jobs.add({
      election,
      job: JOB,
      options: { catchUp: 'latest', catchUpWindow: 5_000, rerunInterrupted: false },
      cron: { cronTime: '* * * * * *', timeZone: 'UTC' },
      run: () => (runs += 1),
      isActive: () => true,
    });
    const outcomes: FireOutcome[] = [];
    jobs.fires().subscribe((outcome) => outcomes.push(outcome));
    election.start();
    jobs.start();
    await clock.advance(3_000);
    expect(elector.isLeader()).toBe(true);
    expect(runs).toBe(1); // the latest missed fire, caught up
    const notRunHere = () =>
      outcomes.filter((o) => o.result !== 'ran' && o.result !== 'already-ran');
    expect(notRunHere().length).toBeGreaterThanOrEqual(20);
    // One Event per such outcome, in order, each naming the job and its fire's instant.
    expect(events.map((event) => event.message)).toEqual(
      notRunHere().map((o) => fireEventOf(o)!.message),
    );
    expect(events.every((event) => event.job === JOB)).toBe(true);
    const reasons = events.map((event) => event.reason);
    expect(reasons[0]).toBe('FireInterrupted');
    expect(events[0].message).toContain(new Date(claimedAt).toISOString());
    expect(reasons.filter((reason) => reason === 'FireMissed').length).toBeGreaterThanOrEqual(14);
    expect(reasons.filter((reason) => reason === 'FireCoalesced').length).toBeGreaterThanOrEqual(3);
    expect(reasons.filter((reason) => reason === 'FireCaughtUp')).toHaveLength(1);
    // A fire run at its tick records none (those missed since the catch-up are coalesced into it).
    const ticked = jobs.tick('default', JOB);
    await clock.advance(500);
    await ticked;
    const ran = outcomes.at(-1)!;
    expect(ran.result).toBe('ran');
    expect(events.map((event) => event.message)).toEqual(
      notRunHere().map((o) => fireEventOf(o)!.message),
    );
    expect(events.some((e) => e.message.includes(ran.scheduledAt.toISOString()))).toBe(false);
    jobs.stop();
    const stopped = election.stop();
    await clock.advance(3_000);
    await stopped;
  });

  it("records each job's Events on its share's Lease in a spread election", () => {
    const store = new InMemoryLeaseStore();
    const spread = new SpreadElector({
      ...T,
      leaseName: 'jobs',
      shares: 2,
      lockFor: (name) => new InMemoryLeaseLock(store, 'a', name),
    });
    const recorded: string[] = [];
    const recorders = new Map(
      spread.electors.map((elector, share) => [
        elector.lock,
        {
          record: (message: string, reason?: string, type?: string) =>
            recorded.push(`share ${share}: ${type} ${reason} ${message}`),
        },
      ]),
    );
    const record = fireEventRecorder(spread, recorders)!;
    const event = { reason: 'FireMissed', type: 'Warning' as const, message: 'm' };
    record('Billing.reminder', event); // share 0 of 2
    record('Reports.hourly', event); // share 1 of 2
    expect(recorded).toEqual(['share 0: Warning FireMissed m', 'share 1: Warning FireMissed m']);
    expect(fireEventRecorder(spread, new Map())).toBeUndefined();
  });
});
