// `npm run bench`: nestjs-kube-leader side by side with client-go's leaderelection on one local
// kube-apiserver. Starts its own control plane in a temporary state dir under .control-plane/, runs
// every scenario, writes bench/results/<date>.json, bench/results/timeline-<impl>.svg and
// bench/REPORT.md, and stops everything it started.
//
//   npm run bench                 # full run, about 20 minutes on 2 cores
//   npm run bench -- --quick      # smoke run (about 2 minutes), output in bench/results/quick/
//   options: --no-wait (do not wait for a quiet machine), --keep (keep the state dir)
//   npm run bench -- --only rollout [--quick]   # one scenario alone: raw data and its section in
//                                               # bench/results/only/ (REPORT.md untouched)
//   npm run bench -- --only spread   # the election spread over shares (not in the full run, ~15 min):
//                                    # bench/results/spread.json, and REPORT.md re-rendered from the
//                                    # latest full run's raw data with it (--quick: results/only/)
//   npm run bench -- --only fires    # `@LeaderOnly({ once: true })` against plain `@LeaderOnly()`: 10
//                                    # every-minute jobs on 3 replicas (not in the full run, ~9 min)
//   npm run bench -- --only peer     # @codedependant/kubernetes-leader-election beside client-go:
//                                    # handover, failover, API load, paused leader (not in the full
//                                    # run; --quick ~3 min); installs it in bench/peers/; like spread:
//                                    # bench/results/peer.json and REPORT.md re-rendered with it
//   npm run bench -- --only forward  # forwarding to the leader against a client retrying 503s, during
//                                    # rolling updates of 3 Nest apps on 127.0.0.2-4 (not in the full
//                                    # run, ~1 min): bench/results/forward.json, REPORT.md re-rendered
//   npm run bench -- --only revisions  # succession by revision (POD_TEMPLATE_HASH): rolling updates,
//                                      # handovers of 3 and 50 candidates, quiet and loaded (~45 min);
//                                      # --parts rollout,handover,herd and --load quiet,loaded run some
//                                      # (merged into bench/results/revisions.json; REPORT.md re-rendered)
//   npm run bench -- --render bench/results/<date>.json   # re-render report and charts only
//
// Exits non-zero when a run fails to produce a leader (or any scenario fails). Targets are reported,
// never asserted.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as prettier from 'prettier';
import { REPO_ROOT } from '../test/control-plane/control-plane.js';
import type { CandidateProcess } from '../test/support/candidates.js';
import {
  IMPLS,
  PROFILES,
  startBench,
  stopBench,
  type BenchContext,
  type Failure,
  type Impl,
} from './lib/context.js';
import { renderReport, type BenchResults } from './report/index.js';
import { sleep } from './lib/stats.js';
import { renderTimelines } from './lib/svg.js';
import { firesScenario, type FiresPlan, type FiresVariantSpec } from './scenarios/fires.js';
import { gateCost } from './scenarios/gate.js';
import { steadyStateLoad, type GroupSpec } from './scenarios/load.js';
import { firesSection } from './report/fires.js';
import { peerSection } from './report/peer.js';
import { forwardSection } from './report/forward.js';
import { forwardScenario, type ForwardPlan } from './scenarios/forward.js';
import { gateSection } from './report/gate.js';
import { rolloutSection } from './report/rollout.js';
import { spreadSection } from './report/spread.js';
import { peerScenario, type PeerPlan } from './scenarios/peer.js';
import { revisionsSections } from './report/revisions.js';
import {
  LOADS,
  REVISION_PARTS,
  mergeRevisions,
  revisionsScenario,
  type RevisionsPlan,
} from './scenarios/revisions.js';
import { rolloutSeries, type RolloutResult } from './scenarios/rollout.js';
import { manyCandidates, manyElections } from './scenarios/scale.js';
import { spreadScenario, type SpreadPlan } from './scenarios/spread.js';
import { takeoverSeries, type TakeoverResult } from './scenarios/takeover.js';
import { timeline } from './scenarios/timeline.js';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const onlyIndex = process.argv.indexOf('--only');
/** Scenarios that run alone with `--only <name>`. */
const ALONE = ['rollout', 'gate', 'spread', 'fires', 'peer', 'forward', 'revisions'] as const;
const only = onlyIndex > 0 ? process.argv[onlyIndex + 1] : undefined;
if (only !== undefined && !(ALONE as readonly string[]).includes(only)) {
  process.stderr.write(`--only: expected one of ${ALONE.join(', ')}, got ${only}\n`);
  process.exit(2);
}

/** `--<flag> a,b`: the listed values of `allowed` (all of them without the flag). */
function listFlag<T extends string>(flag: string, allowed: readonly T[]): T[] {
  const index = process.argv.indexOf(flag);
  if (index < 0) return [...allowed];
  const values = (process.argv[index + 1] ?? '').split(',');
  const wrong = values.filter((v) => !(allowed as readonly string[]).includes(v));
  if (wrong.length > 0 || values.length === 0) {
    process.stderr.write(
      `${flag}: expected some of ${allowed.join(',')}, got ${wrong.join(',')}\n`,
    );
    process.exit(2);
  }
  return values as T[];
}

/**
 * The fires scenario: 10 every-minute jobs with and without `once` over `minutes` whole minutes, then
 * one every-second job, with and without, over `seconds` fires.
 */
function firesPlan(minutes: number, seconds: number): FiresPlan {
  const everyMinute = { jobs: 10, cron: '0 * * * * *', period: 60_000, instants: minutes };
  const everySecond = { jobs: 1, cron: '* * * * * *', period: 1_000, instants: seconds };
  const variants: FiresVariantSpec[] = [
    { label: 'once-minute', once: true, ...everyMinute },
    { label: 'plain-minute', once: false, ...everyMinute },
    { label: 'once-second', once: true, ...everySecond },
    { label: 'plain-second', once: false, ...everySecond },
  ];
  return { replicas: 3, variants, warmupMs: 5_000 };
}

/** Everything the full and the quick run differ in. */
const PLAN = quick
  ? {
      fastRuns: 2,
      defaultRuns: 0,
      load: {
        groups: [
          { label: 'ours-3', impl: 'ours', replicas: 3 },
          { label: 'go-3', impl: 'client-go', replicas: 3 },
        ] as GroupSpec[],
        windowMs: 10_000,
        warmupMs: 2_000,
      },
      elections: { count: 10, windowMs: 8_000, warmupMs: 2_000 },
      candidates: { processes: 2, perProcess: 5, windowMs: 8_000, warmupMs: 2_000, handovers: 1 },
      timelineProfile: PROFILES.fast,
      rollouts: 1,
      // Fast timings and a 1 s membership interval, so that a crash settles within seconds.
      spread: {
        cells: [{ jobs: 10, replicas: 3 }],
        profile: PROFILES.fast,
        membershipInterval: 1_000,
        windowMs: 5_000,
        warmupMs: 1_000,
      } as SpreadPlan,
      fires: firesPlan(1, 20),
      revisions: {
        parts: listFlag('--parts', REVISION_PARTS),
        loads: listFlag('--load', LOADS),
        rollouts: 2,
        handoverRuns: 3,
        herd: { processes: 2, perProcess: 5, windowMs: 5_000, warmupMs: 2_000, handovers: 2 },
      } as RevisionsPlan,
      peer: {
        takeoverRuns: 2,
        takeoverProfile: PROFILES.fast,
        loadProfile: PROFILES.default,
        loadWindowMs: 20_000,
        loadWarmupMs: 5_000,
        pauseRuns: 1,
        pauseProfile: PROFILES.fast,
      } as PeerPlan,
      forward: { rollouts: 1, clients: 3, paceMs: 10 } as ForwardPlan,
    }
  : {
      fastRuns: 20,
      defaultRuns: 10,
      load: {
        groups: [
          { label: 'ours-3', impl: 'ours', replicas: 3 },
          { label: 'go-3', impl: 'client-go', replicas: 3 },
          { label: 'ours-10', impl: 'ours', replicas: 10 },
          { label: 'go-10', impl: 'client-go', replicas: 10 },
        ] as GroupSpec[],
        windowMs: 60_000,
        warmupMs: 10_000,
      },
      elections: { count: 100, windowMs: 45_000, warmupMs: 5_000 },
      candidates: {
        processes: 5,
        perProcess: 10,
        windowMs: 45_000,
        warmupMs: 5_000,
        handovers: 10,
      },
      timelineProfile: PROFILES.default,
      rollouts: 5,
      // Alone only (`--only spread`): about 15 minutes, mostly waiting for Leases and membership
      // entries to expire after the crashes.
      spread: {
        cells: [
          { jobs: 10, replicas: 3 },
          { jobs: 100, replicas: 3 },
          { jobs: 10, replicas: 5 },
          { jobs: 100, replicas: 5 },
        ],
        profile: PROFILES.default,
        windowMs: 60_000,
        warmupMs: 10_000,
      } as SpreadPlan,
      // Alone only (`--only fires`): about 9 minutes, mostly the whole minutes measured.
      fires: firesPlan(2, 60),
      // Alone only (`--only revisions`): about 45 minutes.
      revisions: {
        parts: listFlag('--parts', REVISION_PARTS),
        loads: listFlag('--load', LOADS),
        rollouts: 10,
        handoverRuns: 30,
        herd: { processes: 5, perProcess: 10, windowMs: 10_000, warmupMs: 5_000, handovers: 12 },
      } as RevisionsPlan,
      // Alone only (`--only peer`).
      peer: {
        takeoverRuns: 10,
        takeoverProfile: PROFILES.fast,
        loadProfile: PROFILES.default,
        loadWindowMs: 60_000,
        loadWarmupMs: 10_000,
        pauseRuns: 3,
        pauseProfile: PROFILES.fast,
      } as PeerPlan,
      // Alone only (`--only forward`).
      forward: { rollouts: 3, clients: 3, paceMs: 10 } as ForwardPlan,
    };

/** Where a run's outputs go: the full run's report is bench/REPORT.md, a quick run's stays aside. */
function outputPaths(mode: BenchResults['mode']) {
  const outDir = path.join(REPO_ROOT, 'bench', 'results', ...(mode === 'quick' ? ['quick'] : []));
  const reportPath =
    mode === 'quick' ? path.join(outDir, 'REPORT.md') : path.join(REPO_ROOT, 'bench', 'REPORT.md');
  return { outDir, reportPath };
}

/** The raw data of the latest `--only spread` run, which the full report's spread section shows. */
const SPREAD_JSON = path.join(REPO_ROOT, 'bench', 'results', 'spread.json');

/** The latest full run's raw data, `bench/results/<date>.json`; undefined when there is none. */
function latestFullRun(): string | undefined {
  const dir = path.join(REPO_ROOT, 'bench', 'results');
  const runs = fs.readdirSync(dir).filter((f) => /^\d{4}-\d{2}-\d{2}\.json$/.test(f));
  const latest = runs.sort().at(-1);
  return latest ? path.join(dir, latest) : undefined;
}

/**
 * The run the report's spread section comes from: this one if it ran the scenario (the quick run),
 * else for a full report the latest `--only spread` run (bench/results/spread.json), if any.
 */
function spreadSource(
  results: BenchResults,
  json: string,
): { results: BenchResults; json: string } | undefined {
  if (results.spread) return { results, json };
  if (results.mode !== 'full' || !fs.existsSync(SPREAD_JSON)) return undefined;
  return {
    results: JSON.parse(fs.readFileSync(SPREAD_JSON, 'utf8')) as BenchResults,
    json: SPREAD_JSON,
  };
}

/** The raw data of the latest `--only peer` run, which the full report's Node peer section shows. */
const PEER_JSON = path.join(REPO_ROOT, 'bench', 'results', 'peer.json');

/** The run the report's Node peer section comes from: for a full report, the latest `--only peer`. */
function peerSource(results: BenchResults): BenchResults | undefined {
  if (results.mode !== 'full' || !fs.existsSync(PEER_JSON)) return undefined;
  return JSON.parse(fs.readFileSync(PEER_JSON, 'utf8')) as BenchResults;
}

/** The raw data of the latest `--only forward` run, which the full report's forwarding section shows. */
const FORWARD_JSON = path.join(REPO_ROOT, 'bench', 'results', 'forward.json');

/** The run the report's forwarding section comes from: for a full report, the latest `--only forward`. */
function forwardSource(results: BenchResults): BenchResults | undefined {
  if (results.mode !== 'full' || !fs.existsSync(FORWARD_JSON)) return undefined;
  return JSON.parse(fs.readFileSync(FORWARD_JSON, 'utf8')) as BenchResults;
}

/** The series of `--only revisions` (merged over its runs), which sections 1, 5 and 7 add. */
const REVISIONS_JSON = path.join(REPO_ROOT, 'bench', 'results', 'revisions.json');

/** The revisions series a full report shows: bench/results/revisions.json, if any. */
function revisionsSource(results: BenchResults): BenchResults | undefined {
  if (results.mode !== 'full' || !fs.existsSync(REVISIONS_JSON)) return undefined;
  return JSON.parse(fs.readFileSync(REVISIONS_JSON, 'utf8')) as BenchResults;
}

/** `results` of a full `--only revisions` run with the series of earlier runs it did not repeat. */
function mergedRevisions(results: BenchResults): BenchResults {
  const older = fs.existsSync(REVISIONS_JSON)
    ? (JSON.parse(fs.readFileSync(REVISIONS_JSON, 'utf8')) as BenchResults).revisions
    : undefined;
  return {
    ...results,
    revisions: mergeRevisions(older ?? undefined, results.revisions ?? emptyRevisions()),
  };
}

const emptyRevisions = () => ({ rollout: [], takeover: [], herd: [] });

/** Writes the raw data (unless re-rendering), the timeline SVGs and the report. */
async function writeOutputs(
  results: BenchResults,
  writeJson: boolean,
  jsonPath?: string,
): Promise<void> {
  const { outDir, reportPath } = outputPaths(results.mode);
  fs.mkdirSync(outDir, { recursive: true });
  const json = jsonPath ?? path.join(outDir, `${results.startedAt.slice(0, 10)}.json`);
  if (writeJson) fs.writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  // Only the latest full run's raw data is kept: the report reads no other.
  if (writeJson && results.mode === 'full') {
    for (const older of fs.readdirSync(outDir)) {
      if (/^\d{4}-\d{2}-\d{2}\.json$/.test(older) && path.join(outDir, older) !== json) {
        fs.rmSync(path.join(outDir, older));
      }
    }
  }
  const svgs: Record<string, string> = {};
  if (results.timeline.length > 0) {
    for (const [impl, svg] of renderTimelines(results.timeline)) {
      const file = path.join(outDir, `timeline-${impl}.svg`);
      fs.writeFileSync(file, `${svg}\n`);
      svgs[impl] = path.relative(path.dirname(reportPath), file);
    }
  }
  const spread = spreadSource(results, json);
  const peer = peerSource(results);
  const forward = forwardSource(results);
  const revisions = revisionsSource(results);
  const markdown = renderReport(results, {
    json: path.relative(path.dirname(reportPath), json),
    svgs,
    ...(spread
      ? { spread: { ...spread, json: path.relative(path.dirname(reportPath), spread.json) } }
      : {}),
    ...(peer ? { peer } : {}),
    ...(forward ? { forward } : {}),
    ...(revisions ? { revisions } : {}),
  });
  // Formatted like the rest of the repository, so that `npm run lint` (prettier --check) passes.
  const config = (await prettier.resolveConfig(reportPath)) ?? {};
  fs.writeFileSync(
    reportPath,
    await prettier.format(markdown, { ...config, filepath: reportPath }),
  );
  log(`wrote ${path.relative(REPO_ROOT, json)}, ${path.relative(REPO_ROOT, reportPath)}`);
}
/**
 * `--only <scenario>`: the raw data and the scenario's section of the report (on stderr too) go to
 * bench/results/only/, so that a run of one scenario never replaces the full run's REPORT.md. The
 * spread and peer scenarios, which the full run leaves out, are the exception: their raw data goes to
 * bench/results/spread.json or peer.json and REPORT.md is re-rendered from the latest full run's raw
 * data with it.
 */
async function writeAlone(results: BenchResults, scenario: string): Promise<void> {
  const latest = latestFullRun();
  const kept = {
    spread: SPREAD_JSON,
    peer: PEER_JSON,
    forward: FORWARD_JSON,
    revisions: REVISIONS_JSON,
  }[scenario];
  if (kept && results.mode === 'full' && latest) {
    const data = scenario === 'revisions' ? mergedRevisions(results) : results;
    fs.writeFileSync(kept, `${JSON.stringify(data, null, 2)}\n`);
    log(`wrote ${path.relative(REPO_ROOT, kept)}`);
    await writeOutputs(JSON.parse(fs.readFileSync(latest, 'utf8')) as BenchResults, false, latest);
    return;
  }
  const outDir = path.join(REPO_ROOT, 'bench', 'results', 'only');
  fs.mkdirSync(outDir, { recursive: true });
  const base = path.join(outDir, `${results.startedAt.slice(0, 10)}-${scenario}`);
  fs.writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  const lines: string[] = [];
  const push = (...more: string[]) => lines.push(...more);
  if (scenario === 'gate') gateSection(results, push);
  else if (scenario === 'fires') firesSection(results, push);
  else if (scenario === 'peer') peerSection(results, push);
  else if (scenario === 'forward') forwardSection(results, push);
  else if (scenario === 'revisions') revisionsSections(results, push);
  else if (scenario === 'spread')
    spreadSection({ results, json: path.basename(`${base}.json`) }, push);
  else rolloutSection(results, push);
  const markdown = await prettier.format(lines.join('\n'), { parser: 'markdown' });
  fs.writeFileSync(`${base}.md`, markdown);
  process.stderr.write(`\n${markdown}\n`);
  log(`wrote ${path.relative(REPO_ROOT, base)}.json and .md`);
}

const t0 = Date.now();
const log = (line: string) =>
  process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);

/** Waits (full run) until the 1-minute load average is at most 2.5, polling every minute for 30 min. */
async function waitForQuietMachine(): Promise<{ waitedS: number; before: number[] }> {
  const started = Date.now();
  if (quick || args.has('--no-wait')) return { waitedS: 0, before: os.loadavg() };
  while (os.loadavg()[0] > 2.5 && Date.now() - started < 30 * 60_000) {
    log(
      `load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} > 2.5: waiting a minute`,
    );
    await sleep(60_000);
  }
  return { waitedS: Math.round((Date.now() - started) / 1000), before: os.loadavg() };
}

function commandOutput(command: string, commandArgs: string[]): string {
  try {
    return execFileSync(command, commandArgs, { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function machine(load: { waitedS: number; before: number[] }) {
  const versions = fs.readFileSync(path.join(REPO_ROOT, 'test/control-plane/versions.env'), 'utf8');
  const goMod = fs.readFileSync(
    path.join(REPO_ROOT, 'test/interop/client-go-candidate/go.mod'),
    'utf8',
  );
  const clientNode = JSON.parse(
    fs.readFileSync(
      path.join(REPO_ROOT, 'node_modules/@kubernetes/client-node/package.json'),
      'utf8',
    ),
  ) as { version: string };
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    go: commandOutput('go', ['version']),
    kubeApiserver: /KUBERNETES_VERSION=(\S+)/.exec(versions)?.[1] ?? 'unknown',
    etcd: /ETCD_VERSION=(\S+)/.exec(versions)?.[1] ?? 'unknown',
    clientGo: /k8s\.io\/client-go (\S+)/.exec(goMod)?.[1] ?? 'unknown',
    clientNode: clientNode.version,
    commit: `${commandOutput('git', ['rev-parse', '--short', 'HEAD'])}${
      commandOutput('git', ['status', '--porcelain', 'lib']) ? ' (lib/ modified)' : ''
    }`,
    loadAverage: { waitedS: load.waitedS, atStart: load.before, atEnd: [] as number[] },
  };
}

/** The whole plan, CPU-sensitive scenarios first. */
async function everyScenario(ctx: BenchContext, results: BenchResults): Promise<void> {
  // CPU-sensitive first, while nothing else of ours runs.
  log('gate cost');
  results.gate = await gateCost(ctx).catch(() => null);

  for (const kind of ['graceful', 'crash'] as const) {
    for (const impl of IMPLS) {
      results.takeover.push(await takeoverSeries(ctx, impl, PROFILES.fast, kind, PLAN.fastRuns));
    }
  }
  if (PLAN.defaultRuns > 0) {
    for (const impl of IMPLS) {
      results.takeover.push(
        await takeoverSeries(ctx, impl, PROFILES.default, 'graceful', PLAN.defaultRuns),
      );
    }
    // A crash run at default timings is mostly waiting for the 15 s lease to expire: the two
    // implementations run side by side, on their own Leases.
    const crashes = await Promise.all(
      IMPLS.map((impl) => takeoverSeries(ctx, impl, PROFILES.default, 'crash', PLAN.defaultRuns)),
    );
    for (const [i, series] of crashes.entries()) {
      const other: TakeoverResult = crashes[1 - i];
      series.concurrentWith = `${other.impl} crash series on lease ${other.lease}`;
      results.takeover.push(series);
    }
  }

  log('steady-state API load');
  results.load = await steadyStateLoad(
    ctx,
    PROFILES.default,
    PLAN.load.groups,
    PLAN.load.windowMs,
    PLAN.load.warmupMs,
  ).catch(() => null);

  for (const impl of IMPLS) {
    const e = PLAN.elections;
    const scale = await manyElections(
      ctx,
      impl,
      PROFILES.default,
      e.count,
      e.windowMs,
      e.warmupMs,
    ).catch(() => null);
    if (scale) results.scale.elections.push(scale);
  }
  for (const impl of IMPLS) {
    const c = PLAN.candidates;
    const scale = await manyCandidates(
      ctx,
      impl,
      PROFILES.default,
      c.processes,
      c.perProcess,
      c.windowMs,
      c.warmupMs,
      c.handovers,
    ).catch(() => null);
    if (scale) results.scale.candidates.push(scale);
  }

  for (const impl of IMPLS) {
    const result = await timeline(ctx, impl, PLAN.timelineProfile).catch(() => null);
    if (result) results.timeline.push(result);
  }

  await rollouts(ctx, results);

  // The full run leaves the spread out (`--only spread`, about 15 minutes); the quick run has one cell.
  if (quick) {
    log('spread');
    results.spread = await spreadScenario(ctx, PLAN.spread).catch(() => null);
  }
}

/**
 * The rolling-update series at the default timings: ours then client-go; side by side, each on its own
 * Lease, in the quick run (ours' group spends most of its series on its first election).
 */
async function rollouts(ctx: BenchContext, results: BenchResults): Promise<void> {
  const one = (impl: Impl) =>
    rolloutSeries(ctx, impl, PROFILES.default, PLAN.rollouts).catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      ctx.failures.push({ scenario: `rollout ${impl}`, reason });
      log(`rollout ${impl}: FAILED: ${reason}`);
      return null;
    });
  const series: (RolloutResult | null)[] = [];
  if (quick) {
    series.push(...(await Promise.all(IMPLS.map(one))));
    const [a, b] = series;
    if (a && b) {
      a.concurrentWith = `${b.impl} rollout series on lease ${b.lease}`;
      b.concurrentWith = `${a.impl} rollout series on lease ${a.lease}`;
    }
  } else {
    for (const impl of IMPLS) series.push(await one(impl));
  }
  results.rollout = series.filter((s) => s !== null);
}

async function main(): Promise<number> {
  const renderIndex = process.argv.indexOf('--render');
  if (renderIndex > 0) {
    // Re-renders the report and the charts from saved raw data, without running anything.
    const file = path.resolve(process.argv[renderIndex + 1] ?? '');
    await writeOutputs(JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResults, false, file);
    return 0;
  }
  const load = await waitForQuietMachine();
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const stateDir = path.join(REPO_ROOT, '.control-plane', `bench-${stamp}-${process.pid}`);
  const failures: Failure[] = [];
  const children = new Set<CandidateProcess>();
  const cleanup = () => stopBench(stateDir, children);
  process.once('SIGINT', () => {
    log('interrupted: stopping what the bench started');
    void cleanup().then(() => process.exit(130));
  });

  const results: BenchResults = {
    version: 1,
    mode: quick ? 'quick' : 'full',
    startedAt: new Date().toISOString(),
    finishedAt: '',
    durationS: 0,
    machine: machine(load),
    takeover: [],
    load: null,
    gate: null,
    scale: { elections: [], candidates: [] },
    timeline: [],
    rollout: [],
    failures,
  };

  try {
    const ctx = await startBench(stateDir, { quick, failures, children, log });
    if (only === 'rollout') await rollouts(ctx, results);
    else if (only === 'gate') results.gate = await gateCost(ctx);
    else if (only === 'spread') results.spread = await spreadScenario(ctx, PLAN.spread);
    else if (only === 'fires') results.fires = await firesScenario(ctx, PLAN.fires);
    else if (only === 'peer') results.peer = await peerScenario(ctx, PLAN.peer);
    else if (only === 'forward') results.forward = await forwardScenario(ctx, PLAN.forward);
    else if (only === 'revisions') results.revisions = await revisionsScenario(ctx, PLAN.revisions);
    else await everyScenario(ctx, results);
  } catch (error) {
    failures.push({
      scenario: 'bench',
      reason: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    log(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await cleanup();
  }

  results.finishedAt = new Date().toISOString();
  results.durationS = Math.round((Date.now() - t0) / 1000);
  results.machine.loadAverage.atEnd = os.loadavg();

  if (only) await writeAlone(results, only);
  else await writeOutputs(results, true);

  if (failures.length > 0) {
    log(`${failures.length} failure(s):`);
    for (const f of failures)
      log(`  ${f.scenario}${f.run ? ` run ${f.run}` : ''}: ${f.reason.split('\n')[0]}`);
    log(`state dir kept for inspection: ${stateDir}`);
    return 1;
  }
  if (!args.has('--keep')) fs.rmSync(stateDir, { recursive: true, force: true });
  log(`done in ${results.durationS} s`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
