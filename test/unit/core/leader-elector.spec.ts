import {
  FencingToken,
  InvalidOptionError,
  LeaderElector,
  LeadershipLostError,
  LockConflictError,
  LockForbiddenError,
  LockGoneError,
  LockUnavailableError,
  ElectorStoppedError,
} from '../../../lib/core/index.js';
import { InMemoryLeaseLock } from '../../../lib/core/memory-lock.js';
import { ElectionFixture } from '../support/election-fixture.js';
import { OTHERS_FROM } from '../../../lib/core/takeover-delay.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };

describe('LeaderElector', () => {
  let f: ElectionFixture;

  beforeEach(() => {
    f = new ElectionFixture();
  });

  afterEach(async () => {
    await f.stopAll();
  });

  describe('timing validation', () => {
    const lock = () => new InMemoryLeaseLock(new ElectionFixture().store, 'a');
    it.each([
      [
        { leaseDuration: 10_000, renewDeadline: 10_000, retryPeriod: 2_000 },
        'leaseDuration',
        'greater than renewDeadline',
      ],
      [
        { leaseDuration: 15_000, renewDeadline: 2_400, retryPeriod: 2_000 },
        'renewDeadline',
        '1.2 * retryPeriod',
      ],
      [{ leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 0 }, 'retryPeriod', 'positive'],
      [
        { leaseDuration: -1, renewDeadline: 10_000, retryPeriod: 2_000 },
        'leaseDuration',
        'positive',
      ],
      [
        { leaseDuration: Number.NaN, renewDeadline: 10_000, retryPeriod: 2_000 },
        'leaseDuration',
        'finite',
      ],
      [
        { leaseDuration: 900, renewDeadline: 500, retryPeriod: 100 },
        'leaseDuration',
        'at least 1000 ms',
      ],
    ])('rejects %j naming %s', (timings, option, rule) => {
      let error: unknown;
      try {
        new LeaderElector({ lock: lock(), ...timings });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(option);
      expect((error as Error).message).toContain(option);
      expect((error as Error).message).toContain(rule);
    });

    it.each(['-5c6d', 'a b', 'x'.repeat(64)])(
      'rejects the revision %j, naming the rule',
      (revision) => {
        expect(() => new LeaderElector({ lock: lock(), ...T, revision })).toThrow(
          /"revision": must be a label value \(at most 63 characters/,
        );
      },
    );

    it('takes the revision from POD_TEMPLATE_HASH, and none from an empty one', () => {
      const saved = process.env.POD_TEMPLATE_HASH;
      try {
        process.env.POD_TEMPLATE_HASH = '5c6d7e8f9';
        expect(() => new LeaderElector({ lock: lock(), ...T })).not.toThrow();
        process.env.POD_TEMPLATE_HASH = 'not a hash';
        expect(() => new LeaderElector({ lock: lock(), ...T })).toThrow(
          /"revision \(from POD_TEMPLATE_HASH\)": must be a label value/,
        );
        expect(() => new LeaderElector({ lock: lock(), ...T, revision: '' })).not.toThrow();
      } finally {
        if (saved === undefined) delete process.env.POD_TEMPLATE_HASH;
        else process.env.POD_TEMPLATE_HASH = saved;
      }
    });

    it('rejects a request timeout above renewDeadline / 2', () => {
      expect(() => new LeaderElector({ lock: lock(), ...T, requestTimeout: 5_001 })).toThrow(
        /requestTimeout.*renewDeadline \/ 2 \(5000 ms\)/,
      );
    });

    it.each([1_000, 9_000])(
      'rejects a renewInterval of %i ms: below retryPeriod, or too long to retry a timed-out renew',
      (renewInterval) => {
        expect(() => new LeaderElector({ lock: lock(), ...T, renewInterval })).toThrow(
          /"renewInterval": must be retryPeriod \(2000 ms\), or longer but below renewDeadline - requestTimeout - retryPeriod \(5500 ms\)/,
        );
      },
    );

    it('renews every renewDeadline / 2 by default when a timed-out renew can still be retried, else every retryPeriod', () => {
      const defaults = new LeaderElector({ lock: lock(), ...T });
      expect([defaults.renewInterval, defaults.requestTimeout]).toEqual([5_000, 2_500]);
      // 4 / 3 / 1 s: the request timeout stays 1.5 s (never below 2 s but for renewDeadline / 2),
      // and 1.5 + 1.5 + 1 s would not fit in 3 s, so client-go's cadence.
      const tight = { leaseDuration: 4_000, renewDeadline: 3_000, retryPeriod: 1_000 };
      const short = new LeaderElector({ lock: lock(), ...tight });
      expect([short.renewInterval, short.requestTimeout]).toEqual([1_000, 1_500]);
      // An explicit requestTimeout that leaves no room keeps retryPeriod too.
      const slow = new LeaderElector({ lock: lock(), ...T, requestTimeout: 5_000 });
      expect(slow.renewInterval).toBe(2_000);
    });

    it('renews every renewInterval when set, and retries every retryPeriod after a failure', async () => {
      const a = await f.started('a', { ...T, renewInterval: 5_000 });
      await f.clock.advance(60_000);
      expect(f.calls('a').update).toBe(12);
      f.store.failNext('update', new LockUnavailableError('blip'), 'a');
      const before = f.calls('a').update;
      await f.clock.advance(5_000); // the failed renew
      await f.clock.advance(2_000); // retried one retryPeriod later
      expect(f.calls('a').update).toBe(before + 2);
      expect(a.elector.isLeader()).toBe(true);
    });

    it('rejects an empty identity', () => {
      expect(
        () => new LeaderElector({ lock: new InMemoryLeaseLock(new ElectionFixture().store, ' ') }),
      ).toThrow(/"identity": must be a non-empty string/);
    });

    it('writes the lease duration rounded up to whole seconds', async () => {
      await f.started('a', { leaseDuration: 2_500, renewDeadline: 2_000, retryPeriod: 500 });
      expect(f.store.current()?.leaseDurationSeconds).toBe(3);
    });
  });

  describe('acquiring', () => {
    it('creates a missing lease with one read and one create, and reports leadership', async () => {
      const a = await f.started('a', T);
      expect(a.elector.isLeader()).toBe(true);
      expect(f.calls('a')).toEqual({ get: 1, create: 1, update: 0, watch: 1 });
      const record = f.store.current()!;
      expect(record.holderIdentity).toBe('a');
      expect(record.leaseDurationSeconds).toBe(15);
      expect(record.leaseTransitions).toBe(0);
      expect(a.events).toEqual([
        expect.objectContaining({
          isLeader: true,
          leader: 'a',
          previousLeader: null,
          term: 0,
          // The resourceVersion of the acquiring write.
          fencingToken: FencingToken.parse(record.resourceVersion),
        }),
      ]);
    });

    it('follows a valid holder with one read, then makes no requests while the leader renews', async () => {
      const a = await f.started('a', T);
      const b = await f.started('b', T);
      expect(b.elector.isLeader()).toBe(false);
      expect(b.elector.getLeader()).toBe('a');
      await f.advanceChecking(60_000);
      expect(f.calls('b')).toEqual({ get: 1, create: 0, update: 0, watch: 1 });
      // The leader renews every renewInterval (renewDeadline / 2 by default) and never reads.
      expect(f.calls('a')).toEqual({ get: 1, create: 1, update: 12, watch: 1 });
      expect(a.elector.isLeader()).toBe(true);
      expect(b.events).toEqual([expect.objectContaining({ isLeader: false, leader: 'a' })]);
      expect(a.events).toHaveLength(1);
    });

    it('acquires a free lease (empty holder) at once and increments leaseTransitions', async () => {
      f.store.adminWrite({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 4 });
      const a = await f.started('a', T);
      expect(a.elector.isLeader()).toBe(true);
      expect(f.calls('a')).toEqual({ get: 1, create: 0, update: 1, watch: 1 });
      expect(a.elector.fencingToken()).toEqual(
        FencingToken.parse(f.store.current()!.resourceVersion),
      );
      expect(f.store.current()?.leaseTransitions).toBe(5);
    });

    it('takes over exactly when the holder has not changed the record for its lease duration', async () => {
      f.store.adminWrite({ holderIdentity: 'dead', leaseDurationSeconds: 15, leaseTransitions: 2 });
      const b = await f.started('b', T);
      expect(b.elector.isLeader()).toBe(false);
      await f.clock.advance(14_999);
      expect(b.elector.isLeader()).toBe(false);
      await f.clock.advance(1);
      expect(b.elector.isLeader()).toBe(true);
      // The expiry attempt is based on the watched record: no extra read.
      expect(f.calls('b')).toEqual({ get: 1, create: 0, update: 1, watch: 1 });
      expect(b.elector.fencingToken()).toEqual(
        FencingToken.parse(f.store.current()!.resourceVersion),
      );
      expect(f.store.current()?.leaseTransitions).toBe(3);
    });

    it('restarts the expiry countdown whenever the holder renews', async () => {
      f.store.adminWrite({ holderIdentity: 'x', leaseDurationSeconds: 15, renewTime: new Date(1) });
      const b = await f.started('b', T);
      await f.clock.advance(10_000);
      f.store.adminWrite({ renewTime: new Date(2) });
      await f.clock.advance(14_999);
      expect(b.elector.isLeader()).toBe(false);
      await f.clock.advance(1);
      expect(b.elector.isLeader()).toBe(true);
    });

    it('never takes over earlier than its own lease duration, even when the record advertises less', async () => {
      f.store.adminWrite({ holderIdentity: 'x', leaseDurationSeconds: 1 });
      const b = await f.started('b', T);
      await f.clock.advance(14_999);
      expect(b.elector.isLeader()).toBe(false);
      await f.clock.advance(1);
      expect(b.elector.isLeader()).toBe(true);
    });

    it('honors an advertised duration of up to one hour', async () => {
      f.store.adminWrite({ holderIdentity: 'x', leaseDurationSeconds: 3600 });
      const b = await f.started('b', T);
      await f.clock.advance(3_599_999);
      expect(b.elector.isLeader()).toBe(false);
      await f.clock.advance(1);
      expect(b.elector.isLeader()).toBe(true);
    });

    it("uses the holder's advertised duration, not its own", async () => {
      f.store.adminWrite({ holderIdentity: 'x', leaseDurationSeconds: 40 });
      const b = await f.started('b', T);
      await f.clock.advance(39_999);
      expect(b.elector.isLeader()).toBe(false);
      await f.clock.advance(1);
      expect(b.elector.isLeader()).toBe(true);
    });

    it.each([[0], [-5], [null], [3601], [2_147_483_647]])(
      'treats a nonsense leaseDurationSeconds (%p) as its own duration, neither expired nor eternal',
      async (seconds) => {
        f.store.adminWrite({ holderIdentity: 'x', leaseDurationSeconds: seconds });
        const b = await f.started('b', T);
        await f.clock.advance(14_999);
        expect(b.elector.isLeader()).toBe(false);
        await f.clock.advance(1);
        expect(b.elector.isLeader()).toBe(true);
      },
    );

    it('ignores metadata-only changes when judging expiry (only election fields count)', async () => {
      f.store.adminWrite({ holderIdentity: 'x', leaseDurationSeconds: 15 });
      const b = await f.started('b', T);
      await f.clock.advance(10_000);
      f.store.adminWrite({}); // new resourceVersion, same election state
      await f.clock.advance(5_000);
      expect(b.elector.isLeader()).toBe(true);
    });

    it('re-reads on 409 when its watch is not open, and does not take a lease someone else just renewed', async () => {
      f.store.adminWrite({ holderIdentity: 'x', leaseDurationSeconds: 15 });
      f.store.stallWatches('b');
      const b = await f.started('b', T);
      f.store.failNext('update', new LockConflictError('stale'), 'b');
      await f.clock.advance(15_000);
      // The conflict led to a read; the record is unchanged, so it is still expired: retried.
      expect(f.calls('b').get).toBeGreaterThanOrEqual(2);
      expect(b.elector.isLeader()).toBe(true);
    });
  });

  describe('handover and failover', () => {
    it('hands over within one watch event when the leader releases', async () => {
      const a = await f.started('a', T);
      const b = await f.started('b', T);
      await f.clock.advance(5_000);
      const before = f.calls('b');
      const aToken = a.elector.fencingToken()!;
      await a.elector.stop();
      await f.clock.advance(OTHERS_FROM); // a follower that saw the term begin
      expect(b.elector.isLeader()).toBe(true);
      expect(f.calls('b')).toEqual({ ...before, update: before.update + 1 });
      expect(f.store.current()?.leaseTransitions).toBe(1);
      expect(b.elector.fencingToken()!.isNewerThan(aToken)).toBe(true);
    });

    it('releases with holder "", a 1 s duration and transitions kept, based on its last write (no read)', async () => {
      const a = await f.started('a', T);
      const before = f.calls('a');
      const release = a.elector.stop();
      await release;
      expect(f.calls('a')).toEqual({ ...before, update: before.update + 1 });
      expect(f.store.current()).toEqual(
        expect.objectContaining({
          holderIdentity: '',
          leaseDurationSeconds: 1,
          leaseTransitions: 0,
        }),
      );
      expect(a.events.map((e) => [e.isLeader, e.leader])).toEqual([
        [true, 'a'],
        [false, 'a'],
        [false, null],
      ]);
    });

    it('does not release a lease that no longer names it', async () => {
      const a = await f.started('a', T);
      f.store.adminWrite({ holderIdentity: 'intruder' });
      await f.clock.flush();
      await a.elector.stop();
      expect(f.store.current()?.holderIdentity).toBe('intruder');
    });

    it('retries the release on 409', async () => {
      const a = await f.started('a', T);
      f.store.failNext('update', new LockConflictError('stale'), 'a');
      await a.elector.stop();
      expect(f.store.current()?.holderIdentity).toBe('');
    });

    it('keeps the lease when releaseOnStop is false (followers wait for expiry)', async () => {
      const a = await f.started('a', { ...T, releaseOnStop: false });
      const b = await f.started('b', T);
      await a.elector.stop();
      await f.advanceChecking(14_950);
      expect(b.elector.isLeader()).toBe(false);
      await f.advanceChecking(2_100);
      expect(b.elector.isLeader()).toBe(true);
    });
  });

  describe('losing leadership', () => {
    it('is not leader after a pause longer than renewDeadline, before any timer runs', async () => {
      const a = await f.started('a', T);
      const work = a.elector.beginLeaderWork();
      work!.end();
      f.clock.jump(9_999);
      expect(a.elector.isLeader()).toBe(true);
      f.clock.jump(1); // 10 s after the start of the last successful renew
      expect(a.elector.isLeader()).toBe(false);
      expect(a.elector.beginLeaderWork()).toBeNull();
      expect(a.elector.fencingToken()).toBeNull();
      expect(a.elector.leadershipSignal().aborted).toBe(true);
    });

    it('keeps leading through API errors until renewDeadline, then steps down and aborts its signal', async () => {
      const a = await f.started('a', T);
      const signal = a.elector.leadershipSignal();
      f.store.setUnavailable(true);
      // The last renew started at t=0; it leads until t=10000 exactly.
      await f.clock.advance(9_999);
      expect(a.elector.isLeader()).toBe(true);
      expect(signal.aborted).toBe(false);
      await f.clock.advance(1);
      expect(a.elector.isLeader()).toBe(false);
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBeInstanceOf(LeadershipLostError);
      expect(a.events.at(-1)).toEqual(expect.objectContaining({ isLeader: false }));
      expect(a.logger.at('warn').some((m) => /stopped leading.*renewDeadline/.test(m))).toBe(true);
      // Outage over: nobody else took it, so it leads again.
      f.store.setUnavailable(false);
      await f.clock.advance(5_000);
      expect(a.elector.isLeader()).toBe(true);
    });

    it('logs a repeated error once, and says when requests succeed again', async () => {
      const a = await f.started('a', T);
      f.store.setUnavailable(true);
      await f.clock.advance(30_000);
      const warnings = a.logger.at('warn').filter((m) => m.includes('connection refused'));
      expect(warnings.length).toBeLessThanOrEqual(3); // renewing, acquiring, watch: once each
      f.store.setUnavailable(false);
      await f.clock.advance(10_000);
      expect(a.logger.at('log').some((m) => m.includes('succeed again'))).toBe(true);
    });

    it('steps down when its renew meets another holder (409, then read)', async () => {
      const a = await f.started('a', T);
      f.store.adminWrite({ holderIdentity: 'intruder', leaseDurationSeconds: 15 });
      await f.clock.flush();
      expect(a.elector.isLeader()).toBe(false);
      expect(a.events.at(-1)).toEqual(
        expect.objectContaining({ isLeader: false, leader: 'intruder', previousLeader: 'a' }),
      );
      // It waits for the intruder's lease to expire, then leads again.
      await f.clock.advance(15_000);
      expect(a.elector.isLeader()).toBe(true);
    });

    it('when someone shortens its lease, leads no longer than that after its last write, and renews at once', async () => {
      const a = await f.started('a', T); // last write started at t=0
      await f.clock.advance(300);
      f.store.hold('update'); // its renewals hang from now on
      const updates = f.calls('a').update;
      f.store.adminWrite({ leaseDurationSeconds: 1 }); // a client-go follower would take over at ~1.3 s
      await f.clock.flush();
      expect(f.calls('a').update).toBe(updates + 1); // renewing at once to restore its fields
      expect(a.logger.at('warn').some((m) => m.includes('edited by someone else'))).toBe(true);
      await f.clock.advance(699); // t = 999 ms
      expect(a.elector.isLeader()).toBe(true);
      await f.clock.advance(1); // t = 1000 ms: last write start + 1 s
      expect(a.elector.isLeader()).toBe(false);
      f.store.release();
      await f.clock.flush();
    });

    it('restores its lease after a shortening edit and leads on normally', async () => {
      const a = await f.started('a', T);
      f.store.adminWrite({ leaseDurationSeconds: 1 });
      await f.clock.advance(5_000);
      expect(a.elector.isLeader()).toBe(true);
      expect(f.store.current()?.leaseDurationSeconds).toBe(15);
    });

    it('gives up a renew that hangs after requestTimeout and steps down at the deadline', async () => {
      const a = await f.started('a', T);
      f.store.hold();
      await f.clock.advance(9_999);
      expect(a.elector.isLeader()).toBe(true);
      await f.clock.advance(1);
      expect(a.elector.isLeader()).toBe(false);
      f.store.release();
      await f.clock.flush();
    });

    it('treats a renew that took longer than renewDeadline as no leadership', async () => {
      f.store.adminWrite({ holderIdentity: '', leaseDurationSeconds: 1 });
      const a = f.candidate('a', { ...T, requestTimeout: 5_000 });
      f.store.hold();
      a.elector.start();
      await f.clock.advance(4_000);
      f.store.release();
      await f.clock.flush();
      expect(a.elector.isLeader()).toBe(true); // 4 s < 10 s: still valid
    });
  });

  describe('a deleted lease', () => {
    it('is recreated by its leader (same fencing token) while followers wait; never two leaders', async () => {
      const a = await f.started('a', T);
      const b = await f.started('b', T);
      const token = a.elector.fencingToken();
      f.store.adminWrite(null);
      await f.advanceChecking(20_000);
      expect(f.leaders()).toEqual(['a']);
      expect(a.elector.fencingToken()).toEqual(token);
      expect(f.store.current()?.leaseTransitions).toBe(0);
      expect(f.calls('b').create).toBe(0);
      expect(f.store.current()?.holderIdentity).toBe('a');
      void b;
    });

    it("is created by a follower only after the deleted holder's lease would have expired", async () => {
      const a = await f.started('a', { ...T, releaseOnStop: false });
      const b = await f.started('b', T);
      const aToken = a.elector.fencingToken()!;
      await a.elector.stop(); // crashed leader: no release
      f.store.adminWrite(null);
      await f.advanceChecking(14_950);
      expect(b.elector.isLeader()).toBe(false);
      await f.advanceChecking(100);
      expect(b.elector.isLeader()).toBe(true);
      // Terms and fencing tokens keep increasing across the deletion.
      expect(f.store.current()?.leaseTransitions).toBe(1);
      expect(b.elector.fencingToken()!.isNewerThan(aToken)).toBe(true);
    });

    it('is re-created by a follower with a dead watch without two leaders (leads a lease duration after the answer)', async () => {
      const a = await f.started('a', T);
      const b = await f.started('b', T);
      // Both watches die silently: b no longer sees a's renewals, a will not see the deletion.
      f.store.muteWatches('a');
      f.store.muteWatches('b');
      await f.advanceChecking(14_500);
      f.store.adminWrite(null); // deleted between two of a's renewals
      // b's expiry attempt (t=15 s) updates the record it last saw: the server re-creates the Lease.
      await f.advanceChecking(1_000);
      expect(f.store.current()?.holderIdentity).toBe('b');
      expect(b.elector.isLeader()).toBe(false);
      expect(b.logger.at('warn').some((m) => m.includes('re-creating a deleted Lease'))).toBe(true);
      // a's next renew meets b's Lease: a steps down; b leads one lease duration after its answer.
      await f.advanceChecking(14_400); // t = 29.9 s
      expect(a.elector.isLeader()).toBe(false);
      expect(b.elector.isLeader()).toBe(false);
      await f.advanceChecking(200); // t = 30.1 s: 15 s after b's re-creating update was answered
      expect(b.elector.isLeader()).toBe(true);
      expect(b.events.at(-1)).toEqual(expect.objectContaining({ isLeader: true, leader: 'b' }));
    });

    it('is created by a follower that finds it missing after a gap in its watch, which leads only a full lease duration after the answer', async () => {
      const a = await f.started('a', T);
      const b = await f.started('b', T);
      f.store.muteWatches('a'); // a will not see the deletion
      f.store.blockWatches('b'); // b's watch is down: it misses a's renewals
      await f.advanceChecking(14_500);
      f.store.adminWrite(null);
      // b's expiry timer (t=15 s) reads: missing. a renewed at 10 s and leads until 20 s: b does
      // not know who held the Lease, so it creates it and holds it, leading only 15 s later.
      await f.advanceChecking(600);
      expect(f.calls('b').create).toBe(1);
      expect(f.store.current()?.holderIdentity).toBe('b');
      expect(b.elector.isLeader()).toBe(false);
      // a's next renew meets b's Lease: a steps down; b leads one lease duration after its answer.
      await f.advanceChecking(14_300); // t = 29.4 s
      expect(a.elector.isLeader()).toBe(false);
      expect(b.elector.isLeader()).toBe(false);
      await f.advanceChecking(700);
      expect(b.elector.isLeader()).toBe(true);
    });

    it('waits for in-flight work admitted before a lapse before releasing on stop', async () => {
      const a = await f.started('a', T);
      const work = a.elector.beginLeaderWork()!;
      f.store.setUnavailable(true);
      await f.clock.advance(10_000); // renew deadline passes: a steps down, work keeps running
      expect(a.elector.isLeader()).toBe(false);
      f.store.setUnavailable(false);
      f.store.hold('update');
      await f.clock.advance(2_500); // a's re-acquiring update is in flight (held)
      const stopped = a.elector.stop(); // not leading at this moment, work still running
      f.store.release(); // the re-acquisition succeeds after stop() began
      await f.clock.advance(1_000);
      expect(f.store.current()?.holderIdentity).toBe('a'); // not released: work still running
      work.end();
      await stopped;
      expect(f.store.current()?.holderIdentity).toBe('');
    });

    it('is created at once by a follower when the deleted lease was free', async () => {
      const a = await f.started('a', T);
      const b = await f.started('b', T);
      await a.elector.stop();
      await f.clock.advance(OTHERS_FROM); // a follower that saw the term begin
      expect(b.elector.isLeader()).toBe(true);
      await b.elector.stop();
      const c = await f.started('c', T);
      f.store.adminWrite(null);
      await f.clock.flush();
      expect(c.elector.isLeader()).toBe(true);
    });
  });

  describe('the watch', () => {
    it('re-watches from the last resourceVersion after an error, without missing a release', async () => {
      const a = await f.started('a', T);
      const b = await f.started('b', T);
      f.store.closeWatches(new LockUnavailableError('reset'));
      await a.elector.stop();
      // The release happened while b had no watch; b's re-watch replays it.
      await f.clock.advance(5_000);
      expect(b.elector.isLeader()).toBe(true);
      expect(f.calls('b').watch).toBe(2);
    });

    it('re-reads after 410 Gone and watches from the fresh version', async () => {
      await f.started('a', T);
      const b = await f.started('b', T);
      f.store.compact();
      f.store.closeWatches(new LockGoneError('too old'));
      await f.clock.advance(1_000);
      expect(f.calls('b')).toEqual({ get: 2, create: 0, update: 0, watch: 2 });
      expect(f.store.openWatches).toBe(2);
      void b;
    });

    it('re-watches at once after a normal server-side close', async () => {
      await f.started('a', T);
      await f.clock.advance(3_000);
      f.store.closeWatches();
      await f.clock.flush();
      expect(f.calls('a').watch).toBe(2);
    });

    it('still takes over an expired lease when the watch is silently dead (expiry timer reads)', async () => {
      f.store.adminWrite({ holderIdentity: 'x', leaseDurationSeconds: 15 });
      const b = await f.started('b', T);
      f.store.closeWatches(new LockUnavailableError('reset'));
      f.store.setUnavailable(true);
      await f.clock.advance(5_000);
      f.store.setUnavailable(false);
      await f.clock.advance(10_100);
      expect(b.elector.isLeader()).toBe(true);
    });
  });

  describe('a dead watch (black-holed connection)', () => {
    /** WATCH_SILENCE_LIMIT of lib/core/lease-watch.ts. */
    const SILENCE_LIMIT = 150_000;

    it('is re-opened after the silence limit when nothing newer is known, from the last resourceVersion, and then sees a release at once', async () => {
      // Nobody renews (the holder's hour-long lease): no read or write shows b a newer version, so
      // only the silence limit finds the dead watch (with renewals, see stale-watch.spec.ts).
      const apiErrors: string[] = [];
      const metrics = { apiError: (...labels: string[]) => apiErrors.push(labels.join(' ')) };
      f.store.adminWrite({ holderIdentity: 'x', leaseDurationSeconds: 3600 });
      const b = await f.started('b', { ...T, metrics });
      f.store.muteOpenWatches('b'); // open, but nothing arrives any more
      await f.clock.advance(SILENCE_LIMIT - 1_000);
      expect(f.calls('b').watch).toBe(1);
      await f.clock.advance(2_000 + 1_000); // the limit, then the first re-watch backoff (random 0)
      expect(f.calls('b').watch).toBe(2);
      expect(f.store.openWatches).toBe(1); // the dead one closed, the new one open
      expect(apiErrors.filter((e) => e.includes('watch'))).toEqual(['test watch unavailable']);
      const warnings = b.logger.at('warn').filter((m) => m.includes('silent for'));
      expect(warnings).toEqual([expect.stringContaining('watch silent for 150 s')]);
      const before = f.calls('b');
      f.store.adminWrite({ holderIdentity: '', leaseDurationSeconds: 3600 });
      await f.clock.advance(OTHERS_FROM);
      // Seen through the re-opened watch, not at b's expiry timer (no read).
      expect(b.elector.isLeader()).toBe(true);
      expect(f.calls('b')).toEqual({ ...before, update: before.update + 1 });
    });

    it('that never opens is re-opened after the request timeout', async () => {
      const a = await f.started('a', T);
      f.store.stallWatches('b'); // the watch request gets no answer at all
      const b = await f.started('b', { ...T, requestTimeout: 4_000 });
      f.store.stallWatches('b', false);
      expect(f.store.stalledWatches).toBe(1);
      await f.clock.advance(3_900);
      expect(f.calls('b').watch).toBe(1);
      await f.clock.advance(100 + 1_000); // the timeout, then the first re-watch backoff
      expect(f.calls('b').watch).toBe(2);
      expect(f.store.stalledWatches).toBe(0); // the stuck request was closed
      expect(f.store.openWatches).toBe(2);
      expect(b.logger.at('warn')).toEqual([
        expect.stringContaining('watch did not open within 4000 ms'),
      ]);
      await a.elector.stop();
      await f.clock.advance(OTHERS_FROM); // a follower that saw the term begin
      expect(b.elector.isLeader()).toBe(true);
    });

    it('leaves no timer behind when stopped while a re-opened watch is stuck again', async () => {
      await f.started('a', T);
      f.store.stallWatches('b');
      const b = await f.started('b', { ...T, requestTimeout: 4_000 });
      await f.clock.advance(5_000);
      expect(f.calls('b').watch).toBe(2);
      expect(f.store.stalledWatches).toBe(1);
      await b.elector.stop();
      await f.clock.flush();
      expect(f.store.stalledWatches).toBe(0);
      await f.stopAll();
      expect(f.clock.pendingTimers).toBe(0);
      expect(f.store.openWatches).toBe(0);
    });
  });

  describe('RBAC denial', () => {
    it('reports the missing verb, never leads, and retries slowly', async () => {
      f.store.adminWrite({ holderIdentity: '', leaseDurationSeconds: 1 });
      const forbidden = () =>
        new LockForbiddenError('update', 'leases', 'ns', 'lease-reader', 'leases "x" is forbidden');
      for (let i = 0; i < 20; i++) f.store.failNext('update', forbidden(), 'a');
      const a = await f.started('a', T);
      await f.clock.advance(60_000);
      expect(a.elector.isLeader()).toBe(false);
      expect(a.logger.at('error')).toEqual([
        expect.stringMatching(/may not "update" leases in namespace "ns"/),
      ]);
      expect(f.calls('a').update).toBeLessThanOrEqual(5); // one per lease duration at most
      expect(a.elector.status().lastError).toBeInstanceOf(LockForbiddenError);
    });
  });

  describe('stop()', () => {
    it('waits for in-flight leader work (still renewing) before releasing', async () => {
      const a = await f.started('a', T);
      const b = await f.started('b', T);
      const work = a.elector.beginLeaderWork()!;
      const stopped = a.elector.stop();
      await f.clock.flush();
      expect(a.elector.isLeader()).toBe(false);
      expect(a.elector.beginLeaderWork()).toBeNull();
      expect(work.signal.aborted).toBe(true);
      await f.advanceChecking(8_000);
      // Renewed meanwhile, so b has not taken over even after the lease duration would pass.
      expect(f.store.current()?.holderIdentity).toBe('a');
      expect(b.elector.isLeader()).toBe(false);
      work.end();
      await stopped;
      await f.clock.advance(OTHERS_FROM); // a follower that saw the term begin
      expect(b.elector.isLeader()).toBe(true);
    });

    it('does not release when leader work outlives the grace period', async () => {
      const a = await f.started('a', { ...T, shutdownGracePeriod: 3_000 });
      a.elector.beginLeaderWork();
      const stopped = a.elector.stop();
      await f.clock.advance(3_000);
      await stopped;
      expect(f.store.current()?.holderIdentity).toBe('a');
      expect(a.logger.at('warn').some((m) => m.includes('not releasing'))).toBe(true);
    });

    it('leaves no timer and no watch behind', async () => {
      const a = await f.started('a', T);
      const b = await f.started('b', T);
      await f.clock.advance(7_000);
      await b.elector.stop();
      await a.elector.stop();
      await f.clock.flush();
      expect(f.clock.pendingTimers).toBe(0);
      expect(f.store.openWatches).toBe(0);
    });

    it('releases a lease acquired by a write that was in flight when stop() began', async () => {
      const a = f.candidate('a', T);
      f.store.hold('create');
      a.elector.start();
      await f.clock.flush();
      const stopped = a.elector.stop();
      f.store.release();
      await stopped;
      expect(a.elector.isLeader()).toBe(false);
      expect(f.store.current()?.holderIdentity).toBe('');
    });
  });

  describe('waiting and signals', () => {
    it('waitForLeadership resolves when leadership arrives', async () => {
      const a = await f.started('a', { ...T, releaseOnStop: false });
      const b = await f.started('b', T);
      let resolved = false;
      const waiting = b.elector.waitForLeadership().then(() => (resolved = true));
      await f.clock.advance(1_000);
      expect(resolved).toBe(false);
      await a.elector.stop();
      await f.clock.advance(15_000);
      await waiting;
      expect(resolved).toBe(true);
    });

    it('waitForLeadership rejects when the elector stops, or with the abort reason', async () => {
      await f.started('a', T);
      const b = await f.started('b', T);
      const controller = new AbortController();
      const aborted = b.elector.waitForLeadership({ signal: controller.signal });
      controller.abort(new Error('gave up'));
      await expect(aborted).rejects.toThrow('gave up');
      const stopped = b.elector.waitForLeadership();
      await b.elector.stop();
      await expect(stopped).rejects.toBeInstanceOf(ElectorStoppedError);
    });

    it('isolates listener errors', async () => {
      const a = f.candidate('a', T);
      a.elector.onChange(() => {
        throw new Error('listener bug');
      });
      a.elector.start();
      await f.clock.flush();
      expect(a.elector.isLeader()).toBe(true);
      expect(a.logger.at('error')).toEqual([expect.stringContaining('listener bug')]);
    });
  });

  describe('property: never two leaders', () => {
    it.each([1, 2, 3, 4, 5, 6, 7, 8, 42, 1234])(
      'holds across random stops, restarts, outages, watch resets and admin writes (seed %i)',
      async (initialSeed) => {
        let seed = initialSeed;
        const random = () => {
          seed = (seed * 1103515245 + 12345) % 2 ** 31;
          return seed / 2 ** 31;
        };
        const ids = ['a', 'b', 'c', 'd', 'e'];
        let generation = 0;
        const live = new Map(ids.map((id) => [id, f.candidate(`${id}0`, { ...T, random })]));
        for (const candidate of live.values()) candidate.elector.start();
        for (let round = 0; round < 60; round++) {
          const roll = random();
          const id = ids[Math.floor(random() * ids.length)];
          if (roll < 0.2) {
            await live.get(id)!.elector.stop();
            generation += 1;
            const next = f.candidate(`${id}${generation}`, {
              ...T,
              random,
              releaseOnStop: random() < 0.5,
            });
            next.elector.start();
            live.set(id, next);
          } else if (roll < 0.3) {
            f.store.setUnavailable(true);
            await f.advanceChecking(Math.floor(random() * 20_000), 100);
            f.store.setUnavailable(false);
          } else if (roll < 0.4) {
            f.store.closeWatches(random() < 0.5 ? new LockGoneError('gone') : undefined);
            if (random() < 0.5) f.store.compact();
          } else if (roll < 0.45) {
            f.store.adminWrite(null);
          } else if (roll < 0.5) {
            f.store.hold();
            await f.advanceChecking(Math.floor(random() * 12_000), 100);
            f.store.release();
          }
          await f.advanceChecking(Math.floor(random() * 20_000), 100);
        }
        // Liveness: after a quiet period someone leads.
        await f.advanceChecking(40_000, 100);
        expect(f.leaders()).toHaveLength(1);
      },
    );
  });
});
