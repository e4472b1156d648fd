import type { InvariantName, Violation } from './invariants.js';
import type { MutantName } from './mutants.js';
import { describeScenario } from './scenario.js';
import { runSeed, type RunOptions, type RunResult } from './world.js';

/** The safety invariants: what a positive control must break to count as caught. */
export const SAFETY: readonly InvariantName[] = [
  'one-leader',
  'tokens-increase',
  'work-within-term',
  'confirmed-run',
  'fire-once',
];

export interface SeedsOptions {
  readonly from: number;
  readonly seeds: number;
  readonly durationMs?: number;
  /** Positive controls: run until one of them is caught (see {@link runSeeds}). */
  readonly mutant?: MutantName;
  readonly clockRateBeyond?: boolean;
  /** Invariants not enforced, to look past a known failure. */
  readonly ignore?: readonly InvariantName[];
  /** Replicas on the single Lease also run a `once` cron job (invariant fire-once). */
  readonly once?: boolean;
  /** Replicas of ours know a revision; restarts roll new ones out (`--revisions`). */
  readonly revisions?: boolean;
  /** Called after each seed (progress). */
  readonly onSeed?: (result: RunResult) => void;
}

export interface SeedFailure {
  readonly seed: number;
  readonly scenario: string;
  readonly violation: Violation;
  readonly trace: readonly string[];
}

/** What a run of many seeds found, with the counts a report prints. */
export interface SeedsSummary {
  readonly from: number;
  seedsRun: number;
  readonly failures: SeedFailure[];
  /** With a positive control: seeds that also fail without it (so they prove nothing about it). */
  readonly failsWithoutControl: number[];
  readonly faults: Map<string, number>;
  readonly decisions: Map<string, number>;
  simulatedMs: number;
  steps: number;
  /** Real time the run took, ms. */
  wallMs: number;
}

/**
 * Runs seeds `from` .. `from + seeds - 1`, one after the other, and adds up what they found.
 *
 * With a positive control (a mutant, or clock rates beyond the bound) it stops at the first seed
 * that catches it: a seed whose run with the control breaks a safety invariant while its run
 * without the control passes (the engine's own failures, found without the control, are not
 * credited to it).
 */
export async function runSeeds(options: SeedsOptions): Promise<SeedsSummary> {
  const started = performance.now();
  const control = options.mutant !== undefined || options.clockRateBeyond === true;
  const summary: SeedsSummary = {
    from: options.from,
    seedsRun: 0,
    failures: [],
    failsWithoutControl: [],
    faults: new Map(),
    decisions: new Map(),
    simulatedMs: 0,
    steps: 0,
    wallMs: 0,
  };
  for (let seed = options.from; seed < options.from + options.seeds; seed += 1) {
    const base: RunOptions = {
      seed,
      durationMs: options.durationMs,
      singleOnly: options.mutant !== undefined || options.once === true,
      ignore: options.ignore,
      ...(options.once ? { once: true } : {}),
      ...(options.revisions ? { revisions: true } : {}),
    };
    const result = await runSeed({
      ...base,
      mutant: options.mutant,
      clockRateBeyond: options.clockRateBeyond,
    });
    summary.seedsRun += 1;
    summary.simulatedMs += result.simulatedMs;
    summary.steps += result.steps;
    addCounts(summary.faults, result.faults);
    addCounts(summary.decisions, result.decisions);
    options.onSeed?.(result);
    const violation = result.violations[0];
    if (!violation) continue;
    if (!control) {
      summary.failures.push(failure(result, violation));
      continue;
    }
    if (!SAFETY.includes(violation.invariant)) continue;
    if ((await runSeed(base)).violations.length > 0) {
      summary.failsWithoutControl.push(seed);
      continue;
    }
    summary.failures.push(failure(result, violation));
    break;
  }
  summary.wallMs = performance.now() - started;
  return summary;
}

function failure(result: RunResult, violation: Violation): SeedFailure {
  return {
    seed: result.seed,
    scenario: describeScenario(result.scenario),
    violation,
    trace: result.trace,
  };
}

function addCounts(total: Map<string, number>, counts: ReadonlyMap<string, number>): void {
  for (const [key, count] of counts) total.set(key, (total.get(key) ?? 0) + count);
}
