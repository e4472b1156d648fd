import { replicaEvent } from '../unit/support/replica-event.js';
import { fencingTokenProblems, longestLeaderless, replicaSpans } from './runner/leaderless.js';

const e = replicaEvent;

describe('leaderless time and fencing-token order (HA runs)', () => {
  it('takes a replica as leading from its change to leader until it loses or exits', () => {
    const spans = replicaSpans([
      e(0, 'a', 'change', { isLeader: true }),
      e(100, 'a', 'change', { isLeader: false }),
      e(150, 'b', 'change', { isLeader: true }),
      e(400, 'b', 'process-exit'),
      e(500, 'c', 'change', { isLeader: true }),
    ]);
    expect(spans).toEqual([
      { id: 'a', start: 0, end: 100 },
      { id: 'b', start: 150, end: 400 },
      { id: 'c', start: 500, end: Infinity },
    ]);
    expect(longestLeaderless(spans, 0, 1_000)).toBe(100);
    expect(longestLeaderless(spans, 0, 120)).toBe(20);
    expect(longestLeaderless(spans, 600, 1_000)).toBe(0);
  });

  it('counts a window nobody leads in, and the tail after the last leader stops', () => {
    expect(longestLeaderless([], 10, 50)).toBe(40);
    expect(longestLeaderless([{ id: 'a', start: 0, end: 30 }], 10, 50)).toBe(20);
    // Overlapping spans cover each other's gaps.
    expect(
      longestLeaderless(
        [
          { id: 'a', start: 0, end: 30 },
          { id: 'b', start: 20, end: 60 },
        ],
        0,
        60,
      ),
    ).toBe(0);
  });

  it('accepts tokens that grow from term to term, and names one that does not', () => {
    const work = (t: number, id: string, token: string) =>
      e(t, id, 'work-start', { token: token as unknown as number });
    expect(
      fencingTokenProblems([
        work(0, 'a', '9'),
        work(1, 'a', '9'),
        work(2, 'b', '10'),
        work(3, 'b', '10'),
      ]),
    ).toEqual([]);
    // Compared as numbers, not strings: 10 follows 9.
    expect(fencingTokenProblems([work(0, 'a', '9'), work(1, 'b', '10')])).toEqual([]);
    expect(fencingTokenProblems([work(0, 'a', '10'), work(1, 'b', '9')])).toEqual([
      'fencing token 9 of b after 10 of a',
    ]);
    // A new term must have a new token, even from another replica with the same one.
    expect(fencingTokenProblems([work(0, 'a', '10'), work(1, 'b', '10')])).toEqual([
      'fencing token 10 of b after 10 of a',
    ]);
  });
});
