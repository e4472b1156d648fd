// A watch that stays open but stops advancing: an API server cut from etcd keeps its clients'
// watches open and keeps sending bookmarks at its last resourceVersion, so the watch is never
// silent, while reads and writes through another API server show newer versions.
import { ElectionFixture } from '../support/election-fixture.js';
const STALE_WATCH_RETRY_PERIODS = 4; // lib/core/lease-watch.ts

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };

describe('a stale watch (bookmarks that stop advancing)', () => {
  let f: ElectionFixture;

  beforeEach(() => {
    f = new ElectionFixture();
  });

  afterEach(async () => {
    await f.stopAll();
  });

  it('is re-opened once a newer resourceVersion was known for the bound, and the follower then follows without conflicts', async () => {
    const a = await f.started('a', T);
    const b = await f.started('b', T);
    await f.clock.advance(3_000);
    f.store.staleOpenWatches('b'); // its server's cache stops; bookmarks at the old version go on
    // b's expiry timer reads the stale view: its write meets a conflict, the read after it shows
    // a newer version than anything its watch delivered.
    await f.clock.advance(T.leaseDuration + 1_000);
    expect(f.calls('b').update).toBeGreaterThanOrEqual(1);
    expect(f.calls('b').watch).toBe(1);
    await f.clock.advance(STALE_WATCH_RETRY_PERIODS * T.retryPeriod + 1_000);
    expect(f.calls('b').watch).toBe(2);
    expect(b.logger.at('warn')).toEqual([expect.stringContaining('watch stale')]);
    // The re-opened watch delivers a's renewals again: no more writes on a stale view.
    const updates = f.calls('b').update;
    await f.clock.advance(60_000);
    expect(f.calls('b').update).toBe(updates);
    expect(f.calls('b').watch).toBe(2);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
  });

  it('is re-opened at the same bound when black-holed (nothing arrives), not only after the silence limit', async () => {
    await f.started('a', T);
    const b = await f.started('b', T);
    await f.clock.advance(3_000);
    f.store.muteOpenWatches('b');
    await f.clock.advance(
      T.leaseDuration + 1_000 + STALE_WATCH_RETRY_PERIODS * T.retryPeriod + 1_000,
    );
    expect(f.calls('b').watch).toBe(2);
    expect(b.logger.at('warn')).toEqual([expect.stringContaining('watch stale')]);
  });

  it('is left alone while a leader writes and its watch delivers its writes', async () => {
    await f.started('a', T);
    await f.started('b', T);
    await f.clock.advance(120_000);
    expect(f.calls('a').watch).toBe(1);
    expect(f.calls('b').watch).toBe(1);
  });
});
