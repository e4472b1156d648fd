// "Never two leaders" and "tokens only increase" against careless configuration and operator
// actions: the situations of the security review (../shared/docs/reviews/security.md), each on the
// in-memory Lease with the fake clock. Every case here failed on the engine before it was hardened.
import {
  InvalidOptionError,
  LeaderElector,
  FencingToken,
  LockUnavailableError,
  type Clock,
  type LeaseRecord,
  type LeaseSpec,
  type LockCallOptions,
} from '../../../lib/core/index.js';
import { InMemoryLeaseLock } from '../../../lib/core/memory-lock.js';
import { type FakeClock } from '../../../lib/core/fake-clock.js';
import { ElectionFixture } from '../support/election-fixture.js';
import { OTHERS_FROM } from '../../../lib/core/takeover-delay.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };

/** The fixture's clock with another wall clock: timers and the monotonic clock are shared. */
function withWallClock(clock: FakeClock, wallNow: () => Date): Clock {
  return {
    now: () => clock.now(),
    wallNow,
    setTimeout: (callback, delayMs) => clock.setTimeout(callback, delayMs),
    clearTimeout: (handle) => clock.clearTimeout(handle),
  };
}

/** Like the Kubernetes lock: never says a Lease is new; can lose the answer of its first create. */
class ClusterLikeLock extends InMemoryLeaseLock {
  loseCreateAnswer = false;
  override async create(spec: LeaseSpec, options?: LockCallOptions): Promise<LeaseRecord> {
    const { neverExistedBefore: _fresh, ...written } = await super.create(spec, options);
    if (this.loseCreateAnswer) {
      this.loseCreateAnswer = false;
      throw new LockUnavailableError('connection reset (the create was applied, its answer lost)');
    }
    return written;
  }
}

describe('guarantees against operator actions and careless configuration', () => {
  let f: ElectionFixture;

  beforeEach(() => {
    f = new ElectionFixture();
  });

  afterEach(async () => {
    await f.stopAll();
  });

  describe('a fresh process and a deleted Lease (H1, L1)', () => {
    it('a process that never saw the Lease creates it but leads only a lease duration after the answer', async () => {
      const a = await f.started('a', T);
      f.store.partition('a'); // a still leads until its renew deadline (10 s)
      f.store.adminWrite(null); // kubectl delete lease
      const c = await f.started('c', T);
      expect(f.store.current()?.holderIdentity).toBe('c');
      expect(c.elector.isLeader()).toBe(false);
      expect(c.logger.at('log')).toContainEqual(expect.stringContaining('leads in 15 s'));
      await f.advanceChecking(14_900);
      expect(c.elector.isLeader()).toBe(false);
      expect(a.elector.isLeader()).toBe(false);
      await f.advanceChecking(200);
      expect(c.elector.isLeader()).toBe(true);
      expect(c.events.at(-1)).toEqual(expect.objectContaining({ isLeader: true, leader: 'c' }));
    });

    it('a store that knows the Lease is new (in-process) lets its creator lead at once', async () => {
      const a = await f.started('a', T);
      expect(a.elector.isLeader()).toBe(true);
      expect(a.logger.at('log').some((m) => m.includes('leads in'))).toBe(false);
    });

    it('a Lease re-created by an update counts its delay from the answer, not the request', async () => {
      const a = await f.started('a', T);
      const b = await f.started('b', T);
      f.store.muteWatches('b'); // b no longer sees a's renewals
      await f.advanceChecking(14_900);
      f.store.hold('update', 'b');
      await f.advanceChecking(200); // t = 15.1 s: b's expiry attempt, on a stale version, is held
      await f.advanceChecking(1_000); // a renewed at 16 s: it leads until 26 s
      f.store.partition('a');
      f.store.adminWrite(null);
      await f.advanceChecking(3_000); // t = 19.1 s
      f.store.release(); // b's update re-creates the Lease (new uid)
      await f.advanceChecking(20_000);
      expect(b.elector.isLeader()).toBe(true);
      void a;
    });

    it('a Lease deleted while held and added again free waits out the deleted holder', async () => {
      await f.started('a', T);
      const b = await f.started('b', T);
      f.store.partition('a');
      f.store.adminWrite(null);
      f.store.adminWrite({ holderIdentity: '' }); // re-applied from a manifest
      await f.advanceChecking(20_000);
      expect(b.elector.isLeader()).toBe(true);
    });
  });

  describe('fencing tokens only increase (H1)', () => {
    it('across a release, a deletion and a re-creation by a process that never saw the Lease', async () => {
      const tokens: FencingToken[] = [];
      const a = await f.started('a', T);
      tokens.push(a.elector.fencingToken()!);
      const b = await f.started('b', T);
      await a.elector.stop(); // released: b takes over
      await f.clock.advance(OTHERS_FROM); // a follower that saw the term begin
      tokens.push(b.elector.fencingToken()!);
      await b.elector.stop(); // scaled to zero
      f.store.adminWrite(null); // the Lease is gone (a namespace re-created, a prune)
      const c = await f.started('c', T);
      await f.advanceChecking(15_100);
      expect(f.store.current()?.leaseTransitions).toBe(0); // the term restarts...
      tokens.push(c.elector.fencingToken()!);
      for (let i = 1; i < tokens.length; i++) {
        expect(tokens[i].isNewerThan(tokens[i - 1])).toBe(true); // ...the token does not
      }
    });

    it('across a holder that removed leaseTransitions', async () => {
      const a = await f.started('a', T);
      const first = a.elector.fencingToken()!;
      await a.elector.stop();
      f.store.adminWrite({ holderIdentity: '', leaseTransitions: null });
      const b = await f.started('b', T);
      expect(b.elector.fencingToken()!.isNewerThan(first)).toBe(true);
    });
  });

  describe('duplicate identity (M1)', () => {
    it('two replicas with one identity: one leads, the other logs the mistake and never leads', async () => {
      const first = await f.started('x', T);
      const second = await f.started('x', T);
      await f.advanceChecking(60_000);
      expect(f.leaders()).toEqual(['x']);
      expect(first.elector.isLeader()).toBe(true);
      expect(second.logger.at('error')).toEqual([
        expect.stringContaining('two replicas share one identity'),
      ]);
    });

    it('a replica that starts with the identity of the current leader never leads on its record', async () => {
      const first = await f.started('x', T);
      await f.clock.advance(5_000);
      const second = f.candidate('x', T);
      second.elector.start();
      await f.advanceChecking(60_000);
      expect(first.elector.isLeader()).toBe(true);
      expect(second.elector.isLeader()).toBe(false);
    });

    it('a restart with a fixed identity waits for its old record to expire, with a warning', async () => {
      const old = await f.started('x', { ...T, releaseOnStop: false });
      await old.elector.stop(); // crashed: the Lease still names x
      const restarted = await f.started('x', T);
      expect(restarted.elector.isLeader()).toBe(false);
      expect(restarted.logger.at('warn')).toEqual([
        expect.stringContaining('a previous run with the same identity held it'),
      ]);
      await f.advanceChecking(14_900);
      expect(restarted.elector.isLeader()).toBe(false);
      await f.advanceChecking(200);
      expect(restarted.elector.isLeader()).toBe(true);
      expect(restarted.logger.at('error')).toEqual([]);
    });
  });

  describe('signals after a pause (M2)', () => {
    it('aborts the work signal and the leadership signal when isLeader() first answers false', async () => {
      const a = await f.started('a', T);
      const signal = a.elector.leadershipSignal();
      const work = a.elector.beginLeaderWork()!;
      f.clock.jump(10_000); // paused past the renew deadline: no timer has run
      expect(signal.aborted).toBe(false); // nobody has asked yet
      expect(a.elector.isLeader()).toBe(false);
      expect(signal.aborted).toBe(true);
      expect(work.signal.aborted).toBe(true);
      work.end();
    });

    it('gives work a synchronous check that aborts its signal', async () => {
      const a = await f.started('a', T);
      const work = a.elector.beginLeaderWork()!;
      expect(work.isCurrent()).toBe(true);
      f.clock.jump(10_000);
      expect(work.isCurrent()).toBe(false);
      expect(work.signal.aborted).toBe(true);
      work.end();
    });

    it('work admitted in an earlier term is not current in a later one', async () => {
      const a = await f.started('a', T);
      const work = a.elector.beginLeaderWork()!;
      f.store.setUnavailable(true);
      await f.clock.advance(10_000);
      f.store.setUnavailable(false);
      await f.clock.advance(2_500); // a acquires again: a new term
      expect(a.elector.isLeader()).toBe(true);
      expect(work.isCurrent()).toBe(false);
      work.end();
    });
  });

  describe('odd Lease contents and clocks (L2, L3, L9)', () => {
    it('rejects a lease duration above one hour, which peers would not honour', () => {
      const lock = new InMemoryLeaseLock(f.store, 'a');
      let error: unknown;
      try {
        new LeaderElector({ lock, leaseDuration: 3_600_001, renewDeadline: 10_000 });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe('leaseDuration');
      expect((error as Error).message).toContain('one hour');
    });

    it('takes over a Lease whose leaseTransitions is at the int32 ceiling (the term wraps)', async () => {
      f.store.adminWrite({
        holderIdentity: 'gone',
        leaseDurationSeconds: 15,
        leaseTransitions: 2_147_483_647,
      });
      const b = await f.started('b', T);
      await f.advanceChecking(16_000);
      expect(b.elector.isLeader()).toBe(true);
      expect(f.store.current()?.leaseTransitions).toBe(0);
    });

    it('a leader whose wall clock stands still is not deposed', async () => {
      const stopped = new Date('2026-01-01T00:00:00.000Z');
      await f.started('a', { ...T, clock: withWallClock(f.clock, () => stopped) });
      await f.started('b', T);
      await f.advanceChecking(60_000);
      expect(f.leaders()).toEqual(['a']);
      expect(f.calls('b').update).toBe(0);
    });

    it('a leader whose wall clock steps back is not deposed', async () => {
      let offset = 0;
      const clock = withWallClock(f.clock, () => new Date(f.clock.wallNow().getTime() + offset));
      await f.started('a', { ...T, clock });
      await f.started('b', T);
      await f.advanceChecking(5_000);
      offset = -30_000;
      await f.advanceChecking(60_000);
      expect(f.leaders()).toEqual(['a']);
    });

    it('a leader whose machine was suspended (wall clock on, monotonic clock stopped) does not lead', async () => {
      let offset = 0;
      const clock = withWallClock(f.clock, () => new Date(f.clock.wallNow().getTime() + offset));
      const a = await f.started('a', { ...T, clock });
      const signal = a.elector.leadershipSignal();
      offset = 20_000; // 20 s of suspend: only the wall clock moved
      expect(a.elector.isLeader()).toBe(false);
      expect(signal.aborted).toBe(true);
    });
  });

  describe('terms that lapse and waits that must hold', () => {
    it('a renew answered after the term ran out starts a new term with live signals', async () => {
      const a = await f.started('a', T);
      await f.clock.advance(4_000);
      f.store.hold('update');
      await f.clock.advance(9_000); // a renew is in flight; the term runs until 14 s
      f.clock.jump(1_500); // paused past the deadline
      expect(a.elector.isLeader()).toBe(false);
      f.store.release(); // the renew sent at 13 s answers: valid until 23 s
      await f.clock.advance(2_000);
      expect(a.elector.isLeader()).toBe(true);
      expect(a.elector.leadershipSignal().aborted).toBe(false);
      expect(a.events.map((e) => e.isLeader)).toEqual([true, false, true]);
    });

    it('a wall clock that jumps forward ends the term; the leader steps down and takes it back', async () => {
      let offset = 0;
      const clock = withWallClock(f.clock, () => new Date(f.clock.wallNow().getTime() + offset));
      const a = await f.started('a', { ...T, clock });
      await f.clock.advance(1_000);
      offset = 60_000;
      expect(a.elector.isLeader()).toBe(false);
      await f.clock.advance(3_000);
      expect(a.elector.isLeader()).toBe(true);
      expect(a.elector.leadershipSignal().aborted).toBe(false);
      expect(a.events.map((e) => e.isLeader)).toEqual([true, false, true]);
    });

    it('a create whose answer was lost still waits a lease duration before leading', async () => {
      const a = f.candidate('a', { ...T, lock: new ClusterLikeLock(f.store, 'a', 'test') });
      f.store.adminWrite({ holderIdentity: null }); // the Lease exists: a acquires it at once
      a.elector.start();
      await f.clock.advance(100);
      expect(a.elector.isLeader()).toBe(true);
      f.store.partition('a'); // a leads until its renew deadline
      f.store.adminWrite(null);
      const lock = new ClusterLikeLock(f.store, 'c', 'test');
      lock.loseCreateAnswer = true;
      const c = f.candidate('c', { ...T, lock });
      c.elector.start();
      await f.advanceChecking(30_000);
      expect(c.elector.isLeader()).toBe(true);
    });

    it('an outage while activating does not shorten the wait', async () => {
      const c = f.candidate('c', { ...T, lock: new ClusterLikeLock(f.store, 'c', 'test') });
      c.elector.start();
      await f.clock.advance(1_000);
      f.store.setUnavailable(true);
      await f.clock.advance(9_500); // the term's renew deadline passes while activating
      f.store.setUnavailable(false);
      await f.clock.advance(4_400); // t = 14.9 s
      expect(c.elector.isLeader()).toBe(false);
      await f.clock.advance(30_000);
      expect(c.elector.isLeader()).toBe(true);
    });

    it('announces an activating term even when its timer fires a little early (as Node timers may)', async () => {
      const early: Clock = {
        ...withWallClock(f.clock, () => f.clock.wallNow()),
        setTimeout: (callback, delayMs) => f.clock.setTimeout(callback, Math.max(1, delayMs - 1)),
      };
      const c = f.candidate('c', {
        ...T,
        clock: early,
        lock: new ClusterLikeLock(f.store, 'c', 'test'),
      });
      c.elector.start();
      await f.clock.advance(15_100);
      expect(c.elector.isLeader()).toBe(true);
      expect(c.events.at(-1)).toEqual(expect.objectContaining({ isLeader: true, leader: 'c' }));
    });

    it('emits no leading event that isLeader() would not confirm', async () => {
      const lock = new ClusterLikeLock(f.store, 'c', 'test');
      const c = f.candidate('c', { ...T, renewInterval: 2_500, lock });
      const seen: string[] = [];
      c.elector.onChange((e) => seen.push(`${e.isLeader}/${c.elector.isLeader()}`));
      c.elector.start();
      await f.clock.advance(5_000); // renewed at 2.5 s and 5 s: valid until 15 s, when it activates
      f.store.setUnavailable(true);
      await f.clock.advance(11_000);
      expect(seen.filter((entry) => entry.startsWith('true'))).toEqual([]);
    });

    it('does not release a record that another process wrote under its identity', async () => {
      const first = await f.started('x', T);
      f.store.muteWatches('x'); // first does not see the other process's write
      f.store.adminWrite({ renewTime: new Date('2030-01-01T00:00:00.000Z') }); // a duplicate renewed
      await first.elector.stop();
      expect(f.store.current()?.holderIdentity).toBe('x');
    });
  });

  describe('change events a handler can trust', () => {
    it('a follower whose takeover fails reports that nobody leads (as getLeader() does)', async () => {
      const a = await f.started('a', T);
      const b = await f.started('b', T);
      f.store.failNext('update', new LockUnavailableError('blip'), 'b');
      await a.elector.stop(); // released: b's takeover meets the blip
      await f.clock.advance(OTHERS_FROM); // a follower that saw the term begin
      expect(b.elector.isLeader()).toBe(false);
      expect(b.elector.getLeader()).toBeNull();
      expect(b.events.at(-1)).toEqual(
        expect.objectContaining({ isLeader: false, leader: null, reason: 'observed' }),
      );
      await f.clock.advance(5_000); // the retry acquires
      expect(b.events.at(-1)).toEqual(
        expect.objectContaining({ isLeader: true, reason: 'acquired' }),
      );
    });

    it('says why: acquired, observed, shutting down, released, lost', async () => {
      const a = await f.started('a', T);
      const b = await f.started('b', T);
      await a.elector.stop();
      await f.clock.advance(OTHERS_FROM); // a follower that saw the term begin
      expect(a.events.map((e) => `${e.reason} ${e.isLeader} ${e.leader}`)).toEqual([
        'acquired true a',
        'shutting-down false a', // no new work; the Lease still names a until the release
        'released false null',
      ]);
      expect(b.events.map((e) => `${e.reason} ${e.isLeader} ${e.leader}`)).toEqual([
        'observed false a',
        'acquired true b',
      ]);
      f.store.setUnavailable(true);
      await f.clock.advance(10_000);
      expect(b.events.at(-1)).toEqual(expect.objectContaining({ isLeader: false, reason: 'lost' }));
    });
  });
});
