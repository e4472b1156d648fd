// The leader's address for forwarded requests: written with every write of its terms, never with a
// release, and read by followers only as the current holder's (in-memory Lease, fake clock).
import { ElectionFixture } from '../support/election-fixture.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };
const A = { ip: '10.0.0.1', port: 3000 };

describe('leader address', () => {
  let f: ElectionFixture;
  beforeEach(() => {
    f = new ElectionFixture();
  });
  afterEach(() => f.stopAll());

  it('goes with every write of the term, and followers read it as the leader’s', async () => {
    const a = f.candidate('a', T);
    a.elector.advertise(A);
    a.elector.start();
    await f.clock.flush();
    const b = await f.started('b', T);
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) {
      await f.clock.advance(T.retryPeriod);
      const record = f.store.current()!;
      expect(record.holderIdentity).toBe('a');
      expect(record.leaderAddress).toEqual(A);
      seen.add(record.resourceVersion);
    }
    expect(seen.size).toBeGreaterThan(2); // several renewals, each carrying it
    expect(b.elector.leaderAddress()).toEqual(A);
    expect(a.elector.leaderAddress()).toBeUndefined(); // the leader forwards nowhere
  });

  it('is not written with a release, nor read once another replica holds the Lease', async () => {
    const a = f.candidate('a', T);
    a.elector.advertise(A);
    a.elector.start();
    await f.clock.flush();
    const b = await f.started('b', T);
    await f.clock.advance(T.retryPeriod);
    await a.elector.stop();
    expect(f.store.current()!.leaderAddress).toBeUndefined();
    await f.clock.advance(T.leaseDuration);
    expect(f.leaders()).toEqual(['b']);
    expect(f.store.current()!.leaderAddress).toBeUndefined(); // b advertises none
    expect(b.elector.leaderAddress()).toBeUndefined();
  });

  it('is written from the next renewal on when advertised while leading, and stops when withdrawn', async () => {
    const a = await f.started('a', T);
    await f.clock.advance(T.retryPeriod);
    expect(f.store.current()!.leaderAddress).toBeUndefined();
    a.elector.advertise(A);
    await f.clock.advance(T.renewDeadline);
    expect(f.store.current()!.leaderAddress).toEqual(A);
    a.elector.advertise(undefined);
    await f.clock.advance(T.renewDeadline);
    expect(f.store.current()!.leaderAddress).toBeUndefined();
  });
});
