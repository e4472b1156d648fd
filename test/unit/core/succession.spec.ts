// Rollout-aware succession, step-down and confirmed leadership on the in-memory Lease with the fake
// clock (test timings 15 / 10 / 2 s; random 0: no jitter).
import { CONFIRMATION_INTERVAL } from '../../../lib/core/confirm-leadership.js';
import { LockUnavailableError } from '../../../lib/core/index.js';
import { NAMED_GRACE, OTHERS_FROM } from '../../../lib/core/takeover-delay.js';
import { ElectionFixture } from '../support/election-fixture.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };

describe('succession', () => {
  let f: ElectionFixture;
  beforeEach(() => {
    f = new ElectionFixture();
  });
  afterEach(() => f.stopAll());

  /** Old replicas a (leader), b, c started together; the term then runs for `termAgeMs`. */
  async function oldReplicas(termAgeMs = 60_000) {
    const a = await f.started('a', T);
    const b = await f.started('b', T);
    const c = await f.started('c', T);
    await f.clock.advance(termAgeMs);
    expect(f.leaders()).toEqual(['a']);
    return { a, b, c };
  }

  it('hands a released Lease to a replica that joined the running term, not to one that saw it begin', async () => {
    const { a, b, c } = await oldReplicas();
    const n = await f.started('new', T);
    await f.clock.advance(T.retryPeriod); // following steadily (a healthy watch) for a retry period
    const before = { b: f.calls('b'), c: f.calls('c') };
    await a.elector.stop();
    await f.clock.advance(OTHERS_FROM);
    expect(f.leaders()).toEqual(['new']);
    expect(n.elector.isLeader()).toBe(true);
    // The old followers never wrote: the new holder's record reached them before their turn.
    expect(f.calls('b').update).toBe(before.b.update);
    expect(f.calls('c').update).toBe(before.c.update);
    expect([b.elector.getLeader(), c.elector.getLeader()]).toEqual(['new', 'new']);
  });

  it('moves leadership once across a rolling update of three replicas, leader first', async () => {
    const { a, b, c } = await oldReplicas();
    const transitions = () => f.store.current()!.leaseTransitions;
    const start = transitions();
    for (const old of [a, b, c]) {
      await f.started(`new-${old.id}`, T);
      await f.clock.advance(T.retryPeriod);
      await old.elector.stop();
      await f.clock.advance(NAMED_GRACE); // any takeover has happened by now
    }
    expect(f.leaders()).toEqual(['new-a']);
    expect(transitions()).toBe(start! + 1);
  });

  it('prefers the latest joiner when two joined late (back-to-back rollouts)', async () => {
    const { a } = await oldReplicas(60_000);
    await f.started('earlier', T); // joined at 60 s of the term
    await f.clock.advance(30_000);
    await f.started('latest', T); // joined at 90 s: both in the term's second half at 92 s
    await f.clock.advance(T.retryPeriod);
    await a.elector.stop();
    await f.clock.advance(OTHERS_FROM);
    expect(f.leaders()).toEqual(['latest']);
  });

  it('does not prefer a new replica that has not followed steadily for a retry period', async () => {
    const { a } = await oldReplicas();
    await f.started('new', T);
    await f.clock.advance(T.retryPeriod - 1);
    await a.elector.stop();
    await f.clock.advance(OTHERS_FROM);
    // All rank alike: with random 0 every follower tries at OTHERS_FROM; the first started wins.
    expect(f.leaders()).toEqual(['b']);
  });

  it('does not prefer a replica whose watch keeps failing (a crash-looping new version)', async () => {
    const { a } = await oldReplicas();
    await f.started('new', T);
    await f.clock.advance(T.retryPeriod);
    f.store.closeWatches(new LockUnavailableError('reset')); // every watch fails and re-opens
    await a.elector.stop();
    await f.clock.advance(1_000 + OTHERS_FROM); // the re-watch backoff (random 0), then the herd
    expect(f.leaders()).toEqual(['b']);
  });

  it('takes an expired Lease at its expiry, whatever the rank (a crash is not a rollout)', async () => {
    const { a } = await oldReplicas();
    await f.started('new', T);
    await f.clock.advance(T.retryPeriod);
    f.store.partition('a'); // a is cut off: no release, its Lease expires
    await f.clock.advance(T.renewDeadline);
    expect(a.elector.isLeader()).toBe(false);
    // Expiry: leaseDuration after the followers last saw a renew; then the herd spread only
    // (random 0: at once), so the first follower to schedule it wins, not the new replica.
    await f.clock.advance(T.leaseDuration - T.renewDeadline + T.retryPeriod);
    expect(f.leaders()).toEqual(['b']);
  });
});

describe('stepDown', () => {
  let f: ElectionFixture;
  beforeEach(() => {
    f = new ElectionFixture();
  });
  afterEach(() => f.stopAll());

  it('releases, lets a follower take over, and tells its listeners why', async () => {
    const a = await f.started('a', T);
    await f.started('b', T);
    expect(await a.elector.stepDown()).toBe(true);
    await f.clock.advance(OTHERS_FROM);
    expect(f.leaders()).toEqual(['b']);
    expect(a.events.map((e) => `${e.reason} ${e.isLeader} ${e.leader}`)).toEqual([
      'acquired true a',
      'stepping-down false a',
      'released false null',
      'observed false b',
    ]);
    expect(a.logger.at('log')).toContainEqual('a released in-memory lease test');
  });

  it('does not take the Lease back for one lease duration when nobody else takes it', async () => {
    const a = await f.started('a', T);
    expect(await a.elector.stepDown()).toBe(true);
    await f.clock.advance(T.leaseDuration - 1);
    expect(a.elector.isLeader()).toBe(false);
    expect(f.store.current()?.holderIdentity).toBe('');
    await f.clock.advance(1 + OTHERS_FROM);
    expect(a.elector.isLeader()).toBe(true);
  });

  it('may lead again at once after another replica has led', async () => {
    const a = await f.started('a', T);
    const b = await f.started('b', T);
    await a.elector.stepDown();
    await f.clock.advance(OTHERS_FROM);
    expect(f.leaders()).toEqual(['b']);
    await b.elector.stop();
    await f.clock.advance(OTHERS_FROM);
    expect(f.leaders()).toEqual(['a']);
  });

  it('names a successor: that replica takes the Lease first, the others give it time', async () => {
    const a = await f.started('a', T);
    const b = await f.started('b', T);
    await f.started('c', T);
    const before = f.calls('b');
    const released: unknown[] = [];
    const watch = f.store.doWatch('test-observer', {
      onEvent: (event) => {
        if (event.type !== 'BOOKMARK' && event.record.holderIdentity === '') {
          released.push(event.record.preferredHolder);
        }
      },
      onClose: () => undefined,
    });
    expect(await a.elector.stepDown({ successor: 'c' })).toBe(true);
    await f.clock.advance(NAMED_GRACE + OTHERS_FROM);
    watch.close();
    expect(released).toEqual(['c']); // the release named c (not as holder)
    expect(f.leaders()).toEqual(['c']);
    expect(f.calls('b').update).toBe(before.update);
    expect(b.elector.getLeader()).toBe('c');
    // The former leader sees its successor too (its watch showed c's acquisition before the
    // release's answer arrived: the older record must not replace it).
    expect(a.elector.getLeader()).toBe('c');
    // The new holder's write does not carry the name on.
    expect(f.store.current()?.preferredHolder).toBeUndefined();
  });

  it('waits for in-flight leader work (renewing meanwhile), refusing new work, then releases', async () => {
    const a = await f.started('a', { ...T, shutdownGracePeriod: 30_000 });
    await f.started('b', T);
    const work = a.elector.beginLeaderWork()!;
    const stepped = a.elector.stepDown();
    await f.clock.flush();
    expect(a.elector.isLeader()).toBe(false);
    expect(a.elector.beginLeaderWork()).toBeNull();
    expect(work.signal.aborted).toBe(true);
    await f.advanceChecking(T.leaseDuration);
    expect(f.store.current()?.holderIdentity).toBe('a'); // renewed while waiting
    work.end();
    expect(await stepped).toBe(true);
    await f.clock.advance(OTHERS_FROM);
    expect(f.leaders()).toEqual(['b']);
  });

  it('does not release while work outlives the grace period: the Lease expires instead', async () => {
    const a = await f.started('a', { ...T, shutdownGracePeriod: 3_000 });
    await f.started('b', T);
    const work = a.elector.beginLeaderWork()!;
    const stepped = a.elector.stepDown();
    await f.clock.advance(3_000);
    expect(await stepped).toBe(false);
    expect(f.store.current()?.holderIdentity).toBe('a');
    expect(a.elector.isLeader()).toBe(false);
    await f.advanceChecking(T.leaseDuration);
    expect(f.leaders()).toEqual(['b']);
    work.end();
  });

  it('is refused for an invalid successor, and answers false on a follower', async () => {
    await f.started('a', T);
    const b = await f.started('b', T);
    await expect(b.elector.stepDown({ successor: '' })).rejects.toThrow(/successor/);
    expect(await b.elector.stepDown()).toBe(false);
  });
});

describe('confirmLeadership', () => {
  let f: ElectionFixture;
  beforeEach(() => {
    f = new ElectionFixture();
  });
  afterEach(() => f.stopAll());

  it('costs one renew, which takes the place of the next scheduled one', async () => {
    const a = await f.started('a', T);
    await f.clock.advance(500);
    const before = f.calls('a').update;
    expect(await a.elector.confirmLeadership()).toBe(true);
    expect(f.calls('a').update).toBe(before + 1);
    // The next renew comes renewInterval after the confirming one, not at the old schedule.
    await f.clock.advance(a.elector.renewInterval - 1);
    expect(f.calls('a').update).toBe(before + 1);
    await f.clock.advance(1);
    expect(f.calls('a').update).toBe(before + 2);
  });

  it('answers false when the renew fails, and on a follower', async () => {
    const a = await f.started('a', T);
    const b = await f.started('b', T);
    expect(await b.elector.confirmLeadership()).toBe(false);
    f.store.failNext('update', new LockUnavailableError('blip'), 'a');
    expect(await a.elector.confirmLeadership()).toBe(false);
    // The next confirmation's write starts CONFIRMATION_INTERVAL after the failed one.
    const again = a.elector.confirmLeadership();
    await f.clock.advance(CONFIRMATION_INTERVAL);
    expect(await again).toBe(true);
  });
});
