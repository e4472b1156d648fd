import type { SeedFailure, SeedsSummary } from './run-seeds.js';
import { formatTime } from './trace.js';

/** The report of a run of many seeds: throughput, faults injected, decisions reached, failures. */
export function formatSummary(summary: SeedsSummary, traceLines: number): string[] {
  const seconds = summary.wallMs / 1000;
  const lines = [
    `seeds ${summary.from}..${summary.from + summary.seedsRun - 1} (${summary.seedsRun}): ` +
      `${summary.failures.length} failed`,
    `duration ${seconds.toFixed(1)} s real, ${(summary.seedsRun / seconds).toFixed(2)} seeds/s, ` +
      `${(summary.simulatedMs / 1000).toFixed(0)} s simulated, ${summary.steps} steps`,
    '',
    'faults injected, per kind:',
    ...table(summary.faults),
    '',
    'decision reasons reached (DecisionReason), per kind:',
    ...table(summary.decisions),
  ];
  for (const failure of summary.failures) lines.push('', ...formatFailure(failure, traceLines));
  return lines;
}

/** One failing seed: the invariant, the scenario, the end of its trace, how to replay it. */
export function formatFailure(failure: SeedFailure, traceLines: number): string[] {
  const { violation } = failure;
  const shown = failure.trace.slice(-traceLines);
  return [
    `FAILED seed ${failure.seed} at ${formatTime(violation.at)}: ${violation.invariant}: ${violation.detail}`,
    `  scenario: ${failure.scenario}`,
    `  trace (last ${shown.length} of ${failure.trace.length} lines; all: --seed ${failure.seed} --trace):`,
    ...shown.map((line) => `    ${line}`),
  ];
}

function table(counts: ReadonlyMap<string, number>): string[] {
  const entries = [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const width = Math.max(0, ...entries.map(([key]) => key.length));
  return entries.map(([key, count]) => `  ${key.padEnd(width)}  ${String(count).padStart(8)}`);
}
