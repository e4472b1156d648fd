// What the safety rules must not cost: a Lease led again as soon as nobody can still lead it.
import { ElectionFixture } from '../support/election-fixture.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };

describe('no waits beyond what safety needs', () => {
  let f: ElectionFixture;

  beforeEach(() => {
    f = new ElectionFixture();
  });

  afterEach(async () => {
    await f.stopAll();
  });

  it('a Lease re-created by its own leader after a deletion, then released, is taken at once', async () => {
    const a = await f.started('a', T);
    const b = await f.started('b', T);
    f.store.adminWrite(null);
    await f.advanceChecking(200);
    expect(f.store.current()?.holderIdentity).toBe('a'); // re-created in its term
    await a.elector.stop();
    await f.advanceChecking(500);
    expect(b.elector.isLeader()).toBe(true);
  });

  it('a watch resumed after a normal close keeps its session: the create after the wait leads at once', async () => {
    await f.started('a', T);
    const b = await f.started('b', T);
    f.store.partition('a'); // a leads on until 10 s; b saw its last change at 0
    f.store.adminWrite(null);
    await f.advanceChecking(5_000);
    f.store.closeWatches(); // the server closes watches normally; b resumes from the same version
    await f.advanceChecking(10_500); // t = 15.5 s: b waited out a (until 15 s), created, leads
    expect(b.elector.isLeader()).toBe(true);
  });
});
