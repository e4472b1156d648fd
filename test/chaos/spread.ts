// The fault-injection suite with jobs spread over shares (`runChaos({ spread })`, `npm run
// test:chaos -- --spread`): every replica also runs a second election, spread over shares, with
// leader-only interval jobs (see replica.ts). The faults are the usual ones, aimed at the first
// election's leader; this file names the jobs, tells when every share runs again, and computes the
// spread part of the report: overlap per job, and per share how long it ran none of its jobs.
import { HANDOVERS_PER_MINUTE } from '../../lib/core/spread/spread-elector.js';
import { shareOf } from '../../lib/core/spread/shares.js';
import {
  intervalsByJob,
  overlap,
  overlapOutside,
  overlapWithin,
  shareGaps,
  workIntervals,
  type FaultWindow,
  type ReplicaEvent,
  type WorkInterval,
} from './checker.js';
import type { ChaosReport } from './runner/chaos-report.js';

/** How the replicas spread their jobs. */
export interface SpreadOptions {
  /** Shares of the spread election (Leases `<lease>-jobs-share-<i>`). */
  shares: number;
  /** Leader-only jobs: at least this many, more when a share would otherwise have none. */
  jobs: number;
}

/** The default of `--spread`: two shares per replica, two jobs per share on average. */
export const DEFAULT_SPREAD: SpreadOptions = { shares: 6, jobs: 12 };

/** The spread part of a fault's result. */
export interface SpreadFaultResult {
  /** Per share, the longest time without a committed step of its jobs, injection to recovery. */
  shareGapsMs: number[];
  /** Overlap per job inside the fault window (jobs with none left out). */
  jobOverlapMs: Record<string, number>;
  /** Shares handed over to even out the balance, injection to recovery (from the replicas' logs). */
  handovers: number;
  /**
   * The most handovers one replica started within a minute that ends inside the fault window (its
   * earlier ones counted too): at most `HANDOVERS_PER_MINUTE`, the library's bound.
   */
  handoversPerMinute: number;
  /** Who ran each share's jobs last at the recovery. */
  shareHolders: string[];
}

/** The spread part of a run's report. */
export interface SpreadReport {
  shares: number;
  /** Each job's share. */
  jobs: Record<string, number>;
  /** Overlap per job over the whole run (every job listed; 0 is the promise). */
  jobOverlapMs: Record<string, number>;
  /** Overlap per job outside the windows of positive controls: must be 0. */
  unexpectedJobOverlapMs: number;
  /** `job: replica + replica` for each job that ran on two replicas at once. */
  jobOverlapCases: string[];
  /** Job runs checked. */
  jobRuns: number;
  /** Shares handed over to even out the balance, whole run. */
  handovers: number;
}

/**
 * Job names `job0`, `job1`, ...: the first `options.jobs`, then more until every share has one (the
 * shares are drawn by rendezvous hashing, so a few names may land on one share).
 */
export function spreadJobs(options: SpreadOptions): Record<string, number> {
  const jobs: Record<string, number> = {};
  const covered = new Set<number>();
  for (let i = 0; i < options.jobs || covered.size < options.shares; i++) {
    const share = shareOf(`job${i}`, options.shares);
    jobs[`job${i}`] = share;
    covered.add(share);
  }
  return jobs;
}

/** What {@link sharesWithoutWork} needs of a replica. */
interface Runner {
  readonly id: string;
  readonly events: readonly ReplicaEvent[];
  readonly dead: boolean;
  readonly paused: boolean;
}

/**
 * The shares none of whose jobs committed a step in the last `withinMs` on a live, running
 * replica (none: every share runs again), and who ran each share's jobs last.
 */
export function sharesWithoutWork(
  replicas: readonly Runner[],
  jobs: Record<string, number>,
  shares: number,
  at: number,
  withinMs = 1_000,
): { idle: number[]; holders: string[] } {
  const holders: string[] = Array.from({ length: shares }, () => '');
  for (const r of replicas) {
    if (r.dead || r.paused) continue;
    for (let i = r.events.length - 1; i >= 0 && r.events[i].t > at - withinMs; i--) {
      const e = r.events[i];
      if (e.type === 'job-step' && !holders[jobs[e.job!]]) holders[jobs[e.job!]] = r.id;
    }
  }
  return { idle: holders.flatMap((holder, share) => (holder ? [] : [share])), holders };
}

/** A replica's log line saying it hands a share over to even out the balance. */
export const handedOver = (e: ReplicaEvent) =>
  e.type === 'log' && typeof e.message === 'string' && e.message.startsWith('handing share');

/** Who handed a share over to whom, from a {@link handedOver} line (the name as the log escaped it). */
export function handoverOf(e: ReplicaEvent): { giver: string; successor: string } | undefined {
  const successor = handedOver(e) ? / over to (.*) to even out/.exec(e.message!)?.[1] : undefined;
  return successor === undefined ? undefined : { giver: e.id, successor };
}

/**
 * The most handovers one replica started within 60 s, over the minutes that end at one of its
 * handovers in [from, to] (a replica's handovers before `from` count: its bound is per minute).
 */
export function handoversPerMinute(events: ReplicaEvent[], from: number, to: number): number {
  const byReplica = new Map<string, number[]>();
  for (const e of events)
    if (handedOver(e) && e.t <= to) byReplica.set(e.id, [...(byReplica.get(e.id) ?? []), e.t]);
  let most = 0;
  for (const times of byReplica.values())
    for (const t of times)
      if (t >= from) most = Math.max(most, times.filter((u) => u <= t && t - u < 60_000).length);
  return most;
}

/** The problem of a fault whose replicas handed over more shares a minute than the library allows. */
export function handoverRateProblem(result: SpreadFaultResult): string | undefined {
  return result.handoversPerMinute > HANDOVERS_PER_MINUTE
    ? `a replica handed ${result.handoversPerMinute} shares over within a minute (bound ${HANDOVERS_PER_MINUTE})`
    : undefined;
}

/** The jobs whose share differs between `shares` and `otherShares` (they move in such a rollout). */
export function movedJobs(
  jobs: Record<string, number>,
  shares: number,
  otherShares: number,
): string[] {
  return Object.keys(jobs).filter((job) => shareOf(job, shares) !== shareOf(job, otherShares));
}

/** The spread part of one fault's result, from the events so far. */
export function spreadFaultResult(
  events: ReplicaEvent[],
  jobs: Record<string, number>,
  shares: number,
  fault: FaultWindow,
  shareHolders: string[],
): SpreadFaultResult {
  return {
    shareGapsMs: shareGaps(events, jobs, shares, fault.start, fault.recovered).map(Math.round),
    jobOverlapMs: {},
    handovers: events.filter((e) => handedOver(e) && e.t >= fault.start && e.t <= fault.recovered)
      .length,
    handoversPerMinute: handoversPerMinute(events, fault.start, fault.recovered),
    shareHolders,
  };
}

/**
 * After the run: overlap per job, whole run and per fault (filled into each fault's spread
 * result), outside the positive controls' windows too.
 */
export function spreadReport(
  events: ReplicaEvent[],
  jobs: Record<string, number>,
  shares: number,
  faults: (FaultWindow & {
    overlapExpected?: boolean;
    movedJobs?: string[];
    spread?: SpreadFaultResult;
  })[],
): SpreadReport {
  const intervals = workIntervals(events, 'job');
  const byJob = intervalsByJob(intervals);
  const controls = faults.filter((f) => f.overlapExpected);
  const jobOverlapMs: Record<string, number> = {};
  const cases: string[] = [];
  let unexpected = 0;
  for (const job of Object.keys(jobs)) {
    const ofJob: WorkInterval[] = byJob.get(job) ?? [];
    const { totalMs, cases: pairs } = overlap(ofJob);
    jobOverlapMs[job] = Math.ceil(totalMs);
    cases.push(...pairs.map((pair) => `${job}: ${pair}`));
    // A job that moves between share counts is held back on one side during the mix (the library's
    // share-count gate): its overlap fails as any other's.
    unexpected += overlapOutside(ofJob, controls);
    for (const fault of faults) {
      const within = Math.ceil(overlapWithin(ofJob, fault.start, fault.recovered));
      if (within > 0 && fault.spread) fault.spread.jobOverlapMs[job] = within;
    }
  }
  return {
    shares,
    jobs,
    jobOverlapMs,
    unexpectedJobOverlapMs: unexpected,
    jobOverlapCases: cases,
    jobRuns: intervals.length,
    handovers: events.filter(handedOver).length,
  };
}

/** The spread part of `npm run test:chaos`'s table (nothing for runs without `spread`). */
export function renderSpread(reports: ChaosReport[]): string[] {
  const spread = reports.filter((r) => r.spread);
  if (!spread.length) return [];
  const { shares, jobs } = spread[0].spread!;
  const byShare = Array.from({ length: shares }, (_, share) =>
    Object.keys(jobs).filter((job) => jobs[job] === share),
  );
  const rows = new Map<
    string,
    {
      runs: number;
      gaps: number[];
      max: number[];
      overlap: number;
      handovers: number;
      perMinute: number;
    }
  >();
  for (const fault of spread.flatMap((r) => r.faults)) {
    if (!fault.spread) continue;
    const row = rows.get(fault.name) ?? {
      runs: 0,
      gaps: [],
      max: Array.from({ length: shares }, () => 0),
      overlap: 0,
      handovers: 0,
      perMinute: 0,
    };
    row.runs += 1;
    row.perMinute = Math.max(row.perMinute, fault.spread.handoversPerMinute ?? 0);
    row.gaps.push(Math.max(...fault.spread.shareGapsMs));
    fault.spread.shareGapsMs.forEach(
      (gap, share) => (row.max[share] = Math.max(row.max[share], gap)),
    );
    row.overlap += Object.values(fault.spread.jobOverlapMs).reduce((a, b) => a + b, 0);
    row.handovers += fault.spread.handovers;
    rows.set(fault.name, row);
  }
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const perJob: Record<string, number> = {};
  for (const r of spread)
    for (const [job, ms] of Object.entries(r.spread!.jobOverlapMs))
      perJob[job] = (perJob[job] ?? 0) + ms;
  const unexpected = Math.ceil(
    spread.reduce((sum, r) => sum + r.spread!.unexpectedJobOverlapMs, 0),
  );
  return [
    '',
    '## Jobs spread over shares',
    '',
    ...(unexpected > 0 ? ['**OVERLAP OF A JOB FOUND: a bug to fix in the engine.**', ''] : []),
    `Every replica also runs a second election spread over ${shares} shares with ${Object.keys(jobs).length} leader-only jobs every 100 ms ` +
      `(${byShare.map((names, share) => `share ${share}: ${names.join(', ')}`).join('; ')}). ` +
      "Share gap: the longest time from the injection to the recovery without a committed step of any of the share's jobs.",
    '',
    `| fault | runs | median of the longest share gap (ms) | max gap per share, ${byShare.map((_, share) => `s${share}`).join(' / ')} (ms) | job overlap (ms) | handovers | most a minute by one replica (bound ${HANDOVERS_PER_MINUTE}) |`,
    '| --- | ---: | ---: | --- | ---: | ---: | ---: |',
    ...[...rows].map(
      ([name, row]) =>
        `| ${name} | ${row.runs} | ${median(row.gaps)} | ${row.max.join(' / ')} | ${row.overlap} | ${row.handovers} | ${row.perMinute} |`,
    ),
    '',
    `Overlap per job, all runs, outside positive controls: **${unexpected} ms** ` +
      `(whole runs: ${Object.entries(perJob)
        .map(([job, ms]) => `${job} ${ms}`)
        .join(', ')}; ` +
      `cases: ${spread.flatMap((r) => r.spread!.jobOverlapCases).join(', ') || 'none'}).`,
    `Job runs checked: ${spread.reduce((sum, r) => sum + r.spread!.jobRuns, 0)}; shares handed over to even out the balance: ${spread.reduce((sum, r) => sum + r.spread!.handovers, 0)}.`,
  ];
}
