// `npm run bench:first-election`: the first election of a new deployment, nestjs-kube-leader vs
// client-go, on one local kube-apiserver. Per implementation and profile, each run starts 3 candidates
// at once on a Lease nobody has seen (as a new Deployment would) and measures
//   - spawn -> leader: from the spawn of the first process to the first started_leading;
//   - create -> leader: from the Lease's creation to it. The creation is the create's answer as the
//     creating candidate reports it (ours logs "... leads in N s" right after it), else the completion
//     of the successful create in the audit log, else the spawn;
// and checks that exactly one candidate led. Prints a markdown table, writes the raw data to
// bench/results/first-election.json, and stops everything it started (also on SIGINT).
//
//   npm run bench:first-election                 # 3 runs per implementation and profile, ~3 minutes
//   npm run bench:first-election -- --runs 5 --keep   (--keep: keep the state dir)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../test/control-plane/control-plane.js';
import type { CandidateProcess } from '../test/support/candidates.js';
import { uniqueName } from '../test/support/cluster.js';
import {
  eventsOf,
  firstEvent,
  IMPLS,
  leadersOf,
  PROFILES,
  spawnCandidate,
  startBench,
  stopAll,
  stopBench,
  type BenchContext,
  type Failure,
  type Impl,
  type Profile,
} from './lib/context.js';
import { sleep, summarize, type Summary } from './lib/stats.js';
import { waitForSettledLeader } from './scenarios/takeover.js';

const REPLICAS = 3;
const argv = process.argv.slice(2);
const runsArg = argv.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(argv[runsArg + 1]) : 3;
/** Set on SIGINT: no further run starts, and no results are written. */
let interrupted = false;

interface FirstElectionRun {
  run: number;
  lease: string;
  spawnAt: number;
  /** The first started_leading (the leader's own clock, same machine). */
  leaderAt: number;
  leader: string;
  /** Who created the Lease, and when the create completed on the API server (audit log). */
  creator?: string;
  auditCreateAt?: number;
  /** When the creator reports the create's answer (ours: its "leads in N s" log line). */
  reportedCreateAt?: number;
  createSource: 'reported' | 'audit' | 'spawn';
  /** Creates sent by the group (one 201, the others 409). */
  creates: number;
  spawnToLeaderMs: number;
  spawnToCreateMs?: number;
  createToLeaderMs: number;
  /** Electors that reported started_leading during the run (must be 1). */
  leaders: string[];
}

interface FirstElectionSeries {
  impl: Impl;
  profile: Profile;
  runs: FirstElectionRun[];
  failedRuns: number;
  spawnToLeaderMs: Summary | null;
  createToLeaderMs: Summary | null;
}

async function firstElection(
  ctx: BenchContext,
  impl: Impl,
  profile: Profile,
  run: number,
): Promise<FirstElectionRun> {
  const short = impl === 'ours' ? 'ours' : 'go';
  const lease = uniqueName(`first-${short}-${profile.name}`);
  const spawnAt = Date.now();
  const group: CandidateProcess[] = [];
  for (let i = 0; i < REPLICAS; i++) {
    const identity = `${short}-first${profile.name[0]}${run}-${i}`;
    group.push(spawnCandidate(ctx, { impl, identity, lease, profile }));
  }
  try {
    const timeout = 2 * profile.leaseDuration + 30_000;
    const { event } = await firstEvent(group, (e) => e.event === 'started_leading', timeout);
    // Let every candidate see the leader, then a few retry periods for a second leader to show.
    await waitForSettledLeader(group, timeout);
    await sleep(3 * profile.retryPeriod + 1_000);
    const started = group.flatMap((c) => eventsOf(c).filter((e) => e.event === 'started_leading'));
    const leaders = started.map((e) => e.identity);
    const leadingNow = leadersOf(group, lease);
    if (leaders.length !== 1 || leadingNow.length !== 1) {
      throw new Error(`expected one leader, got ${JSON.stringify({ leaders, leadingNow })}`);
    }
    const creates = ctx.audit.select({ lease, from: spawnAt }).filter((r) => r.verb === 'create');
    const created = creates.find((r) => r.code === 201);
    const reported = group
      .flatMap((c) => eventsOf(c))
      .find((e) => e.event === 'log' && e.message?.includes(' leads in '));
    const createAt = reported?.at ?? created?.completedAt;
    return {
      run,
      lease,
      spawnAt,
      leaderAt: event.at,
      leader: event.identity,
      creator: created?.userAgent,
      auditCreateAt: created?.completedAt,
      reportedCreateAt: reported?.at,
      createSource: reported ? 'reported' : created ? 'audit' : 'spawn',
      creates: creates.length,
      spawnToLeaderMs: round1(event.at - spawnAt),
      spawnToCreateMs: createAt === undefined ? undefined : round1(createAt - spawnAt),
      createToLeaderMs: round1(event.at - (createAt ?? spawnAt)),
      leaders,
    };
  } finally {
    await stopAll(group, 5_000);
  }
}

async function series(ctx: BenchContext, impl: Impl, profile: Profile) {
  const scenario = `first election ${impl} ${profile.name}`;
  const runs: FirstElectionRun[] = [];
  let failed = 0;
  for (let run = 1; run <= RUNS && !interrupted; run++) {
    try {
      const r = await firstElection(ctx, impl, profile, run);
      runs.push(r);
      ctx.log(
        `${scenario} run ${run}/${RUNS}: ${r.leader} leads ${r.spawnToLeaderMs} ms after the spawn, ` +
          `${r.createToLeaderMs} ms after the create (${r.createSource}; ${r.creates} creates)`,
      );
    } catch (error) {
      failed += 1;
      const reason = error instanceof Error ? error.message : String(error);
      ctx.failures.push({ scenario, run, reason });
      ctx.log(`${scenario} run ${run}: FAILED: ${reason}`);
    }
  }
  return {
    impl,
    profile,
    runs,
    failedRuns: failed,
    spawnToLeaderMs: summarize(runs.map((r) => r.spawnToLeaderMs)),
    createToLeaderMs: summarize(runs.map((r) => r.createToLeaderMs)),
  } satisfies FirstElectionSeries;
}

const seconds = (ms: number | undefined) =>
  ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`;

function table(all: readonly FirstElectionSeries[]): string {
  const lines = [
    '| implementation | profile (lease/renew/retry) | runs | spawn → leader p50 | max | create → leader p50 | max | one leader |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const s of all) {
    const p = s.profile;
    lines.push(
      `| ${s.impl} | ${p.name} (${p.leaseDuration / 1000}/${p.renewDeadline / 1000}/${p.retryPeriod / 1000} s) ` +
        `| ${s.runs.length}/${s.runs.length + s.failedRuns} ` +
        `| ${seconds(s.spawnToLeaderMs?.p50)} | ${seconds(s.spawnToLeaderMs?.max)} ` +
        `| ${seconds(s.createToLeaderMs?.p50)} | ${seconds(s.createToLeaderMs?.max)} ` +
        `| ${s.failedRuns === 0 ? 'yes' : `${s.failedRuns} failed`} |`,
    );
  }
  return lines.join('\n');
}

const t0 = Date.now();
const log = (line: string) =>
  process.stderr.write(`[first ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);

async function main(): Promise<number> {
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('--runs needs a positive integer');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const stateDir = path.join(REPO_ROOT, '.control-plane', `first-${stamp}-${process.pid}`);
  const failures: Failure[] = [];
  const children = new Set<CandidateProcess>();
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: stopping what the bench started');
    void stopBench(stateDir, children).then(() => process.exit(130));
  });
  const all: FirstElectionSeries[] = [];
  const startedAt = new Date().toISOString();
  const loadAtStart = os.loadavg();
  try {
    const ctx = await startBench(stateDir, { quick: false, failures, children, log });
    for (const profile of [PROFILES.default, PROFILES.fast]) {
      for (const impl of IMPLS) if (!interrupted) all.push(await series(ctx, impl, profile));
    }
  } catch (error) {
    failures.push({
      scenario: 'bench',
      reason: error instanceof Error ? error.message : String(error),
    });
    log(`FAILED: ${failures.at(-1)?.reason}`);
  } finally {
    await stopBench(stateDir, children);
  }
  if (interrupted) return 130;
  const out = path.join(REPO_ROOT, 'bench', 'results', 'first-election.json');
  const machine = {
    cores: os.cpus().length,
    node: process.version,
    loadAtStart,
    loadAtEnd: os.loadavg(),
  };
  const results = {
    version: 1,
    startedAt,
    runsPerSeries: RUNS,
    replicas: REPLICAS,
    machine,
    series: all,
    failures,
  };
  fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${table(all)}\n`);
  log(`wrote ${path.relative(REPO_ROOT, out)}`);
  if (failures.length > 0) {
    log(`${failures.length} failure(s); state dir kept: ${stateDir}`);
    return 1;
  }
  if (!argv.includes('--keep')) fs.rmSync(stateDir, { recursive: true, force: true });
  return 0;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
