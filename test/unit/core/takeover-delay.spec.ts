// The follower's takeover delay (lib/core/takeover-delay.ts): its range, and how
// few followers try at about the same time, whatever their number.
import {
  NAMED_GRACE,
  OTHERS_FROM,
  preferredDelay,
  takeoverDelay,
  TAKEOVER_SPREAD_SCALE,
  type SuccessorRank,
} from '../../../lib/core/takeover-delay.js';

/** A small deterministic random source (a linear congruential generator). */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('takeoverDelay', () => {
  it('orders a released Lease: the named successor, then preferred followers, then the others', () => {
    const draws = [0, 0.5, 1 - 1e-12];
    const range = (rank: SuccessorRank) =>
      draws.map((u) => takeoverDelay({ random: () => u, rank, joinedAgoMs: 60_000 }));
    expect(range('named')).toEqual([0, 0, 0]);
    expect(Math.max(...range('preferred'))).toBeLessThan(OTHERS_FROM);
    expect(Math.min(...range('other'))).toBe(OTHERS_FROM);
    expect(Math.min(...range('other-named'))).toBe(NAMED_GRACE);
    // No rollout under way (a release with a revision that names nobody): the herd alone, no shift.
    expect(range('herd')).toEqual(draws.map((u) => takeoverDelay({ random: () => u })));
    expect(Math.min(...range('herd'))).toBe(0);
    // The latest joiner first.
    expect(preferredDelay(2_000, 0)).toBeLessThan(preferredDelay(10_000, 0));
  });

  it('is 0 for a draw of 0 and at most five time scales', () => {
    expect(takeoverDelay({ random: () => 0 })).toBe(0);
    const longest = takeoverDelay({ random: () => 1 - 1e-12 });
    expect(longest).toBeCloseTo(5 * TAKEOVER_SPREAD_SCALE, 6);
  });

  it.each([
    [3, 2, undefined],
    [10, 2, undefined],
    [50, 2, undefined],
    [100, 3, undefined],
    // On a released Lease, followers that are not preferred keep the same spread, shifted.
    [50, 2, 'other'],
    [100, 3, 'other'],
  ] as const)(
    '%i followers: on average at most %i others try within one time scale of the first (rank %s)',
    (followers, most, rank) => {
      const random = seeded(followers);
      const rounds = 2_000;
      let early = 0;
      for (let round = 0; round < rounds; round++) {
        const delays = Array.from({ length: followers }, () => takeoverDelay({ random, rank }));
        const first = Math.min(...delays);
        early += delays.filter((d) => d < first + TAKEOVER_SPREAD_SCALE).length - 1;
      }
      expect(early / rounds).toBeLessThanOrEqual(most);
    },
  );
});
