// The engine's log lines as an operator reads them after the events they name: a takeover after a
// crash says that the old holder's Lease expired, and the first-election wait is the lease
// duration the docs give (15 s), whatever fraction of a millisecond the monotonic clock is at.
import { ElectionFixture } from '../support/election-fixture.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };

describe('log lines', () => {
  let f: ElectionFixture;

  beforeEach(() => {
    f = new ElectionFixture();
  });

  afterEach(async () => {
    await f.stopAll();
  });

  it("a takeover after a crash says the old holder's Lease expired", async () => {
    const a = await f.started('a', { ...T, releaseOnStop: false });
    const b = await f.started('b', T);
    await a.elector.stop(); // a crash: the Lease is not released
    await f.clock.advance(T.leaseDuration + 1_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(b.logger.at('log')).toEqual([
      'b became leader of in-memory lease test (term 1, fencing token 2), taking over from a, whose ' +
        'Lease expired: not renewed for 15 s (crashed, or cut off from the API server)',
    ]);
  });

  it('a takeover of a released Lease says nothing of an expiry', async () => {
    const a = await f.started('a', T);
    const b = await f.started('b', T);
    await a.elector.stop(); // releases
    await f.clock.advance(1_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(b.logger.at('log')).toEqual([
      'b became leader of in-memory lease test (term 1, fencing token 3)',
    ]);
  });

  it.each([0.25, 11_951.808447990375])(
    'the first-election wait reads "leads in 15 s" with the clock at %d ms',
    async (start) => {
      await f.clock.advance(start);
      await f.started('a', T);
      f.store.partition('a');
      f.store.adminWrite(null); // deleted: the next create cannot tell it never existed
      const c = await f.started('c', T);
      expect(c.logger.at('log')).toEqual([expect.stringContaining('holds test and leads in 15 s')]);
    },
  );
});
