// API requests per minute per Lease in steady state, per candidate (leader and each follower),
// counted on the server (audit log, by User-Agent) and cross-checked with each process's own request
// counters. Homogeneous groups (3 or 10 candidates of one implementation on one Lease), all groups
// on their own Leases at the same time, default timings.
import os from 'node:os';
import type { CandidateProcess } from '../../test/support/candidates.js';
import { uniqueName } from '../../test/support/cluster.js';
import { byVerb } from '../lib/audit.js';
import {
  leadersOf,
  requestCounts,
  spawnCandidate,
  stopAll,
  type BenchContext,
  type Impl,
  type Profile,
} from '../lib/context.js';
import { CpuWindow, round2 } from '../lib/procstat.js';
import { sleep } from '../lib/stats.js';
import { waitForSettledLeader } from './takeover.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../lib/core/memory-lock.js';
import { resolveElectorOptions } from '../../lib/core/elector-options.js';

/** How often the leader renews when the group sets nothing: client-go every retryPeriod, ours by its default. */
function defaultRenewInterval(impl: Impl, profile: Profile): number {
  if (impl !== 'ours') return profile.retryPeriod;
  const lock = new InMemoryLeaseLock(new InMemoryLeaseStore(), 'bench');
  return resolveElectorOptions({ lock, ...profile }).renewInterval;
}

export interface GroupSpec {
  label: string;
  impl: Impl;
  replicas: number;
  renewInterval?: number;
}

export interface CandidateLoad {
  identity: string;
  role: 'leader' | 'follower';
  /** Server-side count (audit log) in the window, per minute. */
  requestsPerMinute: number;
  /** Server-side count in the window, by verb. */
  byVerb: Record<string, number>;
  /** The process's own counter over (about) the same window. */
  clientCounted: number | null;
  cpuPercent: number | null;
  rssMb: number | null;
}

export interface GroupLoad {
  label: string;
  impl: Impl;
  replicas: number;
  renewInterval: number;
  lease: string;
  windowMs: number;
  leaderChangesInWindow: number;
  leader: CandidateLoad;
  followers: CandidateLoad[];
  /** All candidates together. */
  totalPerMinute: number;
  followersPerMinute: { min: number; mean: number; max: number };
}

export interface LoadResult {
  profile: Profile;
  windowMs: number;
  warmupMs: number;
  groups: GroupLoad[];
  loadAverage: { before: number; after: number };
}

export async function steadyStateLoad(
  ctx: BenchContext,
  profile: Profile,
  specs: readonly GroupSpec[],
  windowMs: number,
  warmupMs: number,
): Promise<LoadResult> {
  const loadBefore = os.loadavg()[0];
  const groups = specs.map((spec) => ({
    spec,
    lease: uniqueName(`load-${spec.label}`),
    members: [] as CandidateProcess[],
  }));
  try {
    // Start the processes interleaved across groups, 150 ms apart, to spread the start-up CPU.
    const maxReplicas = Math.max(...specs.map((s) => s.replicas));
    for (let i = 0; i < maxReplicas; i++) {
      for (const group of groups) {
        if (i >= group.spec.replicas) continue;
        group.members.push(
          spawnCandidate(ctx, {
            impl: group.spec.impl,
            identity: `${group.spec.label}-${i}`,
            lease: group.lease,
            profile,
            renewInterval: group.spec.renewInterval,
          }),
        );
        await sleep(150);
      }
    }
    const timeout = profile.leaseDuration + profile.renewDeadline + 60_000;
    await Promise.all(groups.map((g) => waitForSettledLeader(g.members, timeout)));
    ctx.log(`steady-state load: all ${groups.length} groups settled; warming up ${warmupMs} ms`);
    await sleep(warmupMs);

    const all = groups.flatMap((g) => g.members);
    const before = new Map<CandidateProcess, Record<string, Record<string, number>>>();
    await Promise.all(all.map(async (c) => before.set(c, await requestCounts(c))));
    const eventMarks = new Map(all.map((c) => [c, c.events.length]));
    const cpu = new CpuWindow(all.map((c) => c.child.pid!));
    const from = Date.now();
    ctx.log(`steady-state load: measuring for ${windowMs} ms`);
    await sleep(windowMs);
    const to = Date.now();
    const usage = cpu.stop();
    const after = new Map<CandidateProcess, Record<string, Record<string, number>>>();
    await Promise.all(all.map(async (c) => after.set(c, await requestCounts(c))));

    const results: GroupLoad[] = groups.map(({ spec, lease, members }) => {
      const leaders = leadersOf(members);
      const changes = members
        .flatMap((c) => c.events.slice(eventMarks.get(c)))
        .filter((e) => e.event === 'started_leading' || e.event === 'stopped_leading').length;
      const perCandidate = members.map((c): CandidateLoad => {
        const requests = ctx.audit.select({ userAgent: c.identity, lease, from, to });
        const own = (snapshot: Record<string, Record<string, number>> | undefined) =>
          Object.values(snapshot?.[c.identity] ?? {}).reduce((a, b) => a + b, 0);
        const processUsage = usage.get(c.child.pid!);
        return {
          identity: c.identity,
          role: leaders.includes(c.identity) ? 'leader' : 'follower',
          requestsPerMinute: round2((requests.length * 60_000) / (to - from)),
          byVerb: byVerb(requests),
          clientCounted: before.has(c) ? own(after.get(c)) - own(before.get(c)) : null,
          cpuPercent: processUsage?.cpuPercent ?? null,
          rssMb: processUsage?.rssMb ?? null,
        };
      });
      const leader = perCandidate.find((c) => c.role === 'leader') ?? perCandidate[0];
      const followers = perCandidate.filter((c) => c !== leader);
      const rates = followers.map((f) => f.requestsPerMinute);
      return {
        label: spec.label,
        impl: spec.impl,
        replicas: spec.replicas,
        renewInterval: spec.renewInterval ?? defaultRenewInterval(spec.impl, profile),
        lease,
        windowMs: to - from,
        leaderChangesInWindow: changes,
        leader,
        followers,
        totalPerMinute: round2(perCandidate.reduce((a, c) => a + c.requestsPerMinute, 0)),
        followersPerMinute: {
          min: Math.min(...rates),
          mean: round2(rates.reduce((a, b) => a + b, 0) / Math.max(1, rates.length)),
          max: Math.max(...rates),
        },
      };
    });
    for (const g of results) {
      ctx.log(
        `  ${g.label}: leader ${g.leader.requestsPerMinute}/min, followers ${g.followersPerMinute.mean}/min each, total ${g.totalPerMinute}/min`,
      );
      if (g.leaderChangesInWindow > 0) {
        ctx.failures.push({
          scenario: `steady-state ${g.label}`,
          reason: `${g.leaderChangesInWindow} leadership changes during the window`,
        });
      }
    }
    return {
      profile,
      windowMs,
      warmupMs,
      groups: results,
      loadAverage: { before: loadBefore, after: os.loadavg()[0] },
    };
  } catch (error) {
    ctx.failures.push({
      scenario: 'steady-state load',
      reason: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    await stopAll(groups.flatMap((g) => g.members));
  }
}
