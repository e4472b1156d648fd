import type { Violation } from './invariants.js';
import type { MutantName } from './mutants.js';
import { describeScenario } from './scenario.js';
import { runSeed, type RunResult } from './world.js';

export interface SeedsOptions {
  readonly from: number;
  readonly seeds: number;
  readonly durationMs?: number;
  readonly mutant?: MutantName;
  readonly clockRateBeyond?: boolean;
  /** Stop at the first failing seed (a positive control only needs to be caught once). */
  readonly untilFailure?: boolean;
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
  readonly seedsRun: number;
  readonly failures: SeedFailure[];
  readonly faults: Map<string, number>;
  readonly decisions: Map<string, number>;
  readonly simulatedMs: number;
  readonly steps: number;
  /** Real time the run took, ms. */
  readonly wallMs: number;
}

/** Runs seeds `from` .. `from + seeds - 1`, one after the other, and adds up what they found. */
export async function runSeeds(options: SeedsOptions): Promise<SeedsSummary> {
  const started = performance.now();
  const summary: SeedsSummary = {
    from: options.from,
    seedsRun: 0,
    failures: [],
    faults: new Map(),
    decisions: new Map(),
    simulatedMs: 0,
    steps: 0,
    wallMs: 0,
  };
  for (let seed = options.from; seed < options.from + options.seeds; seed += 1) {
    const result = await runSeed({
      seed,
      durationMs: options.durationMs,
      mutant: options.mutant,
      clockRateBeyond: options.clockRateBeyond,
    });
    const mutable = summary as { seedsRun: number; simulatedMs: number; steps: number };
    mutable.seedsRun += 1;
    mutable.simulatedMs += result.simulatedMs;
    mutable.steps += result.steps;
    addCounts(summary.faults, result.faults);
    addCounts(summary.decisions, result.decisions);
    if (result.violations.length > 0) {
      summary.failures.push({
        seed,
        scenario: describeScenario(result.scenario),
        violation: result.violations[0],
        trace: result.trace,
      });
    }
    options.onSeed?.(result);
    if (options.untilFailure && summary.failures.length > 0) break;
  }
  (summary as { wallMs: number }).wallMs = performance.now() - started;
  return summary;
}

function addCounts(total: Map<string, number>, counts: ReadonlyMap<string, number>): void {
  for (const [key, count] of counts) total.set(key, (total.get(key) ?? 0) + count);
}
