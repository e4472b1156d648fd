import type { LedgerEntry } from './fire-ledger.js';
import { instantsBetween, type FireSchedule } from './fire-schedule.js';

/** Which missed fires a new leader runs (see `OnceJobOptions.catchUp`). */
export type CatchUpPolicy = 'latest' | 'all' | 'none';

/** The most missed fires `catchUp: 'all'` runs; older ones are recorded as missed. */
export const CATCH_UP_BOUND = 100;

/** What to do about the fires of one job before a given instant. */
export interface CatchUpPlan {
  /** The entry's fire, claimed by another term and never finished: report it as interrupted. */
  readonly interrupted?: number;
  /** Whether to run the interrupted fire again (`rerunInterrupted`, within the window). */
  readonly rerunInterrupted: boolean;
  /** Fires to claim and run, in order. */
  readonly run: readonly number[];
  /** Fires covered by a later run (`catchUp: 'latest'`). */
  readonly coalesced: readonly number[];
  /** Fires outside the window, past the bound, or with `catchUp: 'none'`. */
  readonly missed: readonly number[];
  /** More missed fires than were listed (an enumeration stopped at its limit). */
  readonly missedUncounted: boolean;
}

/** What a plan is made from. */
export interface CatchUpInput {
  readonly schedule: FireSchedule;
  /** The job's ledger entry, if any. */
  readonly entry: LedgerEntry | undefined;
  /** The claiming term (ours). */
  readonly term: number;
  /** When our term began (wall ms): without a kept entry, nothing before it is caught up. */
  readonly termStart: number;
  /** Whether the holder before our term kept the ledger (else its entries end where it stopped). */
  readonly keptBefore: boolean;
  /** Wall time now (ms). */
  readonly now: number;
  /**
   * Plan the fires strictly before `before` (a tick's own fire, which runs anyway), or, when
   * undefined, those at or before now.
   */
  readonly before: number | undefined;
  readonly policy: CatchUpPolicy;
  /** ms: fires older than now minus this are missed. */
  readonly window: number;
  readonly rerunInterrupted: boolean;
  /** The latest instant this term already accounted for (ran or reported), if any. */
  readonly accountedUpTo?: number;
}

/**
 * The fires that fell due while nobody ran them: after the ledger's last claimed instant (or our
 * term's start), up to the tick's own fire or now. Pure: the caller claims and runs.
 */
export function planCatchUp(input: CatchUpInput): CatchUpPlan {
  const { entry, term, now, policy, window } = input;
  const interrupted =
    entry && entry.state === 'claimed' && entry.term !== term ? entry.at : undefined;
  const rerun = interrupted !== undefined && input.rerunInterrupted && interrupted >= now - window;
  // A ledger the previous holder did not keep says nothing of its term: start at ours.
  const from = Math.max(
    entry && input.keptBefore ? entry.at : Math.max(entry?.at ?? -1, input.termStart - 1),
    input.accountedUpTo ?? -1,
  );
  const until = input.before === undefined ? now : input.before - 1;
  const { instants, truncated } = instantsBetween(input.schedule, from, until);
  const windowStart = now - window;
  const inWindow = instants.filter((at) => at >= windowStart);
  const missed = instants.filter((at) => at < windowStart);
  const plan = { rerunInterrupted: rerun, missedUncounted: truncated, interrupted };
  if (policy === 'none' || inWindow.length === 0) {
    return { ...plan, run: [], coalesced: [], missed: [...missed, ...inWindow] };
  }
  if (policy === 'latest') {
    // A tick's own fire covers the missed ones; a catch-up runs the most recent.
    if (input.before !== undefined) return { ...plan, run: [], coalesced: inWindow, missed };
    return { ...plan, run: inWindow.slice(-1), coalesced: inWindow.slice(0, -1), missed };
  }
  const past = Math.max(0, inWindow.length - CATCH_UP_BOUND);
  return {
    ...plan,
    run: inWindow.slice(past),
    coalesced: [],
    missed: [...missed, ...inWindow.slice(0, past)],
  };
}
