// The membership of an election spread over shares runs on the elector's watch and request code:
// request timeouts on the injected clock, failures in metrics and status, de-duplicated logs, and
// a watch that resumes from the last version it delivered and is re-opened when it falls silent.
import { type LockWatch, type LockWatchHandlers } from '../../../lib/core/index.js';
import { FakeClock } from '../../../lib/core/fake-clock.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/core/memory-lock.js';
import { WATCH_SILENCE_LIMIT } from '../../../lib/core/lease-watch.js';
import { Membership } from '../../../lib/core/spread/membership.js';
import { SpreadElector } from '../../../lib/core/spread/spread-elector.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };

/** A lock that records the resourceVersion each watch starts from. */
class RecordingLock extends InMemoryLeaseLock {
  readonly watches: (string | undefined)[] = [];

  override watch(
    handlers: LockWatchHandlers,
    options: { resourceVersion?: string } = {},
  ): LockWatch {
    this.watches.push(options.resourceVersion);
    return super.watch(handlers, options);
  }
}

describe('Membership', () => {
  let clock: FakeClock;
  let store: InMemoryLeaseStore;
  const running: { stop(): Promise<void> }[] = [];

  beforeEach(() => {
    clock = new FakeClock();
    store = new InMemoryLeaseStore();
  });
  afterEach(async () => {
    store.release();
    await Promise.all(running.splice(0).map((member) => member.stop()));
  });

  function member(identity: string, interval = 30_000) {
    const lock = new RecordingLock(store, identity, 'jobs-members');
    const membership = new Membership({
      lock,
      name: 'jobs-members',
      clock,
      interval,
      ttl: 3 * interval,
      requestTimeout: 2_500,
      retryPeriod: 2_000,
      random: () => 0.5,
    });
    running.push(membership);
    membership.start();
    return { lock, membership };
  }

  it("counts an entry for its ttl after it saw the entry change, whatever its writer's clock says", async () => {
    const { membership } = member('r1');
    await clock.advance(1_000);
    // Written by a replica whose wall clock is an hour behind (a deadline long past here), and one
    // of an older version (a number only): each counts for its ttl from when r1 saw it.
    const record = store.current()!;
    const past = clock.wallNow().getTime() - 3_600_000;
    await new InMemoryLeaseLock(store, 'x', 'jobs-members').update(
      {
        holderIdentity: '',
        leaseDurationSeconds: 90,
        acquireTime: clock.wallNow(),
        renewTime: clock.wallNow(),
        leaseTransitions: 0,
        members: {
          ...record.members,
          behind: { until: past, ttl: 20_000, shares: 4 },
          older: { until: past },
          'bad\nname': { until: past },
        },
      },
      record.resourceVersion,
    );
    await clock.advance(100);
    expect(membership.members()).toEqual(['behind', 'older', 'r1']);
    expect(membership.entries().get('behind')).toEqual({ until: past, ttl: 20_000, shares: 4 });
    await clock.advance(20_000); // behind's ttl: not renewed, gone
    expect(membership.members()).toEqual(['older', 'r1']);
    await clock.advance(70_000); // r1's own ttl (90 s) for the older version's entry
    expect(membership.members()).toEqual(['r1']);
    // r1's renewals dropped them (and the invalid one) and publish its ttl and share count.
    await clock.advance(30_000);
    expect(store.current()!.members).toEqual({
      r1: { until: expect.any(Number), ttl: 90_000 },
    });
  });

  it('resumes its watch from the last version delivered after the server closed it', async () => {
    const { lock } = member('r1');
    await clock.advance(1_000);
    store.closeWatches(); // a normal close, as the API server ends a watch after a while
    await clock.advance(1_000);
    expect(lock.watches).toEqual([undefined, store.current()!.resourceVersion]);
  });

  it('re-opens a silent watch on its clock and sees what it missed', async () => {
    // Renewals far apart: only the watch can show r1 the new member.
    const { lock, membership } = member('r1', 600_000);
    await clock.advance(1_000);
    store.muteOpenWatches('r1'); // a black-holed connection: open, but nothing arrives
    member('r3', 600_000);
    await clock.advance(WATCH_SILENCE_LIMIT - 2_000);
    expect(membership.members()).toEqual(['r1']);
    await clock.advance(3_000);
    expect(lock.watches).toHaveLength(2);
    expect(membership.members()).toEqual(['r1', 'r3']);
  });
});

describe('SpreadElector membership failures', () => {
  it('time out on the injected clock and reach metrics, status and the log once', async () => {
    const clock = new FakeClock();
    const stores = new Map<string, InMemoryLeaseStore>();
    const apiErrors: string[] = [];
    const logs: string[] = [];
    const spread = new SpreadElector({
      ...T,
      clock,
      leaseName: 'jobs',
      shares: 2,
      random: () => 0.5,
      metrics: {
        apiError: (lease, operation, kind) => apiErrors.push(`${lease} ${operation} ${kind}`),
      },
      logger: {
        log: (message) => logs.push(`log: ${message}`),
        warn: (message) => logs.push(`warn: ${message}`),
        error: (message) => logs.push(`error: ${message}`),
        debug: (message) => logs.push(`debug: ${message}`),
      },
      lockFor: (name) => {
        if (!stores.has(name)) stores.set(name, new InMemoryLeaseStore());
        return new InMemoryLeaseLock(stores.get(name)!, 'a', name);
      },
    });
    const members = stores.get('jobs-members')!;
    spread.start();
    await clock.advance(3_000);
    expect(spread.status().membership).toEqual({
      lease: 'jobs-members',
      members: ['a'],
      failingForMs: undefined,
      lastError: undefined,
    });

    // Its renewals hang: each times out after the request timeout (2.5 s) on the fake clock.
    members.hold('update');
    await clock.advance(60_000);
    const membership = spread.status().membership!;
    expect(membership.failingForMs).toBeGreaterThan(20_000);
    expect(String(membership.lastError)).toMatch(/in-memory lease jobs-members timed out/);
    const timeouts = apiErrors.filter((line) => line === 'jobs-members update unavailable');
    expect(timeouts.length).toBeGreaterThan(2);
    const membershipLogs = logs.filter((line) => line.includes('jobs-members'));
    expect(membershipLogs.filter((line) => !line.startsWith('debug'))).toHaveLength(1);
    expect(membershipLogs[0]).toMatch(/^warn: .*jobs-members.*timed out/);

    // Answers again: the streak ends, and one line says so.
    members.release();
    await clock.advance(10_000);
    expect(spread.status().membership).toMatchObject({
      failingForMs: undefined,
      lastError: undefined,
    });
    expect(logs.filter((line) => line.includes('jobs-members')).at(-1)).toMatch(
      /^log: jobs-members: API requests succeed again/,
    );
    await spread.stop();
  });
});
