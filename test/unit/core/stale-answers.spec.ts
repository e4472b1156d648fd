// Answers that arrive after newer news: the suspicions of ../shared/docs/reviews/security-3.md,
// each confirmed by a test that failed before its fix.
import { Membership } from '../../../lib/core/spread/membership.js';
import { type LeaseRecord, type LeaseSpec, type LockCallOptions } from '../../../lib/core/index.js';
import { InMemoryLeaseLock } from '../../../lib/core/memory-lock.js';
import { ElectionFixture } from '../support/election-fixture.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };

/** Applies writes at once but hands their answers back only when `open()` is called. */
class LateAnswerLock extends InMemoryLeaseLock {
  holding = false;
  private readonly waiting: (() => void)[] = [];

  open(): void {
    this.holding = false;
    for (const resume of this.waiting.splice(0)) resume();
  }

  override async update(
    spec: LeaseSpec,
    resourceVersion: string,
    options?: LockCallOptions,
  ): Promise<LeaseRecord> {
    const written = await super.update(spec, resourceVersion, options);
    if (this.holding) await new Promise<void>((resolve) => this.waiting.push(resolve));
    return written;
  }
}

describe('answers older than what the watch showed', () => {
  let f: ElectionFixture;

  beforeEach(() => {
    f = new ElectionFixture();
  });

  afterEach(async () => {
    await f.stopAll();
  });

  it('a write answered after a newer record was watched does not name the writer as holder', async () => {
    const a = await f.started('a', T);
    const lock = new LateAnswerLock(f.store, 'b', 'test');
    const b = f.candidate('b', { ...T, lock });
    b.elector.start();
    await f.clock.flush();
    lock.holding = true;
    await a.elector.stop(); // released: b acquires, its answer is late
    await f.clock.advance(T.renewDeadline + 1_000); // too late to lead on
    f.store.adminWrite({ holderIdentity: 'c', renewTime: new Date() }); // newer, watched by b
    await f.clock.flush();
    lock.open();
    await f.clock.flush();
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.getLeader()).toBe('c');
  });

  it('a membership entry being renewed when the replica stops is not written back after the stop', async () => {
    const clock = f.clock;
    const lock = new LateMembershipLock(f.store, 'r1', 'members');
    const membership = new Membership({
      lock,
      clock,
      interval: 30_000,
      ttl: 90_000,
      requestTimeout: 5_000,
      random: () => 0.5,
    });
    membership.start();
    await clock.flush();
    expect(Object.keys(f.store.current()?.members ?? {})).toEqual(['r1']);
    lock.holdNextUpdate = true;
    await clock.advance(30_000); // the renew's write is applied late
    await membership.stop(); // removes the entry
    expect(Object.keys(f.store.current()?.members ?? {})).toEqual([]);
    lock.applyHeld(); // the renew lands on an older version: 409
    await clock.flush();
    await clock.advance(90_000);
    expect(Object.keys(f.store.current()?.members ?? {})).toEqual([]);
  });
});

/** Holds one update before it is applied, until `applyHeld()`. */
class LateMembershipLock extends InMemoryLeaseLock {
  holdNextUpdate = false;
  private held: (() => void) | undefined;

  applyHeld(): void {
    this.held?.();
  }

  override async update(
    spec: LeaseSpec,
    resourceVersion: string,
    options?: LockCallOptions,
  ): Promise<LeaseRecord> {
    if (this.holdNextUpdate) {
      this.holdNextUpdate = false;
      await new Promise<void>((resolve) => (this.held = resolve));
    }
    return super.update(spec, resourceVersion, options);
  }
}
