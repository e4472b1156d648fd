import {
  changesNote,
  cronReport,
  leadershipMoves,
  longestGap,
  onceReport,
  overlap,
  overlapOutside,
  overlapWithin,
  rolloutMoveProblem,
  workIntervals,
} from './checker.js';
import { replicaEvent } from '../unit/support/replica-event.js';

const e = replicaEvent;

describe('chaos checker', () => {
  it('finds once fires run twice and fires with neither a run nor an outcome', () => {
    const report = onceReport(
      [
        e(1_000, 'a', 'once-run', { at: 1_000 }),
        e(2_000, 'a', 'once-run', { at: 2_000 }),
        e(2_100, 'b', 'fire', { at: 2_000, result: 'already-ran' }),
        e(2_200, 'b', 'once-run', { at: 2_000 }),
        e(5_000, 'b', 'fire', { at: 4_000, result: 'coalesced' }),
        e(5_000, 'b', 'once-run', { at: 5_000 }),
        e(1_000, 'a', 'tick', { slot: 1 }),
        e(2_000, 'a', 'tick', { slot: 2 }),
        e(2_400, 'b', 'tick', { slot: 2 }),
        e(20_000, 'b', 'log'),
      ],
      [],
      3_000,
    );
    expect(report.doubled).toEqual([2_000]);
    // 3 s has neither a run nor an outcome; 4 s has an outcome (coalesced).
    expect(report.unaccounted).toEqual([3_000]);
    expect(report.results).toEqual({ 'already-ran': 1, coalesced: 1 });
    expect(report.runs).toBe(4);
    expect(report.notStarted).toEqual([4_000]);
    expect(report.interrupted).toEqual([]);
    // Inside a fault that deletes the Lease under a cut-off holder, counted apart.
    const deleted = onceReport(
      [e(1_000, 'a', 'once-run', { at: 1_000 }), e(5_000, 'a', 'once-run', { at: 5_000 })],
      [{ name: 'lease-deleted-leader-cut', start: 2_500, recovered: 3_500 }],
      0,
    );
    expect(deleted.unaccounted).toEqual([2_000, 4_000]);
    expect(deleted.unaccountedLedgerLost).toEqual([3_000]);
    // The plain job over 1..5 s: 3, 4 and 5 never ticked, 2 ticked twice.
    expect(report.withoutOnce).toEqual({ lost: 3, doubled: 1 });
  });

  it('measures work from admission to the last committed step', () => {
    const intervals = workIntervals([
      e(0, 'a', 'work-start', { run: 1 }),
      e(10, 'a', 'work-step', { run: 1 }),
      e(20, 'a', 'work-step', { run: 1 }),
      e(25, 'a', 'work-abort', { run: 1 }),
      e(25, 'a', 'work-end', { run: 1 }),
    ]);
    expect(intervals).toEqual([{ id: 'a', run: 1, start: 0, end: 20 }]);
  });

  it('counts the time two replicas work at once, and not touching intervals', () => {
    expect(
      overlap([
        { id: 'a', run: 1, start: 0, end: 100 },
        { id: 'b', run: 1, start: 60, end: 150 },
        { id: 'c', run: 1, start: 150, end: 200 },
      ]),
    ).toEqual({ totalMs: 40, cases: ['a + b'] });
    expect(
      overlap([
        { id: 'a', run: 1, start: 0, end: 10 },
        { id: 'a', run: 2, start: 5, end: 20 },
      ]).totalMs,
    ).toBe(0);
  });

  it('counts overlap inside a window only', () => {
    const intervals = [
      { id: 'a', run: 1, start: 0, end: 100 },
      { id: 'b', run: 1, start: 50, end: 150 },
    ];
    expect(overlapWithin(intervals, 0, 75)).toBe(25);
    expect(overlapWithin(intervals, 100, 200)).toBe(0);
  });

  it('counts overlap outside the windows of positive controls only', () => {
    const intervals = [
      { id: 'a', run: 1, start: 0, end: 100 },
      { id: 'b', run: 1, start: 50, end: 150 },
      { id: 'a', run: 2, start: 300, end: 400 },
      { id: 'b', run: 2, start: 380, end: 420 },
    ];
    expect(overlapOutside(intervals, [])).toBe(70);
    expect(overlapOutside(intervals, [{ name: 'control', start: 0, recovered: 200 }])).toBe(20);
    expect(overlapOutside(intervals, [{ name: 'control', start: 0, recovered: 390 }])).toBe(10);
  });

  it('finds the longest stretch without committed work', () => {
    const events = [e(100, 'a', 'work-step'), e(150, 'a', 'work-step'), e(900, 'b', 'work-step')];
    expect(longestGap(events, 0, 1000)).toBe(750);
  });

  it('reports doubled and lost cron seconds, excusing those inside a fault', () => {
    const events = [
      e(0, 'a', 'tick', { slot: 10 }),
      e(0, 'a', 'tick', { slot: 11 }),
      e(0, 'b', 'tick', { slot: 11 }),
      e(0, 'b', 'tick', { slot: 14 }),
      e(0, 'b', 'tick', { slot: 17 }),
    ];
    const report = cronReport(events, [{ name: 'x', start: 12_000, recovered: 12_500 }]);
    expect(report.doubled).toEqual([11]);
    expect(report.lost).toEqual([12, 13, 15, 16]);
    expect(report.lostDuringFaults).toBe(2);
    expect(report.lostOutsideFaults).toBe(2);
  });

  it('counts the changes of leader in a window, not a replica acquiring again after itself', () => {
    const events = [
      e(50, 'a', 'change', { isLeader: true }),
      e(110, 'b', 'change', { isLeader: false, leader: 'c' }),
      e(120, 'c', 'change', { isLeader: true }),
      e(100, 'a', 'change', { isLeader: false, leader: null }),
      e(300, 'c', 'change', { isLeader: true }),
      e(400, 'b', 'change', { isLeader: true }),
      e(900, 'a', 'change', { isLeader: true }),
    ];
    expect(leadershipMoves(events, 'a', 100, 500)).toEqual({ moves: 2, leaders: ['a', 'c', 'b'] });
    expect(leadershipMoves(events, 'b', 500, 800)).toEqual({ moves: 0, leaders: ['b'] });
  });

  it('summarizes the changes per fault against their goal', () => {
    expect(changesNote([1, 2, 1], 1)).toBe(
      'leadership changes per fault: 1 in 2 of 3, 2 in 1 of 3 (goal 1)',
    );
    expect(changesNote([0], undefined)).toBe('leadership changes per fault: 0 in 1 of 1');
    expect(changesNote([], 1)).toBeUndefined();
  });

  it('accepts a rollout whose leadership moved once, or on through old replicas, to a new one', () => {
    const old = ['old-a', 'old-b', 'old-c'];
    expect(rolloutMoveProblem(['old-a', 'new-1'], old)).toBeUndefined();
    expect(rolloutMoveProblem(['old-a', 'old-b', 'new-2'], old)).toBeUndefined();
  });

  it('flags a rollout that moved leadership more than documented', () => {
    const old = ['old-a', 'old-b', 'old-c'];
    expect(rolloutMoveProblem(['old-a'], old)).toBe('the old leader was not replaced');
    expect(rolloutMoveProblem(['old-a', 'new-1', 'old-b'], old)).toBe(
      'an old replica (old-b) leads after the rollout',
    );
    expect(rolloutMoveProblem(['old-a', 'new-1', 'new-2'], old)).toBe(
      'a new replica (new-1) lost leadership in the rollout',
    );
    expect(rolloutMoveProblem(['old-a', 'old-b', 'old-a', 'new-1'], old)).toBe(
      'a replica led twice: old-a -> old-b -> old-a -> new-1',
    );
  });
});
