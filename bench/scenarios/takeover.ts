// Graceful handover (leader SIGTERM -> another candidate's started_leading) and crash failover
// (leader SIGKILL -> another candidate's started_leading), in a rolling group of 3 candidates of one
// implementation on one Lease: after each run the old leader is replaced by a fresh process, the
// group settles, and the next leader is signalled.
import os from 'node:os';
import type { CandidateProcess } from '../../test/support/candidates.js';
import { uniqueName } from '../../test/support/cluster.js';
import {
  eventsOf,
  firstEvent,
  hostOf,
  leadersOf,
  marks,
  spawnCandidate,
  stopAll,
  type BenchContext,
  type Impl,
  type Profile,
} from '../lib/context.js';
import { handoverRequests, type HandoverRequests } from '../lib/audit.js';
import { sleep, summarize, type Summary } from '../lib/stats.js';

/**
 * How long a group settles between runs, once every candidate reports the same leader. Long enough for
 * the fresh process's start-up CPU to pass and for client-go followers to have polled since; the
 * signal then falls at a random phase of their polling.
 */
export function settleTime(profile: Profile): number {
  return profile.name === 'fast' ? 1_500 : 5_000;
}

export type TakeoverKind = 'graceful' | 'crash';

/** Short names in Lease and candidate names. */
export const SHORT: Record<Impl, string> = { ours: 'ours', 'client-go': 'go', codedependant: 'cd' };

export interface TakeoverRun {
  run: number;
  victim: string;
  successor: string;
  /** Wall-clock ms when the runner sent the signal. */
  signalAt: number;
  /** The successor's started_leading (its own wall clock, same machine). */
  leaderAt: number;
  takeoverMs: number;
  /** Crash only: when the victim's last successful renew completed on the API server (audit log). */
  lastRenewAt?: number;
  fromLastRenewMs?: number;
  /** Crash only: the successor's first successful update after the signal (audit log). */
  acquiredAt?: number;
  /** Graceful only: the group's Lease requests from the signal to just after the new leader. */
  requests?: HandoverRequests;
  /** Graceful only (audit log): the release and the followers' tries, ms after the signal. */
  phases?: HandoverPhases;
}

/** Where a graceful handover's time goes, from the audit log (ms after the signal). */
export interface HandoverPhases {
  /** The old leader's release completed on the API server. */
  releasedAfterMs?: number;
  /** Each follower's `update` as the server received it, in order, with its answer. */
  tries: { identity: string; afterMs: number; code: number }[];
}

export interface TakeoverResult {
  impl: Impl;
  profile: Profile;
  kind: TakeoverKind;
  replicas: number;
  lease: string;
  runs: TakeoverRun[];
  failedRuns: number;
  takeoverMs: Summary | null;
  fromLastRenewMs: Summary | null;
  /** Crash: takeover minus the lease duration, from the last renew. */
  beyondLeaseDurationMs: Summary | null;
  /** Concurrent with another series (default-profile crash series run side by side). */
  concurrentWith?: string;
  /** Ours: the revision every candidate had (`POD_TEMPLATE_HASH`); absent: none. */
  revision?: string;
  /** Run on a machine loaded with a busy loop per core (bench/lib/busy-loops.ts). */
  loaded?: boolean;
  loadAverage: { before: number; after: number; beforeAll?: number[]; afterAll?: number[] };
}

/**
 * Waits until exactly one candidate of `group` leads and every one of `followers` (default: the whole
 * group) has reported it as the leader; returns the leader's identity.
 */
export async function waitForSettledLeader(
  group: readonly CandidateProcess[],
  timeoutMs: number,
  followers: readonly CandidateProcess[] = group,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const leaders = leadersOf(group);
    if (leaders.length === 1) {
      const leader = leaders[0];
      const following = followers.every((candidate) => {
        const last = eventsOf(candidate)
          .filter((e) => e.event === 'new_leader')
          .at(-1);
        return last?.leader === leader;
      });
      if (following) return leader;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `no settled leader within ${timeoutMs} ms (leaders: ${JSON.stringify(leaders)}; last events: ${JSON.stringify(group.map((c) => eventsOf(c).at(-1)))})`,
      );
    }
    await sleep(50);
  }
}

export async function takeoverSeries(
  ctx: BenchContext,
  impl: Impl,
  profile: Profile,
  kind: TakeoverKind,
  runs: number,
  replicas = 3,
  options: { revision?: string } = {},
): Promise<TakeoverResult> {
  const scenario = `${kind} ${impl} ${profile.name}`;
  const short = SHORT[impl];
  // The Node peer sends no identity as User-Agent and reports no other holder: its requests are told
  // apart by the Lease alone (only its group uses it), and the group is settled once one leads.
  const peer = impl === 'codedependant';
  const lease = uniqueName(`${kind === 'graceful' ? 'ho' : 'fo'}-${short}-${profile.name}`);
  const loadBefore = os.loadavg();
  const settleMs = settleTime(profile);
  const group: CandidateProcess[] = [];
  let seq = 0;
  const add = () => {
    const candidate = spawnCandidate(ctx, {
      impl,
      identity: `${short}-${kind === 'graceful' ? 'g' : 'c'}${profile.name[0]}-${seq++}`,
      lease,
      profile,
      ...(options.revision ? { revision: options.revision } : {}),
    });
    group.push(candidate);
    return candidate;
  };
  const fill = async () => {
    while (group.length < replicas) {
      add();
      await sleep(200);
    }
  };
  const settleTimeout = profile.leaseDuration + profile.renewDeadline + 30_000;

  const results: TakeoverRun[] = [];
  let failed = 0;
  ctx.log(
    `${scenario}: ${runs} runs, ${replicas} candidates, lease ${lease}` +
      (options.revision ? `, revision ${options.revision}` : ''),
  );
  await fill();
  for (let run = 1; run <= runs; run++) {
    try {
      await waitForSettledLeader(group, settleTimeout, peer ? [] : group);
      await sleep(settleMs);
      const leaders = leadersOf(group);
      if (leaders.length !== 1)
        throw new Error(`expected one leader, got ${JSON.stringify(leaders)}`);
      const victim = hostOf(group, leaders[0])!;
      const others = group.filter((c) => c !== victim);
      const since = marks(others);
      const signalAt = Date.now();
      victim.kill(kind === 'graceful' ? 'SIGTERM' : 'SIGKILL');
      const timeout =
        kind === 'graceful'
          ? profile.leaseDuration + 10_000
          : profile.leaseDuration + profile.renewDeadline + 15_000;
      const { event } = await firstEvent(
        others,
        (e) => e.event === 'started_leading',
        timeout,
        since,
      );
      const record: TakeoverRun = {
        run,
        victim: victim.identity,
        successor: event.identity,
        signalAt,
        leaderAt: event.at,
        takeoverMs: round1(event.at - signalAt),
      };
      group.splice(group.indexOf(victim), 1);
      if (kind === 'graceful') {
        const inGroup = (ua: string) =>
          ua === victim.identity || group.some((c) => c.identity === ua);
        record.requests = await handoverRequests(
          ctx.audit,
          { userAgent: peer ? () => true : inGroup, lease },
          signalAt,
          event.at,
        );
        record.phases = handoverPhases(ctx, lease, inGroup, victim.identity, signalAt);
      }
      await Promise.race([victim.exited, sleep(20_000)]);
      if (kind === 'crash' && !peer) {
        const renews = ctx.audit.select({ userAgent: victim.identity, lease });
        const lastRenew = renews
          .filter((r) => r.verb === 'update' && r.code === 200 && r.receivedAt < signalAt)
          .at(-1);
        const acquired = ctx.audit
          .select({ userAgent: event.identity, lease, from: signalAt })
          .find((r) => r.verb === 'update' && r.code === 200);
        if (lastRenew) {
          record.lastRenewAt = lastRenew.completedAt;
          record.fromLastRenewMs = round1(event.at - lastRenew.completedAt);
        }
        if (acquired) record.acquiredAt = acquired.completedAt;
      }
      results.push(record);
      ctx.log(
        `${scenario} run ${run}/${runs}: ${record.victim} -> ${record.successor} in ${record.takeoverMs} ms` +
          (record.fromLastRenewMs !== undefined
            ? ` (${record.fromLastRenewMs} ms after the last renew)`
            : ''),
      );
      add();
    } catch (error) {
      failed += 1;
      const message = error instanceof Error ? error.message : String(error);
      // The peer's failures are findings: keep what each candidate last said.
      const reason = peer
        ? `${message}; last events: ${JSON.stringify(group.map((c) => eventsOf(c).slice(-4)))}`
        : message;
      ctx.failures.push({ scenario, run, reason });
      ctx.log(`${scenario} run ${run}: FAILED: ${reason}`);
      // Start over with a fresh group on the same Lease.
      await stopAll(group.splice(0), 5_000);
      await fill();
    }
  }
  await stopAll(group.splice(0));
  const fromLastRenew = results.flatMap((r) =>
    r.fromLastRenewMs === undefined ? [] : [r.fromLastRenewMs],
  );
  return {
    impl,
    profile,
    kind,
    replicas,
    lease,
    runs: results,
    failedRuns: failed,
    takeoverMs: summarize(results.map((r) => r.takeoverMs)),
    fromLastRenewMs: kind === 'crash' ? summarize(fromLastRenew) : null,
    beyondLeaseDurationMs:
      kind === 'crash' ? summarize(fromLastRenew.map((x) => x - profile.leaseDuration)) : null,
    ...(options.revision ? { revision: options.revision } : {}),
    loadAverage: {
      before: loadBefore[0],
      after: os.loadavg()[0],
      beforeAll: loadBefore,
      afterAll: os.loadavg(),
    },
  };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** The release and the followers' `update`s after `signalAt` (already in the audit log). */
function handoverPhases(
  ctx: BenchContext,
  lease: string,
  inGroup: (ua: string) => boolean,
  victim: string,
  signalAt: number,
): HandoverPhases {
  const updates = ctx.audit
    .select({ userAgent: inGroup, lease, from: signalAt })
    .filter((r) => r.verb === 'update');
  const release = updates.find((r) => r.userAgent === victim && r.code === 200);
  return {
    ...(release ? { releasedAfterMs: round1(release.completedAt - signalAt) } : {}),
    tries: updates
      .filter((r) => r.userAgent !== victim)
      .map((r) => ({
        identity: r.userAgent,
        afterMs: round1(r.receivedAt - signalAt),
        code: r.code,
      })),
  };
}
