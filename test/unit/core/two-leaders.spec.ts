// Never two leaders, third round: the sequences of ../shared/docs/reviews/security-3.md (F1-F3), each
// on the in-memory Lease with the fake clock. Every case failed on the engine before its fix.
import { LeaderElector, LockUnavailableError } from '../../../lib/core/index.js';
import { InMemoryLeaseLock } from '../../../lib/core/memory-lock.js';
import { ClientGoRulePeer } from '../support/client-go-rule-peer.js';
import { CuttableLock } from '../support/cuttable-lock.js';
import { ElectionFixture, RecordingLogger } from '../support/election-fixture.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };

describe('never two leaders (F1-F3)', () => {
  let f: ElectionFixture;

  beforeEach(() => {
    f = new ElectionFixture();
  });

  afterEach(async () => {
    await f.stopAll();
  });

  describe('F1: a holder still waiting to lead is stopped', () => {
    it('does not give the Lease away: a follower that saw the deletion keeps waiting out the deleted holder', async () => {
      const a = await f.started('a', T);
      const b = await f.started('b', T);
      expect(a.elector.isLeader()).toBe(true);
      f.store.partition('a'); // a leads on until its renew deadline (10 s)
      f.store.adminWrite(null); // kubectl delete lease
      await f.advanceChecking(500);
      const c = await f.started('c', T); // never saw the Lease: creates it, leads in 15 s
      expect(f.store.current()?.holderIdentity).toBe('c');
      expect(c.elector.isLeader()).toBe(false);
      await f.advanceChecking(1_000);
      await c.elector.stop();
      expect(c.logger.at('warn')).toContainEqual(
        expect.stringMatching(/not releasing .*its term had not started/),
      );
      expect(f.store.current()?.holderIdentity).toBe('c'); // left to expire
      await f.advanceChecking(30_000); // throws at the first step with two leaders
      expect(b.elector.isLeader()).toBe(true);
    });

    it('does not give the Lease away to a peer that follows client-go rule either', async () => {
      const a = await f.started('a', T);
      const b = new ClientGoRulePeer('b', new InMemoryLeaseLock(f.store, 'b', 'test'), f.clock, T);
      b.start();
      await f.clock.flush();
      f.store.partition('a');
      f.store.adminWrite(null);
      const c = await f.started('c', T); // creates before b polls again
      await f.clock.advance(2_500); // b polls and sees c's record
      await c.elector.stop();
      let overlap = 0;
      for (let t = 0; t < 30_000; t += 50) {
        await f.clock.advance(50);
        if (a.elector.isLeader() && b.isLeader()) overlap += 50;
      }
      b.stop();
      expect(overlap).toBe(0);
    });
  });

  describe('F2: two processes share one identity and the Lease is deleted', () => {
    it('the follower under the same identity waits out the deleted record it did not write', async () => {
      const clock = f.clock;
      const p1Lock = new CuttableLock(f.store, 'app-0', 'test');
      const p2Lock = new CuttableLock(f.store, 'app-0', 'test');
      const make = (lock: CuttableLock) =>
        new LeaderElector({ lock, clock, logger: new RecordingLogger(), random: () => 0, ...T });
      const p1 = make(p1Lock);
      const p2 = make(p2Lock);
      p1.start();
      await clock.flush();
      p2.start();
      await clock.advance(4_100); // P2 sees P1's renewals: "identity in use"
      expect(p1.isLeader()).toBe(true);
      p1Lock.cut = true; // P1 leads on until its renew deadline
      f.store.adminWrite(null);
      let overlap = 0;
      for (let t = 0; t < 30_000; t += 50) {
        await clock.advance(50);
        if (p1.isLeader() && p2.isLeader()) overlap += 50;
      }
      expect(overlap).toBe(0);
      expect(p2.isLeader()).toBe(true);
      await Promise.all([p1.stop(), p2.stop()]);
    });
  });

  describe('F3: a late burst of watch events', () => {
    /** p3 led, was cut off (its watch falls behind); meanwhile the Lease is deleted, re-created by p4, which leads, and deleted again. */
    async function lateWatch() {
      const p3Lock = new CuttableLock(f.store, 'p3', 'test');
      const p3 = f.candidate('p3', { ...T, lock: p3Lock });
      p3.elector.start();
      await f.clock.flush();
      expect(p3.elector.isLeader()).toBe(true);
      p3Lock.cut = true;
      p3Lock.buffering = true;
      await f.advanceChecking(1_000);
      f.store.adminWrite(null); // deletion (1), of p3's record
      const p4 = await f.started('p4', T); // never saw the Lease: leads 15 s after its create
      await f.advanceChecking(15_500);
      expect(p4.elector.isLeader()).toBe(true);
      f.store.partition('p4'); // p4 leads on until its renew deadline
      f.store.adminWrite(null); // deletion (2)
      await f.clock.flush();
      p3Lock.cut = false;
      expect(p3Lock.queuedTypes[0]).toBe('DELETED');
      expect(p3Lock.queuedTypes.at(-1)).toBe('DELETED');
      return { p3, p3Lock, p4 };
    }

    it('acts on the newest event of a burst, not the first', async () => {
      const { p3Lock } = await lateWatch();
      p3Lock.buffering = false;
      p3Lock.deliver(); // the whole burst at once
      await f.advanceChecking(30_000);
    });

    it('a create answered before its watch caught up leads only once the watch shows nothing in between', async () => {
      const { p3, p3Lock } = await lateWatch();
      p3Lock.deliver(1); // only the first DELETED: p3 creates on the second absence
      await f.clock.flush();
      expect(f.store.current()?.holderIdentity).toBe('p3');
      p3Lock.buffering = false;
      p3Lock.deliver(); // the rest: p4's term came in between
      await f.advanceChecking(30_000);
      expect(p3.elector.isLeader()).toBe(true);
    });

    it('a follower whose watch shows its own create right after the deletion leads at once', async () => {
      const a = await f.started('a', T);
      const b = await f.started('b', T);
      await a.elector.stop(); // released: b leads
      await f.advanceChecking(1_000);
      expect(b.elector.isLeader()).toBe(true);
      const c = await f.started('c', T);
      await f.advanceChecking(1_000);
      await b.elector.stop(); // released, then deleted while free
      f.store.adminWrite(null);
      await f.advanceChecking(100);
      expect(c.elector.isLeader()).toBe(true);
    });
  });

  describe('deletions the follower must not forget', () => {
    it('a Lease deleted, re-applied free and deleted again: the first holder is still waited out', async () => {
      const a = await f.started('a', T);
      const b = await f.started('b', T);
      f.store.partition('a');
      f.store.adminWrite(null);
      await f.advanceChecking(300);
      f.store.adminWrite({ holderIdentity: '', leaseDurationSeconds: 15, leaseTransitions: 0 });
      await f.advanceChecking(300);
      f.store.adminWrite(null);
      await f.advanceChecking(30_000); // throws at the first step with two leaders
      expect(b.elector.isLeader()).toBe(true);
      void a;
    });

    it('a follower that lost track of the Lease waits out the longer duration its holder advertised', async () => {
      const a = await f.started('a', {
        leaseDuration: 60_000,
        renewDeadline: 40_000,
        retryPeriod: 2_000,
      });
      const b = await f.started('b', T);
      f.store.partition('a'); // a leads on until its renew deadline (40 s)
      f.store.muteWatches('b');
      f.store.adminWrite(null);
      f.store.compact(); // b's re-watch gets 410, its read 404: it does not know who held it
      f.store.closeWatches(new LockUnavailableError('connection reset'));
      f.store.muteWatches('b', false);
      await f.advanceChecking(70_000);
      expect(b.elector.isLeader()).toBe(true);
      void a;
    });
  });
});
