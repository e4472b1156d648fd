// The follower's takeover delay (lib/core/takeover-delay.ts): its range, and how
// few followers try at about the same time, whatever their number.
import { takeoverDelay, TAKEOVER_SPREAD_SCALE } from '../../../lib/core/takeover-delay.js';

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
    expect(takeoverDelay({ random: () => 0 })).toBe(0);
    const longest = takeoverDelay({ random: () => 1 - 1e-12 });
    expect(longest).toBeCloseTo(5 * TAKEOVER_SPREAD_SCALE, 6);
  });

  it.each([
    [3, 2],
    [10, 2],
    [50, 2],
    [100, 3],
  ])(
    '%i followers: on average at most %i others try within one time scale of the first',
    (followers, most) => {
      const random = seeded(followers);
      const rounds = 2_000;
      let early = 0;
      for (let round = 0; round < rounds; round++) {
        const delays = Array.from({ length: followers }, () => takeoverDelay({ random }));
        const first = Math.min(...delays);
        early += delays.filter((d) => d < first + TAKEOVER_SPREAD_SCALE).length - 1;
      }
      expect(early / rounds).toBeLessThanOrEqual(most);
    },
  );
});
