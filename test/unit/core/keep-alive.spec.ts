// A running election keeps its process alive (one ref'd handle, whatever the number of elections),
// and nothing of it is left once it stopped. The engine asks its clock for the hold: the fake
// clock counts holds, the process clock takes the shared keep-alive.
import {
  LeaderElector,
  LockConflictError,
  LockForbiddenError,
  SystemClock,
} from '../../../lib/core/index.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/core/memory-lock.js';
import { ProcessKeepAlive, processKeepAlive } from '../../../lib/core/keep-alive.js';
import { SpreadElector } from '../../../lib/core/spread/spread-elector.js';
import { ElectionFixture } from '../support/election-fixture.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };

/** Ref'd timers of this process right now (unref'd ones do not keep it alive and are not listed). */
const refTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('the process keep-alive', () => {
  it('holds the process with one ref timer while anything holds it, and none after the last release', () => {
    const keepAlive = new ProcessKeepAlive();
    const before = refTimers();
    const first = keepAlive.hold();
    const second = keepAlive.hold();
    expect([keepAlive.holders, refTimers()]).toEqual([2, before + 1]);
    first();
    first(); // a second release of the same hold does nothing
    expect([keepAlive.holders, refTimers()]).toEqual([1, before + 1]);
    second();
    expect([keepAlive.holders, refTimers()]).toEqual([0, before]);
    keepAlive.hold()();
    expect([keepAlive.holders, refTimers()]).toEqual([0, before]);
  });

  it('is what the process clock holds', () => {
    const release = new SystemClock().keepAlive();
    expect(processKeepAlive.holders).toBe(1);
    release();
    expect(processKeepAlive.holders).toBe(0);
  });
});

describe('an election keeps its process alive', () => {
  let f: ElectionFixture;

  beforeEach(() => {
    f = new ElectionFixture();
  });

  afterEach(async () => {
    await f.stopAll();
  });

  it('from start() until stop() has finished: leading, following, retrying, waiting after a denial', async () => {
    const a = f.candidate('a', T);
    expect(f.clock.heldOpen).toBe(0); // not started
    a.elector.start();
    await f.clock.flush();
    expect(a.elector.isLeader()).toBe(true);
    const b = await f.started('b', T);
    expect(b.elector.getLeader()).toBe('a');
    expect(f.clock.heldOpen).toBe(2);

    // The API server goes away: both retry, and still hold the process.
    f.store.setUnavailable(true);
    await f.clock.advance(30_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(b.logger.lines.filter((l) => l.message.includes('acquiring')).length).toBeGreaterThan(1);
    expect(f.clock.heldOpen).toBe(2);

    // A denial: the next attempt waits a lease duration, still holding.
    f.store.setUnavailable(false);
    f.store.failNext(
      '*',
      new LockForbiddenError('update', 'leases', 'ns', 'b', 'leases "test" is forbidden'),
      'b',
    );
    await f.clock.advance(T.retryPeriod * 2);
    expect(b.elector.status().lastError).toBeInstanceOf(LockForbiddenError);
    expect(f.clock.heldOpen).toBe(2);

    await b.elector.stop();
    expect(f.clock.heldOpen).toBe(1);
    await a.elector.stop();
    expect(f.clock.heldOpen).toBe(0);
  });

  it('while stop() waits for leader work and releases the Lease', async () => {
    const a = await f.started('a', T);
    const work = a.elector.beginLeaderWork()!;
    let stopped = false;
    const stopping = a.elector.stop().then(() => (stopped = true));
    await f.clock.advance(5_000);
    const whileDraining = [stopped, f.clock.heldOpen];
    work.end();
    await stopping;
    expect(whileDraining).toEqual([false, 1]);
    expect(f.store.current()?.holderIdentity).toBe('');
    expect(f.clock.heldOpen).toBe(0);
  });

  it('not when it was never started', async () => {
    const a = f.candidate('a', T);
    await a.elector.stop();
    expect(f.clock.heldOpen).toBe(0);
  });

  it('on the process clock, through the shared keep-alive', async () => {
    const elector = new LeaderElector({
      lock: new InMemoryLeaseLock(new InMemoryLeaseStore(), 'a', 'test'),
      ...T,
    });
    const other = new LeaderElector({
      lock: new InMemoryLeaseLock(new InMemoryLeaseStore(), 'b', 'test'),
      ...T,
    });
    const before = refTimers();
    elector.start();
    other.start();
    expect([processKeepAlive.holders, refTimers()]).toEqual([2, before + 1]);
    await Promise.all([elector.stop(), other.stop()]);
    expect([processKeepAlive.holders, refTimers()]).toEqual([0, before]);
  });

  it('spread over shares: every share and the membership, until the spread election stopped, with no timer left', async () => {
    const stores = new Map<string, InMemoryLeaseStore>();
    const spread = new SpreadElector({
      ...T,
      leaseName: 'jobs',
      shares: 3,
      clock: f.clock,
      lockFor: (name) => {
        if (!stores.has(name)) stores.set(name, new InMemoryLeaseStore());
        return new InMemoryLeaseLock(stores.get(name)!, 'r1', name);
      },
    });
    spread.start();
    await f.clock.advance(5_000);
    expect(spread.ledShares()).toEqual([0, 1, 2]);
    expect(f.clock.heldOpen).toBe(4);
    // Stopped during an outage: the watches' re-opens are pending, the last writes fail.
    for (const store of stores.values()) store.setUnavailable(true);
    await f.clock.advance(1_000);
    await spread.stop();
    await f.clock.flush();
    expect([f.clock.heldOpen, f.clock.pendingTimers]).toEqual([0, 0]);
  });

  it("spread over shares: closes every Lease's lock, the membership's once its entry is removed (a renewal in flight does not add it back)", async () => {
    const closed: string[] = [];
    class ClosingLock extends InMemoryLeaseLock {
      close() {
        closed.push(this.description);
      }
    }
    const members = new InMemoryLeaseStore();
    const shares = new InMemoryLeaseStore();
    const spread = new SpreadElector({
      ...T,
      leaseName: 'jobs',
      shares: 2,
      clock: f.clock,
      lockFor: (name) => new ClosingLock(name === 'jobs-members' ? members : shares, 'r1', name),
    });
    spread.start();
    await f.clock.advance(5_000);
    members.hold('update');
    await f.clock.advance(2 * 2 * T.leaseDuration); // the next membership renewal, held
    const stopping = spread.stop();
    await f.clock.flush();
    const whileRenewing = [[...closed].sort(), f.clock.heldOpen];
    // The renewal in flight conflicts with the removal: it must not write the entry back.
    members.failNext('update', new LockConflictError('stale'));
    members.release();
    await stopping;
    expect(whileRenewing).toEqual([
      ['in-memory lease jobs-share-0', 'in-memory lease jobs-share-1'],
      1,
    ]);
    expect(closed).toHaveLength(3);
    expect(closed.at(-1)).toBe('in-memory lease jobs-members');
    expect(members.current()?.members).toEqual({});
    expect(f.clock.heldOpen).toBe(0);
  });
});
