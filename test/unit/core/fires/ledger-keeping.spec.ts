// The ledger in the Lease through what happens to the Lease: a stale watch event never moves it back
// (every write is based on its writer's own last write or a fresh read), a deleted Lease loses it
// (nothing before the new term is caught up, nothing runs twice), a claim that would make it too large
// is refused while renews go on, and a version without `once` that keeps it unstamped makes the next
// leader catch up nothing of its term (it ran those fires itself).
import { LEDGER_SIZE_LIMIT, ledgerSize } from '../../../../lib/core/fires/fire-ledger.js';
import type { LedgerEntry } from '../../../../lib/core/fires/fire-ledger.js';
import { every, OnceReplicas } from '../../support/once-replicas.js';

const START = new Date('2026-12-07T10:00:00.200Z').getTime();
const schedule = every(1_000);

describe('once jobs: the ledger in the Lease', () => {
  let r: OnceReplicas;
  beforeEach(() => {
    r = new OnceReplicas();
  });
  afterEach(() => r.stopAll());

  /** Fires that ran and were also reported as not run (coalesced, missed) or ran twice. */
  const contradictions = () => {
    const ran = new Set(r.runs.map((run) => run.at));
    const notRun = [...r.results('coalesced'), ...r.results('missed')];
    return [...notRun.filter((at) => ran.has(at)), ...r.doubles()];
  };

  it('keeps the ledger when stale watch events arrive between renews, on the leader and after a handover', async () => {
    const a = r.start('a');
    await r.clock.advance(100);
    const b = r.start('b');
    await r.clock.advance(3_000);
    const old = r.store.current()!;
    await r.clock.advance(3_000);
    // The leader's watch brings its own older write; the follower's too.
    a.lock.echo(old);
    b.lock.echo(old);
    await r.clock.advance(1_500);
    expect(a.elector.isLeader()).toBe(true);
    await a.elector.stepDown();
    await r.clock.advance(1_500);
    expect(b.elector.isLeader()).toBe(true);
    // The new leader's watch brings the previous holder's older record: it renews at once.
    b.lock.echo(old);
    await r.clock.advance(3_000);
    expect(r.regressions()).toEqual([]);
    const latest = Math.max(...r.runs.map((run) => run.at));
    expect(b.elector.fireLedger()!.jobs['Jobs.tick'].at).toBe(latest);
    expect(contradictions()).toEqual([]);
    expect(r.unaccounted(schedule, START + 1_000, r.clock.wallNow().getTime() - 1_000)).toEqual([]);
  });

  it('after the Lease is deleted, the next leader catches up nothing before its term and runs no fire twice', async () => {
    const a = r.start('a');
    await r.clock.advance(100);
    const b = r.start('b');
    await r.clock.advance(4_000);
    a.crash();
    const crashedAt = r.clock.wallNow().getTime();
    r.store.adminWrite(null);
    await r.clock.advance(8_000);
    expect(b.elector.isLeader()).toBe(true);
    const termStart = r.store.current()!.acquireTime!.getTime();
    expect(r.doubles()).toEqual([]);
    expect(r.runs.filter((run) => run.catchUp && run.at < termStart)).toEqual([]);
    const reported = [...r.results('caught-up'), ...r.results('coalesced'), ...r.results('missed')];
    expect(reported.filter((at) => at < termStart)).toEqual([]);
    // The ledger was lost with the Lease: the fires between the crash and the new term are lost.
    expect(r.unaccounted(schedule, crashedAt, termStart - 1).length).toBeGreaterThan(0);
    expect(r.store.current()!.fires!.jobs['Jobs.tick'].term).toBe(
      r.store.current()!.leaseTransitions,
    );
  });

  it('after the Lease is deleted under a live leader, it re-creates the Lease with its ledger', async () => {
    r.start('a');
    await r.clock.advance(100);
    r.start('b');
    await r.clock.advance(4_000);
    r.store.adminWrite(null);
    await r.clock.advance(8_000);
    // The leader's next write (an update: the API server creates a missing Lease) carries its ledger.
    expect(r.regressions()).toEqual([]);
    expect(contradictions()).toEqual([]);
    expect(r.runs.filter((run) => run.at > START + 9_000).length).toBeGreaterThan(0);
  });

  it('refuses a claim that would take the ledger over its limit, renewing all along and never sending an oversized ledger', async () => {
    const now = r.clock.wallNow();
    const jobs: Record<string, LedgerEntry> = {};
    const entry = (i: number): LedgerEntry => ({
      at: now.getTime() - i,
      term: 0,
      state: 'done',
      zone: 'Europe/Berlin',
      period: 60_000,
    });
    // Other replicas' jobs with long names, up to a few bytes short of the limit.
    for (let i = 0; ; i++) {
      const name = `Reports.${'monthly-'.repeat(12)}${i}`;
      if (ledgerSize({ term: 0, jobs: { ...jobs, [name]: entry(i) } }) > LEDGER_SIZE_LIMIT - 40)
        break;
      jobs[name] = entry(i);
    }
    r.store.adminWrite({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
      fires: { term: 0, jobs },
    });
    const a = r.start('a', { job: 'Jobs.aJobWithALongerNameThanFits' });
    await r.clock.advance(500);
    const before = r.store.count({ identity: 'a', operation: 'update' });
    await r.clock.advance(10_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(r.runs).toEqual([]);
    expect(r.outcomes.length).toBeGreaterThanOrEqual(9);
    expect(r.outcomes.every((o) => o.result === 'missed' && o.reason === 'ledger-full')).toBe(true);
    expect(a.lock.refused).toBe(0);
    expect(r.store.count({ identity: 'a', operation: 'update' }) - before).toBeGreaterThan(8);
    expect(r.ledgers.every((ledger) => !ledger || ledgerSize(ledger) <= LEDGER_SIZE_LIMIT)).toBe(
      true,
    );
    expect(Object.keys(r.store.current()!.fires!.jobs).sort()).toEqual(Object.keys(jobs).sort());
  });

  it('reports each fire once as missed when the ledger records the job in another zone', async () => {
    const now = r.clock.wallNow();
    const berlin: LedgerEntry = {
      at: START - 200,
      term: 0,
      state: 'done',
      zone: 'Europe/Berlin',
      period: 1_000,
    };
    r.store.adminWrite({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
      fires: { term: 0, jobs: { 'Jobs.tick': berlin } },
    });
    const a = r.start('a');
    await r.clock.advance(6_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(r.runs).toEqual([]);
    const reported = r.outcomes.map((o) => o.scheduledAt.getTime());
    expect(reported.length).toBeGreaterThanOrEqual(5);
    expect(new Set(reported).size).toBe(reported.length);
    expect(r.outcomes.every((o) => o.reason === 'zone-differs:Europe/Berlin')).toBe(true);
  });

  it('after a version without once held the Lease, the next leader catches up none of its fires', async () => {
    const a = r.start('a');
    await r.clock.advance(3_000);
    const old = r.start('old', { legacy: true });
    await r.clock.advance(100);
    await a.stop();
    await r.clock.advance(5_000);
    expect(old.elector.isLeader()).toBe(true);
    const ranByOld = r.runs.filter((run) => run.replica === 'old');
    expect(ranByOld.length).toBeGreaterThanOrEqual(4);
    // It keeps the ledger as it found it (a's entry, a's term) and never stamps it.
    expect(r.store.current()!.fires!.jobs['Jobs.tick'].at).toBeLessThan(ranByOld[0].at);
    const b = r.start('b');
    await r.clock.advance(100);
    await old.stop();
    await r.clock.advance(5_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(r.doubles()).toEqual([]);
    expect(r.runs.filter((run) => run.replica === 'b' && run.catchUp)).toEqual([]);
    expect(contradictions()).toEqual([]);
    expect(r.runs.filter((run) => run.replica === 'b').length).toBeGreaterThanOrEqual(4);
  });
});
