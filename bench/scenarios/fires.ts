// The cost of `@LeaderOnly({ once: true })` (`npm run bench -- --only fires`): three replicas of a
// Nest app (bench/fixtures/fires.ts, a process each) on one Lease at the default timings, with cron
// jobs claimed in the Lease (once) or plain `@LeaderOnly()`, each variant on its own Lease, one after
// the other. Per variant over a window of whole periods: API requests per minute on the Lease (audit
// log, per replica by User-Agent), Lease writes per fire, and from each fire's scheduled instant to
// its run's start.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { CandidateProcess, REPO_ROOT } from '../../test/support/candidates.js';
import { uniqueName } from '../../test/support/cluster.js';
import { byVerb } from '../lib/audit.js';
import { leadersOf, stopAll, type BenchContext, type BenchEvent } from '../lib/context.js';
import {
  claimWrites,
  fireWindow,
  tallyRuns,
  type ClaimWrite,
  type JobRun,
  type RunTally,
} from '../lib/fire-runs.js';
import { CpuWindow, round2 } from '../lib/procstat.js';
import { sleep, summarize, type Summary } from '../lib/stats.js';
import { waitForSettledLeader } from './takeover.js';

/** One variant: `jobs` jobs on one schedule, once or plain, measured over `instants` periods. */
export interface FiresVariantSpec {
  label: string;
  once: boolean;
  jobs: number;
  /** A six-field cron expression firing every `period` ms on whole periods of the epoch. */
  cron: string;
  period: number;
  instants: number;
}

export interface FiresPlan {
  replicas: number;
  variants: FiresVariantSpec[];
  /** From the settled leader to the warm-up fire, at least (see `fireWindow`). */
  warmupMs: number;
}

export interface ReplicaLoad {
  identity: string;
  role: 'leader' | 'follower';
  requestsPerMinute: number;
  byVerb: Record<string, number>;
  /** The process's CPU time in the window (user + system), ms per minute. */
  cpuMsPerMinute: number | null;
}

export interface FiresVariant extends FiresVariantSpec {
  lease: string;
  window: { from: number; to: number };
  /**
   * The fire before the window, the first on the settled leader (for the leader, often its first
   * ever): from its instant to each job's run, apart from the window's.
   */
  warmup: { instant: number; runs: number; delayMs: Summary | null };
  leaderChangesInWindow: number;
  /** Runs per fire, and from each fire's instant to its run's start. */
  runs: Omit<RunTally, 'delaysMs'> & { delayMs: Summary | null; delaysMs: number[] };
  /** Outcomes the replicas recorded for the window's fires (once only), by result. */
  outcomes: Record<string, number>;
  requests: {
    totalPerMinute: number;
    byVerb: Record<string, number>;
    leader: ReplicaLoad;
    followers: ReplicaLoad[];
  };
  /** Successful Lease updates in the window (every replica), and per fire run. */
  writes: { total: number; perMinute: number; perFire: number | null };
  /** The write that claimed each instant's fires (once only), as the API server saw it. */
  claims: {
    found: number;
    receivedMs: Summary | null;
    serverMs: Summary | null;
    writes: ClaimWrite[];
  };
  loadAverage: { before: number; after: number };
}

export interface FiresResult {
  replicas: number;
  warmupMs: number;
  variants: FiresVariant[];
}

/** Starts one replica of bench/fixtures/fires.ts (compiled). */
function spawnReplica(
  ctx: BenchContext,
  spec: FiresVariantSpec,
  lease: string,
  identity: string,
): CandidateProcess {
  const child = spawn(process.execPath, [path.join(ctx.buildDir, 'bench/fixtures/fires.js')], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      KUBECONFIG: ctx.kubeconfig,
      NAMESPACE: ctx.namespace,
      LEASE: lease,
      IDENTITY: identity,
      ONCE: spec.once ? '1' : '0',
      JOBS: String(spec.jobs),
      CRON: spec.cron,
    },
  });
  const replica = new CandidateProcess(
    { impl: 'ours', identity, lease, kubeconfig: ctx.kubeconfig, namespace: ctx.namespace },
    child,
  );
  ctx.children.add(replica);
  void replica.exited.then(() => ctx.children.delete(replica));
  return replica;
}

/** The fixture's events beyond the candidates' vocabulary. */
type FiresEvent = BenchEvent & {
  job?: string;
  start?: number;
  scheduledAt?: number;
  result?: string;
};

const eventsOf = (replica: CandidateProcess) => replica.events as FiresEvent[];

/** Percent of one core -> ms of CPU per minute. */
const cpuPerMinute = (percent: number | undefined) =>
  percent === undefined ? null : Math.round((percent / 100) * 60_000);

async function runVariant(
  ctx: BenchContext,
  spec: FiresVariantSpec,
  plan: FiresPlan,
): Promise<FiresVariant> {
  const loadBefore = os.loadavg()[0];
  const lease = uniqueName(`fires-${spec.label}`);
  const replicas: CandidateProcess[] = [];
  try {
    for (let i = 0; i < plan.replicas; i++) {
      replicas.push(spawnReplica(ctx, spec, lease, `${spec.label}-${i}`));
      await sleep(150);
    }
    // A new Lease's creator leads a lease duration (15 s) after creating it.
    const leader = await waitForSettledLeader(replicas, 90_000);
    const window = fireWindow(Date.now(), spec.period, spec.instants, plan.warmupMs);
    ctx.log(
      `fires ${spec.label}: ${leader} leads; warm-up fire ${new Date(window.warmup).toISOString()}, window ${new Date(window.from).toISOString()} + ${
        (window.to - window.from) / 1000
      } s`,
    );
    const marks = new Map(replicas.map((r) => [r, r.events.length]));
    await sleep(window.from - Date.now());
    const cpu = new CpuWindow(replicas.map((r) => r.child.pid!));
    await sleep(window.to - Date.now());
    const usage = cpu.stop();
    // Long enough for the audit log and the replicas' last lines.
    await sleep(1_500);

    const all = replicas.flatMap(eventsOf);
    const runs: JobRun[] = all
      .filter((e) => e.event === ('run' as BenchEvent['event']))
      .map((e) => ({
        job: e.job!,
        start: e.start!,
        ...(e.scheduledAt === undefined ? {} : { scheduledAt: e.scheduledAt }),
      }));
    const jobs = Array.from({ length: spec.jobs }, (_, i) => `job-${i}`);
    const tally = tallyRuns(runs, jobs, window.instants, spec.period);
    const warmup = tallyRuns(runs, jobs, [window.warmup], spec.period).delaysMs;
    const inWindow = new Set(window.instants);
    const outcomes: Record<string, number> = {};
    for (const e of all) {
      if (e.event !== ('fire' as BenchEvent['event']) || !inWindow.has(e.scheduledAt!)) continue;
      outcomes[e.result!] = (outcomes[e.result!] ?? 0) + 1;
    }
    const leaderChangesInWindow = replicas
      .flatMap((r) => r.events.slice(marks.get(r)))
      .filter((e) => e.event === 'started_leading' || e.event === 'stopped_leading').length;
    const leaders = leadersOf(replicas);

    const { from, to } = window;
    const minutes = (to - from) / 60_000;
    const perReplica = replicas.map((r): ReplicaLoad & { updates: number } => {
      const requests = ctx.audit.select({ userAgent: r.identity, lease, from, to });
      return {
        identity: r.identity,
        role: leaders.includes(r.identity) ? 'leader' : 'follower',
        requestsPerMinute: round2(requests.length / minutes),
        byVerb: byVerb(requests),
        cpuMsPerMinute: cpuPerMinute(usage.get(r.child.pid!)?.cpuPercent),
        updates: requests.filter((q) => q.verb === 'update' && q.code === 200).length,
      };
    });
    const everyRequest = ctx.audit.select({ lease, from, to });
    const updates = perReplica.reduce((sum, r) => sum + r.updates, 0);
    const ran = tally.ranOnce + tally.ranMoreThanOnce;
    const leaderUpdates = ctx.audit.select({ userAgent: leader, lease, from, to });
    const claims = spec.once ? claimWrites(leaderUpdates, runs, window.instants, spec.period) : [];
    const strip = ({ updates: _, ...rest }: ReplicaLoad & { updates: number }) => rest;
    const leaderRequests = perReplica.find((r) => r.identity === leader) ?? perReplica[0];
    const result: FiresVariant = {
      ...spec,
      lease,
      window: { from, to },
      warmup: { instant: window.warmup, runs: warmup.length, delayMs: summarize(warmup) },
      leaderChangesInWindow,
      runs: { ...tally, delayMs: summarize(tally.delaysMs) },
      outcomes,
      requests: {
        totalPerMinute: round2(everyRequest.length / minutes),
        byVerb: byVerb(everyRequest),
        leader: strip(leaderRequests),
        followers: perReplica.filter((r) => r !== leaderRequests).map(strip),
      },
      writes: {
        total: updates,
        perMinute: round2(updates / minutes),
        perFire: ran > 0 ? round2(updates / ran) : null,
      },
      claims: {
        found: claims.length,
        receivedMs: summarize(claims.map((c) => c.receivedMs)),
        serverMs: summarize(claims.map((c) => c.serverMs)),
        writes: claims,
      },
      loadAverage: { before: loadBefore, after: os.loadavg()[0] },
    };
    ctx.log(
      `fires ${spec.label}: ${tally.ranOnce}/${tally.fires} fires ran once, ${tally.ranMoreThanOnce} more than once, ${tally.notRun} not run; ` +
        `delay p50 ${result.runs.delayMs?.p50 ?? 'n/a'} ms; ${result.requests.totalPerMinute} requests/min, ${result.writes.perMinute} writes/min`,
    );
    if (leaderChangesInWindow > 0) {
      ctx.failures.push({
        scenario: `fires ${spec.label}`,
        reason: `${leaderChangesInWindow} leadership changes during the window`,
      });
    }
    if (tally.ranOnce !== tally.fires) {
      ctx.failures.push({
        scenario: `fires ${spec.label}`,
        reason: `${tally.notRun} fires not run, ${tally.ranMoreThanOnce} run more than once, of ${tally.fires}`,
      });
    }
    return result;
  } finally {
    await stopAll(replicas);
  }
}

/** Every variant of the plan, one after the other, each on a Lease of its own. */
export async function firesScenario(ctx: BenchContext, plan: FiresPlan): Promise<FiresResult> {
  const variants: FiresVariant[] = [];
  for (const spec of plan.variants) {
    try {
      variants.push(await runVariant(ctx, spec, plan));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      ctx.failures.push({ scenario: `fires ${spec.label}`, reason });
      ctx.log(`fires ${spec.label}: FAILED: ${reason}`);
    }
  }
  return { replicas: plan.replicas, warmupMs: plan.warmupMs, variants };
}
