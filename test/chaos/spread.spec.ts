import { shareOf } from '../../lib/core/spread/shares.js';
import { intervalsByJob, longestGap, shareGaps, workIntervals } from './checker.js';
import { replicaEvent } from '../unit/support/replica-event.js';
import {
  handoverOf,
  handoverRateProblem,
  handoversPerMinute,
  movedJobs,
  sharesWithoutWork,
  spreadJobs,
  spreadReport,
} from './spread.js';

const e = replicaEvent;

/** One job run of `id`: admitted at `start`, steps at `start + 10` and `end`. */
const run = (id: string, job: string, n: number, start: number, end: number) => [
  e(start, id, 'job-start', { job, run: n }),
  e(start + 10, id, 'job-step', { job, run: n }),
  e(end, id, 'job-step', { job, run: n }),
  e(end, id, 'job-end', { job, run: n }),
];

describe('chaos checker, jobs spread over shares', () => {
  it("keeps each job's runs apart, and the election's work apart from the jobs'", () => {
    const events = [
      e(0, 'a', 'work-start', { run: 1 }),
      e(5, 'a', 'work-step', { run: 1 }),
      e(6, 'a', 'work-end', { run: 1 }),
      ...run('a', 'x', 1, 0, 40),
      ...run('a', 'y', 1, 0, 30),
    ];
    expect(workIntervals(events)).toEqual([{ id: 'a', run: 1, start: 0, end: 5 }]);
    const jobs = workIntervals(events, 'job');
    expect(jobs).toHaveLength(2);
    expect(intervalsByJob(jobs).get('x')).toEqual([
      { id: 'a', run: 1, start: 0, end: 40, job: 'x' },
    ]);
  });

  it('measures gaps per share from its jobs only', () => {
    const events = [
      ...run('a', 'x', 1, 100, 150),
      ...run('b', 'y', 1, 100, 900),
      e(500, 'a', 'work-step', { run: 9 }),
    ];
    expect(longestGap(events, 0, 1000)).toBe(500);
    expect(longestGap(events, 0, 1000, (job) => job === 'x')).toBe(850);
    expect(shareGaps(events, { x: 0, y: 1 }, 3, 0, 1000)).toEqual([850, 790, 1000]);
  });

  it('names jobs until every share has one', () => {
    const jobs = spreadJobs({ shares: 6, jobs: 2 });
    expect(new Set(Object.values(jobs)).size).toBe(6);
    for (const [job, share] of Object.entries(jobs)) expect(shareOf(job, 6)).toBe(share);
    expect(Object.keys(spreadJobs({ shares: 2, jobs: 12 }))).toHaveLength(12);
  });

  it('tells which shares ran none of their jobs lately, on live running replicas', () => {
    const jobs = { x: 0, y: 1, z: 2 };
    const replicas = [
      { id: 'a', dead: false, paused: false, events: run('a', 'x', 1, 9_000, 9_500) },
      { id: 'b', dead: false, paused: true, events: run('b', 'y', 1, 9_000, 9_500) },
      { id: 'c', dead: false, paused: false, events: run('c', 'z', 1, 7_000, 7_500) },
    ];
    expect(sharesWithoutWork(replicas, jobs, 3, 10_000)).toEqual({
      idle: [1, 2],
      holders: ['a', '', ''],
    });
  });

  it('reports overlap per job, outside positive controls too, and fills it into the faults', () => {
    const events = [
      ...run('a', 'x', 1, 0, 100),
      ...run('b', 'x', 1, 60, 160),
      ...run('b', 'y', 1, 60, 160),
      ...run('a', 'x', 2, 1_000, 1_100),
      ...run('c', 'x', 1, 1_050, 1_200),
      e(1_050, 'a', 'log', { message: 'handing share 1 (s-share-1) over to c' }),
    ];
    const spread = {
      shareGapsMs: [],
      jobOverlapMs: {},
      handovers: 0,
      handoversPerMinute: 0,
      shareHolders: [],
    };
    const faults = [
      { name: 'control', start: 0, recovered: 500, overlapExpected: true },
      { name: 'other', start: 900, recovered: 1_300, spread },
    ];
    const report = spreadReport(events, { x: 0, y: 1 }, 2, faults);
    expect(report.jobOverlapMs).toEqual({ x: 90, y: 0 });
    expect(report.unexpectedJobOverlapMs).toBe(50);
    expect(report.jobOverlapCases).toEqual(['x: a + b', 'x: a + c']);
    expect(spread.jobOverlapMs).toEqual({ x: 50 });
    expect(report.handovers).toBe(1);
    expect(report.jobRuns).toBe(5);
  });

  it("counts the overlap of the moved jobs of a mixed share count fault as any other job's", () => {
    const events = [
      ...run('a', 'x', 1, 1_000, 1_100),
      ...run('b', 'x', 1, 1_050, 1_150),
      ...run('a', 'y', 1, 1_000, 1_100),
      ...run('b', 'y', 1, 1_080, 1_150),
    ];
    const faults = [{ name: 'mixed', start: 900, recovered: 1_300, movedJobs: ['x'] }];
    const report = spreadReport(events, { x: 0, y: 1 }, 2, faults);
    expect(report.jobOverlapMs).toEqual({ x: 50, y: 20 });
    expect(report.unexpectedJobOverlapMs).toBe(70);
  });

  it('names the jobs whose share differs between two share counts', () => {
    const jobs = spreadJobs({ shares: 6, jobs: 12 });
    const moved = movedJobs(jobs, 6, 8);
    expect(moved.length).toBeGreaterThan(0);
    for (const job of Object.keys(jobs))
      expect(moved.includes(job)).toBe(shareOf(job, 6) !== shareOf(job, 8));
  });

  it("counts one replica's handovers per minute against the library's bound", () => {
    const handing = (t: number, id: string, to = 'c') =>
      e(t, id, 'log', {
        message: `handing share 1 (s-share-1) over to ${to} to even out the shares`,
      });
    const events = [
      ...Array.from({ length: 12 }, (_, i) => handing(i * 4_000, 'a')),
      handing(50_000, 'b'),
      handing(61_000, 'a'),
    ];
    expect(handoverOf(events[0])).toEqual({ giver: 'a', successor: 'c' });
    expect(handoverOf(e(0, 'a', 'log', { message: 'other' }))).toBeUndefined();
    // a's handovers at 4 s ... 44 s and 61 s: 12 within the minute that ends at 61 s.
    expect(handoversPerMinute(events, 60_000, 70_000)).toBe(12);
    const result = { shareGapsMs: [], jobOverlapMs: {}, handovers: 1, shareHolders: [] };
    expect(handoverRateProblem({ ...result, handoversPerMinute: 12 })).toBeUndefined();
    // One more inside the minute breaks the bound.
    const thirteen = [...events, handing(62_000, 'a')];
    expect(handoversPerMinute(thirteen, 60_000, 70_000)).toBe(13);
    expect(handoverRateProblem({ ...result, handoversPerMinute: 13 })).toMatch(/13 shares/);
    // Only minutes ending inside the window count.
    expect(handoversPerMinute(thirteen, 63_000, 70_000)).toBe(0);
  });
});
