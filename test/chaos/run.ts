// `npm run test:chaos`: the full fault-injection run. Several seeds until at least --faults faults
// (default 252: every fault kind 11 times on average), then the table of faults x runs x max gap,
// overlap, cron runs lost/doubled, missed change events, and bad-config start-ups.
//
//   npm run test:chaos                      # seeds 1.., 252 faults of every kind
//   npm run test:chaos -- --seed 7 --faults 30
//   npm run test:chaos -- --kinds clock-frozen,same-identity --faults 3 --no-bad-config
//   npm run test:chaos -- --spread --seed 1 --faults 6 --no-bad-config
//   npm run test:chaos -- --ha --faults 100 --no-bad-config
//
// --spread runs the same faults on replicas that also spread leader-only jobs over shares (see
// spread.ts; --shares and --jobs, default 6 and 12): the report adds overlap per job and how long
// each share ran none of its jobs. Its tables go to results/latest-spread.*.
//
// --ha runs the HA kinds (HA_FAULTS) on three etcd members and two API servers behind a balancer,
// with client-go's candidates beside the replicas; the balancer's /readyz health checks are off on
// odd seeds and on on even ones (--health-checks on|off: always). Its tables go to results/latest-ha.*.
//
// --kinds draws only from the listed kinds (`extra`: the kinds added later, see EXTRA_FAULTS;
// `every`: all, the default; with --spread, also the kinds that need it, SPREAD_FAULTS). A positive
// control (OVERLAP_EXPECTED) must show overlap and its overlap is not a failure; failing-first kinds
// (FAILING_FIRST) fail the run while they overlap or leave a Lease held by a stopped replica.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/candidates.js';
import { startControlPlane } from '../control-plane/control-plane.js';
import { badConfigCases, runBadConfigCase } from './bad-config.js';
import { changesNote } from './checker.js';
import { DEFAULT_SPREAD, renderSpread, type SpreadOptions } from './spread.js';
import {
  EVERY_FAULT,
  EXTRA_FAULTS,
  FAILING_FIRST,
  HA_FAULTS,
  LEADERSHIP_CHANGES_GOAL,
  OVERLAP_EXPECTED,
  SPREAD_FAULTS,
  type FaultName,
} from './fault-kinds.js';
import { haRunFailed, renderHa } from './ha-report.js';
import { runChaos } from './harness.js';
import type { ChaosReport } from './runner/chaos-report.js';
import { stopRunningChaos } from './runner/chaos-run.js';
import { CHAOS_TIMINGS } from './timings.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const targetFaults = option('faults', 252);
const firstSeed = option('seed', 1);
const perSeed = option('per-seed', 70);
const skipBadConfig = args.includes('--no-bad-config');
const spread: SpreadOptions | undefined = args.includes('--spread')
  ? { shares: option('shares', DEFAULT_SPREAD.shares), jobs: option('jobs', DEFAULT_SPREAD.jobs) }
  : undefined;
const ha = args.includes('--ha');
const healthChecks = args.includes('--health-checks')
  ? args[args.indexOf('--health-checks') + 1]
  : 'alternate';
/** Every kind this run can inject: with --spread, also those that need it; with --ha, the HA kinds. */
const everyKind = ha ? HA_FAULTS : spread ? [...EVERY_FAULT, ...SPREAD_FAULTS] : EVERY_FAULT;
const kinds = parseKinds(args.includes('--kinds') ? args[args.indexOf('--kinds') + 1] : undefined);

function parseKinds(list: string | undefined): FaultName[] | undefined {
  if (list === undefined) return undefined;
  const names = list
    .split(',')
    .flatMap((name) =>
      name === 'extra' ? EXTRA_FAULTS : name === 'every' ? everyKind : [name as FaultName],
    );
  const unknown = names.filter((name) => !everyKind.includes(name));
  if (unknown.length || !names.length)
    throw new Error(
      `--kinds: unknown ${unknown.join(', ')}; known: ${everyKind.join(', ')}${spread ? '' : ` (with --spread also ${SPREAD_FAULTS.join(', ')})`}`,
    );
  return names;
}

let badConfigControlPlane: { stop(): Promise<void> } | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`${signal}: stopping the replicas and control planes this run started\n`);
    void Promise.all([
      stopRunningChaos(),
      badConfigControlPlane?.stop().catch(() => undefined),
    ]).then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

async function main() {
  const reports: ChaosReport[] = [];
  const reuse = args.indexOf('--reports');
  if (reuse >= 0) {
    // Re-render from earlier runs' report.json files (comma-separated run directories).
    for (const dir of args[reuse + 1].split(',')) {
      reports.push(
        JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as ChaosReport,
      );
    }
  } else {
    let injected = 0;
    for (let seed = firstSeed; injected < targetFaults; seed++) {
      const faults = Math.min(perSeed, targetFaults - injected);
      reports.push(
        await runChaos({
          seed,
          faults,
          kinds: kinds ?? everyKind,
          ...(spread ? { spread } : {}),
          ...(ha
            ? {
                ha: {
                  healthChecks:
                    healthChecks === 'alternate' ? seed % 2 === 0 : healthChecks === 'on',
                },
              }
            : {}),
        }).catch((error: unknown): ChaosReport => haRunFailed(seed, error)),
      );
      // An HA run counts the faults actually injected: a seed that stopped early is made up for.
      injected += ha ? Math.max(1, reports[reports.length - 1].faults.length) : faults;
    }
  }

  // Bad configuration at start-up, on a control plane of its own.
  const badConfig: { name: string; result: string }[] = [];
  if (!skipBadConfig) await runBadConfig(badConfig);

  const markdown = renderReport(reports, badConfig) + (ha ? `\n${renderHa(reports)}` : '');
  const out = path.join(REPO_ROOT, 'test', 'chaos', 'results');
  fs.mkdirSync(out, { recursive: true });
  // A run of selected kinds, or a spread run, does not replace the full run's table.
  const base = ha ? 'latest-ha' : spread ? 'latest-spread' : kinds ? 'latest-kinds' : 'latest';
  fs.writeFileSync(path.join(out, `${base}.md`), markdown);
  fs.writeFileSync(path.join(out, `${base}.json`), JSON.stringify({ reports, badConfig }, null, 2));
  process.stdout.write(`\n${markdown}\n`);
  // Any overlap fails, even below a millisecond (shown rounded up): of the election's work, or of
  // any job of the spread election.
  const unexpected = Math.ceil(
    reports.reduce(
      (sum, r) => sum + unexpectedOverlap(r) + (r.spread?.unexpectedJobOverlapMs ?? 0),
      0,
    ),
  );
  const blindControls = reports.flatMap((r) =>
    r.faults
      .filter((f) => f.overlapExpected && f.overlapMs === 0)
      .map((f) => `seed ${r.seed} ${f.name}`),
  );
  const missed = reports.reduce((sum, r) => sum + r.missedChanges, 0);
  const unreleased = reports.reduce((sum, r) => sum + (r.unreleased ?? 0), 0);
  const lostOutside = reports.reduce((sum, r) => sum + r.cron.lostOutsideFaults, 0);
  // Older reports have no once job.
  const onceDoubled = reports.reduce((sum, r) => sum + (r.once?.doubled.length ?? 0), 0);
  const onceUnaccounted = reports.reduce((sum, r) => sum + (r.once?.unaccounted.length ?? 0), 0);
  const stuck = reports.filter((r) => r.error).map((r) => `seed ${r.seed} ${r.error}`);
  const badConfigFailures = badConfig.filter((b) => b.result.startsWith('FAILED')).length;
  const problems = reports.flatMap((r) => [
    ...r.faults.flatMap((f) => (f.problems ?? []).map((p) => `seed ${r.seed} ${f.name}: ${p}`)),
    ...(r.fencing ?? []).map((p) => `seed ${r.seed}: ${p}`),
  ]);
  if (
    unexpected > 0 ||
    blindControls.length ||
    missed > 0 ||
    unreleased > 0 ||
    lostOutside > 0 ||
    onceDoubled > 0 ||
    onceUnaccounted > 0 ||
    stuck.length ||
    problems.length ||
    badConfigFailures
  ) {
    process.stderr.write(
      `FAILED: overlap ${unexpected} ms, positive controls without overlap: ${blindControls.join(', ') || 'none'}, missed change events ${missed}, Leases left held by a stopped replica ${unreleased}, cron runs lost outside faults ${lostOutside}, once fires run twice ${onceDoubled} or unaccounted ${onceUnaccounted}, no recovery: ${stuck.join('; ') || 'none'}, fault problems: ${problems.join('; ') || 'none'}, bad-config failures ${badConfigFailures}\n`,
    );
    process.exitCode = 1;
  }
}

/** The once job's line: at most once per fire, every fire accounted for, beside the plain job. */
function onceLine(reports: ChaosReport[]): string {
  const once = reports.flatMap((r) => (r.once ? [r.once] : []));
  const sum = (pick: (o: (typeof once)[number]) => number) =>
    once.reduce((total, o) => total + pick(o), 0);
  const results: Record<string, number> = {};
  for (const o of once)
    for (const [result, count] of Object.entries(o.results))
      results[result] = (results[result] ?? 0) + count;
  const byResult = Object.entries(results)
    .map(([result, count]) => `${result} ${count}`)
    .join(', ');
  return (
    `Cron with every fire once (every second, \`once: true, catchUp: 'all'\`): runs ${sum((o) => o.runs)}, ` +
    `**run twice ${sum((o) => o.doubled.length)}**, **unaccounted ${sum((o) => o.unaccounted.length)}**, ` +
    `never started ${sum((o) => o.notStarted.length)} (of them interrupted ${sum((o) => o.notStarted.filter((at) => o.interrupted.includes(at)).length)}); ` +
    `outcomes: ${byResult || 'none'}. The plain job over the same seconds: lost ${sum((o) => o.withoutOnce?.lost ?? 0)}, run twice ${sum((o) => o.withoutOnce?.doubled ?? 0)}.`
  );
}

/** Overlap that fails the run: all of it except inside positive controls (older reports: all). */
function unexpectedOverlap(report: ChaosReport): number {
  return report.unexpectedOverlapMs ?? report.overlapMs;
}

async function runBadConfig(badConfig: { name: string; result: string }[]) {
  const stateDir = fs.mkdtempSync(path.join(REPO_ROOT, '.control-plane', 'bad-config-'));
  const controlPlane = await startControlPlane({ stateDir });
  badConfigControlPlane = controlPlane;
  try {
    for (const c of badConfigCases(
      controlPlane.kubeconfigs.leaseUser,
      controlPlane.namespace,
      stateDir,
    )) {
      try {
        badConfig.push({ name: c.name, result: await runBadConfigCase(c) });
      } catch (error) {
        const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
        badConfig.push({ name: c.name, result: `FAILED: ${message}` });
      }
    }
  } finally {
    await controlPlane.stop();
    badConfigControlPlane = undefined;
  }
}

export function renderReport(
  reports: ChaosReport[],
  badConfig: { name: string; result: string }[],
): string {
  const byKind = new Map<
    string,
    {
      runs: number;
      maxGap: number;
      gaps: number[];
      overlapMs: number;
      changes: number[];
      notes: Set<string>;
    }
  >();
  for (const kind of [...EVERY_FAULT, ...SPREAD_FAULTS, ...HA_FAULTS])
    byKind.set(kind, {
      runs: 0,
      maxGap: 0,
      gaps: [],
      overlapMs: 0,
      changes: [],
      notes: new Set(),
    });
  for (const report of reports) {
    for (const fault of report.faults) {
      const row = byKind.get(fault.name)!;
      row.runs += 1;
      row.maxGap = Math.max(row.maxGap, fault.maxGapMs);
      row.gaps.push(fault.maxGapMs);
      row.overlapMs += fault.overlapMs;
      if (fault.leadershipChanges !== undefined) row.changes.push(fault.leadershipChanges);
      if (fault.note) row.notes.add(fault.note);
      for (const problem of fault.problems ?? []) row.notes.add(`PROBLEM: ${problem}`);
    }
  }
  const median = (values: number[]) => {
    if (!values.length) return 0;
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  };
  const overlapMs = Math.ceil(reports.reduce((sum, r) => sum + unexpectedOverlap(r), 0));
  const expectedMs = Math.round(
    reports.reduce((sum, r) => sum + r.overlapMs - unexpectedOverlap(r), 0),
  );
  const faults = reports.reduce((sum, r) => sum + r.faults.length, 0);
  const lines = [
    `# Chaos run (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Seeds ${reports.map((r) => r.seed).join(', ')}; 3 replicas; timings ${CHAOS_TIMINGS.leaseDuration} / ${CHAOS_TIMINGS.renewDeadline} / ${CHAOS_TIMINGS.retryPeriod} ms; ` +
      `${faults} injected faults + ${badConfig.length} bad-config start-ups.`,
    '',
    '| fault | runs | median gap (ms) | max gap (ms) | overlap (ms) | notes |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const [kind, row] of byKind) {
    if (!row.runs) continue;
    const label = OVERLAP_EXPECTED.has(kind as FaultName)
      ? `${kind} (positive control: overlap expected)`
      : FAILING_FIRST[kind as FaultName]
        ? `${kind} (failing-first: ${FAILING_FIRST[kind as FaultName]})`
        : kind;
    const changes = changesNote(row.changes, LEADERSHIP_CHANGES_GOAL[kind as FaultName]);
    lines.push(
      `| ${label} | ${row.runs} | ${median(row.gaps)} | ${row.maxGap} | ${row.overlapMs} | ${[...(changes ? [changes] : []), ...row.notes].join('; ')} |`,
    );
  }
  lines.push(
    '',
    reports.some((r) => r.faults.some((f) => f.overlapExpected))
      ? `Overlap of leader-only work, all runs, outside positive controls: **${overlapMs} ms**; inside them (expected: the checker sees overlap when it happens): ${expectedMs} ms (cases, all: ${reports.flatMap((r) => r.overlapCases).join(', ') || 'none'}).`
      : `Overlap of leader-only work, all runs: **${overlapMs} ms** (${reports.flatMap((r) => r.overlapCases).join(', ') || 'no case'}).`,
    `Leader-only work runs checked: ${reports.reduce((sum, r) => sum + r.totalWorkRuns, 0)}.`,
    `Cron (every second, @LeaderOnly): doubled ${reports.reduce((s, r) => s + r.cron.doubled.length, 0)}, ` +
      `lost during faults ${reports.reduce((s, r) => s + r.cron.lostDuringFaults, 0)}, ` +
      `lost outside faults ${reports.reduce((s, r) => s + r.cron.lostOutsideFaults, 0)}.`,
    onceLine(reports),
    `Missed @OnLeaderChange events (a live replica not naming the leader after recovery): ${reports.reduce((s, r) => s + r.missedChanges, 0)}.`,
    `Leases left held by a replica stopped with SIGTERM in the middle of something (checked by the kinds that do it): ${reports.reduce((s, r) => s + (r.unreleased ?? 0), 0)}.`,
    `Runs without recovery: ${
      reports
        .filter((r) => r.error)
        .map((r) => `seed ${r.seed}: ${r.error}`)
        .join('; ') || 'none'
    }.`,
    '',
    '| bad config at start-up | outcome |',
    '| --- | --- |',
    ...badConfig.map((b) => `| ${b.name} | ${b.result.replace(/\|/g, '/')} |`),
  );
  lines.push(...renderSpread(reports));
  if (overlapMs > 0) lines.splice(4, 0, '**OVERLAP FOUND: a bug to fix in the engine.**', '');
  const blind = reports.flatMap((r) => r.faults).filter((f) => f.overlapExpected && !f.overlapMs);
  if (blind.length)
    lines.splice(
      4,
      0,
      `**POSITIVE CONTROL WITHOUT OVERLAP (${blind.length}): the checker is blind.**`,
      '',
    );
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('run.ts')) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
