// Section 7: rolling update.
import type { NotAheadRow } from './not-ahead.js';
import type { RolloutResult, RolloutRun } from '../scenarios/rollout.js';
import { summarize } from '../lib/stats.js';
import { TARGETS, pollInterval, settleTime } from './derived.js';
import {
  NAME,
  fmtMs,
  fmtNum,
  fmtSeconds,
  inWords,
  profileText,
  stat,
  table,
  triple,
  yesNo,
  type Push,
} from './format.js';
import type { BenchResults } from './results.js';

/** Runs of the leader-only task that the time without a leader stands for, per rollout. */
export const estimatedLost = (r: RolloutResult) => r.runs.map((run) => run.leaderlessMs / r.tickMs);

/** Whether ours met the goal in every rollout; null without runs. */
function goalMet(r: RolloutResult): boolean | null {
  if (r.runs.length === 0) return null;
  return r.runs.every(
    (run) =>
      run.changes === TARGETS.rolloutChanges && run.leaderlessMs < TARGETS.rolloutLeaderlessMs,
  );
}

/** "once", "twice", "three times". */
const timesInWords = (n: number) => (n === 1 ? 'once' : n === 2 ? 'twice' : `${inWords(n)} times`);

/** "median / max" of a summary, as counts. */
export const counts = (r: ReturnType<typeof summarize>) =>
  `${fmtNum(stat(r, 'p50'))} / ${fmtNum(stat(r, 'max'))}`;

/** The holders of one rollout, each marked old or new: `a (old) -> b (new)`. */
export function holders(run: RolloutRun): string {
  const age = (id: string) =>
    run.newReplicas.includes(id) ? 'new' : run.oldReplicas.includes(id) ? 'old' : '?';
  return run.holders.map((h) => (h === '' ? '_released_' : `\`${h}\` (${age(h)})`)).join(' -> ');
}

/**
 * Handovers in which an old leader was stopped: how many went to a new replica, and how many to the
 * replica that the next step started after the release.
 */
export function handovers(r: RolloutResult): { total: number; toNew: number; toLater: number } {
  const successors = r.runs.flatMap((run) => run.steps.flatMap((s) => s.successor ?? []));
  return {
    total: successors.length,
    toNew: successors.filter((s) => s.isNew).length,
    toLater: successors.filter((s) => s.joinedAfter).length,
  };
}

export function rolloutSection(results: BenchResults, push: Push): void {
  const series = results.rollout ?? [];
  if (series.length === 0) return;
  const first = series[0];
  push(
    '## 7. Rolling update',
    '',
    `${inWords(first.replicas, true)} replicas of one implementation on one Lease, ${first.profile.name} timings ` +
      `(${profileText(first.profile)}), updated the way a Deployment with maxSurge 1 and maxUnavailable 0 does it: ` +
      `${inWords(first.replicas)} times, a new replica starts, the bench waits until it reports the current leader ` +
      '(`new_leader`: ours from `onChange`, client-go from `OnNewLeader`), then sends SIGTERM to an old replica and ' +
      'waits for it to exit. It picks the leader whenever the leader is an old replica (the worst case), otherwise ' +
      'the oldest. The new replicas are the old ones of the next rollout; each rollout starts after the group ' +
      `settled (every replica reports the same leader) and ${fmtSeconds(settleTime(first.profile))} more.`,
    '',
    `- _Changes_: changes of \`holderIdentity\` seen by a watch on the Lease (a release to the empty holder is ` +
      'not one), from just before the first new replica starts until every new replica reports the same leader.',
    "- _Without a leader_: the sum of the gaps between one leader's end and the next one's `started_leading`. A " +
      "leader's end is the earlier of its own `stopped_leading` and the completion of its release on the API " +
      'server (audit log): client-go reports `stopped_leading` only after it has released, ours before.',
    `- _Runs lost_: ours runs a leader-only task every ${fmtMs(first.tickMs)} (gated on \`isLeader()\`, on ` +
      'wall-clock multiples of the period so that all processes share the slots); lost = slots in the rollout ' +
      "without a run. client-go's candidate has no such task: its figure is the time without a leader divided by " +
      `${fmtMs(first.tickMs)}, given for ours too.`,
    '',
    `Goal: ours moves leadership exactly ${timesInWords(TARGETS.rolloutChanges)} per rollout and ` +
      `is without a leader for less than ${fmtMs(TARGETS.rolloutLeaderlessMs)} per rollout.`,
    '',
    table(
      [
        'implementation',
        'rollouts',
        'changes per rollout median / max',
        'without a leader p50 / p95 / max',
        'runs lost (measured) median / max',
        `runs lost (time / ${fmtMs(first.tickMs)}) median / max`,
        'goal met in every rollout',
      ],
      series.map((r) => [
        NAME[r.impl],
        String(r.runs.length) + (r.failedRuns ? ` (+${r.failedRuns} failed)` : ''),
        counts(r.changes),
        triple(r.leaderlessMs),
        r.ticksLost ? counts(r.ticksLost) : 'n/a',
        counts(summarize(estimatedLost(r))),
        r.impl === 'ours' ? yesNo(goalMet(r)) : 'n/a',
      ]),
    ),
    '',
  );
  if (series.some((r) => r.concurrentWith)) {
    push(
      'In this run the two series ran at the same time, each on its own Lease, to keep the quick run short.',
      '',
    );
  }
  for (const r of series) {
    push(
      `**${NAME[r.impl]}**, rollout by rollout (Lease \`${r.lease}\`):`,
      '',
      table(
        ['rollout', 'changes', 'holders', 'without a leader', 'runs lost'],
        r.runs.map((run) => [
          String(run.run),
          String(run.changes),
          holders(run),
          fmtMs(run.leaderlessMs),
          run.ticks
            ? `${run.ticks.lost} of ${run.ticks.expected}`
            : `~${fmtNum(run.leaderlessMs / r.tickMs)}`,
        ]),
      ),
      '',
    );
  }
  explain(series, push);
}

/** Where leadership went in each series, one row per implementation, and what it says. */
function explain(series: RolloutResult[], push: Push): void {
  const rows = series.map((r) => {
    const h = handovers(r);
    const overlaps = r.runs.filter((run) => run.overlapMs > 0);
    return [
      NAME[r.impl],
      String(h.total),
      String(h.toNew),
      String(h.total - h.toNew),
      String(h.toLater),
      String(r.runs.filter((run) => run.changes !== run.changesReported).length),
      overlaps.length > 0
        ? `${overlaps.length} (up to ${fmtMs(Math.max(...overlaps.map((run) => run.overlapMs)))})`
        : '0',
    ];
  });
  push(
    table(
      [
        'implementation',
        'old leader stopped',
        'to a new replica',
        'to an old one (stopped again)',
        'to the replica started after the release',
        'rollouts where reports and the watch differ',
        'rollouts with two leaders reported',
      ],
      rows,
    ),
    '',
  );
  const go = series.find((r) => r.impl === 'client-go');
  const ours = series.find((r) => r.impl === 'ours');
  const notes: string[] = [];
  if (go && handovers(go).toLater > 0) {
    const poll = pollInterval(go.profile);
    notes.push(
      `client-go's successor can be the replica started after the release: its first try finds the Lease ` +
        `free before a follower's next poll (every ${fmtMs(poll.min)} to ${fmtMs(poll.max)}); a pod slower ` +
        'to start than that leaves the Lease to the followers, old ones included.',
    );
  }
  if (ours && goalMet(ours) === false) {
    notes.push(
      'Ours misses the goal in this run: a handover to an old replica moves leadership again (a successor ' +
        'ranks first once it joined the term in its second half and followed for a retry period: README, ' +
        'Succession).',
    );
  }
  if (notes.length > 0) push(notes.join(' '), '');
}

export function rolloutNotAhead(results: BenchResults): NotAheadRow[] {
  const ours = results.rollout?.find((r) => r.impl === 'ours');
  const go = results.rollout?.find((r) => r.impl === 'client-go');
  const o = stat(ours?.changes, 'p50');
  const g = stat(go?.changes, 'p50');
  if (o === null || g === null || o <= g) return [];
  return [
    [
      'Leadership changes per rolling update, median (section 7)',
      fmtNum(o),
      fmtNum(g),
      'some handovers went to an old replica, which the rollout stopped again',
    ],
  ];
}
