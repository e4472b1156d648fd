// The last run of each `once` job, exported by every replica from the ledger as it sees it (the
// leader from its writes, followers from the watch): only fires recorded `done` count, never an
// interrupted or unfinished one, and the value never moves back.
import { Registry } from 'prom-client';
import type { ElectionMetrics } from '../../../lib/core/index.js';
import { ELECTION_METRIC_NAMES, PrometheusElectionMetrics } from '../../../lib/metrics/index.js';
import { every, OnceReplicas } from '../support/once-replicas.js';

const START = new Date('2026-12-07T10:00:00.200Z').getTime();

/** The gauge's value for the job on `registry`, or undefined without a series. */
async function lastRun(registry: Registry): Promise<number | undefined> {
  const data = await registry.getSingleMetric(ELECTION_METRIC_NAMES.jobLastRun)?.get();
  return data?.values.find((v) => v.labels.name === 'jobs' && v.labels.job === 'Jobs.tick')?.value;
}

describe('leader_election_job_last_run_timestamp_seconds', () => {
  let r: OnceReplicas;
  beforeEach(() => {
    r = new OnceReplicas();
  });
  afterEach(() => r.stopAll());

  it('is reported by leader and followers from the ledger, for done fires only, never moving back', async () => {
    // A job every 10 s: renews between fires carry its entry again and again.
    const schedule = every(10_000);
    const calls = new Map<string, { at: number; leading: boolean }[]>();
    const start = (id: string) => {
      const seen: { at: number; leading: boolean }[] = [];
      calls.set(id, seen);
      const metrics: ElectionMetrics = {
        jobLastRun: (_name, _job, at) => seen.push({ at, leading: replica.elector.isLeader() }),
      };
      const replica = r.start(id, { schedule, elector: { metrics } });
      return replica;
    };
    const a = start('a');
    await r.clock.advance(100);
    start('b');
    await r.clock.advance(19_600); // 10:00:19.9
    // The claim of 10:00:20 lands, its answer is lost, and its claimant stops: interrupted.
    a.lock.loseNextClaimAnswer = true;
    await r.clock.advance(300);
    a.crash();
    await r.clock.advance(8_000); // b leads, records it interrupted, renews
    expect(r.store.current()!.fires!.jobs['Jobs.tick']).toMatchObject({
      at: START + 19_800,
      state: 'interrupted',
    });
    await r.clock.advance(21_000); // b runs 10:00:30 and 10:00:40
    const ran = new Set(r.runs.filter((run) => run.end !== undefined).map((run) => run.at));
    expect([...ran]).toEqual([START + 9_800, START + 29_800, START + 39_800]);
    expect(calls.get('a')!.map((call) => call.at)).toEqual([START + 9_800]);
    // b: a's run seen through the watch while following, then its own (the interrupted one never).
    expect(calls.get('b')).toEqual([
      { at: START + 9_800, leading: false },
      { at: START + 29_800, leading: true },
      { at: START + 39_800, leading: true },
    ]);
  });

  it('is the same on the leader and a follower: the latest done fire in the Lease', async () => {
    const registries = { a: new Registry(), b: new Registry() };
    const a = r.start('a', {
      elector: { metrics: new PrometheusElectionMetrics({ registry: registries.a }) },
    });
    await r.clock.advance(100);
    r.start('b', {
      elector: { metrics: new PrometheusElectionMetrics({ registry: registries.b }) },
    });
    await r.clock.advance(6_050);
    expect(a.elector.isLeader()).toBe(true);
    const entry = r.store.current()!.fires!.jobs['Jobs.tick'];
    // The entry moves on to the next claim before that fire ends: the previous fire is the last run.
    const latestDone = entry.state === 'done' ? entry.at : entry.at - 1_000;
    expect(await lastRun(registries.a)).toBe(latestDone / 1000);
    expect(await lastRun(registries.b)).toBe(latestDone / 1000);
  });
});
