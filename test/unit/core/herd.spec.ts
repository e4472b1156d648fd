// Many followers on one Lease: a release (or an expiry) must not make every follower write at
// once, and a follower that loses the race learns the winner from its watch, not from a read.
import { LockConflictError } from '../../../lib/core/index.js';
import { ElectionFixture } from '../support/election-fixture.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };

/** A small deterministic random source (a linear congruential generator). */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('a herd of followers', () => {
  let f: ElectionFixture;
  beforeEach(() => {
    f = new ElectionFixture();
  });
  afterEach(() => f.stopAll());

  const followerIds = Array.from({ length: 20 }, (_, i) => `f${i}`);

  async function herd(seed: number) {
    const random = seeded(seed);
    const leader = await f.started('leader', { ...T, random });
    for (const id of followerIds) await f.started(id, { ...T, random });
    await f.clock.advance(5_000);
    expect(f.leaders()).toEqual(['leader']);
    const before = new Map(followerIds.map((id) => [id, f.calls(id)]));
    const sent = () =>
      followerIds.map((id) => {
        const now = f.calls(id);
        const then = before.get(id)!;
        return { id, update: now.update - then.update, get: now.get - then.get };
      });
    return { leader, sent };
  }

  it.each([1, 2, 3])(
    'takes over a released Lease with one update and no read (seed %i)',
    async (seed) => {
      const { leader, sent } = await herd(seed);
      await leader.elector.stop();
      await f.clock.advance(100);
      expect(f.leaders()).toHaveLength(1);
      const requests = sent();
      expect(requests.reduce((sum, r) => sum + r.update, 0)).toBe(1);
      expect(requests.reduce((sum, r) => sum + r.get, 0)).toBe(0);
    },
  );

  it('takes over an expired Lease with one update and no read', async () => {
    const { leader, sent } = await herd(7);
    f.store.partition('leader');
    await f.clock.advance(T.leaseDuration + 1_000);
    expect(f.leaders()).toHaveLength(1);
    expect(leader.elector.isLeader()).toBe(false);
    const requests = sent();
    expect(requests.reduce((sum, r) => sum + r.update, 0)).toBe(1);
    expect(requests.reduce((sum, r) => sum + r.get, 0)).toBe(0);
  });

  it('after losing the race to a change its dead watch did not deliver, reads before trying again', async () => {
    f.store.adminWrite({ holderIdentity: 'x', leaseDurationSeconds: 15 });
    const b = await f.started('b', T);
    f.store.muteOpenWatches('b'); // black-holed: open, answered once, silent from now on
    await f.clock.advance(5_000);
    f.store.adminWrite({ holderIdentity: '', leaseDurationSeconds: 1 }); // released; b does not see it
    // b's expiry timer fires on its stale record: 409. Its watch brings nothing, so the retry reads
    // (instead of writing on the same stale record again and again until the watch is re-opened).
    await f.clock.advance(10_000 + 3 * T.retryPeriod);
    expect(b.elector.isLeader()).toBe(true);
    expect(f.calls('b').get).toBe(2);
  });

  it('after losing the race (409), waits for the watch instead of reading, and reads only if it brings nothing', async () => {
    f.store.adminWrite({ holderIdentity: 'x', leaseDurationSeconds: 15 });
    const b = await f.started('b', T);
    f.store.failNext('update', new LockConflictError('stale'), 'b');
    await f.clock.advance(15_000);
    // The answer said "someone else wrote": no read at once, the watch is expected to bring it.
    expect(f.calls('b').get).toBe(1);
    expect(b.elector.isLeader()).toBe(false);
    // Nothing came (the record did not change): one retry period later, one read, then the write.
    await f.clock.advance(T.retryPeriod);
    expect(f.calls('b').get).toBe(2);
    expect(b.elector.isLeader()).toBe(true);
  });
});
