// The pure part of `npm run bench -- --only fires` (bench/lib/fire-runs.ts): the window, which fire a
// run stands for, runs per fire, and which write claimed an instant. No control plane.
import type { AuditRequest } from './lib/audit.js';
import { claimWrites, fireWindow, instantOf, tallyRuns, type JobRun } from './lib/fire-runs.js';

const MINUTE = 60_000;
const T = Date.UTC(2026, 11, 7, 12, 0, 0); // 12:00:00.000

function update(receivedAt: number, completedAt: number, code = 200): AuditRequest {
  return {
    auditID: `${receivedAt}`,
    userAgent: 'leader',
    username: 'lease-user',
    verb: 'update',
    namespace: 'ns',
    name: 'lease',
    code,
    receivedAt,
    completedAt,
  };
}

describe('fireWindow', () => {
  it('starts half a period after a warm-up fire at least the warm-up away, and spans whole periods', () => {
    const window = fireWindow(T - 50_000, MINUTE, 2, 5_000);
    expect(window).toEqual({
      warmup: T,
      from: T + 30_000,
      to: T + 150_000,
      instants: [T + MINUTE, T + 2 * MINUTE],
    });
  });

  it('takes the next instant as the warm-up fire when the warm-up ends after this one', () => {
    const window = fireWindow(T - 4_000, MINUTE, 1, 5_000);
    expect(window.warmup).toBe(T + MINUTE);
    expect(window.instants).toEqual([T + 2 * MINUTE]);
  });
});

describe('instantOf', () => {
  it("takes a once run's own instant, however late it started", () => {
    expect(instantOf({ job: 'a', start: T + 40_000, scheduledAt: T }, MINUTE)).toBe(T);
  });

  it('rounds a plain run to the nearest instant, also a tick a little early', () => {
    expect(instantOf({ job: 'a', start: T - 3 }, MINUTE)).toBe(T);
    expect(instantOf({ job: 'a', start: T + 12 }, MINUTE)).toBe(T);
  });
});

describe('tallyRuns', () => {
  it('counts each fire once, twice or not at all, and delays only of runs in the window', () => {
    const runs: JobRun[] = [
      { job: 'a', start: T + 8, scheduledAt: T },
      { job: 'b', start: T + 9, scheduledAt: T },
      { job: 'b', start: T + 400, scheduledAt: T },
      { job: 'a', start: T + MINUTE + 7, scheduledAt: T + MINUTE },
      { job: 'a', start: T - MINUTE + 5, scheduledAt: T - MINUTE }, // before the window
    ];
    const tally = tallyRuns(runs, ['a', 'b'], [T, T + MINUTE], MINUTE);
    expect(tally).toEqual({
      fires: 4,
      ranOnce: 2,
      ranMoreThanOnce: 1,
      notRun: 1,
      delaysMs: [8, 9, 400, 7],
    });
  });
});

describe('claimWrites', () => {
  it("takes the leader's last successful update between the instant and the first run", () => {
    const runs: JobRun[] = [
      { job: 'a', start: T + 12, scheduledAt: T },
      { job: 'b', start: T + 13, scheduledAt: T },
    ];
    const updates = [
      update(T - 1_500, T - 1_497), // a renew before the instant
      update(T + 7.5, T + 10.25), // the claim
      update(T + 9, T + 11, 409), // refused
      update(T + 2_000, T + 2_003), // the renew that records the ends
    ];
    expect(claimWrites(updates, runs, [T, T + MINUTE], MINUTE)).toEqual([
      { instant: T, receivedMs: 7.5, serverMs: 2.75 },
    ]);
  });

  it('accepts a write completed within the millisecond the run started in', () => {
    const runs: JobRun[] = [{ job: 'a', start: T + 10, scheduledAt: T }];
    expect(claimWrites([update(T + 8, T + 10.6)], runs, [T], MINUTE)).toHaveLength(1);
  });
});
