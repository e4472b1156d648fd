// The rows of `--only revisions` (bench/results/revisions.json) that sections 1, 5 and 7 add:
// handovers of 3 and 50 candidates and rolling updates, with and without revisions, quiet and loaded.
import type { CandidatesScale } from '../scenarios/scale.js';
import type { RolloutResult } from '../scenarios/rollout.js';
import type { TakeoverResult } from '../scenarios/takeover.js';
import { summarize, type Summary } from '../lib/stats.js';
import { HANDOVER_TAIL_MS, TARGETS } from './derived.js';
import {
  NAME,
  fmtMs,
  fmtNum,
  profileText,
  stat,
  table,
  triple,
  yesNo,
  type Push,
} from './format.js';
import { takeoverCells } from './handover.js';
import type { BenchResults } from './results.js';
import { counts, estimatedLost, handovers, holders } from './rollout.js';

/** Graceful handover p95 with 3 candidates, revisions set, quiet machine: at most this (ms). */
export const SMALL_GROUP_P95_MS = 30;

/** "v1" or "none". */
const revisionText = (s: { revision?: string; revisions?: boolean }) =>
  s.revisions ? 'one per rollout (`v<n>`)' : (s.revision ?? 'none');

const machineText = (s: { loaded?: boolean }) => (s.loaded ? 'loaded' : 'quiet');

/** "1.2 / 3.4": the 1-minute load average before and after a series. */
const loadText = (l: { before: number | number[]; after: number | number[] } | undefined) => {
  if (!l) return 'n/a';
  const first = (x: number | number[]) => (Array.isArray(x) ? x[0] : x);
  return `${first(l.before).toFixed(2)} / ${first(l.after).toFixed(2)}`;
};

/** Series with revisions first, quiet before loaded. */
const order = <T extends { revision?: string; revisions?: boolean; loaded?: boolean }>(s: T[]) =>
  [...s].sort(
    (a, b) =>
      Number(!(a.revision || a.revisions)) - Number(!(b.revision || b.revisions)) ||
      Number(a.loaded ?? false) - Number(b.loaded ?? false),
  );

/** "p50 / p95 / p99 / max" of a summary. */
const quad = (s: Summary | null) =>
  (['p50', 'p95', 'p99', 'max'] as const).map((key) => fmtMs(stat(s, key))).join(' / ');

/** Where the rows come from. */
function provenance(source: BenchResults): string {
  return (
    `From \`npm run bench -- --only revisions\` (raw data: [results/revisions.json](results/revisions.json); ` +
    `latest run ${source.startedAt.slice(0, 10)} at ${source.machine.commit ?? 'unknown'}). ` +
    '_Loaded_: the bench ran a busy loop per core (`node -e "for(;;);"`) during the series. Load: the ' +
    '1-minute load average before / after the series (the machine is shared).'
  );
}

/** Section 1: graceful handover of 3 candidates with and without revisions. */
export function revisionsHandover(source: BenchResults, push: Push): void {
  const series = order(source.revisions?.takeover ?? []);
  if (series.length === 0) return;
  const quiet = series.find((t) => t.revision && !t.loaded);
  const p95 = stat(quiet?.takeoverMs, 'p95');
  push(
    '### With revisions',
    '',
    `${provenance(source)} Ours only, ${series[0].replicas} candidates, ${series[0].profile.name} timings ` +
      `(${profileText(series[0].profile)}), as above. _With revisions_: every candidate has the same ` +
      "`POD_TEMPLATE_HASH`, so no rollout is under way: the release carries the leader's revision and names " +
      'nobody, and the followers take the herd spread alone instead of first waiting for a preferred follower.',
    '',
    table(
      ['revision', 'machine', 'runs', 'p50', 'p95', 'p99', 'max', 'min', 'mean', 'load'],
      series.map((t: TakeoverResult) => [
        revisionText(t),
        machineText(t),
        String(t.takeoverMs?.n ?? 0) + (t.failedRuns ? ` (+${t.failedRuns} failed)` : ''),
        ...takeoverCells(t),
        loadText(t.loadAverage),
      ]),
    ),
    '',
    `Goal: p95 <= ${fmtMs(SMALL_GROUP_P95_MS)} with revisions on a quiet machine: ` +
      `${yesNo(p95 === null ? null : p95 <= SMALL_GROUP_P95_MS)} (${fmtMs(p95)}).`,
    '',
  );
  phasesTable(series, push);
}

/** p50 / p95 of `values`, or n/a. */
const pair = (values: number[]) => {
  const s = summarize(values);
  return `${fmtMs(stat(s, 'p50'))} / ${fmtMs(stat(s, 'p95'))}`;
};

/** Per run: from the release's completion to the first follower's `update` arriving (ms). */
function releaseToFirstTry(t: TakeoverResult): number[] {
  return t.runs.flatMap((r) =>
    r.phases?.releasedAfterMs !== undefined && r.phases.tries[0]
      ? [r.phases.tries[0].afterMs - r.phases.releasedAfterMs]
      : [],
  );
}

/** Where the handover time goes, from the audit log: release, first try, new leader. */
function phasesTable(series: TakeoverResult[], push: Push): void {
  const rows = series
    .filter((t) => t.runs.some((r) => r.phases))
    .map((t) => {
      const runs = t.runs.flatMap((r) => (r.phases ? [{ ...r, phases: r.phases }] : []));
      const released = runs.flatMap((r) => r.phases.releasedAfterMs ?? []);
      const first = runs.flatMap((r) => r.phases.tries[0]?.afterMs ?? []);
      const gap = releaseToFirstTry(t);
      const both = runs.filter((r) => r.phases.tries.length > 1).length;
      return [
        revisionText(t),
        machineText(t),
        pair(released),
        pair(gap),
        pair(first),
        pair(runs.map((r) => r.takeoverMs)),
        `${both} of ${runs.length}`,
      ];
    });
  if (rows.length === 0) return;
  push(
    'Where the time goes (p50 / p95, from the signal; the audit log): the release completed on the API ' +
      "server, then the first follower's `update` arriving there (watch event, takeover delay, request), " +
      'and the new leader reporting `started_leading`.',
    '',
    table(
      [
        'revision',
        'machine',
        'release completed',
        'release to first try',
        'first try',
        'new leader',
        'runs where both followers tried',
      ],
      rows,
    ),
    '',
  );
  const gapP50 = (revision: boolean) => {
    const t = series.find((s) => Boolean(s.revision) === revision && !s.loaded);
    return t ? stat(summarize(releaseToFirstTry(t)), 'p50') : null;
  };
  const withRevision = gapP50(true);
  const without = gapP50(false);
  if (withRevision !== null && without !== null) {
    push(
      `With revisions the followers skip the wait for a preferred follower: the first try comes ` +
        `${fmtMs(without - withRevision)} earlier after the release (p50, quiet). What remains is the ` +
        "release itself, the herd spread (the earlier of two followers' draws) and the acquiring `update`.",
      '',
    );
  }
}

/** The followers' requests in each handover: all requests but the release (the old leader's update). */
const followerRequests = (c: CandidatesScale) =>
  c.handovers.flatMap((h) => (h.requests ? [h.requests.total - 1] : []));

/** Section 5: handovers of 50 candidates with and without revisions. */
export function revisionsHerd(source: BenchResults, push: Push): void {
  const series = order(source.revisions?.herd ?? []);
  if (series.length === 0) return;
  const withRevision = series.find((c) => c.revision && !c.loaded);
  const most = withRevision ? Math.max(...followerRequests(withRevision)) : null;
  push(
    `#### ${series[0].candidates} candidates with revisions`,
    '',
    `${provenance(source)} The same ${series[0].candidates} candidates (${series[0].processes} processes), ` +
      `a steady-state window of ${Math.round(series[0].windowMs / 1000)} s, then the releases; with ` +
      "revisions every candidate has the same `POD_TEMPLATE_HASH`. Followers' requests: every request on the " +
      `Lease from the signal to ${HANDOVER_TAIL_MS} ms after the new leader but the release.`,
    '',
    table(
      [
        'revision',
        'machine',
        'handovers',
        'handover p50 / p95 / p99 / max',
        "followers' requests per handover, in order",
        'max',
        'of which 409 Conflict (3 s), max',
        'load',
      ],
      series.map((c) => {
        const followers = followerRequests(c);
        return [
          revisionText(c),
          machineText(c),
          String(c.handovers.length),
          quad(summarize(c.handovers.map((h) => h.handoverMs))),
          followers.join(', ') || 'n/a',
          followers.length > 0 ? String(Math.max(...followers)) : 'n/a',
          c.handovers.length > 0 ? String(Math.max(...c.handovers.map((h) => h.conflicts))) : 'n/a',
          loadText(c.loadAverage),
        ];
      }),
    ),
    '',
    `Goal: at most ${TARGETS.herdRequests} followers' requests in every handover with revisions: ` +
      `${yesNo(most === null ? null : most <= TARGETS.herdRequests)} (max ${fmtNum(most)}).`,
    '',
  );
}

/** Rollouts of a series with exactly the goal's number of changes. */
const exactlyOnce = (r: RolloutResult) =>
  r.runs.filter((run) => run.changes === TARGETS.rolloutChanges).length;

/** Section 7: rolling updates with and without revisions, quiet and loaded. */
export function revisionsRollout(source: BenchResults, push: Push): void {
  const all = source.revisions?.rollout ?? [];
  const series = [
    ...order(all.filter((r) => r.impl === 'ours')),
    ...order(all.filter((r) => r.impl !== 'ours')),
  ];
  if (series.length === 0) return;
  const first = series[0];
  const label = (r: RolloutResult) =>
    `${NAME[r.impl]}${r.impl === 'ours' ? (r.revisions ? ', revisions' : ', no revisions') : ''}, ${machineText(r)}`;
  push(
    '### With revisions, quiet and loaded',
    '',
    `${provenance(source)} ${first.runs.length} rollouts per series, as above (the old leader stopped ` +
      "first). _Revisions_: each rollout's replicas have a `POD_TEMPLATE_HASH` of their own (`v<n>`), as the " +
      "sample's manifests set it from the Pod's `pod-template-hash`: a new replica announces itself in the " +
      'Lease and the releasing leader names the newest as its successor. Without revisions the successor is ' +
      'guessed from when a follower joined the term.',
    '',
    table(
      [
        'series',
        'rollouts',
        'changes median / max',
        `rollouts with exactly ${TARGETS.rolloutChanges} change`,
        'without a leader p50 / p95 / max',
        'runs lost median / max (time / tick)',
        'old leader stopped: to a new replica / to an old one',
        'load',
      ],
      series.map((r) => {
        const h = handovers(r);
        return [
          label(r),
          String(r.runs.length) + (r.failedRuns ? ` (+${r.failedRuns} failed)` : ''),
          counts(r.changes),
          `${exactlyOnce(r)} of ${r.runs.length}`,
          triple(r.leaderlessMs),
          r.ticksLost
            ? `${counts(r.ticksLost)} (${counts(summarize(estimatedLost(r)))})`
            : `n/a (${counts(summarize(estimatedLost(r)))})`,
          `${h.toNew} / ${h.total - h.toNew}`,
          loadText(r.loadAverage),
        ];
      }),
    ),
    '',
  );
  const loaded = series.find((r) => r.impl === 'ours' && r.revisions && r.loaded);
  if (loaded) {
    push(
      `Goal: with revisions on the loaded machine, exactly ${TARGETS.rolloutChanges} change in each rollout: ` +
        `${yesNo(loaded.runs.length > 0 && exactlyOnce(loaded) === loaded.runs.length)} ` +
        `(${exactlyOnce(loaded)} of ${loaded.runs.length}).`,
      '',
    );
  }
  explainRollouts(series, push);
  const odd = series.flatMap((r) =>
    r.runs
      .filter((run) => run.changes !== TARGETS.rolloutChanges)
      .map((run) => [
        label(r),
        String(run.run),
        String(run.changes),
        holders(run),
        run.steps.flatMap((s) => (s.releaseLog ? [s.releaseLog] : [])).join('; ') || 'n/a',
      ]),
  );
  if (odd.length > 0) {
    push(
      `Rollouts with other than ${TARGETS.rolloutChanges} change, and what the stopped leaders logged:`,
      '',
      table(['series', 'rollout', 'changes', 'holders', 'release'], odd),
      '',
    );
  }
}

/** What revisions change in the rollouts: the named successors against the guessed ones. */
function explainRollouts(series: RolloutResult[], push: Push): void {
  const ours = series.filter((r) => r.impl === 'ours');
  const named = ours
    .filter((r) => r.revisions)
    .flatMap((r) => r.runs.flatMap((run) => run.steps.filter((s) => s.victimWasLeader)));
  const naming = named.filter((s) => s.releaseLog?.includes(' naming ')).length;
  const tookOver = named.filter(
    (s) => s.successor && s.releaseLog?.includes(` naming ${s.successor.identity} `),
  ).length;
  const guessed = ours.filter((r) => !r.revisions);
  const more = guessed.reduce(
    (n, r) => n + r.runs.filter((run) => run.changes > TARGETS.rolloutChanges).length,
    0,
  );
  const runs = guessed.reduce((n, r) => n + r.runs.length, 0);
  if (named.length === 0 || runs === 0) return;
  push(
    `With revisions ${naming} of the ${named.length} stopped leaders named the new replica that had ` +
      `announced itself (their release line says so), and the named one took over in ${tookOver}. ` +
      'Without revisions ' +
      `leadership moved more than once in ${more} of ${runs} rollouts: an old replica won the ` +
      'handover and the rollout stopped it next.',
    '',
  );
}

/** All three, for the section `--only revisions` writes to bench/results/only/. */
export function revisionsSections(results: BenchResults, push: Push): void {
  push('## Succession by revision', '');
  revisionsHandover(results, push);
  revisionsHerd(results, push);
  revisionsRollout(results, push);
}
