// Succession by revision (`--only revisions`): the series that show what the `revision` option
// (`POD_TEMPLATE_HASH`) changes, each on a quiet machine and on one loaded with a busy loop per core:
// - rolling updates of 3 replicas at the default timings: ours with a revision per rollout, ours
//   without revisions, client-go (bench/scenarios/rollout.ts, the old leader stopped first);
// - graceful handovers of 3 candidates at the default timings, ours with one revision for all (no
//   rollout under way: the release names nobody) and without (bench/scenarios/takeover.ts);
// - graceful handovers of 50 candidates on one Lease (5 processes of 10), with one revision and
//   without, quiet only (bench/scenarios/scale.ts).
import { maybeLoaded } from '../lib/busy-loops.js';
import { PROFILES, type BenchContext, type Impl } from '../lib/context.js';
import { rolloutSeries, type RolloutResult } from './rollout.js';
import { manyCandidates, type CandidatesScale } from './scale.js';
import { takeoverSeries, type TakeoverResult } from './takeover.js';

/** The parts of the scenario, each runnable alone (`--parts rollout,handover,herd`). */
export const REVISION_PARTS = ['rollout', 'handover', 'herd'] as const;
export type RevisionPart = (typeof REVISION_PARTS)[number];

/** The machine states a series runs in (`--load quiet,loaded`). */
export const LOADS = ['quiet', 'loaded'] as const;
export type Load = (typeof LOADS)[number];

/** The revision every candidate of a handover series has when revisions are set. */
export const HANDOVER_REVISION = 'v1';

export interface RevisionsPlan {
  parts: readonly RevisionPart[];
  loads: readonly Load[];
  rollouts: number;
  handoverRuns: number;
  herd: {
    processes: number;
    perProcess: number;
    windowMs: number;
    warmupMs: number;
    handovers: number;
  };
}

export interface RevisionsResult {
  rollout: RolloutResult[];
  takeover: TakeoverResult[];
  herd: CandidatesScale[];
}

/** The rollout series of one machine state: ours with and without revisions, then client-go. */
const ROLLOUT_SERIES: { impl: Impl; revisions: boolean }[] = [
  { impl: 'ours', revisions: true },
  { impl: 'ours', revisions: false },
  { impl: 'client-go', revisions: false },
];

/** Runs `series`, recording a failure and going on with the next one when it throws. */
async function attempt<T>(ctx: BenchContext, name: string, series: () => Promise<T>) {
  try {
    return await series();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    ctx.failures.push({ scenario: name, reason });
    ctx.log(`${name}: FAILED: ${reason}`);
    return null;
  }
}

export async function revisionsScenario(
  ctx: BenchContext,
  plan: RevisionsPlan,
): Promise<RevisionsResult> {
  const result: RevisionsResult = { rollout: [], takeover: [], herd: [] };
  const profile = PROFILES.default;
  for (const load of plan.loads) {
    const loaded = load === 'loaded';
    const mark = <T extends object>(series: T | null) =>
      series ? { ...series, ...(loaded ? { loaded } : {}) } : null;
    await maybeLoaded(loaded, async () => {
      ctx.log(`revisions: ${load} machine`);
      if (plan.parts.includes('handover')) {
        for (const revision of [HANDOVER_REVISION, undefined]) {
          const name = `graceful ours ${revision ? 'with' : 'without'} revisions (${load})`;
          const series = await attempt(ctx, name, () =>
            takeoverSeries(ctx, 'ours', profile, 'graceful', plan.handoverRuns, 3, { revision }),
          );
          const marked = mark(series);
          if (marked) result.takeover.push(marked);
        }
      }
      if (plan.parts.includes('herd') && !loaded) {
        const h = plan.herd;
        for (const revision of [HANDOVER_REVISION, undefined]) {
          const name = `${h.processes * h.perProcess} candidates ours ${revision ? 'with' : 'without'} revisions`;
          const series = await attempt(ctx, name, () =>
            manyCandidates(
              ctx,
              'ours',
              profile,
              h.processes,
              h.perProcess,
              h.windowMs,
              h.warmupMs,
              h.handovers,
              { revision },
            ),
          );
          if (series) result.herd.push(series);
        }
      }
      if (plan.parts.includes('rollout')) {
        for (const { impl, revisions } of ROLLOUT_SERIES) {
          const name = `rollout ${impl}${revisions ? ' with revisions' : ''} (${load})`;
          const series = await attempt(ctx, name, () =>
            rolloutSeries(ctx, impl, profile, plan.rollouts, 3, { revisions }),
          );
          const marked = mark(series);
          if (marked) result.rollout.push(marked);
        }
      }
    });
  }
  return result;
}

/** What tells two series of the scenario apart: a newer run replaces the series with the same key. */
function seriesKey(series: {
  impl: Impl;
  revision?: string;
  revisions?: boolean;
  loaded?: boolean;
}): string {
  const revisions = series.revisions === true || series.revision !== undefined;
  return `${series.impl}/${revisions ? 'revisions' : 'none'}/${series.loaded ? 'loaded' : 'quiet'}`;
}

/**
 * `older` with every series of `newer` in place of the one with the same key (or added), so that a
 * run of some parts (`--parts`, `--load`) keeps the others' latest series.
 */
export function mergeRevisions(
  older: RevisionsResult | undefined,
  newer: RevisionsResult,
): RevisionsResult {
  const merge = <T extends Parameters<typeof seriesKey>[0]>(a: T[] = [], b: T[]) => {
    const replaced = new Set(b.map(seriesKey));
    return [...a.filter((s) => !replaced.has(seriesKey(s))), ...b];
  };
  return {
    rollout: merge(older?.rollout, newer.rollout),
    takeover: merge(older?.takeover, newer.takeover),
    herd: merge(older?.herd, newer.herd),
  };
}
