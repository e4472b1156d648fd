// The deterministic simulation fuzzer (test/fuzz) inside `npm test`: a fixed window of seeds that
// must keep every invariant, its positive controls (each must be caught), and replay determinism.
// Longer runs: `npm run test:fuzz -- --seeds 10000`.
import type { FaultKind } from '../fuzz/faults.js';
import { formatFailure } from '../fuzz/report.js';
import { runSeeds, SAFETY } from '../fuzz/run-seeds.js';
import { runSeed } from '../fuzz/world.js';
import { Scheduler, SimProcess } from '../fuzz/scheduler.js';

/** The fixed window: seeds FIXED_FROM .. FIXED_FROM + FIXED_SEEDS - 1. */
const FIXED_FROM = 0;
const FIXED_SEEDS = 370;

/**
 * Seeds that failed on the engine before the fixes of its third hardening round, each kept as a
 * regression seed: F1 (a holder stopped while waiting to lead: 435, 1678 on a share, 5147 and 8000
 * with a client-go peer cut off, 6673), F3 (a late burst of watch events: 2750, 2989), F4 (stop
 * during a step-down drain: 24 on a share, 836), and liveness after a long partition (1768, 4119).
 */
const REGRESSION_SEEDS = [24, 435, 836, 1678, 1768, 2750, 2989, 4119, 5147, 6673, 8000];

/** The window of seeds run with a once cron job on every replica (fuzz option `--once`). */
const ONCE_SEEDS = 300;

/** The window of seeds run with revisions, a new one at every restart (fuzz option `--revisions`). */
const REVISION_SEEDS = 300;

/** A seed with a long trace (several hundred lines), for the replay check. */
const REPLAY_SEED = 8860;

/** A positive control must be caught within this many seeds. */
const CONTROL_SEEDS = 500;

const EVERY_FAULT: readonly FaultKind[] = [
  'pause',
  'partition',
  'one-way-partition',
  'watch-black-hole',
  'watch-delay',
  'watch-burst',
  'watch-close',
  'compaction',
  'delete',
  'edit',
  'slow-requests',
  'slow-answers',
  'lost-answers',
  'api-errors',
  'stop-restart',
  'kill-restart',
  'step-down',
  'confirmed-run',
  'join',
  'leave',
  'rolling-update',
];

describe('deterministic simulation fuzzer', () => {
  it('gives a paused process what arrived meanwhile before its timers, like FakeClock.jump', async () => {
    const scheduler = new Scheduler();
    const process = new SimProcess('p');
    const order: string[] = [];
    scheduler.schedule(100, undefined, 'world', () => scheduler.pause(process));
    scheduler.schedule(200, process, 'timer', () => order.push('timer due at 200'));
    scheduler.schedule(300, process, 'delivery', () => order.push('answer arrived at 300'));
    scheduler.schedule(1000, undefined, 'world', () => scheduler.resume(process));
    scheduler.schedule(1000, process, 'timer', () => order.push('timer due at 1000'));
    const hooks = { beforeTask: () => undefined, afterTask: () => undefined, stop: () => false };
    await scheduler.run(2000, hooks);
    expect(order).toEqual(['answer arrived at 300', 'timer due at 200', 'timer due at 1000']);
  });

  it('replays a seed exactly: the same seed gives the same trace, whatever ran before', async () => {
    const first = await runSeed({ seed: REPLAY_SEED });
    await runSeed({ seed: REPLAY_SEED + 1 });
    const again = await runSeed({ seed: REPLAY_SEED });
    expect(first.trace.length).toBeGreaterThan(200);
    expect(again.trace).toEqual(first.trace);
    expect(again.steps).toBe(first.steps);
  });

  it(`keeps every invariant on seeds ${FIXED_FROM}..${FIXED_FROM + FIXED_SEEDS - 1}, with every kind of fault`, async () => {
    const summary = await runSeeds({ from: FIXED_FROM, seeds: FIXED_SEEDS });
    expect(summary.failures.map((failure) => formatFailure(failure, 80).join('\n'))).toEqual([]);
    const injected = new Set([...summary.faults.keys()].map((label) => label.split(' ')[0]));
    expect(EVERY_FAULT.filter((kind) => !injected.has(kind))).toEqual([]);
    // Our electors reached the main rows of the decision table.
    for (const reason of [
      'create-missing',
      'renew',
      'acquire-free',
      'acquire-expired',
      'held-by-other',
      'deleted-holder-may-lead',
    ]) {
      expect(summary.decisions.get(reason) ?? 0).toBeGreaterThan(0);
    }
  });

  it(`never starts a once fire twice on seeds ${FIXED_FROM}..${FIXED_FROM + ONCE_SEEDS - 1} with a once cron job, whatever the clocks`, async () => {
    const summary = await runSeeds({ from: FIXED_FROM, seeds: ONCE_SEEDS, once: true });
    expect(summary.failures.map((failure) => formatFailure(failure, 80).join('\n'))).toEqual([]);
  });

  it(`keeps every invariant on seeds ${FIXED_FROM}..${FIXED_FROM + REVISION_SEEDS - 1} with revisions rolled out at every restart: followers announce, releases name them`, async () => {
    let announced = 0;
    let named = 0;
    let standbys = 0;
    const summary = await runSeeds({
      from: FIXED_FROM,
      seeds: REVISION_SEEDS,
      revisions: true,
      onSeed: ({ trace }) => {
        announced += trace.filter((line) => line.includes('announced itself')).length;
        named += trace.filter((line) => line.includes('the newest replica of another')).length;
        standbys += trace.filter((line) => line.includes(', the standby) as its successor')).length;
      },
    });
    expect(summary.failures.map((failure) => formatFailure(failure, 80).join('\n'))).toEqual([]);
    // The seeds exercise what they are for: announcements, and releases that name a candidate of a
    // new revision or a term's standby.
    expect(announced).toBeGreaterThan(REVISION_SEEDS / 10);
    expect(named).toBeGreaterThan(0);
    expect(standbys).toBeGreaterThan(0);
  });

  it.each(REGRESSION_SEEDS)('keeps every invariant on regression seed %i', async (seed) => {
    const result = await runSeed({ seed });
    expect(result.violations).toEqual([]);
  });

  describe('positive controls: the fuzzer catches each within 500 seeds', () => {
    it.each([
      ['the mutant without the renew deadline check', { mutant: 'no-renew-deadline' as const }],
      ['the mutant without the wait after a create', { mutant: 'no-wait-after-create' as const }],
      ['clock rates beyond the documented bound', { clockRateBeyond: true }],
      [
        'the once claims without the ledger check',
        { mutant: 'claims-unchecked' as const, once: true },
      ],
    ])('%s', async (_name, control) => {
      const summary = await runSeeds({ from: 0, seeds: CONTROL_SEEDS, ...control });
      expect(summary.failures).toHaveLength(1);
      expect(SAFETY).toContain(summary.failures[0].violation.invariant);
    });
  });
});
