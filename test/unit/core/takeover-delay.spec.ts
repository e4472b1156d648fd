// The follower's takeover delay (lib/core/takeover-delay.ts): its range, its time scale, and how
// few followers try at about the same time, whatever their number.
import {
  takeoverDelay,
  TAKEOVER_SPREAD_CEILING,
  TAKEOVER_SPREAD_FLOOR,
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
  it('is 0 for a draw of 0 and at most five time scales', () => {
    expect(takeoverDelay({ random: () => 0, fastestAnswer: undefined })).toBe(0);
    const longest = takeoverDelay({ random: () => 1 - 1e-12, fastestAnswer: undefined });
    expect(longest).toBeCloseTo(5 * TAKEOVER_SPREAD_FLOOR, 6);
  });

  it('scales with the quickest answer of the API server, within its floor and ceiling', () => {
    const at = (fastestAnswer: number | undefined) =>
      takeoverDelay({ random: () => 0.5, fastestAnswer });
    expect(at(undefined)).toBe(at(1));
    expect(at(20)).toBeCloseTo((20 / TAKEOVER_SPREAD_FLOOR) * at(1), 6);
    expect(at(60_000)).toBe(at(TAKEOVER_SPREAD_CEILING));
  });

  it.each([
    [3, 2],
    [10, 2],
    [50, 2],
    [100, 3],
  ])(
    'leaves on average %i followers: on average at most %i others try within one time scale of the first',
    (followers, most) => {
      const random = seeded(followers);
      const rounds = 2_000;
      let early = 0;
      for (let round = 0; round < rounds; round++) {
        const delays = Array.from({ length: followers }, () =>
          takeoverDelay({ random, fastestAnswer: undefined }),
        );
        const first = Math.min(...delays);
        early += delays.filter((d) => d < first + TAKEOVER_SPREAD_FLOOR).length - 1;
      }
      expect(early / rounds).toBeLessThanOrEqual(most);
    },
  );
});
