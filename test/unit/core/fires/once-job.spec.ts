// `once` jobs on the in-memory Lease with the fake clock: each fire is claimed in the Lease's ledger
// before it runs, so no fire runs twice whatever the replicas' clocks, and a new leader catches up the
// fires that fell due while nobody ran them. The same scenarios without `once` (`plain`) run fires
// twice and lose them: the positive control.
import { getEventListeners } from 'node:events';
import { every, OnceReplicas, T } from '../../support/once-replicas.js';

const START = new Date('2026-12-07T10:00:00.200Z').getTime();
const schedule = every(1_000);

describe('once jobs', () => {
  let r: OnceReplicas;
  beforeEach(() => {
    r = new OnceReplicas();
  });
  afterEach(() => r.stopAll());

  it('runs each fire once on the leader, with one Lease write per fire and none from followers', async () => {
    const a = r.start('a');
    await r.clock.advance(1_000);
    r.start('b');
    const before = r.store.count({ operation: 'update' });
    await r.clock.advance(10_000);
    expect(a.elector.isLeader()).toBe(true);
    const ran = r.runs.map((run) => run.at);
    expect(ran.length).toBeGreaterThanOrEqual(10);
    expect(r.doubles()).toEqual([]);
    expect(new Set(r.runs.map((run) => run.replica))).toEqual(new Set(['a']));
    // Renews every renewDeadline / 2 (1 s here) and claims every second: claims take renews' place
    // only when they coincide, so at most one write per fire plus one renew per renew interval.
    const writes = r.store.count({ operation: 'update' }) - before;
    expect(r.store.count({ identity: 'b', operation: 'update' })).toBe(0);
    expect(writes).toBeLessThanOrEqual(ran.length + 11);
    expect(r.outcomes.every((o) => o.result === 'ran')).toBe(true);
    const ledger = r.store.current()!.fires!;
    expect(ledger.jobs['Jobs.tick']).toMatchObject({ at: Math.max(...ran), zone: 'UTC' });
  });

  it('leaves no listener on the term per claim: a long term of claims does not grow', async () => {
    const a = r.start('a');
    await r.clock.advance(100_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(r.runs.length).toBeGreaterThan(90);
    // The claims answer when the term ends: each removes its listener once answered.
    expect(getEventListeners(a.elector.leadershipSignal(), 'abort').length).toBeLessThan(5);
  });

  it('keeps at most one tick waiting behind a run that outlasts the period: no backlog builds up', async () => {
    r.runFor = 2_500; // a job every second whose runs take 2.5 s
    const a = r.start('a', { catchUp: 'latest' });
    await r.clock.advance(20_000);
    const started = r.runs.length;
    a.stopTicking();
    await r.clock.advance(20_000);
    // The run in progress and the one tick waiting behind it, nothing more.
    expect(r.runs.length - started).toBeLessThanOrEqual(2);
    // Runs never overlap (one after the other), and each stands for a distinct, later fire.
    const instants = r.runs.map((run) => run.at);
    expect(instants).toEqual([...new Set(instants)].sort((x, y) => x - y));
    expect(r.doubles()).toEqual([]);
  });

  it.each([
    ['latest', 1, 'coalesced'],
    ['all', 'every', 'none'],
    ['none', 0, 'missed'],
  ] as const)('after a crash, a new leader catches up (%s)', async (policy, caughtUp, others) => {
    const a = r.start('a', { catchUp: policy });
    await r.clock.advance(100);
    r.start('b', { catchUp: policy });
    await r.clock.advance(5_000);
    a.crash();
    const crashedAt = r.clock.wallNow().getTime();
    await r.clock.advance(8_000);
    const late = r.runs.filter((run) => run.catchUp);
    const missedWhileLeaderless = r.unaccounted(schedule, START + 1_000, crashedAt);
    expect(r.doubles()).toEqual([]);
    // Every fire from the start to now ran, or has an outcome saying why not.
    expect(r.unaccounted(schedule, START + 1_000, r.clock.wallNow().getTime() - 1_000)).toEqual([]);
    expect(missedWhileLeaderless).toEqual([]);
    if (caughtUp === 'every') {
      expect(late.length).toBeGreaterThanOrEqual(2);
      expect(r.results('coalesced')).toEqual([]);
      expect(r.results('missed')).toEqual([]);
    } else {
      expect(late.length).toBe(caughtUp);
      expect(r.results(others).length).toBeGreaterThanOrEqual(2);
    }
    // Caught up in order, before the new leader's first tick.
    const bRuns = r.runs.filter((run) => run.replica === 'b').map((run) => run.at);
    expect(bRuns).toEqual([...bRuns].sort((x, y) => x - y));
  });

  it('never runs a fire twice at graceful handovers between clocks 0.4 s apart; without once it does', async () => {
    const scenario = async (plain: boolean) => {
      const set = new OnceReplicas();
      const a = set.start('a', { plain });
      await set.clock.advance(100);
      const b = set.start('b', { skew: -400, plain });
      await set.clock.advance(3_000);
      for (let i = 0; i < 3; i++) {
        const leader = a.elector.isLeader() ? a : b;
        await set.clock.advance(850); // just after the fast clock's instant, before the slow one's
        await leader.elector.stepDown();
        await set.clock.advance(3_000);
      }
      await set.stopAll();
      return set.doubles();
    };
    expect(await scenario(false)).toEqual([]);
    expect((await scenario(true)).length).toBeGreaterThan(0);
  });

  it('a claim whose answer is lost is run once a re-read shows it and the replica still leads', async () => {
    const a = r.start('a');
    await r.clock.advance(100);
    r.start('b');
    await r.clock.advance(2_000);
    a.lock.loseNextClaimAnswer = true;
    await r.clock.advance(5_000);
    expect(a.lock.loseNextClaimAnswer).toBe(false);
    expect(r.runs.every((run) => run.replica === 'a')).toBe(true);
    expect(r.doubles()).toEqual([]);
    expect(r.unaccounted(schedule, START + 1_000, r.clock.wallNow().getTime() - 1_000)).toEqual([]);
  });

  it.each([false, true])(
    'a claim that landed while its claimant was cut off is reported interrupted by the next leader (rerunInterrupted: %s)',
    async (rerunInterrupted) => {
      const a = r.start('a', { rerunInterrupted });
      await r.clock.advance(100);
      r.start('b', { rerunInterrupted });
      await r.clock.advance(2_000);
      a.lock.loseNextClaimAnswer = true;
      const ranByA = () => r.runs.filter((run) => run.replica === 'a').length;
      const before = ranByA();
      await r.clock.advance(1_000);
      expect(a.lock.loseNextClaimAnswer).toBe(false); // the claim landed
      a.crash(); // before any re-read
      await r.clock.advance(6_000);
      expect(ranByA()).toBe(before);
      const interrupted = r.results('interrupted');
      expect(interrupted).toHaveLength(1);
      expect(r.runs.filter((run) => run.at === interrupted[0])).toHaveLength(
        rerunInterrupted ? 1 : 0,
      );
      expect(r.doubles()).toEqual([]);
    },
  );

  it('a claim refused because another replica took the Lease is not run there; the next leader catches it up', async () => {
    const a = r.start('a');
    await r.clock.advance(100);
    r.start('b');
    await r.clock.advance(2_000);
    // a's writes hang (its claims and renews): it stops leading, b takes the Lease over.
    const ranByA = r.runs.filter((run) => run.replica === 'a').length;
    r.store.hold('update', 'a');
    await r.clock.advance(4_500);
    expect(r.replicas.get('b')!.elector.isLeader()).toBe(true);
    r.store.release(); // a's held claim meets b's Lease: 409
    await r.clock.advance(3_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(r.runs.filter((run) => run.replica === 'a')).toHaveLength(ranByA);
    expect(r.doubles()).toEqual([]);
    expect(r.results('caught-up')).toHaveLength(1);
    expect(r.unaccounted(schedule, START + 1_000, r.clock.wallNow().getTime() - 1_000)).toEqual([]);
  });

  it('keeps the ledger through a client-go holder but catches up nothing from its term', async () => {
    r.start('a');
    await r.clock.advance(3_000);
    await r.replicas.get('a')!.stop();
    r.replicas.delete('a');
    // A holder that keeps annotations as it found them and writes only the spec.
    const record = r.store.current()!;
    const ledger = record.fires;
    r.store.adminWrite({
      ...record,
      holderIdentity: 'go',
      leaseTransitions: record.leaseTransitions! + 1,
      renewTime: r.clock.wallNow(),
    });
    await r.clock.advance(1_000);
    r.store.adminWrite({ ...r.store.current()!, holderIdentity: '', renewTime: r.clock.wallNow() });
    expect(r.store.current()!.fires).toEqual(ledger);
    const freed = r.clock.wallNow().getTime();
    r.start('b');
    await r.clock.advance(3_000);
    expect(r.runs.filter((run) => run.replica === 'b' && run.at < freed)).toEqual([]);
    expect(r.runs.some((run) => run.replica === 'b')).toBe(true);
  });

  void T;
});
