// The pure part of the fires scenario (bench/scenarios/fires.ts): the measurement window, which fire
// each run stands for, how many times each fire ran, and which Lease write claimed each instant.
import type { AuditRequest } from './audit.js';

/** A run of a job, as bench/fixtures/fires.ts reports it. */
export interface JobRun {
  job: string;
  /** Wall-clock ms at the run's start. */
  start: number;
  /** The fire's scheduled instant as the run knows it (`currentRun()`, once jobs only). */
  scheduledAt?: number;
}

/**
 * The window: the first instant of the schedule at least `warmupMs` after `now` is the warm-up fire
 * (the first run of a job's code paths, measured apart); the window starts half a period after it and
 * spans `instants` whole periods, so that each instant inside, and the writes around it, are half a
 * period away from either edge. Holds the instants `from + period / 2 + k * period`.
 */
export function fireWindow(
  now: number,
  period: number,
  instants: number,
  warmupMs: number,
): { warmup: number; from: number; to: number; instants: number[] } {
  const half = period / 2;
  const warmup = Math.ceil((now + warmupMs) / period) * period;
  const from = warmup + half;
  return {
    warmup,
    from,
    to: from + instants * period,
    instants: Array.from({ length: instants }, (_, k) => from + half + k * period),
  };
}

/**
 * The instant a run stands for: the one it knows (once), else the schedule's instant nearest to its
 * start (a plain `@Cron` run knows none; every job here runs on a whole period of the epoch).
 */
export function instantOf(run: JobRun, period: number): number {
  return run.scheduledAt ?? Math.round(run.start / period) * period;
}

/** How many times each fire (job, instant) of the window ran. */
export interface RunTally {
  /** Jobs x instants. */
  fires: number;
  ranOnce: number;
  ranMoreThanOnce: number;
  notRun: number;
  /** Per run in the window: from the scheduled instant to the run's start, ms. */
  delaysMs: number[];
}

export function tallyRuns(
  runs: readonly JobRun[],
  jobs: readonly string[],
  instants: readonly number[],
  period: number,
): RunTally {
  const counts = new Map<string, number>();
  const delaysMs: number[] = [];
  const inWindow = new Set(instants);
  for (const run of runs) {
    const at = instantOf(run, period);
    if (!inWindow.has(at)) continue;
    const key = `${run.job}@${at}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    delaysMs.push(run.start - at);
  }
  const perFire = jobs.flatMap((job) => instants.map((at) => counts.get(`${job}@${at}`) ?? 0));
  return {
    fires: perFire.length,
    ranOnce: perFire.filter((n) => n === 1).length,
    ranMoreThanOnce: perFire.filter((n) => n > 1).length,
    notRun: perFire.filter((n) => n === 0).length,
    delaysMs,
  };
}

/** The Lease write that claimed one instant's fires, as the API server saw it. */
export interface ClaimWrite {
  instant: number;
  /** From the instant to the server receiving the write, ms. */
  receivedMs: number;
  /** The server's time for it, received to response complete, ms. */
  serverMs: number;
}

/**
 * For each instant, the claim: the leader's last successful update received at or after the instant
 * and completed before the first run of that instant started (a run starts only once its claim is
 * written, and the elector's writes are one after another, so the last one before it carried the claim). Instants without runs, or without such an update, have none.
 */
export function claimWrites(
  leaderUpdates: readonly AuditRequest[],
  runs: readonly JobRun[],
  instants: readonly number[],
  period: number,
): ClaimWrite[] {
  const claims: ClaimWrite[] = [];
  for (const instant of instants) {
    const starts = runs.filter((r) => instantOf(r, period) === instant).map((r) => r.start);
    if (starts.length === 0) continue;
    const firstStart = Math.min(...starts);
    const write = leaderUpdates
      .filter(
        (r) =>
          r.verb === 'update' &&
          r.code === 200 &&
          r.receivedAt >= instant &&
          // The run's start is whole ms (Date.now()), the audit log's times have microseconds.
          r.completedAt <= firstStart + 1,
      )
      .sort((a, b) => a.receivedAt - b.receivedAt)
      .at(-1);
    if (write) {
      claims.push({
        instant,
        receivedMs: write.receivedAt - instant,
        serverMs: write.completedAt - write.receivedAt,
      });
    }
  }
  return claims;
}
