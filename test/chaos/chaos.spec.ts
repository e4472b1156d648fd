// The short fault-injection run inside `npm test`: every fault kind once (a fixed order), on a
// control plane of its own, plus the bad-config start-ups, and two faults on replicas that spread
// jobs over shares. `npm run test:chaos` runs 252 faults.
// The later kinds (EXTRA_FAULTS: clock faults with libfaketime, which npm test installs on Debian, a rolling
// update, a holder stopped while it waits to lead, the Lease deleted twice) run here too, each once,
// with the positive control; so does SIGTERM during a share handover, on the spread replicas, and
// the spread membership kinds (join, leave, crash, forged members, mixed share counts, a clock
// minutes behind: about 100 s). The replicas also run a `once` cron job: no fire twice, every fire
// accounted for, under every kind.
import fs from 'node:fs';
import path from 'node:path';
import { startControlPlane } from '../control-plane/control-plane.js';
import { REPO_ROOT } from '../support/candidates.js';
import { badConfigCases, runBadConfigCase } from './bad-config.js';
import { rolloutMoveProblem } from './checker.js';
import { ALL_FAULTS, EXTRA_FAULTS, SPREAD_FAULTS, type FaultName } from './fault-kinds.js';
import { runChaos } from './harness.js';
import { DEFAULT_SPREAD } from './spread.js';

describe('fault injection (short run)', () => {
  it('never lets two replicas run leader-only work at once, and always recovers', async () => {
    const report = await runChaos({ seed: 1, faults: ALL_FAULTS.length, sequence: ALL_FAULTS });
    expect(report.error).toBeUndefined();
    expect(report.faults.map((f) => f.name)).toEqual(ALL_FAULTS);
    expect(report.overlapCases).toEqual([]);
    expect(report.overlapMs).toBe(0);
    expect(report.missedChanges).toBe(0);
    expect(report.cron.lostOutsideFaults).toBe(0);
    expect(report.totalWorkRuns).toBeGreaterThan(100);
    // The once job: no fire run twice, every fire run or given an outcome, under every kind.
    expect(report.once!.doubled).toEqual([]);
    expect(report.once!.unaccounted).toEqual([]);
  }, 600_000);

  it('keeps the promise with a duplicate identity, a deletion under a cut-off leader, wall-clock steps, clock rates inside the margin, a black-holed watch, a rolling update, a holder stopped while it waits to lead and the Lease deleted twice, and sees the overlap beyond it', async () => {
    const report = await runChaos({
      seed: 1,
      faults: EXTRA_FAULTS.length,
      sequence: EXTRA_FAULTS,
    });
    expect(report.error).toBeUndefined();
    expect(report.faults.map((f) => f.name)).toEqual(EXTRA_FAULTS);
    expect(report.unexpectedOverlapMs).toBe(0);
    const control = report.faults.find((f) => f.name === 'clock-rate-skew-beyond')!;
    expect(control.overlapExpected).toBe(true);
    expect(control.overlapMs).toBeGreaterThan(0);
    // With revisions (POD_TEMPLATE_HASH, as the sample's manifests set it) leadership moves once,
    // from the old leader to a new replica (see rolloutMoveProblem).
    const rollout = report.faults.find((f) => f.name === 'rolling-update')!;
    expect(rolloutMoveProblem(rollout.leaders!, rollout.replaced!)).toBeUndefined();
    expect(rollout.leaders).toHaveLength(2);
    expect(report.missedChanges).toBe(0);
    expect(report.cron.lostOutsideFaults).toBe(0);
    // At most once whatever the clocks (stepped, frozen, rates beyond the margin); every fire has
    // an outcome, except where the Lease and its ledger were deleted under a cut-off holder.
    expect(report.once!.doubled).toEqual([]);
    expect(report.once!.unaccounted).toEqual([]);
  }, 600_000);

  it('never runs a job spread over shares on two replicas at once, every share runs again after a leader is killed or cut off, and a replica stopped during a handover releases its shares', async () => {
    const sequence: FaultName[] = ['sigkill-leader', 'cut-leader-long', 'sigterm-during-handover'];
    const report = await runChaos({
      seed: 1,
      faults: sequence.length,
      sequence,
      spread: DEFAULT_SPREAD,
    });
    expect(report.error).toBeUndefined();
    expect(report.faults.map((f) => f.name)).toEqual(sequence);
    expect(report.overlapMs).toBe(0);
    const handover = report.faults.find((f) => f.name === 'sigterm-during-handover')!;
    expect(handover.unreleased).toEqual([]);
    const spread = report.spread!;
    expect(spread.jobOverlapCases).toEqual([]);
    expect(Object.values(spread.jobOverlapMs).every((ms) => ms === 0)).toBe(true);
    expect(Object.keys(spread.jobOverlapMs).length).toBeGreaterThanOrEqual(DEFAULT_SPREAD.jobs);
    expect(spread.unexpectedJobOverlapMs).toBe(0);
    for (const fault of report.faults)
      expect(fault.spread!.shareGapsMs).toHaveLength(DEFAULT_SPREAD.shares);
    expect(spread.jobRuns).toBeGreaterThan(100);
    expect(report.once!.doubled).toEqual([]);
  }, 400_000);

  it('keeps every job of a spread election on one replica at a time, hands over within the bound and leads every share again when a replica joins, leaves, crashes, runs minutes behind, or beside replicas of another share count, and when forged members are written', async () => {
    const sequence = SPREAD_FAULTS.filter((kind) => kind !== 'sigterm-during-handover');
    const report = await runChaos({
      seed: 1,
      faults: sequence.length,
      sequence,
      spread: DEFAULT_SPREAD,
    });
    expect(report.error).toBeUndefined();
    expect(report.faults.map((f) => f.name)).toEqual(sequence);
    expect(report.overlapMs).toBe(0);
    expect(report.unreleased).toBe(0);
    // Each kind's own checks (quota reached, forged names named once at most, no share handed to
    // a replica without it) and the bound of HANDOVERS_PER_MINUTE per replica.
    expect(report.faults.flatMap((f) => f.problems ?? [])).toEqual([]);
    const spread = report.spread!;
    // No job on two replicas at once, the jobs that move between the share counts included (the
    // library holds them back on the replicas that joined second while the mix lasts).
    expect(spread.unexpectedJobOverlapMs).toBe(0);
    expect(spread.jobOverlapCases).toEqual([]);
    expect(report.once!.doubled).toEqual([]);
  }, 600_000);

  it('reports bad configuration at start-up clearly, without hanging or crash-looping silently', async () => {
    const stateDir = fs.mkdtempSync(path.join(REPO_ROOT, '.control-plane', 'bad-config-'));
    const controlPlane = await startControlPlane({ stateDir, log: () => undefined });
    try {
      for (const c of badConfigCases(
        controlPlane.kubeconfigs.leaseUser,
        controlPlane.namespace,
        stateDir,
      )) {
        await expect(runBadConfigCase(c)).resolves.toEqual(expect.any(String));
      }
    } finally {
      await controlPlane.stop();
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  }, 300_000);
});
