// An election spread over shares (SpreadElector): R replica processes on S share Leases and one
// membership Lease, with J jobs mapped to the shares. Per cell (J jobs on R replicas): the start
// until the shares are balanced; the steady state (requests per minute on the server from the audit
// log, split by Lease and verb, CPU and RSS per replica); a join (replica R+1 starts) and a crash
// (SIGKILL of the original replica that leads the most shares) until balanced again, with the
// handovers; two leaders of one share at once, from the replicas' own reports, over the whole cell.
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { shareOf } from '../../lib/core/spread/shares.js';
import { CandidateProcess, REPO_ROOT } from '../../test/support/candidates.js';
import { uniqueName } from '../../test/support/cluster.js';
import { byVerb, type AuditRequest } from '../lib/audit.js';
import {
  eventsOf,
  stopAll,
  type BenchContext,
  type BenchEvent,
  type Profile,
} from '../lib/context.js';
import { CpuWindow, round2 } from '../lib/procstat.js';
import {
  balanceTimes,
  balancedAt,
  holdersAt,
  lastChange,
  leaderlessShareMs,
  ledCounts,
  shareIntervals,
  shareOverlap,
  startsBetween,
  type ShareOverlap,
  type SpreadReplica,
} from '../lib/shares.js';
import { sleep } from '../lib/stats.js';

export interface SpreadCellSpec {
  jobs: number;
  replicas: number;
}

export interface SpreadPlan {
  cells: SpreadCellSpec[];
  profile: Profile;
  /** The replicas' membership renewal interval (ms); undefined: the engine's default. */
  membershipInterval?: number;
  windowMs: number;
  warmupMs: number;
}

/** Shares per cell: two per replica, at most one per job. */
export const sharesFor = (spec: SpreadCellSpec) => Math.min(2 * spec.replicas, spec.jobs);

/** Balanced "for good" once no share changed hands for this long (ms): five balance checks. */
export const quietTime = (profile: Profile) => 5 * profile.retryPeriod;

/** Requests per minute of one replica in the window, on the server (audit log). */
export interface SpreadRequests {
  total: number;
  /** `update` of a share Lease: the leader's renewals. */
  renews: number;
  /** Every request on the membership Lease but watches: its renewals (and reads after a conflict). */
  membership: number;
  /** Watches opened, on any of the Leases. */
  watches: number;
  /** Anything else (`get` or `create` of a share Lease). */
  other: number;
}

export interface SpreadReplicaLoad {
  identity: string;
  /** Shares and jobs it leads in the window. */
  shares: number;
  jobs: number;
  perMinute: SpreadRequests;
  byVerb: { shares: Record<string, number>; members: Record<string, number> };
  /** Requests on the server in the window, and the process's own count over about the same window. */
  serverCounted: number;
  clientCounted: number | null;
  /** Gated job runs in the window (each job's gate checked every second). */
  jobRuns: number | null;
  cpuPercent: number | null;
  rssMb: number | null;
  peakRssMb: number | null;
}

export interface SpreadSteady {
  windowMs: number;
  replicas: SpreadReplicaLoad[];
  /** All replicas together. */
  perMinute: SpreadRequests;
  /** Shares that changed hands in the window (should be 0). */
  changesInWindow: number;
}

/** From an event (start, join, crash) until the shares are balanced again. */
export interface Rebalance {
  kind: 'start' | 'join' | 'crash';
  /** The replica that joined or was killed (start: the first one). */
  replica: string;
  replicasAfter: number;
  /** Crash: the shares the victim led when killed. */
  victimShares?: number;
  /** Crash: from the SIGKILL until each of them is led again. */
  allLedMs?: number | null;
  /** Until the first moment every live replica led floor or ceil of S/R. */
  firstBalancedMs: number | null;
  /** Until the balance that lasted (no share changed hands for the quiet time after it). */
  balancedMs: number | null;
  /** Shares taken (`started_leading`) until the lasting balance. */
  handovers: number;
  /** Step-downs to even out the shares ("handing share ... over") until the lasting balance. */
  stepDowns: number;
  /** The successor each of those step-downs named, in order. */
  successors: string[];
  /** Time without a leader until the lasting balance, summed over the shares (ms). */
  leaderlessShareMs: number;
  /** Crash: the same from the moment all the victim's shares were led again. */
  leaderlessAfterRetakenMs?: number;
  /** Shares led per live replica afterwards. */
  sharesAfter: Record<string, number>;
  /** Crash: shares taken after the lasting balance, until the victim's membership entry expired. */
  movesAfter?: number;
}

export interface SpreadCell {
  jobs: number;
  replicas: number;
  shares: number;
  lease: string;
  /** As the replicas report them (the engine's defaults unless the plan sets them), ms. */
  renewInterval: number;
  membershipInterval: number;
  jobsPerShare: number[];
  start: Rebalance;
  steady: SpreadSteady;
  join: Rebalance;
  crash: Rebalance;
  /** Two leaders of one share at once, from the replicas' reports, over the whole cell. */
  overlap: ShareOverlap;
  /** Warnings and errors the replicas logged. */
  problems: string[];
}

export interface SpreadResult {
  profile: Profile;
  windowMs: number;
  warmupMs: number;
  quietMs: number;
  cells: SpreadCell[];
  loadAverage: { before: number; after: number };
}

interface CellRun {
  spec: SpreadCellSpec;
  shares: number;
  lease: string;
  replicas: SpreadReplica[];
}

function spawnReplica(
  ctx: BenchContext,
  plan: SpreadPlan,
  run: CellRun,
  identity: string,
): SpreadReplica {
  const { profile } = plan;
  const child = spawn(
    process.execPath,
    [path.join(ctx.buildDir, 'test/fixtures/spread-candidate.js')],
    {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        KUBECONFIG: ctx.kubeconfig,
        NAMESPACE: ctx.namespace,
        LEASE: run.lease,
        IDENTITY: identity,
        LEASE_DURATION_MS: String(profile.leaseDuration),
        RENEW_DEADLINE_MS: String(profile.renewDeadline),
        RETRY_PERIOD_MS: String(profile.retryPeriod),
        SHARES: String(run.shares),
        JOBS: String(run.spec.jobs),
        ...(plan.membershipInterval
          ? { MEMBERSHIP_INTERVAL_MS: String(plan.membershipInterval) }
          : {}),
      },
    },
  );
  const candidate = new CandidateProcess(
    {
      impl: 'ours',
      identity,
      lease: run.lease,
      kubeconfig: ctx.kubeconfig,
      namespace: ctx.namespace,
    },
    child,
  );
  ctx.children.add(candidate);
  void candidate.exited.then(() => ctx.children.delete(candidate));
  const replica = { identity, process: candidate };
  run.replicas.push(replica);
  return replica;
}

const live = (run: CellRun) => run.replicas.filter((r) => r.killedAt === undefined);
const ids = (replicas: readonly SpreadReplica[]) => replicas.map((r) => r.identity);

/** Log lines of a replica that match `pattern`, reported in [from, to). */
function logLines(replica: SpreadReplica, pattern: RegExp, from: number, to = Infinity) {
  return eventsOf(replica.process).filter(
    (e) => e.event === 'log' && e.at >= from && e.at < to && pattern.test(e.message ?? ''),
  );
}

/** The step-downs to even out the shares in [from, to), and whom each named as successor. */
function stepDowns(run: CellRun, from: number, to: number) {
  const lines = run.replicas
    .flatMap((r) => logLines(r, /^handing share/, from, to))
    .sort((a, b) => a.at - b.at);
  return {
    stepDowns: lines.length,
    successors: lines.map((e) => / over to (\S+) to even out/.exec(e.message ?? '')?.[1] ?? '?'),
  };
}

/**
 * Waits until the shares are balanced over the live replicas and none changed hands for the quiet
 * time, then measures from `t0`. Throws (with the shares per replica) after `timeoutMs`.
 */
async function rebalance(
  run: CellRun,
  quietMs: number,
  t0: number,
  timeoutMs: number,
  base: Pick<Rebalance, 'kind' | 'replica'>,
): Promise<Rebalance> {
  const members = ids(live(run));
  const deadline = t0 + timeoutMs;
  for (;;) {
    const now = Date.now();
    const intervals = shareIntervals(run.replicas);
    if (
      balancedAt(intervals, run.shares, members, now) &&
      lastChange(intervals, t0, now) <= now - quietMs
    ) {
      const times = balanceTimes(intervals, run.shares, members, t0, now);
      const lasting = times.lastingAt ?? now;
      const counts = ledCounts(intervals, run.shares, members, now);
      return {
        ...base,
        replicasAfter: members.length,
        firstBalancedMs: times.firstAt === null ? null : round2(times.firstAt - t0),
        balancedMs: round2(lasting - t0),
        handovers: startsBetween(intervals, t0, lasting + 1),
        ...stepDowns(run, t0, lasting + 1),
        leaderlessShareMs: leaderlessShareMs(intervals, run.shares, t0, lasting),
        sharesAfter: Object.fromEntries(members.map((id, i) => [id, counts[i]])),
      };
    }
    if (now > deadline) {
      const holders = holdersAt(intervals, run.shares, now);
      throw new Error(
        `${base.kind}: shares not balanced over ${members.join(', ')} within ${timeoutMs} ms ` +
          `(holders by share: ${holders.map((h) => h.join('+') || '-').join(', ')})`,
      );
    }
    await sleep(100);
  }
}

/** Sends SIGUSR2 and returns the replica's request counts and job runs. */
async function ownCounts(replica: SpreadReplica): Promise<{ requests: number; jobRuns: number }> {
  const since = replica.process.events.length;
  replica.process.kill('SIGUSR2');
  const event = (await replica.process.waitFor(
    (e) => (e as BenchEvent).event === 'requests',
    5_000,
    since,
  )) as BenchEvent & { jobRuns?: number };
  const requests = Object.values(event.counts ?? {})
    .flatMap((verbs) => Object.values(verbs))
    .reduce((a, b) => a + b, 0);
  return { requests, jobRuns: event.jobRuns ?? 0 };
}

function classify(requests: readonly AuditRequest[], lease: string, minutes: number) {
  const members = requests.filter((r) => r.name === `${lease}-members`);
  const shares = requests.filter((r) => r.name !== `${lease}-members`);
  const per = (n: number) => round2(n / minutes);
  const renews = shares.filter((r) => r.verb === 'update').length;
  const membership = members.filter((r) => r.verb !== 'watch').length;
  const watches = requests.filter((r) => r.verb === 'watch').length;
  return {
    perMinute: {
      total: per(requests.length),
      renews: per(renews),
      membership: per(membership),
      watches: per(watches),
      other: per(requests.length - renews - membership - watches),
    },
    byVerb: { shares: byVerb(shares), members: byVerb(members) },
  };
}

async function steadyState(
  ctx: BenchContext,
  plan: SpreadPlan,
  run: CellRun,
  jobsPerShare: number[],
): Promise<SpreadSteady> {
  await sleep(plan.warmupMs);
  const replicas = live(run);
  const before = new Map(
    await Promise.all(replicas.map(async (r) => [r, await ownCounts(r)] as const)),
  );
  const cpu = new CpuWindow(replicas.map((r) => r.process.child.pid!));
  const from = Date.now();
  ctx.log(`spread ${run.lease}: measuring for ${plan.windowMs} ms`);
  await sleep(plan.windowMs);
  const to = Date.now();
  const usage = cpu.stop();
  const after = new Map(
    await Promise.all(replicas.map(async (r) => [r, await ownCounts(r)] as const)),
  );
  const intervals = shareIntervals(run.replicas);
  const holders = holdersAt(intervals, run.shares, to);
  const minutes = (to - from) / 60_000;
  const all: AuditRequest[] = [];
  const loads = replicas.map((r): SpreadReplicaLoad => {
    const requests = ctx.audit.select({
      userAgent: r.identity,
      lease: (name) => name.startsWith(`${run.lease}-`),
      from,
      to,
    });
    all.push(...requests);
    const led = holders.flatMap((h, share) => (h.includes(r.identity) ? [share] : []));
    const own = before.get(r) && after.get(r);
    const processUsage = usage.get(r.process.child.pid!);
    return {
      identity: r.identity,
      shares: led.length,
      jobs: led.reduce((a, share) => a + jobsPerShare[share], 0),
      ...classify(requests, run.lease, minutes),
      serverCounted: requests.length,
      clientCounted: own ? after.get(r)!.requests - before.get(r)!.requests : null,
      jobRuns: own ? after.get(r)!.jobRuns - before.get(r)!.jobRuns : null,
      cpuPercent: processUsage?.cpuPercent ?? null,
      rssMb: processUsage?.rssMb ?? null,
      peakRssMb: processUsage?.peakRssMb ?? null,
    };
  });
  return {
    windowMs: to - from,
    replicas: loads,
    perMinute: classify(all, run.lease, minutes).perMinute,
    changesInWindow: startsBetween(intervals, from, to),
  };
}

async function crash(
  ctx: BenchContext,
  plan: SpreadPlan,
  run: CellRun,
  quietMs: number,
  membershipInterval: number,
): Promise<Rebalance> {
  // The original replica that leads the most shares (the first of them on a tie).
  const original = run.replicas.slice(0, run.spec.replicas);
  const before = shareIntervals(run.replicas);
  const counts = ledCounts(before, run.shares, ids(original), Date.now());
  const victim = original[counts.indexOf(Math.max(...counts))];
  const led = holdersAt(before, run.shares, Date.now()).flatMap((h, share) =>
    h.includes(victim.identity) ? [share] : [],
  );
  victim.killedAt = Date.now();
  victim.process.kill('SIGKILL');
  const t0 = victim.killedAt;
  const { profile } = plan;
  const ttl = 3 * membershipInterval;
  const timeout = profile.leaseDuration + ttl + quietMs + 60_000;
  const result = await rebalance(run, quietMs, t0, timeout, {
    kind: 'crash',
    replica: victim.identity,
  });
  // Until the victim's membership entry has surely expired (it was renewed before the kill).
  const expiredAt = t0 + ttl + quietMs;
  if (Date.now() < expiredAt) await sleep(expiredAt - Date.now());
  const intervals = shareIntervals(run.replicas);
  const retaken = led.map(
    (share) =>
      intervals.find((i) => i.share === share && i.start >= t0 && i.identity !== victim.identity)
        ?.start,
  );
  ctx.log(
    `spread ${run.lease}: crash of ${victim.identity} balanced after ${result.balancedMs} ms`,
  );
  const allLedAt = retaken.every((at) => at !== undefined)
    ? Math.max(t0, ...(retaken as number[]))
    : null;
  const lasting = t0 + (result.balancedMs ?? 0);
  return {
    ...result,
    victimShares: led.length,
    allLedMs: allLedAt === null ? null : round2(allLedAt - t0),
    ...(allLedAt === null
      ? {}
      : {
          leaderlessAfterRetakenMs: leaderlessShareMs(
            intervals,
            run.shares,
            allLedAt,
            Math.max(allLedAt, lasting),
          ),
        }),
    movesAfter: startsBetween(intervals, t0 + (result.balancedMs ?? 0) + 1, Date.now()),
  };
}

async function spreadCell(
  ctx: BenchContext,
  plan: SpreadPlan,
  spec: SpreadCellSpec,
): Promise<SpreadCell> {
  const shares = sharesFor(spec);
  const run: CellRun = {
    spec,
    shares,
    lease: uniqueName(`spread-${spec.jobs}j${spec.replicas}r`),
    replicas: [],
  };
  const jobsPerShare = Array.from({ length: shares }, () => 0);
  for (let i = 0; i < spec.jobs; i++) jobsPerShare[shareOf(`Jobs.job${i}`, shares)] += 1;
  const { profile } = plan;
  const quietMs = quietTime(profile);
  const name = (i: number) => `spread-${spec.jobs}j${spec.replicas}r-${i}`;
  const cellStart = Date.now();
  try {
    for (let i = 0; i < spec.replicas; i++) {
      spawnReplica(ctx, plan, run, name(i));
      await sleep(150);
    }
    const ready = await run.replicas[0].process.waitFor((e) => e.event === 'ready', 30_000);
    const { renewInterval, membershipInterval } = ready as unknown as Record<string, number>;
    const timeout = 2 * profile.leaseDuration + 3 * membershipInterval + 60_000;
    const start = await rebalance(run, quietMs, cellStart, timeout, {
      kind: 'start',
      replica: name(0),
    });
    ctx.log(`spread ${run.lease}: ${shares} shares balanced after ${start.balancedMs} ms`);
    const steady = await steadyState(ctx, plan, run, jobsPerShare);
    const joinedAt = Date.now();
    spawnReplica(ctx, plan, run, name(spec.replicas));
    const join = await rebalance(run, quietMs, joinedAt, timeout, {
      kind: 'join',
      replica: name(spec.replicas),
    });
    ctx.log(`spread ${run.lease}: join balanced after ${join.balancedMs} ms`);
    const crashed = await crash(ctx, plan, run, quietMs, membershipInterval);
    const cellEnd = Date.now();
    return {
      jobs: spec.jobs,
      replicas: spec.replicas,
      shares,
      lease: run.lease,
      renewInterval,
      membershipInterval,
      jobsPerShare,
      start,
      steady,
      join,
      crash: crashed,
      overlap: shareOverlap(shareIntervals(run.replicas), shares, cellStart, cellEnd),
      problems: run.replicas.flatMap((r) =>
        eventsOf(r.process)
          .filter((e) => e.event === 'log' && e.level !== 'log')
          .map((e) => `${r.identity}: ${e.level}: ${e.message}`),
      ),
    };
  } finally {
    await stopAll(live(run).map((r) => r.process));
  }
}

/** Every cell of the plan, one after the other. */
export async function spreadScenario(ctx: BenchContext, plan: SpreadPlan): Promise<SpreadResult> {
  const loadBefore = os.loadavg()[0];
  const cells: SpreadCell[] = [];
  for (const spec of plan.cells) {
    ctx.log(`spread: ${spec.jobs} jobs on ${spec.replicas} replicas, ${sharesFor(spec)} shares`);
    try {
      cells.push(await spreadCell(ctx, plan, spec));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      ctx.failures.push({
        scenario: `spread ${spec.jobs} jobs / ${spec.replicas} replicas`,
        reason,
      });
      ctx.log(`spread: FAILED: ${reason}`);
    }
  }
  for (const cell of cells) {
    const label = `spread ${cell.jobs} jobs / ${cell.replicas} replicas`;
    if (cell.overlap.totalMs > 0)
      ctx.failures.push({
        scenario: label,
        reason: `two leaders of shares ${cell.overlap.shares.join(', ')}`,
      });
    if (cell.steady.changesInWindow > 0)
      ctx.failures.push({
        scenario: label,
        reason: `${cell.steady.changesInWindow} share moves in the steady window`,
      });
  }
  return {
    profile: plan.profile,
    windowMs: plan.windowMs,
    warmupMs: plan.warmupMs,
    quietMs: quietTime(plan.profile),
    cells,
    loadAverage: { before: loadBefore, after: os.loadavg()[0] },
  };
}
