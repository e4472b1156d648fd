// A rolling update (test/support/rolling-update.ts: maxSurge 1, maxUnavailable 0) of 3 replicas of
// one implementation on one Lease: a new replica follows (reports the current leader) for one retry
// period before an old one, the leader first, gets SIGTERM. Both implementations get the same waits.
// The 3 new replicas are the old ones of the next rollout. Measured per rollout: leadership changes,
// time without a leader and runs of a leader-only task that nobody executed.
import os from 'node:os';
import type { CandidateProcess } from '../../test/support/candidates.js';
import { uniqueName } from '../../test/support/cluster.js';
import { rollingUpdate } from '../../test/support/rolling-update.js';
import {
  eventsOf,
  hostOf,
  spawnCandidate,
  stopAll,
  type BenchContext,
  type Impl,
  type Profile,
} from '../lib/context.js';
import {
  countTicks,
  coverage,
  leadershipIntervals,
  round1,
  type LeadershipInterval,
  type TickCount,
} from '../lib/leadership.js';
import { LeaseHolderWatch } from '../lib/lease-watch.js';
import { sleep, summarize, type Summary } from '../lib/stats.js';
import { settleTime, waitForSettledLeader } from './takeover.js';

/** Period of the leader-only task of our candidates (client-go's candidate has none). */
export const LEADER_TICK_MS = 100;

export interface RolloutStep {
  /** The new replica started in this step. */
  started: string;
  /** From its spawn to its report of the current leader. */
  followedAfterMs: number;
  /** The old replica SIGTERMed in this step. */
  victim: string;
  victimWasLeader: boolean;
  signalAt: number;
  /** From the signal to the process's exit. */
  exitedAfterMs: number;
  /**
   * The next leader when the victim led: its identity, whether it is a new replica, and whether it is
   * the one a later step started after this signal (a candidate that joined after the release).
   */
  successor?: { identity: string; isNew: boolean; joinedAfter: boolean; afterMs: number };
  /** Ours: the victim's log line of its release (with revisions: whom it named). */
  releaseLog?: string;
}

export interface RolloutRun {
  run: number;
  /** Just before the first new replica starts; the old group has settled. */
  startedAt: number;
  /** Once the last old replica has exited and every new replica reports the same leader. */
  endedAt: number;
  oldReplicas: string[];
  newReplicas: string[];
  steps: RolloutStep[];
  /** Holders in order as the Lease watcher saw them in the window ('' = released), first = before. */
  holders: string[];
  /** Changes of holder seen by the Lease watcher. */
  changes: number;
  /** `started_leading` reports in the window (should equal `changes`). */
  changesReported: number;
  leaders: LeadershipInterval[];
  gaps: number[];
  leaderlessMs: number;
  /** Time in which two candidates reported leading at once. */
  overlapMs: number;
  /** Ours only: runs of the leader-only task. */
  ticks?: TickCount;
  /** Ours with revisions: the replicas that announced themselves in the window, in order. */
  announced?: string[];
}

export interface RolloutResult {
  impl: Impl;
  profile: Profile;
  replicas: number;
  lease: string;
  tickMs: number;
  runs: RolloutRun[];
  failedRuns: number;
  changes: Summary | null;
  leaderlessMs: Summary | null;
  /** Ours: expected minus executed runs of the leader-only task. */
  ticksLost: Summary | null;
  /** Run side by side with another series (quick run). */
  concurrentWith?: string;
  /** Ours: each rollout's replicas had their own revision (`POD_TEMPLATE_HASH=v<version>`). */
  revisions?: boolean;
  /** Run on a machine loaded with a busy loop per core (bench/lib/busy-loops.ts). */
  loaded?: boolean;
  loadAverage: { before: number; after: number; beforeAll?: number[]; afterAll?: number[] };
}

export async function rolloutSeries(
  ctx: BenchContext,
  impl: Impl,
  profile: Profile,
  rollouts: number,
  replicas = 3,
  options: { revisions?: boolean } = {},
): Promise<RolloutResult> {
  const revisions = impl === 'ours' && options.revisions === true;
  const scenario = `rollout ${impl}${revisions ? ' with revisions' : ''}`;
  const short = impl === 'ours' ? 'ours' : 'go';
  const lease = uniqueName(`ro-${short}${revisions ? '-rev' : ''}`);
  const loadBefore = os.loadavg();
  const timeoutMs = profile.leaseDuration + profile.renewDeadline + 30_000;
  const watch = await new LeaseHolderWatch(ctx.kubeconfig, ctx.namespace, lease).start();
  const everyone: CandidateProcess[] = [];
  let version = 0;
  let seq = 0;
  const spawn = () => {
    const candidate = spawnCandidate(ctx, {
      impl,
      identity: `${short}-v${version}-${seq++}`,
      lease,
      profile,
      ...(impl === 'ours' ? { leaderTickMs: LEADER_TICK_MS } : {}),
      // Each rollout's replicas share a revision of their own, as a Deployment's pod-template-hash.
      ...(revisions ? { revision: `v${version}` } : {}),
    });
    everyone.push(candidate);
    return candidate;
  };
  const group: CandidateProcess[] = [];
  const fill = async () => {
    while (group.length < replicas) {
      group.push(spawn());
      await sleep(200);
    }
  };

  const results: RolloutRun[] = [];
  let failed = 0;
  ctx.log(`${scenario}: ${rollouts} rollouts of ${replicas} replicas, lease ${lease}`);
  await fill();
  for (let run = 1; run <= rollouts; run++) {
    try {
      await waitForSettledLeader(group, timeoutMs);
      await sleep(settleTime(profile));
      version += 1;
      const old = [...group];
      const startedAt = Date.now();
      const driven = await rollingUpdate<CandidateProcess>({
        old,
        start: () => {
          const fresh = spawn();
          group.push(fresh);
          return fresh;
        },
        follows: async (fresh) =>
          hostOf(group, await waitForSettledLeader(group, timeoutMs, [fresh])),
        readyMs: profile.retryPeriod,
        stop: async (victim) => {
          victim.kill('SIGTERM');
          const exited = await Promise.race([victim.exited.then(() => true), sleep(20_000)]);
          if (!exited) throw new Error(`${victim.identity} did not exit within 20 s of SIGTERM`);
          group.splice(group.indexOf(victim), 1);
        },
      });
      const steps: RolloutStep[] = driven.map((step) => ({
        started: step.fresh.identity,
        followedAfterMs: step.followedAt - step.startedAt,
        victim: step.victim.identity,
        victimWasLeader: step.victimWasLeader,
        signalAt: step.signalAt,
        exitedAfterMs: step.exitedAt - step.signalAt,
        ...releaseLog(step.victim, step.signalAt),
      }));
      await waitForSettledLeader(group, timeoutMs);
      const endedAt = Date.now();
      // The last tick events of the window are still on their way through the pipes.
      await sleep(2 * LEADER_TICK_MS);
      const record = measure(ctx, {
        run,
        lease,
        startedAt,
        endedAt,
        old,
        fresh: group,
        everyone,
        steps,
        watch,
      });
      results.push(record);
      ctx.log(
        `${scenario} ${run}/${rollouts}: ${record.changes} change(s) (${record.holders.join(' -> ')}), ` +
          `${record.leaderlessMs} ms without a leader` +
          (record.ticks ? `, ${record.ticks.lost} of ${record.ticks.expected} runs lost` : ''),
      );
    } catch (error) {
      failed += 1;
      const reason = error instanceof Error ? error.message : String(error);
      ctx.failures.push({ scenario, run, reason });
      ctx.log(`${scenario} ${run}: FAILED: ${reason}`);
      await stopAll(group.splice(0), 5_000);
      await fill();
    }
  }
  await stopAll(group.splice(0));
  watch.stop();
  const ticks = results.flatMap((r) => (r.ticks ? [r.ticks.lost] : []));
  return {
    impl,
    profile,
    replicas,
    lease,
    tickMs: LEADER_TICK_MS,
    runs: results,
    failedRuns: failed,
    changes: summarize(results.map((r) => r.changes)),
    leaderlessMs: summarize(results.map((r) => r.leaderlessMs)),
    ticksLost: summarize(ticks),
    ...(revisions ? { revisions } : {}),
    loadAverage: {
      before: loadBefore[0],
      after: os.loadavg()[0],
      beforeAll: loadBefore,
      afterAll: os.loadavg(),
    },
  };
}

/** The victim's log line of its release after `signalAt`, if it printed one (ours). */
function releaseLog(victim: CandidateProcess, signalAt: number): { releaseLog?: string } {
  const line = eventsOf(victim).find(
    (e) => e.event === 'log' && e.at >= signalAt && / released /.test(e.message ?? ''),
  );
  return line?.message ? { releaseLog: line.message } : {};
}

/** The replicas of `candidates` that announced themselves as successors in [from, to), in order. */
function announcements(candidates: readonly CandidateProcess[], from: number, to: number) {
  return candidates
    .flatMap((c) =>
      eventsOf(c).filter(
        (e) =>
          e.event === 'log' &&
          e.at >= from &&
          e.at < to &&
          / announced itself on /.test(e.message ?? ''),
      ),
    )
    .sort((a, b) => a.at - b.at)
    .map((e) => e.identity);
}

/** The measurements of one rollout, from the reports, the audit log and the Lease watcher. */
function measure(
  ctx: BenchContext,
  r: {
    run: number;
    lease: string;
    startedAt: number;
    endedAt: number;
    old: readonly CandidateProcess[];
    fresh: readonly CandidateProcess[];
    everyone: readonly CandidateProcess[];
    steps: RolloutStep[];
    watch: LeaseHolderWatch;
  },
): RolloutRun {
  const signalled = new Map(r.steps.map((s) => [s.victim, s.signalAt]));
  // A release is the signalled replica's last successful update after its signal.
  const releasedAt = (identity: string) => {
    const signalAt = signalled.get(identity);
    if (signalAt === undefined) return undefined;
    return ctx.audit
      .select({ userAgent: identity, lease: r.lease, from: signalAt })
      .filter((q) => q.verb === 'update' && q.code === 200)
      .at(-1)?.completedAt;
  };
  const leaders = leadershipIntervals(r.everyone, releasedAt).filter(
    (i) => (i.end ?? Infinity) > r.startedAt && i.start < r.endedAt,
  );
  const newIdentities = new Set(r.fresh.map((c) => c.identity));
  for (const [index, step] of r.steps.entries()) {
    if (!step.victimWasLeader) continue;
    const next = leaders.find((i) => i.start >= step.signalAt && i.identity !== step.victim);
    if (next) {
      step.successor = {
        identity: next.identity,
        isNew: newIdentities.has(next.identity),
        joinedAfter: r.steps.slice(index + 1).some((later) => later.started === next.identity),
        afterMs: round1(next.start - step.signalAt),
      };
    }
  }
  const before = r.watch.changes.filter((c) => c.at < r.startedAt).at(-1);
  const during = r.watch.changes.filter((c) => c.at >= r.startedAt && c.at < r.endedAt);
  const { gaps, leaderlessMs, overlapMs } = coverage(leaders, r.startedAt, r.endedAt);
  const ours = r.everyone.some((c) => c.options.impl === 'ours');
  return {
    run: r.run,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    oldReplicas: r.old.map((c) => c.identity),
    newReplicas: r.fresh.map((c) => c.identity),
    steps: r.steps,
    holders: [...(before ? [before] : []), ...during].map((c) => c.holder),
    changes: r.watch.acquisitions(r.startedAt, r.endedAt).length,
    changesReported: leaders.filter((i) => i.start >= r.startedAt).length,
    leaders,
    gaps,
    leaderlessMs,
    overlapMs,
    ...(ours ? { ticks: countTicks(r.everyone, LEADER_TICK_MS, r.startedAt, r.endedAt) } : {}),
    ...(ours ? { announced: announcements(r.everyone, r.startedAt, r.endedAt) } : {}),
  };
}
