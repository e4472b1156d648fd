import type { FireLedger } from './fire-ledger.js';

/**
 * The last run of each `once` job as one process sees the ledger (the leader its own writes,
 * followers the watched records), for the `jobLastRun` metrics hook. Only `done` entries count: a
 * `claimed` one may be running or may never end, an `interrupted` one may have run partly, and
 * neither says the job ran. An entry moves on to its next claim before that fire ends, so the last
 * `done` instant seen is kept until a later one is seen (a stale record never moves it back).
 */
export class LastRuns {
  private readonly seen = new Map<string, number>();

  /** The jobs whose `done` instant in `ledger` is later than the last seen, with that instant. */
  changes(ledger: FireLedger | null | undefined): [job: string, at: number][] {
    const changed: [string, number][] = [];
    for (const [job, entry] of Object.entries(ledger?.jobs ?? {})) {
      if (entry.state !== 'done' || entry.at <= (this.seen.get(job) ?? -1)) continue;
      this.seen.set(job, entry.at);
      changed.push([job, entry.at]);
    }
    return changed;
  }
}
