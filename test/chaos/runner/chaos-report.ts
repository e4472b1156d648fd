// The run's report, assembled after every replica stopped: overlap of leader-only work over the
// whole run and per fault, the cron report, the tallies kept during the run, and the spread part.
import fs from 'node:fs';
import path from 'node:path';
import {
  cronReport,
  onceReport,
  overlap,
  overlapOutside,
  overlapWithin,
  workIntervals,
  type CronReport,
  type OnceReport,
} from '../checker.js';
import { LEDGER_LOST, type FaultName } from '../fault-kinds.js';
import { spreadReport, type SpreadReport } from '../spread.js';
import type { ChaosRun } from './chaos-run.js';
import type { FaultResult } from './fault-result.js';

export interface ChaosReport {
  seed: number;
  faults: FaultResult[];
  overlapMs: number;
  /** Overlap outside the windows of positive controls: must be 0. */
  unexpectedOverlapMs: number;
  overlapCases: string[];
  cron: CronReport;
  /** The `once` job: at most once per fire, every fire accounted for (absent in older reports). */
  once?: OnceReport;
  /** Live replicas whose last change event did not name the leader after a recovery. */
  missedChanges: number;
  /** Leases left held by replicas stopped with SIGTERM (see {@link FaultResult.unreleased}). */
  unreleased: number;
  totalWorkRuns: number;
  outDir: string;
  /** Set when the run stopped early: no stable leader after a fault (a liveness failure). */
  error?: string;
  /** With `spread`: overlap per job and the run's totals. */
  spread?: SpreadReport;
  /** With `ha`: fencing tokens that did not increase from one term to the next (must be none). */
  fencing?: string[];
  /** Where every process's log was gathered when the run failed. */
  failureLogs?: string;
  /** With `ha`: whether the balancer checked /readyz. */
  balancerHealthChecks?: boolean;
}

/** What the fault loop counts as it goes. */
export interface RunTally {
  results: FaultResult[];
  missedChanges: number;
  unreleased: number;
  /** Why the run stopped early, if it did. */
  failure?: string;
  /** With `ha`: fencing tokens out of order (see `fencingTokenProblems`). */
  fencing?: string[];
  /** The file with every process's log tail, written when the run failed. */
  failureLogs?: string;
}

/** Fills in each fault's overlap, assembles the report and writes it to report.json. */
export function assembleReport(run: ChaosRun, tally: RunTally): ChaosReport {
  const { results } = tally;
  const intervals = workIntervals(run.events);
  const { totalMs, cases } = overlap(intervals);
  for (const fault of results)
    fault.overlapMs = Math.ceil(overlapWithin(intervals, fault.start, fault.recovered));
  const report: ChaosReport = {
    seed: run.seed,
    faults: results,
    overlapMs: totalMs,
    unexpectedOverlapMs: overlapOutside(
      intervals,
      results.filter((f) => f.overlapExpected),
    ),
    overlapCases: cases,
    cron: cronReport(run.events, results),
    once: onceReport(
      run.events,
      results.filter((f) => LEDGER_LOST.has(f.name as FaultName)),
    ),
    missedChanges: tally.missedChanges,
    unreleased: tally.unreleased,
    totalWorkRuns: intervals.length,
    outDir: run.outDir,
    ...(tally.failure ? { error: tally.failure } : {}),
    ...(tally.fencing ? { fencing: tally.fencing } : {}),
    ...(tally.failureLogs ? { failureLogs: tally.failureLogs } : {}),
    ...(run.ha ? { balancerHealthChecks: run.ha.ha.balancer.healthChecks } : {}),
    ...(run.spread
      ? { spread: spreadReport(run.events, run.jobs, run.spread.shares, results) }
      : {}),
  };
  fs.writeFileSync(path.join(run.outDir, 'report.json'), JSON.stringify(report, null, 2));
  return report;
}
