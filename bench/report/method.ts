// Section 10: method and limits.
import { TARGETS, ordinal, p95Ranks } from './derived.js';
import { fmtNum, median, profileText, type Push } from './format.js';
import { series, type BenchResults } from './results.js';

/** "with 10 runs the p95 lies between the 9th and the 10th value, with 20 runs between ..." */
function p95Text(results: BenchResults): string {
  const counts = [...new Set(results.takeover.map((t) => t.runs.length))].sort((a, b) => a - b);
  return counts
    .map((n, i) => {
      const [lower, upper] = p95Ranks(n);
      return i === 0
        ? `with ${n} runs the p95 lies between the ${ordinal(lower)} and the ${ordinal(upper)} value`
        : `with ${n} runs between the ${ordinal(lower)} and the ${ordinal(upper)}`;
    })
    .join(', ');
}

/** How long one crash run at the default timings took (median time between signals, slower side). */
function crashRunMs(results: BenchResults): number | null {
  const gaps = results.takeover
    .filter((t) => t.kind === 'crash' && t.profile.name === 'default' && t.runs.length > 1)
    .map((t) => median(t.runs.slice(1).map((run, i) => run.signalAt - t.runs[i].signalAt)));
  return gaps.length > 0 ? Math.max(...gaps) : null;
}

export function methodSection(results: BenchResults, push: Push): void {
  const full = results.mode === 'full';
  const defaultRuns = series(results, 'graceful', 'ours', 'default')?.runs.length ?? 0;
  const fastRuns = series(results, 'graceful', 'ours', 'fast')?.runs.length ?? 0;
  const crashRun = crashRunMs(results);
  const crashProfile = series(results, 'crash', 'ours', 'default')?.profile;
  const profiles = [...new Set(results.takeover.map((t) => t.profile.name))].join(' and ');
  push(
    '## 10. Method and limits',
    '',
    `- Percentiles interpolate linearly between the closest ranks; ${p95Text(results)}.`,
    "- Times are wall-clock milliseconds of the one machine: the runner's clock when it sends a signal, the " +
      "candidate's clock when it reports `started_leading`, the API server's audit timestamps for renewals.",
    '- Candidates are plain processes on loopback, not pods; the API server is a single local instance with ' +
      'audit logging in blocking mode, which adds a little latency to every request for both implementations alike.',
    full
      ? `- The default-timing series have ${defaultRuns} runs per implementation, not ${fastRuns}, to keep the ` +
          `full run near ${TARGETS.fullRunMinutes} minutes` +
          (crashRun === null || !crashProfile
            ? ''
            : ` (a crash run at ${profileText(crashProfile)} takes about ${fmtNum(crashRun / 1000, 0)} s)`) +
          `; the fast series have ${fastRuns}.`
      : `- Quick run: ${results.takeover[0]?.runs.length ?? 0} runs per series, ${profiles} timings only.`,
    '- The Nest layer is not in the handover, failover and load measurements: it adds no request and no delay to ' +
      'the election (the engine emits, the Nest layer forwards); its per-call cost is measured in section 4.',
    '- Not measured: `@codedependant/kubernetes-leader-election`, which the issue mentions "where it runs": adding ' +
      'it needs a new npm dependency, which this change does not add.',
    '',
  );
}
