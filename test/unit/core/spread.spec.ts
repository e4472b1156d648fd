// An election spread over shares: the job-to-share mapping, the quotas and the handover plan as
// pure functions, and replicas of a SpreadElector on in-memory Leases under the fake clock.
import { InvalidOptionError } from '../../../lib/core/index.js';
import { FakeClock } from '../../../lib/core/fake-clock.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/core/memory-lock.js';
import { planHandover, shareQuotas } from '../../../lib/core/spread/share-balance.js';
import { shareLeaseName, shareOf, spreadLeaseNames } from '../../../lib/core/spread/shares.js';
import { SpreadElector } from '../../../lib/core/spread/spread-elector.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };
const jobs = Array.from({ length: 100 }, (_, i) => `Jobs.job${i}`);

describe('shares of an election', () => {
  it('maps every job to one share, the same every time, spread over all shares', () => {
    const shares = jobs.map((job) => shareOf(job, 8));
    expect(jobs.map((job) => shareOf(job, 8))).toEqual(shares);
    const perShare = Array.from({ length: 8 }, (_, i) => shares.filter((s) => s === i).length);
    expect(Math.min(...perShare)).toBeGreaterThan(0);
    expect(perShare.reduce((a, b) => a + b)).toBe(100);
  });

  it('moves a job only to an added share when shares are added (rendezvous hashing)', () => {
    const before = jobs.map((job) => shareOf(job, 8));
    const after = jobs.map((job) => shareOf(job, 10));
    const moved = jobs.filter((_, i) => before[i] !== after[i]);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((job) => shareOf(job, 10) >= 8)).toBe(true);
  });

  it('names share Leases after the election and refuses names that are not DNS-1123', () => {
    expect(shareLeaseName('billing', 3)).toBe('billing-share-3');
    expect(spreadLeaseNames('leaseName', 'billing', 2)).toEqual([
      'billing-members',
      'billing-share-0',
      'billing-share-1',
    ]);
    const long = 'a'.repeat(247);
    expect(() => spreadLeaseNames('leaseName', long, 2)).toThrow(InvalidOptionError);
    expect(() => spreadLeaseNames('leaseName', long, 2)).toThrow(/leaseName.*shorten/);
  });

  it('gives each live replica floor(S/R) or one more shares', () => {
    for (const [replicas, shares] of [
      [1, 5],
      [3, 12],
      [5, 12],
      [7, 3],
    ]) {
      const quotas = [
        ...shareQuotas(
          Array.from({ length: replicas }, (_, i) => `r${i}`),
          shares,
        ).values(),
      ];
      expect(quotas.reduce((a, b) => a + b)).toBe(shares);
      expect(Math.max(...quotas) - Math.min(...quotas)).toBeLessThanOrEqual(1);
    }
  });

  it('plans a handover from a replica over its quota to the one furthest below', () => {
    const holders = ['a', 'a', 'a', 'a', 'b', 'b'];
    const view = { members: ['a', 'b', 'c'], holders, led: [0, 1, 2, 3] };
    expect(planHandover({ ...view, self: 'a' })).toEqual({ share: 3, successor: 'c' });
    expect(planHandover({ ...view, self: 'b', led: [4, 5] })).toBeUndefined();
    // A holder that is no member (a client-go peer on a share's Lease) keeps its share, is never
    // named successor, and its share is left out of the quotas: 5 shares for a and b.
    const peer = {
      members: ['a', 'b'],
      holders: ['go', 'a', 'a', 'a', 'a', 'b'],
      led: [1, 2, 3, 4],
    };
    expect(planHandover({ ...peer, self: 'a' })).toEqual({ share: 4, successor: 'b' });
    const afterPeer = { members: ['a', 'b'], holders: ['go', 'a', 'a', 'a', 'b', 'b'] };
    expect(planHandover({ ...afterPeer, self: 'a', led: [1, 2, 3] })).toBeUndefined();
    // Balanced: nothing to do.
    expect(
      planHandover({ self: 'a', members: ['a', 'b', 'c'], holders: ['a', 'b', 'c'], led: [0] }),
    ).toBeUndefined();
  });
});

describe('SpreadElector on in-memory Leases', () => {
  let clock: FakeClock;
  let stores: Map<string, InMemoryLeaseStore>;
  let replicas: Map<string, SpreadElector>;
  let overlaps: string[];
  let logs: string[];

  beforeEach(() => {
    clock = new FakeClock();
    stores = new Map();
    replicas = new Map();
    overlaps = [];
    logs = [];
  });
  afterEach(async () => {
    await Promise.all([...replicas.values()].map((r) => r.stop()));
  });

  function store(name: string): InMemoryLeaseStore {
    let s = stores.get(name);
    if (!s) stores.set(name, (s = new InMemoryLeaseStore()));
    return s;
  }

  function replica(identity: string): SpreadElector {
    const spread = new SpreadElector({
      ...T,
      leaseName: 'jobs',
      shares: 6,
      clock,
      random: () => 0.5,
      logger: {
        log: (message) => logs.push(`${identity}: ${message}`),
        warn: (message) => logs.push(`${identity}: ${message}`),
        error: (message) => logs.push(`${identity}: ${message}`),
      },
      lockFor: (name) => new InMemoryLeaseLock(store(name), identity, name),
    });
    replicas.set(identity, spread);
    spread.start();
    return spread;
  }

  /** Advances in steps, checking after each that no share has two leaders. */
  async function run(ms: number) {
    for (let t = 0; t < ms; t += 100) {
      await clock.advance(100);
      for (let share = 0; share < 6; share += 1) {
        const leaders = [...replicas].filter(([, r]) => r.electors[share].isLeader());
        if (leaders.length > 1) overlaps.push(`share ${share}: ${leaders.map(([id]) => id)}`);
      }
    }
  }

  const led = () => Object.fromEntries([...replicas].map(([id, r]) => [id, r.ledShares().length]));

  it('spreads shares evenly as replicas join, and again after one crashes', async () => {
    replica('r1');
    await run(20_000);
    expect(led()).toEqual({ r1: 6 });
    replica('r2');
    replica('r3');
    await run(30_000);
    expect(led()).toEqual({ r1: 2, r2: 2, r3: 2 });

    // r3 crashes: cut off from every Lease; its shares expire and the others take them. Its
    // membership entry counts for 90 s more: each of the others hands it at most one share, sees
    // that it does not take it, and leaves it out until it renews its entry.
    const crashedAt = logs.length;
    for (const s of stores.values()) s.partition('r3');
    await run(60_000);
    expect(led()).toMatchObject({ r1: 3, r2: 3 });
    const toR3 = logs.slice(crashedAt).filter((line) => line.includes('over to r3'));
    expect(toR3.length).toBeLessThanOrEqual(2);
    // Back: once it renews its entry it gets its shares again.
    for (const s of stores.values()) s.partition('r3', false);
    await run(60_000);
    expect(led()).toEqual({ r1: 2, r2: 2, r3: 2 });
    expect(overlaps).toEqual([]);
  });

  it('a replica that stops leaves the membership and the others take its shares', async () => {
    replica('r1');
    await run(20_000);
    replica('r2');
    await run(30_000);
    expect(led()).toEqual({ r1: 3, r2: 3 });
    await replicas.get('r2')!.stop();
    replicas.delete('r2');
    await run(5_000);
    expect(led()).toEqual({ r1: 6 });
    expect(Object.keys(store('jobs-members').current()?.members ?? {})).toEqual(['r1']);
    expect(overlaps).toEqual([]);
  });

  it('a replica stopped during a share handover releases that share too (F4)', async () => {
    const r1 = replica('r1');
    await run(20_000);
    // Work on every share: a handover's step-down waits for it.
    const works = r1.electors.map((elector) => elector.beginLeaderWork());
    replica('r2');
    for (let i = 0; i < 300 && !logs.some((line) => line.includes('over to r2')); i++) {
      await run(100);
    }
    expect(logs.filter((line) => line.includes('over to r2'))).toHaveLength(1);
    const stopping = r1.stop(); // SIGTERM while share handover drains
    await clock.advance(100);
    for (const work of works) work?.end();
    await stopping;
    replicas.delete('r1');
    await run(1_000);
    expect(led()).toEqual({ r2: 6 });
    expect(overlaps).toEqual([]);
  });
});
