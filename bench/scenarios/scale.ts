// Scale: (a) one process running many elections (one Lease each) as the leader of all of them, next to
// a second process following all of them; (b) many candidates on one Lease, hosted a few per process,
// in steady state and through graceful handovers (the "thundering herd" of followers that all see
// the release at once). CPU and RSS from /proc; requests from the audit log.
import os from 'node:os';
import type { CandidateProcess } from '../../test/support/candidates.js';
import { uniqueName } from '../../test/support/cluster.js';
import { byVerb, handoverRequests, type HandoverRequests } from '../lib/audit.js';
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
import { CpuWindow, round2, type ProcessUsage } from '../lib/procstat.js';
import { sleep, summarize, type Summary } from '../lib/stats.js';

/** After each release, the requests of all candidates are counted over this window (ms). */
export const HANDOVER_BURST_MS = 3_000;

export interface ElectionsScale {
  impl: Impl;
  elections: number;
  profile: Profile;
  windowMs: number;
  /** From spawning the leading process until it leads every Lease. */
  timeToLeadAllMs: number;
  leaderProcess: ProcessUsage & {
    requestsPerMinute: number;
    byVerb: Record<string, number>;
  };
  followerProcess: ProcessUsage & {
    requestsPerMinute: number;
    byVerb: Record<string, number>;
  };
  leadershipChangesInWindow: number;
}

const distinct = (values: Iterable<string | undefined>) =>
  new Set([...values].filter((v): v is string => v !== undefined));

async function until(condition: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export async function manyElections(
  ctx: BenchContext,
  impl: Impl,
  profile: Profile,
  elections: number,
  windowMs: number,
  warmupMs: number,
): Promise<ElectionsScale> {
  const short = impl === 'ours' ? 'ours' : 'go';
  const prefix = uniqueName(`many-${short}`);
  const processes: CandidateProcess[] = [];
  try {
    const spawnedAt = Date.now();
    const leader = spawnCandidate(ctx, {
      impl,
      identity: `${short}-many-leader`,
      lease: prefix,
      profile,
      elections,
    });
    processes.push(leader);
    const leadsAll = () =>
      distinct(
        eventsOf(leader)
          .filter((e) => e.event === 'started_leading')
          .map((e) => e.lease),
      ).size === elections;
    await until(leadsAll, 120_000, `${impl}: one process leading ${elections} elections`);
    const timeToLeadAllMs =
      Math.max(
        ...eventsOf(leader)
          .filter((e) => e.event === 'started_leading')
          .map((e) => e.at),
      ) - spawnedAt;
    const follower = spawnCandidate(ctx, {
      impl,
      identity: `${short}-many-follower`,
      lease: prefix,
      profile,
      elections,
    });
    processes.push(follower);
    await until(
      () =>
        distinct(
          eventsOf(follower)
            .filter((e) => e.event === 'new_leader')
            .map((e) => e.lease),
        ).size === elections,
      120_000,
      `${impl}: a second process following ${elections} elections`,
    );
    await sleep(warmupMs);

    const since = marks(processes);
    const cpu = new CpuWindow(processes.map((p) => p.child.pid!));
    const from = Date.now();
    ctx.log(`${elections} elections in one process (${impl}): measuring for ${windowMs} ms`);
    await sleep(windowMs);
    const to = Date.now();
    const usage = cpu.stop();
    const isOurs = (name: string) => name.startsWith(`${prefix}-`);
    const describe = (p: CandidateProcess) => {
      const requests = ctx.audit.select({ userAgent: p.identity, lease: isOurs, from, to });
      return {
        ...usage.get(p.child.pid!)!,
        requestsPerMinute: round2((requests.length * 60_000) / (to - from)),
        byVerb: byVerb(requests),
      };
    };
    const changes = processes
      .flatMap((p) => p.events.slice(since.get(p)))
      .filter((e) => e.event === 'started_leading' || e.event === 'stopped_leading').length;
    const result: ElectionsScale = {
      impl,
      elections,
      profile,
      windowMs: to - from,
      timeToLeadAllMs,
      leaderProcess: describe(leader),
      followerProcess: describe(follower),
      leadershipChangesInWindow: changes,
    };
    ctx.log(
      `  leader process: ${result.leaderProcess.cpuPercent}% CPU, ${result.leaderProcess.rssMb} MB, ${result.leaderProcess.requestsPerMinute} req/min; ` +
        `follower process: ${result.followerProcess.cpuPercent}% CPU, ${result.followerProcess.rssMb} MB, ${result.followerProcess.requestsPerMinute} req/min`,
    );
    return result;
  } catch (error) {
    ctx.failures.push({
      scenario: `${elections} elections ${impl}`,
      reason: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    await stopAll(processes);
  }
}

export interface HerdHandover {
  from: string;
  to: string;
  handoverMs: number;
  /** Requests of all candidates on the Lease in the 3 s after the release signal. */
  requestsAfter: number;
  byVerb: Record<string, number>;
  conflicts: number;
  /** Requests from the signal to just after the new leader (the handover itself). */
  requests: HandoverRequests;
}

export interface CandidatesScale {
  impl: Impl;
  candidates: number;
  processes: number;
  profile: Profile;
  windowMs: number;
  processUsage: ProcessUsage[];
  totalCpuPercent: number;
  totalRssMb: number;
  requestsPerMinute: {
    total: number;
    leader: number;
    followersTotal: number;
    perFollower: { mean: number; max: number };
  };
  byVerb: Record<string, number>;
  leadershipChangesInWindow: number;
  handovers: HerdHandover[];
  handoverMs: Summary | null;
  /** Ours: the revision every candidate had (`POD_TEMPLATE_HASH`); absent: none. */
  revision?: string;
  /** Run on a machine loaded with a busy loop per core (bench/lib/busy-loops.ts). */
  loaded?: boolean;
  /** 1 / 5 / 15-minute load averages before and after (absent in older results). */
  loadAverage?: { before: number[]; after: number[] };
}

/** Identity -> the leader it last reported, over all electors of `processes`. */
function lastReportedLeader(processes: readonly CandidateProcess[]): Map<string, string> {
  const last = new Map<string, string>();
  for (const p of processes) {
    for (const e of eventsOf(p))
      if (e.event === 'new_leader' && e.leader) last.set(e.identity, e.leader);
  }
  return last;
}

async function settledHerd(
  processes: readonly CandidateProcess[],
  electors: number,
  timeoutMs: number,
) {
  let leader = '';
  await until(
    () => {
      const leaders = leadersOf(processes);
      if (leaders.length !== 1) return false;
      leader = leaders[0];
      const last = lastReportedLeader(processes);
      return (
        last.size >= electors && [...last.values()].filter((l) => l === leader).length >= electors
      );
    },
    timeoutMs,
    `one leader followed by all ${electors} candidates`,
  );
  return leader;
}

export async function manyCandidates(
  ctx: BenchContext,
  impl: Impl,
  profile: Profile,
  processCount: number,
  perProcess: number,
  windowMs: number,
  warmupMs: number,
  handoverCount: number,
  options: { revision?: string } = {},
): Promise<CandidatesScale> {
  const loadBefore = os.loadavg();
  const short = impl === 'ours' ? 'ours' : 'go';
  const lease = uniqueName(`herd-${short}`);
  const processes: CandidateProcess[] = [];
  const total = processCount * perProcess;
  try {
    for (let p = 0; p < processCount; p++) {
      processes.push(
        spawnCandidate(ctx, {
          impl,
          identity: `${short}-herd-${p}`,
          lease,
          profile,
          candidates: perProcess,
          ...(options.revision ? { revision: options.revision } : {}),
        }),
      );
      await sleep(300);
    }
    const timeout = profile.leaseDuration + profile.renewDeadline + 60_000;
    const leader = await settledHerd(processes, total, timeout);
    await sleep(warmupMs);

    const since = marks(processes);
    const cpu = new CpuWindow(processes.map((p) => p.child.pid!));
    const from = Date.now();
    ctx.log(`${total} candidates on one Lease (${impl}): measuring for ${windowMs} ms`);
    await sleep(windowMs);
    const to = Date.now();
    const usage = [...cpu.stop().values()];
    const mine = (ua: string) => ua.startsWith(`${short}-herd-`);
    const requests = ctx.audit.select({ userAgent: mine, lease, from, to });
    const perMinute = (n: number) => round2((n * 60_000) / (to - from));
    const perFollower = new Map<string, number>();
    for (const r of requests) {
      if (r.userAgent !== leader)
        perFollower.set(r.userAgent, (perFollower.get(r.userAgent) ?? 0) + 1);
    }
    const followerCounts = [...perFollower.values()];
    const followersTotal = followerCounts.reduce((a, b) => a + b, 0);
    const changes = processes
      .flatMap((p) => p.events.slice(since.get(p)))
      .filter((e) => e.event === 'started_leading' || e.event === 'stopped_leading').length;

    const handovers: HerdHandover[] = [];
    for (let h = 0; h < handoverCount; h++) {
      const current = await settledHerd(processes, total - h, timeout);
      const host = hostOf(processes, current)!;
      const mark = marks(processes);
      const signalAt = Date.now();
      host.kill('SIGUSR1');
      const { event } = await firstEvent(
        processes,
        (e) => e.event === 'started_leading' && e.identity !== current,
        profile.leaseDuration + 10_000,
        mark,
      );
      const requests = await handoverRequests(
        ctx.audit,
        { userAgent: mine, lease },
        signalAt,
        event.at,
      );
      await sleep(Math.max(0, signalAt + HANDOVER_BURST_MS - Date.now()));
      const burst = ctx.audit.select({
        userAgent: mine,
        lease,
        from: signalAt,
        to: signalAt + HANDOVER_BURST_MS,
      });
      handovers.push({
        from: current,
        to: event.identity,
        handoverMs: Math.round((event.at - signalAt) * 10) / 10,
        requestsAfter: burst.length,
        byVerb: byVerb(burst),
        conflicts: burst.filter((r) => r.code === 409).length,
        requests,
      });
      ctx.log(
        `  handover ${h + 1}: ${current} -> ${event.identity} in ${handovers.at(-1)!.handoverMs} ms, ${requests.total} requests in the handover, ${burst.length} requests in the next 3 s (${handovers.at(-1)!.conflicts} conflicts)`,
      );
    }

    const result: CandidatesScale = {
      impl,
      candidates: total,
      processes: processCount,
      profile,
      windowMs: to - from,
      processUsage: usage,
      totalCpuPercent: round2(usage.reduce((a, u) => a + u.cpuPercent, 0)),
      totalRssMb: round2(usage.reduce((a, u) => a + u.rssMb, 0)),
      requestsPerMinute: {
        total: perMinute(requests.length),
        leader: perMinute(requests.filter((r) => r.userAgent === leader).length),
        followersTotal: perMinute(followersTotal),
        perFollower: {
          mean: perMinute(followersTotal / Math.max(1, total - 1)),
          max: perMinute(Math.max(0, ...followerCounts)),
        },
      },
      byVerb: byVerb(requests),
      leadershipChangesInWindow: changes,
      handovers,
      handoverMs: summarize(handovers.map((h) => h.handoverMs)),
      ...(options.revision ? { revision: options.revision } : {}),
      loadAverage: { before: loadBefore, after: os.loadavg() },
    };
    ctx.log(
      `  ${total} candidates: ${result.totalCpuPercent}% CPU, ${result.totalRssMb} MB in ${processCount} processes, ${result.requestsPerMinute.total} req/min`,
    );
    return result;
  } catch (error) {
    ctx.failures.push({
      scenario: `${total} candidates ${impl}`,
      reason: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    await stopAll(processes);
  }
}
