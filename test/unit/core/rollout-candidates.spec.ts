// Succession by revision (RolloutCandidates) on the in-memory Lease with the fake clock (test timings
// 15 / 10 / 2 s; random 0 unless given: no jitter, standby times at once): followers of a new
// revision announce themselves once, one follower per term announces itself as the standby, the old
// leader names the newest of another revision, else the standby, and a release by a leader with a
// revision that names nobody sends every follower the herd spread alone.
import { NAMED_GRACE, OTHERS_FROM, ROLLOUT_GRACE } from '../../../lib/core/takeover-delay.js';
import {
  ANNOUNCE_TRIES,
  MAX_CANDIDATES,
  RolloutCandidates,
  toCandidates,
} from '../../../lib/core/rollout-candidates.js';
import type { LeaseRecord } from '../../../lib/core/lease-record.js';
import { Random } from '../../fuzz/random.js';
import { ElectionFixture } from '../support/election-fixture.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };

describe('succession by revision', () => {
  let f: ElectionFixture;
  beforeEach(() => {
    f = new ElectionFixture();
  });
  afterEach(() => f.stopAll());

  /**
   * Replicas a (leader), b, c of revision `v1`, started together; the term then runs a while. With
   * random 0, b draws the first standby time (at once) and announces itself as the term's standby.
   */
  async function oldReplicas(termAgeMs = 60_000) {
    const a = await f.started('a', { ...T, revision: 'v1' });
    const b = await f.started('b', { ...T, revision: 'v1' });
    const c = await f.started('c', { ...T, revision: 'v1' });
    await f.clock.advance(termAgeMs);
    expect(f.leaders()).toEqual(['a']);
    expect(f.store.current()!.candidates).toEqual([STANDBY_B]);
    return { a, b, c };
  }
  const STANDBY_B = { identity: 'b', revision: 'v1' };
  const identities = () => (f.store.current()!.candidates ?? []).map((c) => c.identity);
  /** The announcements `who` logged, rollout and standby ones apart. */
  const announced = (who: { logger: { at(level: string): string[] } }) => {
    const lines = who.logger.at('log').filter((l) => l.includes('announced itself'));
    return {
      rollout: lines.filter((l) => l.includes('as a successor of')).length,
      standby: lines.filter((l) => l.includes('as the standby successor of')).length,
    };
  };

  it('a new replica announces itself once; its leader carries it on and names it when it releases', async () => {
    const { a } = await oldReplicas();
    const n = await f.started('n', { ...T, revision: 'v2' });
    expect(f.calls('n').update).toBe(1); // the announcement
    expect(f.store.current()!.candidates).toEqual([STANDBY_B, { identity: 'n', revision: 'v2' }]);
    expect(f.store.current()!.holderIdentity).toBe('a');
    const leaderUpdates = f.calls('a').update;
    const leaderReads = f.calls('a').get;
    await f.clock.advance(30_000); // renewals based on the announcement: no conflict, no read
    expect(f.calls('n').update).toBe(1);
    expect(identities()).toEqual(['b', 'n']);
    expect(f.calls('a').get).toBe(leaderReads);
    expect(f.calls('a').update).toBeGreaterThan(leaderUpdates);
    const before = { b: f.calls('b').update, c: f.calls('c').update };
    await a.elector.stop();
    // The new revision's replica before the standby.
    expect(a.logger.at('log')).toContainEqual(
      expect.stringContaining('naming n (revision v2, the newest replica of another revision)'),
    );
    await f.clock.advance(NAMED_GRACE);
    expect(f.leaders()).toEqual(['n']);
    expect(n.elector.isLeader()).toBe(true);
    // The old followers gave the named successor its grace: their only write since is b's
    // announcement as the standby of n's term (random 0: at once).
    expect([f.calls('b').update, f.calls('c').update]).toEqual([before.b + 1, before.c]);
    expect(announced(f.candidates.find((r) => r.id === 'b')!).standby).toBe(2);
    expect(f.store.current()!).toMatchObject({ holderIdentity: 'n', candidates: [STANDBY_B] });
  });

  it('announces for a rollout only with another revision than the leader’s, having arrived in its term', async () => {
    const { a } = await oldReplicas();
    await f.started('same', { ...T, revision: 'v1' });
    expect(f.calls('same').update).toBe(0); // same revision, and the term has its standby
    await a.elector.stop();
    await f.clock.advance(NAMED_GRACE);
    expect(f.leaders()).toEqual(['b']); // the standby
    // Replicas of another revision than b's that saw b's term begin do not announce for a
    // rollout; one that arrives in it does.
    const other = await f.started('other', { ...T, revision: 'v0' });
    await f.clock.advance(30_000);
    expect(announced(other)).toEqual({ rollout: 1, standby: 0 });
    expect(identities()).toContain('other');
    const rollouts = [
      f.candidates.find((c) => c.id === 'c')!,
      f.candidates.find((c) => c.id === 'same')!,
    ];
    expect(rollouts.map((r) => announced(r).rollout)).toEqual([0, 0]);
    expect(other.elector.isLeader()).toBe(false);
  });

  it('names the newest announcer when a rollout was interrupted (three revisions)', async () => {
    const { a } = await oldReplicas();
    await f.started('v2-first', { ...T, revision: 'v2' });
    await f.clock.advance(5_000);
    await f.started('v3-newest', { ...T, revision: 'v3' });
    await f.clock.advance(5_000);
    expect(identities()).toEqual(['b', 'v2-first', 'v3-newest']);
    await a.elector.stop();
    await f.clock.advance(NAMED_GRACE);
    expect(f.leaders()).toEqual(['v3-newest']);
  });

  it('moves leadership once across a rolling update of three replicas, whichever old one leads', async () => {
    const { a, b, c } = await oldReplicas();
    const transitions = () => f.store.current()!.leaseTransitions;
    const start = transitions();
    // Old followers first (b, the standby, among them), the leader last: the worst order for the
    // timing heuristic, and a standby that is gone when the leader releases.
    const fresh = [];
    for (const old of [b, c, a]) {
      fresh.push(await f.started(`new-${old.id}`, { ...T, revision: 'v2' }));
      await f.clock.advance(T.retryPeriod);
      await old.elector.stop();
      await f.clock.advance(NAMED_GRACE);
    }
    expect(f.leaders()).toEqual(['new-a']);
    expect(transitions()).toBe(start! + 1);
    // Every new replica announced itself for the rollout exactly once; in new-a's term one of the
    // others is its standby.
    expect(fresh.map((r) => announced(r).rollout)).toEqual([1, 1, 1]);
    expect(fresh.map((r) => announced(r).standby)).toEqual([1, 0, 0]);
    expect(identities()).toEqual(['new-b']);
  });

  it('old replicas give a named Pod of the new revision a second, its own revision 100 ms', async () => {
    const { a } = await oldReplicas();
    await f.started('n', { ...T, revision: 'v2' });
    await f.started('n2', { ...T, revision: 'v2', random: () => 0.5 }); // arrived too, not named
    expect(identities()).toEqual(['b', 'n', 'n2']);
    // n2 is gone (cut off), n is slow: neither takes the Lease the release names n2 for.
    f.store.partition('n2');
    await a.elector.stop();
    expect(a.logger.at('log')).toContainEqual(expect.stringContaining('naming n2 (revision v2'));
    await f.clock.advance(NAMED_GRACE + 50);
    // n (new revision, not named) tried after the named grace and leads; b and c (old) did not try.
    expect(f.leaders()).toEqual(['n']);
    expect(announced(f.candidates.find((r) => r.id === 'c')!).rollout).toBe(0);
  });

  it('old replicas take over after ROLLOUT_GRACE when the named Pod of the new revision never comes', async () => {
    const { a, b, c } = await oldReplicas();
    await f.started('n', { ...T, revision: 'v2' });
    f.store.partition('n');
    const before = [f.calls('b').update, f.calls('c').update];
    await a.elector.stop();
    await f.clock.advance(ROLLOUT_GRACE - 1);
    expect(f.leaders()).toEqual([]);
    expect([f.calls('b').update, f.calls('c').update]).toEqual(before); // nobody tried yet
    await f.clock.advance(50);
    expect(f.leaders()).toHaveLength(1);
    expect([b, c].some((r) => r.elector.isLeader())).toBe(true);
  });

  it('one standby per term, named at a graceful release: it takes over at once and nobody else writes', async () => {
    // No revision changes: a, then followers whose standby times differ.
    const a = await f.started('a', { ...T, revision: 'v1' });
    const late = await f.started('late', { ...T, revision: 'v1', random: () => 0.9 });
    await f.started('early', { ...T, revision: 'v1', random: () => 0.3 });
    await f.clock.advance(T.retryPeriod);
    expect(identities()).toEqual(['early']);
    expect([f.calls('early').update, f.calls('late').update]).toEqual([1, 0]);
    await f.clock.advance(60_000);
    expect(identities()).toEqual(['early']); // carried on by the renewals
    const lateUpdates = f.calls('late').update;
    await a.elector.stop();
    expect(a.logger.at('log')).toContainEqual(
      expect.stringContaining('naming early (revision v1, the standby)'),
    );
    await f.clock.advance(0);
    expect(f.leaders()).toEqual(['early']);
    expect(f.calls('early').update).toBe(2);
    await f.clock.advance(NAMED_GRACE + 100);
    expect(f.calls('late').update).toBe(lateUpdates);
    // early's term: late is the only follower, so it becomes the standby once its time comes.
    await f.clock.advance(T.retryPeriod);
    expect(identities()).toEqual(['late']);
    expect(announced(late)).toEqual({ rollout: 0, standby: 1 });
  });

  it('a standby that stops takes itself off the candidates, and another follower becomes the standby', async () => {
    const { a, b, c } = await oldReplicas();
    const updates = f.calls('b').update;
    await b.elector.stop();
    expect(f.calls('b').update).toBe(updates + 1); // the withdrawal
    expect(b.logger.at('debug')).toContainEqual(
      expect.stringContaining('took itself off the successor candidates'),
    );
    await f.clock.advance(T.retryPeriod);
    expect(identities()).toEqual(['c']); // c drew again once the term had no candidate
    expect(announced(c).standby).toBe(1);
    const leaderReads = f.calls('a').get;
    await a.elector.stop();
    expect(f.calls('a').get).toBe(leaderReads); // the release was based on the withdrawal: no conflict
    await f.clock.advance(0);
    expect(f.leaders()).toEqual(['c']); // named: at once, not after the others' grace
  });

  it('with 50 followers a term gets its standby in a few writes, and a handover costs one request', async () => {
    const a = await f.started('a', { ...T, revision: 'v1' });
    const followers: { id: string }[] = [];
    for (let i = 0; i < 50; i++) {
      const random = new Random(7, `f${i}`);
      followers.push(
        await f.started(`f${i}`, { ...T, revision: 'v1', random: () => random.next() }),
      );
    }
    await f.clock.advance(T.retryPeriod + 10_000);
    const writes = () => followers.reduce((sum, r) => sum + f.calls(r.id).update, 0);
    const requests = () =>
      followers.reduce((sum, r) => sum + f.calls(r.id).update + f.calls(r.id).get, 0);
    expect(identities()).toHaveLength(1);
    expect(writes()).toBeLessThanOrEqual(3);
    const standby = identities();
    const before = requests();
    await a.elector.stop();
    await f.clock.advance(0);
    expect(f.leaders()).toEqual(standby);
    expect(requests() - before).toBe(1);
  });

  it('a release that names nobody sends every follower the herd spread alone, without the shift', async () => {
    // The leader knows its revision; its followers know none (a rollout adding the variable):
    // nobody announces, and the release names nobody.
    const a = await f.started('a', { ...T, revision: 'v1' });
    await f.started('b', T);
    await f.clock.advance(60_000);
    await f.started('late', T); // joined late: preferred by the timing heuristic, were it used
    await f.clock.advance(T.retryPeriod);
    expect(f.store.current()!.candidates ?? []).toEqual([]);
    await a.elector.stop();
    expect(a.logger.at('log')).toContain('a released in-memory lease test'); // naming nobody
    // random 0 puts the herd spread at 0 ms: someone leads before the old shift would end.
    await f.clock.advance(OTHERS_FROM - 1);
    expect(f.leaders()).toHaveLength(1);
    expect(f.leaders()).not.toEqual(['late']); // the first to schedule wins, not the late joiner
  });

  it('without revisions, the timing heuristic stays (the late joiner goes first)', async () => {
    const a = await f.started('a', T);
    await f.started('b', T);
    await f.clock.advance(60_000);
    await f.started('late', T);
    await f.clock.advance(T.retryPeriod);
    expect(f.calls('late').update).toBe(0);
    await a.elector.stop();
    await f.clock.advance(OTHERS_FROM);
    expect(f.leaders()).toEqual(['late']);
  });
});

describe('whenSettled: a new replica is ready once it announced itself', () => {
  let f: ElectionFixture;
  beforeEach(() => {
    f = new ElectionFixture();
  });
  afterEach(() => f.stopAll());

  it('resolves only after the announcement was written, so that a release right after names it', async () => {
    const a = await f.started('a', { ...T, revision: 'v1' });
    await f.clock.advance(60_000);
    const n = f.candidate('n', { ...T, revision: 'v2' });
    n.elector.start();
    let settled = false;
    let candidatesWhenSettled: unknown;
    void n.elector.whenSettled(5_000).then(() => {
      settled = true;
      candidatesWhenSettled = f.store.current()!.candidates;
    });
    expect(settled).toBe(false);
    await f.clock.flush();
    expect(settled).toBe(true);
    // At that moment the announcement is in the Lease: the leader's release names n.
    expect(candidatesWhenSettled).toEqual([{ identity: 'n', revision: 'v2' }]);
    await a.elector.stop();
    await f.clock.advance(NAMED_GRACE);
    expect(f.leaders()).toEqual(['n']);
  });

  it('resolves at once without a revision, and after the timeout when the Lease cannot be read', async () => {
    const plain = await f.started('plain', T);
    await expect(plain.elector.whenSettled(5_000)).resolves.toBeUndefined();
    const cut = f.candidate('cut', { ...T, revision: 'v2' });
    f.store.partition('cut');
    cut.elector.start();
    let settled = false;
    void cut.elector.whenSettled(5_000).then(() => (settled = true));
    await f.clock.advance(4_999);
    expect(settled).toBe(false);
    await f.clock.advance(1);
    expect(settled).toBe(true);
  });
});

describe('RolloutCandidates', () => {
  const held = (over: Partial<LeaseRecord> = {}): LeaseRecord => ({
    holderIdentity: 'leader',
    leaseDurationSeconds: 15,
    acquireTime: new Date(1_000),
    renewTime: new Date(5_000),
    leaseTransitions: 3,
    resourceVersion: '10',
    revision: 'v1',
    ...over,
  });

  it('announces with the record as it is plus itself, a few tries per term at most', () => {
    const rollout = new RolloutCandidates({ identity: 'n', revision: 'v2' });
    const leaderAddress = { ip: '10.244.0.7', port: 3000 };
    const arrived = { arrivedInTerm: true, standbyDue: false };
    const { spec, kind } = rollout.announcement(
      held({ fires: { term: 3, jobs: {} }, leaderAddress }),
      arrived,
    )!;
    expect(kind).toBe('rollout');
    expect(spec).toMatchObject({
      holderIdentity: 'leader',
      leaseDurationSeconds: 15,
      acquireTime: new Date(1_000),
      renewTime: new Date(5_000),
      leaseTransitions: 3,
      revision: 'v1',
      fires: { term: 3, jobs: {} },
      leaderAddress,
      candidates: [{ identity: 'n', revision: 'v2' }],
    });
    expect(rollout.announcement(held(), arrived)).toBeUndefined(); // one in flight
    for (let i = 1; i < ANNOUNCE_TRIES; i++) {
      rollout.announced();
      expect(rollout.announcement(held(), arrived)).toBeDefined();
    }
    rollout.announced();
    expect(rollout.announcement(held(), arrived)).toBeUndefined();
    // A new term: tries again.
    expect(rollout.announcement(held({ leaseTransitions: 4 }), arrived)).toBeDefined();
  });

  it('keeps the newest few candidates, drops malformed ones', () => {
    const many = Array.from({ length: MAX_CANDIDATES }, (_, i) => ({
      identity: `c${i}`,
      revision: 'v2',
    }));
    const rollout = new RolloutCandidates({ identity: 'n', revision: 'v3' });
    const { spec } = rollout.announcement(held({ candidates: many }), {
      arrivedInTerm: true,
      standbyDue: false,
    })!;
    expect(spec.candidates).toHaveLength(MAX_CANDIDATES);
    expect(spec.candidates!.at(0)!.identity).toBe('c1');
    expect(spec.candidates!.at(-1)).toEqual({ identity: 'n', revision: 'v3' });
    expect(
      toCandidates([
        { identity: 'ok', revision: 'v1' },
        { identity: 'bad\n', revision: 'v1' },
        { identity: 'x', revision: '-bad' },
        'text',
        null,
      ]),
    ).toEqual([{ identity: 'ok', revision: 'v1' }]);
  });

  it('names a successor only on a record of its own', () => {
    const rollout = new RolloutCandidates({ identity: 'leader', revision: 'v1' });
    const candidates = [
      { identity: 'x', revision: 'v2' },
      { identity: 'y', revision: 'v3' },
    ];
    expect(rollout.successorOf(held({ candidates }))).toEqual({ identity: 'y', revision: 'v3' });
    // The newest of another revision before a newer standby of ours; else the standby.
    const standby = { identity: 's', revision: 'v1' };
    expect(rollout.successorOf(held({ candidates: [...candidates, standby] }))).toEqual(
      candidates[1],
    );
    expect(rollout.successorOf(held({ candidates: [standby] }))).toEqual(standby);
    expect(rollout.successorOf(held({ candidates, holderIdentity: 'other' }))).toBeUndefined();
    expect(
      new RolloutCandidates({ identity: 'leader', revision: undefined }).successorOf(
        held({ candidates }),
      ),
    ).toBeUndefined();
  });
});
