// Section 10: method and limits.
import { TARGETS, ordinal, p95Ranks } from './derived.js';
import { fmtMs, median, profileText, table, type Push } from './format.js';
import { series, type BenchResults } from './results.js';

/** How long one crash run at `profile` took (median time between signals, slower side). */
function crashRunMs(results: BenchResults, profile: string): number | null {
  const gaps = results.takeover
    .filter((t) => t.kind === 'crash' && t.profile.name === profile && t.runs.length > 1)
    .map((t) => median(t.runs.slice(1).map((run, i) => run.signalAt - t.runs[i].signalAt)));
  return gaps.length > 0 ? Math.max(...gaps) : null;
}

/** Per timing profile: runs per series, where the p95 lies, how long a crash run takes. */
function seriesTable(results: BenchResults): string {
  const profiles = [...new Set(results.takeover.map((t) => t.profile.name))];
  return table(
    ['timings', 'runs per implementation', 'the p95 lies between', 'a crash run takes'],
    profiles.map((name) => {
      const s = series(results, 'graceful', 'ours', name);
      const runs = s?.runs.length ?? 0;
      const [lower, upper] = p95Ranks(runs);
      return [
        s ? `${name} (${profileText(s.profile)})` : name,
        String(runs),
        runs > 0 ? `the ${ordinal(lower)} and the ${ordinal(upper)} value` : 'n/a',
        fmtMs(crashRunMs(results, name)),
      ];
    }),
  );
}

export function methodSection(results: BenchResults, push: Push): void {
  const full = results.mode === 'full';
  push(
    '## 10. Method and limits',
    '',
    seriesTable(results),
    '',
    '- Percentiles interpolate linearly between the closest ranks (the table shows the ranks of the p95).',
    full
      ? `- The default-timing series have fewer runs than the fast ones, to keep the full run near ${TARGETS.fullRunMinutes} minutes: a crash run is mostly waiting for the Lease to expire.`
      : '- Quick run: few runs per series, only the timings in the table.',
    "- Times are wall-clock milliseconds of the one machine: the runner's clock when it sends a signal, the " +
      "candidate's clock when it reports `started_leading`, the API server's audit timestamps for renewals.",
    '- Candidates are plain processes on loopback, not pods; the API server is a single local instance with ' +
      'audit logging in blocking mode, which adds a little latency to every request for both implementations alike.',
    '- The Nest layer is not in the handover, failover and load measurements: it adds no request and no delay to ' +
      'the election (the engine emits, the Nest layer forwards); its per-call cost is measured in section 4.',
    '- Not measured: `@codedependant/kubernetes-leader-election`, another Node.js package: measuring it would ' +
      'need a new npm dependency, which the bench does not add.',
    '',
  );
}
