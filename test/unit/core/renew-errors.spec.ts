// A holder keeps its term through any single failed renew (F7 of
// ../shared/docs/reviews/security-3.md: one 401/403 used to lapse the term).
import {
  LockForbiddenError,
  LockRejectedError,
  LockUnavailableError,
} from '../../../lib/core/index.js';
import { ElectionFixture } from '../support/election-fixture.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };

const errors: [string, () => Error][] = [
  [
    'a 403',
    () => new LockForbiddenError('update', 'leases.coordination.k8s.io', 'ns', 'u', 'denied'),
  ],
  ['a 422 from an admission policy', () => new LockRejectedError('denied by policy')],
  ['a 503 (as before)', () => new LockUnavailableError('service unavailable')],
  ['an unexpected error', () => new TypeError('fetch failed')],
];

describe('a failed renew while holding (F7)', () => {
  let f: ElectionFixture;

  beforeEach(() => {
    f = new ElectionFixture();
  });

  afterEach(async () => {
    await f.stopAll();
  });

  it.each(errors)('%s is retried every retryPeriod and the term goes on', async (_, error) => {
    const a = await f.started('a', T);
    const token = a.elector.fencingToken();
    f.store.failNext('update', error(), 'a');
    await f.advanceChecking(5_100); // the renew at 5 s (renewInterval) fails
    const updates = f.calls('a').update;
    await f.advanceChecking(2_000); // retried at 7 s, not a lease duration later
    expect(f.calls('a').update).toBe(updates + 1);
    await f.advanceChecking(10_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.elector.fencingToken()).toEqual(token);
    expect(a.events.map((event) => event.isLeader)).toEqual([true]);
  });

  it('a follower still waits a lease duration after a 403 (an operator has to fix it)', async () => {
    await f.started('a', T);
    f.store.failNext(
      'get',
      new LockForbiddenError('get', 'leases.coordination.k8s.io', 'ns', 'u', 'denied'),
      'b',
    );
    const b = f.candidate('b', T);
    f.store.stallWatches('b');
    b.elector.start();
    await f.clock.flush();
    await f.clock.advance(T.leaseDuration - 100);
    expect(f.calls('b').get).toBe(1);
    await f.clock.advance(200);
    expect(f.calls('b').get).toBe(2);
  });
});
