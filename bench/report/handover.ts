// Section 1: graceful handover.
import { PROFILES } from '../lib/context.js';
import { summarize } from '../lib/stats.js';
import type { TakeoverKind, TakeoverResult } from '../scenarios/takeover.js';
import { JITTER_FACTOR, pollInterval, settleTime } from './derived.js';
import {
  NAME,
  fmtExact,
  fmtMs,
  fmtSeconds,
  inWords,
  profileText,
  stat,
  table,
  type Push,
} from './format.js';
import { series, type BenchResults } from './results.js';

export function handoverSection(results: BenchResults, push: Push): void {
  const replicas = results.takeover.find((t) => t.kind === 'graceful')?.replicas ?? 0;
  push(
    '## 1. Graceful handover',
    '',
    `${inWords(replicas, true)} candidates of one implementation on one Lease. The bench sends SIGTERM to the leader and measures ` +
      'until another candidate reports `started_leading` (its own clock; same machine). The old leader is then ' +
      'replaced by a fresh process, the group settles (every candidate reports the same leader, then ' +
      `${fmtSeconds(settleTime(PROFILES.fast))} at the fast timings, ${fmtSeconds(settleTime(PROFILES.default))} ` +
      'at the default ones), and the next run starts. Each candidate releases on SIGTERM ' +
      '(ours: `stop()`; client-go: context cancelled with `ReleaseOnCancel`).',
    '',
    takeoverTable(results, 'graceful'),
    '',
  );
  explainHandover(results, push);
}

/** How each implementation's followers learn of the release, and what that predicts. */
function explainHandover(results: BenchResults, push: Push): void {
  const o =
    series(results, 'graceful', 'ours', 'default') ?? series(results, 'graceful', 'ours', 'fast');
  const g =
    series(results, 'graceful', 'client-go', 'default') ??
    series(results, 'graceful', 'client-go', 'fast');
  if (!o || !g) return;
  const poll = pollInterval(g.profile);
  push(
    table(
      ['implementation', 'a follower learns of the release', 'then', 'wait before it tries', 'p50'],
      [
        [
          NAME.ours,
          'watch event',
          'one `update`; the others cancel their try',
          'random takeover delay, up to 30 ms (shorter with more followers)',
          `${fmtMs(stat(o.takeoverMs, 'p50'))} (${o.profile.name})`,
        ],
        [
          NAME['client-go'],
          'its next poll (`get`)',
          'one `update`',
          `retry period + up to ${fmtExact(JITTER_FACTOR)}x jitter: ${fmtMs(poll.min)} to ${fmtMs(poll.max)}`,
          `${fmtMs(stat(g.takeoverMs, 'p50'))} (${g.profile.name})`,
        ],
      ],
    ),
    '',
    "Ours releases with one `update` based on the leader's last write, and its followers' wait does not depend " +
      "on the timings. client-go's handover is a random part of the polling interval and grows with the retry period.",
    '',
  );
}

export function takeoverTable(results: BenchResults, kind: TakeoverKind): string {
  const rows = results.takeover
    .filter((t) => t.kind === kind)
    .map((t) => [
      `${t.profile.name} (${profileText(t.profile)})`,
      NAME[t.impl],
      String(t.takeoverMs?.n ?? 0) + (t.failedRuns ? ` (+${t.failedRuns} failed)` : ''),
      ...takeoverCells(t),
    ]);
  return table(
    ['timings', 'implementation', 'runs', 'p50', 'p95', 'p99', 'max', 'min', 'mean'],
    rows,
  );
}

/** p50, p95, p99, max, min, mean of a series: the p99 from its runs (older results lack it). */
export function takeoverCells(t: TakeoverResult): string[] {
  const s = summarize(t.runs.map((r) => r.takeoverMs));
  return (['p50', 'p95', 'p99', 'max', 'min', 'mean'] as const).map((key) => fmtMs(stat(s, key)));
}
