// The fault-injection harness: N replicas of test/chaos/replica.ts (real Nest apps, one process each)
// on a real control plane of their own, each reaching the API server through its own TCP proxy.
// Faults are drawn from a seeded random sequence; after each one the harness waits for a single,
// agreed leader again. The event log is analysed by checker.ts.
//
// The steps live in runner/ (the run's context, replicas, waits, results, report) and faults/ (one
// injection per fault kind, by family); this file runs them in order.
import { ALL_FAULTS, HA_FAULTS, SPREAD_FAULTS, type FaultName } from './fault-kinds.js';
import { requireFaketime } from './faketime.js';
import { FAULTS } from './faults/fault-catalogue.js';
import { closeRun, openRun, pick, type ChaosRun, type RunSetup } from './runner/chaos-run.js';
import { assembleReport, type ChaosReport, type RunTally } from './runner/chaos-report.js';
import { faultLine, measureFault, type RecoveredFault } from './runner/fault-result.js';
import { attachLogsOnFailure } from './runner/failure-logs.js';
import {
  measureHaFault,
  snapshotBeforeFault,
  waitForClientGoLeader,
} from './runner/ha-measures.js';
import { fencingTokenProblems } from './runner/leaderless.js';
import { waitForSharesRunning, waitForStableLeader } from './runner/recovery-waits.js';
import { live, startReplica } from './runner/replica-lifecycle.js';
import type { Replica } from './runner/replica-process.js';
import { now } from './timings.js';

/** A run's plan; where it writes and whether replicas spread jobs: see {@link RunSetup}. */
export interface ChaosOptions extends RunSetup {
  /** Number of injected faults. */
  faults: number;
  /** Which faults to draw from. */
  kinds?: FaultName[];
  /** A fixed sequence instead of random draws (then `faults` is its length). */
  sequence?: FaultName[];
  replicas?: number;
}

/** Refuses a plan the run cannot inject: clock faults without libfaketime, spread kinds without `spread`. */
function checkPlan(planned: FaultName[], options: ChaosOptions): void {
  if (planned.some((kind) => kind.startsWith('clock-'))) requireFaketime();
  const needSpread = planned.filter((kind) => SPREAD_FAULTS.includes(kind));
  if (needSpread.length && !options.spread)
    throw new Error(`${needSpread.join(', ')} need replicas with jobs spread over shares (spread)`);
  const needHa = planned.filter((kind) => HA_FAULTS.includes(kind));
  if (needHa.length && !options.ha)
    throw new Error(`${needHa.join(', ')} need the HA shape of the control plane (ha)`);
}

/** Starts `count` replicas and waits for a stable leader and (with `spread`) every share running. */
async function startReplicas(run: ChaosRun, count: number, faults: number): Promise<void> {
  for (let i = 0; i < count; i++) await startReplica(run);
  await waitForStableLeader(run, 120_000);
  await waitForSharesRunning(run, 60_000);
  const jobs = run.spread
    ? `, ${Object.keys(run.jobs).length} jobs spread over ${run.spread.shares} shares`
    : '';
  run.log(
    `chaos seed ${run.seed}: ${count} replicas, ${faults} faults${jobs}, events in ${run.outDir}`,
  );
}

/** A stable leader again and every share running, or why not. */
async function waitForRecovery(
  run: ChaosRun,
): Promise<{ next: Replica; shareHolders: string[] } | { error: string }> {
  try {
    const next = await waitForStableLeader(run, 90_000);
    const shareHolders = await waitForSharesRunning(run, 90_000);
    return { next, shareHolders };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** Injects `kind` under `leader`, waits for recovery and measures it; false if the run must stop. */
async function runFault(
  run: ChaosRun,
  kind: FaultName,
  leader: Replica,
  tally: RunTally,
  [n, total]: [number, number],
): Promise<boolean> {
  const before = await snapshotBeforeFault(run);
  const start = now();
  const outcome =
    (await FAULTS[kind]({ run, kind, leader, start, since: run.events.length })) ?? {};
  if (outcome.unreleased) tally.unreleased += outcome.unreleased.length;
  const recovery = await waitForRecovery(run);
  const clientGoStuck = await waitForClientGoLeader(run);
  if ('error' in recovery || clientGoStuck) {
    tally.failure = `after fault ${n + 1} (${kind}): ${'error' in recovery ? recovery.error : clientGoStuck}`;
    run.log(`  ${tally.failure}`);
    return false;
  }
  // Every live replica must have heard of the current leader (no lost change events).
  for (const r of live(run)) if (r.view?.leader !== recovery.next.id) tally.missedChanges += 1;
  const fault: RecoveredFault = { kind, leader, start, recovered: now(), outcome, ...recovery };
  const result = measureFault(run, fault);
  if (before) result.ha = await measureHaFault(run, before, start, now());
  tally.results.push(result);
  run.log(faultLine(fault, result, n, total));
  return true;
}

/** Runs a chaos suite: replicas, then `faults` faults each followed by recovery, then the report. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const kinds = options.kinds ?? ALL_FAULTS;
  checkPlan(options.sequence ?? kinds, options);
  const run = await openRun(options);
  const tally: RunTally = { results: [], missedChanges: 0, unreleased: 0 };
  try {
    await startReplicas(run, options.replicas ?? 3, options.faults);
    if (run.clientGo && !(await run.clientGo.waitForLeader()))
      throw new Error("client-go's candidates elected no leader");
    const total = options.sequence?.length ?? options.faults;
    for (let n = 0; n < total; n++) {
      const leader = await waitForStableLeader(run);
      const kind = options.sequence ? options.sequence[n] : pick(run, kinds);
      if (!(await runFault(run, kind, leader, tally, [n, total]))) break;
    }
  } catch (error) {
    // A fault that could not be driven (a part of the control plane did not come back): the run
    // stops here, and its report keeps the faults before it.
    tally.failure = error instanceof Error ? error.message.split('\n')[0] : String(error);
    run.log(`  ${tally.failure}`);
  } finally {
    if (run.ha) {
      const fencing = fencingTokenProblems(run.events);
      if (fencing.length) tally.fencing = fencing;
    }
    if (tally.failure || tally.fencing?.length) attachLogsOnFailure(run, tally);
    await closeRun(run);
  }
  return assembleReport(run, tally);
}
