// The Node peer (`--only peer`): @codedependant/kubernetes-leader-election beside client-go's
// leaderelection in the scenarios it can run: graceful handover and crash failover (the takeover
// series), steady-state API load, and a paused leader (SIGSTOP past the lease, then SIGCONT).
// The peer's failed runs are its findings, kept in the result rather than failing the bench.
import os from 'node:os';
import type { CandidateProcess } from '../../test/support/candidates.js';
import { uniqueName } from '../../test/support/cluster.js';
import { byVerb } from '../lib/audit.js';
import {
  eventsOf,
  firstEvent,
  hostOf,
  leadersOf,
  marks,
  spawnCandidate,
  stopAll,
  type BenchContext,
  type Failure,
  type Impl,
  type Profile,
} from '../lib/context.js';
import { installPeer, peerClientNodeVersion } from '../lib/peers.js';
import { sleep } from '../lib/stats.js';
import { SHORT, takeoverSeries, waitForSettledLeader, type TakeoverResult } from './takeover.js';

export interface PeerPlan {
  takeoverRuns: number;
  takeoverProfile: Profile;
  loadProfile: Profile;
  loadWindowMs: number;
  loadWarmupMs: number;
  pauseRuns: number;
  pauseProfile: Profile;
}

/** Requests on one group's Lease in the window, per minute (audit log, by Lease name). */
export interface PeerLoad {
  impl: Impl;
  replicas: number;
  profile: Profile;
  windowMs: number;
  perMinute: number;
  /** Requests in the window, by verb. */
  byVerb: Record<string, number>;
  /** Watches (and lists) of the namespace's whole Lease collection from the group's start (the peer's kind). */
  collectionWatches: number;
  loadAverage: number;
}

export interface PeerPause {
  impl: Impl;
  run: number;
  pausedMs: number;
  /** ms from SIGSTOP to another candidate's started_leading; null: none while paused. */
  takeoverMs: number | null;
  /** Most candidates reporting leading at once in the 10 s after SIGCONT. */
  maxLeadersAfterResume: number;
  /** ms from SIGCONT to the paused leader's stopped_leading; null: it kept leading. */
  pausedStoppedMs: number | null;
}

export interface PeerResult {
  packageVersion: string;
  clientNode: string;
  takeover: TakeoverResult[];
  load: PeerLoad[];
  pause: PeerPause[];
  /** What stopped a run (the peer's and client-go's alike). */
  findings: Failure[];
}

const IMPLS: readonly Impl[] = ['client-go', 'codedependant'];

export async function peerScenario(ctx: BenchContext, plan: PeerPlan): Promise<PeerResult> {
  const packageVersion = installPeer(ctx.log);
  const findings: Failure[] = [];
  const own: BenchContext = { ...ctx, failures: findings };
  const result: PeerResult = {
    packageVersion,
    clientNode: peerClientNodeVersion(),
    takeover: [],
    load: [],
    pause: [],
    findings,
  };
  for (const kind of ['graceful', 'crash'] as const) {
    for (const impl of IMPLS) {
      result.takeover.push(
        await takeoverSeries(own, impl, plan.takeoverProfile, kind, plan.takeoverRuns),
      );
    }
  }
  for (const impl of IMPLS) {
    const load = await peerLoad(own, impl, plan).catch((error: unknown) => {
      findings.push({ scenario: `load ${impl}`, reason: String(error) });
      return null;
    });
    if (load) result.load.push(load);
  }
  for (const impl of IMPLS) {
    for (let run = 1; run <= plan.pauseRuns; run++) {
      const pause = await pausedLeader(own, impl, plan.pauseProfile, run).catch(
        (error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          findings.push({ scenario: `pause ${impl}`, run, reason });
          ctx.log(`pause ${impl} run ${run}: FAILED: ${reason}`);
          return null;
        },
      );
      if (pause) result.pause.push(pause);
    }
  }
  return result;
}

function group(ctx: BenchContext, impl: Impl, lease: string, profile: Profile, tag: string) {
  return [0, 1, 2].map((i) =>
    spawnCandidate(ctx, { impl, identity: `${SHORT[impl]}-${tag}-${i}`, lease, profile }),
  );
}

/** Three candidates on one Lease at `plan.loadProfile`; every request on the Lease in the window. */
async function peerLoad(ctx: BenchContext, impl: Impl, plan: PeerPlan): Promise<PeerLoad> {
  const profile = plan.loadProfile;
  const lease = uniqueName(`load-${SHORT[impl]}`);
  const startedAt = Date.now();
  const candidates = group(ctx, impl, lease, profile, 'l');
  try {
    ctx.log(`load ${impl}: 3 candidates, lease ${lease}, window ${plan.loadWindowMs} ms`);
    await waitForSettledLeader(candidates, 60_000, impl === 'codedependant' ? [] : candidates);
    await sleep(plan.loadWarmupMs);
    const from = Date.now();
    await sleep(plan.loadWindowMs);
    const to = Date.now();
    await sleep(1_000);
    const requests = ctx.audit.select({ lease, from, to });
    const watches = ctx.audit
      .select({ lease: '', from: startedAt, to })
      .filter((r) => r.verb === 'watch' || r.verb === 'list');
    const perMinute = (requests.length * 60_000) / (to - from);
    ctx.log(`load ${impl}: ${perMinute.toFixed(1)} requests/min on the Lease`);
    return {
      impl,
      replicas: candidates.length,
      profile,
      windowMs: to - from,
      perMinute: Math.round(perMinute * 10) / 10,
      byVerb: byVerb(requests),
      collectionWatches: watches.length,
      loadAverage: os.loadavg()[0],
    };
  } finally {
    await stopAll(candidates, 5_000);
  }
}

/** SIGSTOPs the leader for two lease durations, SIGCONTs it, and watches who leads for 10 s. */
async function pausedLeader(
  ctx: BenchContext,
  impl: Impl,
  profile: Profile,
  run: number,
): Promise<PeerPause> {
  const lease = uniqueName(`pause-${SHORT[impl]}`);
  const candidates = group(ctx, impl, lease, profile, `p${run}`);
  try {
    const leader = await waitForSettledLeader(
      candidates,
      60_000,
      impl === 'codedependant' ? [] : candidates,
    );
    await sleep(1_500);
    const paused = hostOf(candidates, leader)!;
    const others = candidates.filter((c) => c !== paused);
    const since = marks(others);
    const pausedMs = 2 * profile.leaseDuration;
    const stoppedAt = Date.now();
    paused.kill('SIGSTOP');
    const takeover = firstEvent(others, (e) => e.event === 'started_leading', pausedMs, since)
      .then(({ event }) => event.at - stoppedAt)
      .catch(() => null);
    await sleep(pausedMs);
    const resumeMark = eventsOf(paused).length;
    const resumedAt = Date.now();
    paused.kill('SIGCONT');
    let maxLeaders = 0;
    while (Date.now() - resumedAt < 10_000) {
      maxLeaders = Math.max(maxLeaders, leadersOf(candidates).length);
      await sleep(50);
    }
    const stopped = eventsOf(paused)
      .slice(resumeMark)
      .find((e) => e.event === 'stopped_leading');
    const record: PeerPause = {
      impl,
      run,
      pausedMs,
      takeoverMs: await takeover,
      maxLeadersAfterResume: maxLeaders,
      pausedStoppedMs: stopped ? Math.round(stopped.at - resumedAt) : null,
    };
    ctx.log(`pause ${impl} run ${run}: ${JSON.stringify(record)}`);
    return record;
  } finally {
    await stopAll(candidates as CandidateProcess[], 5_000);
  }
}
