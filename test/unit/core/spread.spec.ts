// An election spread over shares: the job-to-share mapping, the quotas and the handover plan as
// pure functions, and replicas of a SpreadElector on in-memory Leases under the fake clock.
import { InvalidOptionError } from '../../../lib/core/index.js';
import { FakeClock } from '../../../lib/core/fake-clock.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/core/memory-lock.js';
import { planHandover, shareQuotas } from '../../../lib/core/spread/share-balance.js';
import { shareLeaseName, shareOf, spreadLeaseNames } from '../../../lib/core/spread/shares.js';
import { SpreadElector } from '../../../lib/core/spread/spread-elector.js';
import type { Clock } from '../../../lib/core/clock.js';
import type { MemberEntry } from '../../../lib/core/lease-record.js';

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

  it('hands no share back and forth between replicas with different share counts', () => {
    // a has 6 shares, b has 8 (a rollout that changes `shares`): each counts the quotas over the
    // shares it has, so each can see the other below its quota. Each plans on the holders as the
    // last handover left them, taking turns, as their checks would.
    const counts = new Map([
      ['a', 6],
      ['b', 8],
    ]);
    const holders = ['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b'];
    const moves: string[] = [];
    for (let turn = 0; turn < 10; turn++) {
      const self = turn % 2 === 0 ? 'a' : 'b';
      const own = counts.get(self)!;
      const seen = holders.slice(0, own);
      const led = seen.flatMap((holder, share) => (holder === self ? [share] : []));
      const plan = planHandover({
        self,
        members: ['a', 'b'],
        holders: seen,
        led,
        shareCounts: counts,
      });
      if (!plan) continue;
      moves.push(`${self} -> ${plan.successor}: ${plan.share}`);
      holders[plan.share] = plan.successor;
    }
    expect(moves).toEqual([]);
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

  /** The fake clock, its wall clock `wallSkew` ms off (a node whose clock is wrong). */
  function skewed(wallSkew: number): Clock {
    return {
      now: () => clock.now(),
      wallNow: () => new Date(clock.wallNow().getTime() + wallSkew),
      setTimeout: (callback, delay) => clock.setTimeout(callback, delay),
      clearTimeout: (handle) => clock.clearTimeout(handle),
    };
  }

  function replica(identity: string, shares = 6, wallSkew = 0): SpreadElector {
    const spread = new SpreadElector({
      ...T,
      leaseName: 'jobs',
      shares,
      clock: wallSkew ? skewed(wallSkew) : clock,
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
      for (let share = 0; share < 8; share += 1) {
        const leaders = [...replicas].filter(([, r]) => r.electors[share]?.isLeader());
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

  /** Writes `entries` into the membership Lease beside the replicas' own (as anyone with access can). */
  async function forge(entries: Record<string, MemberEntry>) {
    const members = store('jobs-members');
    const lock = new InMemoryLeaseLock(members, 'forger', 'jobs-members');
    const record = members.current()!;
    await lock.update(
      {
        holderIdentity: '',
        leaseDurationSeconds: 90,
        acquireTime: record.acquireTime ?? clock.wallNow(),
        renewTime: clock.wallNow(),
        leaseTransitions: record.leaseTransitions ?? 0,
        members: { ...record.members, ...entries },
      },
      record.resourceVersion,
    );
  }

  const handovers = (from = 0) => logs.slice(from).filter((line) => line.includes('handing share'));

  it('a forged membership entry forges no log line, and a joining replica still gets its shares', async () => {
    replica('r1');
    await run(20_000);
    const forged = ' \n[Nest] 1 - LOG [LeaderElection] r1 released all shares';
    await forge({ [forged]: { until: clock.wallNow().getTime() + 600_000 } });
    replica('r2');
    await run(60_000);
    expect(logs.filter((line) => line.includes('\n'))).toEqual([]);
    expect(handovers().filter((line) => line.includes('released all shares'))).toEqual([]);
    expect(led()).toEqual({ r1: 3, r2: 3 });
    expect(overlaps).toEqual([]);
  });

  it('50 valid-looking forged entries cost a bounded number of handovers', async () => {
    replica('r1');
    replica('r2');
    await run(30_000);
    const from = logs.length;
    const until = { until: clock.wallNow().getTime() + 3_600_000 };
    await forge(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`jobs-${i}`, until])));
    await run(300_000);
    // Each forged name tried at most once per replica, at most 12 handovers a minute per replica,
    // and the entries count for their ttl (90 s) after the replicas saw them: two windows of 12.
    expect(handovers(from).length).toBeLessThanOrEqual(2 * 24);
    const perName = new Map<string, number>();
    for (const line of handovers(from)) {
      const [who, , name] = line.split(/: | over to | to even/);
      if (name.startsWith('jobs-'))
        perName.set(`${who} ${name}`, (perName.get(`${who} ${name}`) ?? 0) + 1);
    }
    expect(Math.max(...perName.values())).toBe(1);
    expect(led()).toEqual({ r1: 3, r2: 3 });
    expect(overlaps).toEqual([]);
  });

  it('replicas with different share counts hand a share only to a replica that has it', async () => {
    replica('r3', 8);
    replica('r4', 8);
    await run(30_000);
    replica('r1', 6);
    replica('r2', 6);
    await run(60_000);
    const from = logs.length;
    await run(300_000);
    expect(logs.slice(from).filter((line) => line.includes('did not take'))).toEqual([]);
    expect(handovers(from)).toEqual([]);
    expect(overlaps).toEqual([]);
  });

  /**
   * Advances `ms` in 100 ms steps and counts, per job, the steps in which it runs on more than one
   * replica (`runs` over the replicas running now) and those in which it runs on none.
   */
  async function runJobs(ms: number) {
    const twice = new Map<string, number>();
    const nowhere = new Map<string, number>();
    for (let t = 0; t < ms; t += 100) {
      await run(100);
      for (const job of jobs) {
        const on = [...replicas.values()].filter(
          (r) => r.electorFor(job).isLeader() && !r.holdsBack(job),
        ).length;
        if (on > 1) twice.set(job, (twice.get(job) ?? 0) + 100);
        if (on === 0) nowhere.set(job, (nowhere.get(job) ?? 0) + 100);
      }
    }
    return { twice, nowhere };
  }

  /** The jobs whose share differs between `a` and `b` shares. */
  const moved = (a: number, b: number) => jobs.filter((job) => shareOf(job, a) !== shareOf(job, b));

  async function stopReplica(identity: string) {
    await replicas.get(identity)!.stop();
    replicas.delete(identity);
  }

  it('a rollout from 6 to 8 shares runs no job on two replicas at once, then every job on its new share', async () => {
    replica('old1', 6);
    replica('old2', 6);
    await run(30_000);
    replica('new1', 8);
    replica('new2', 8);
    const mixed = await runJobs(300_000);
    // 28 of the 100 jobs map to another share; before the gate each ran on two replicas at once
    // for 214 s of these 300 s on average.
    expect(moved(6, 8)).toHaveLength(28);
    expect([...mixed.twice]).toEqual([]);
    // Every job runs: the old replicas keep the six shares both counts have (each count balances
    // only among its own members), so a moved job runs on its old share meanwhile. Before that
    // rule, 22 of the 28 moved jobs ran nowhere for 252 s of the 300 s on average.
    expect([...mixed.nowhere]).toEqual([]);
    // The old replicas stop (the end of the rollout): every job runs on one replica at once.
    await stopReplica('old1');
    await stopReplica('old2');
    const after = await runJobs(1_000);
    expect([...after.twice]).toEqual([]);
    expect([...after.nowhere]).toEqual([]);
    expect(logs.filter((line) => line.includes('held back')).length).toBeGreaterThan(0);
    expect(logs.filter((line) => line.includes('runs on share')).length).toBeGreaterThan(0);
    expect(overlaps).toEqual([]);
  });

  it('moved jobs run on the new share within the entry ttl after the old replicas crash', async () => {
    replica('old1', 6);
    replica('old2', 6);
    await run(30_000);
    replica('new1', 8);
    replica('new2', 8);
    await run(60_000);
    // Cut off (as crashed), they run their jobs until their renew deadline; their entries count
    // for their ttl (90 s) after the new replicas last saw them change.
    for (const s of stores.values()) for (const r of ['old1', 'old2']) s.partition(r);
    const gap = await runJobs(90_000);
    expect([...gap.twice]).toEqual([]);
    const after = await runJobs(10_000);
    expect([...after.twice]).toEqual([]);
    expect([...after.nowhere]).toEqual([]);
    expect(overlaps).toEqual([]);
    for (const s of stores.values()) for (const r of ['old1', 'old2']) s.partition(r, false);
  });

  it('an old replica restarting mid-rollout, then a rollback to 6 shares, runs no job twice', async () => {
    replica('old1', 6);
    replica('old2', 6);
    await run(30_000);
    replica('new1', 8);
    const first = await runJobs(60_000);
    // old2 restarts: its entry comes after new1's, so it waits for 8-share members too.
    await stopReplica('old2');
    replica('old2', 6);
    const restarted = await runJobs(60_000);
    // Rolled back: new1 goes, a 6-share replica joins (it waits for new1's count while it lives).
    replica('old3', 6);
    const both = await runJobs(30_000);
    await stopReplica('new1');
    const back = await runJobs(5_000);
    for (const phase of [first, restarted, both, back]) expect([...phase.twice]).toEqual([]);
    const settled = await runJobs(1_000);
    expect([...settled.twice]).toEqual([]);
    expect([...settled.nowhere]).toEqual([]);
    expect(overlaps).toEqual([]);
  });

  it('a replica whose wall clock is 5 minutes behind still gets its shares', async () => {
    replica('r1');
    replica('r2');
    await run(30_000);
    replica('r3', 6, -300_000);
    await run(120_000);
    expect(led()).toEqual({ r1: 2, r2: 2, r3: 2 });
    expect(overlaps).toEqual([]);
  });
});
