// Succession by revision (RolloutCandidates) on the in-memory Lease with the fake clock (test timings
// 15 / 10 / 2 s; random 0: no jitter): followers of a new revision announce themselves once, the old
// leader names the newest of them, and a release by a leader with a revision that names nobody sends
// every follower the herd spread alone.
import { NAMED_GRACE, OTHERS_FROM } from '../../../lib/core/takeover-delay.js';
import {
  ANNOUNCE_TRIES,
  MAX_CANDIDATES,
  RolloutCandidates,
  toCandidates,
} from '../../../lib/core/rollout-candidates.js';
import type { LeaseRecord } from '../../../lib/core/lease-record.js';
import { ElectionFixture } from '../support/election-fixture.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };

describe('succession by revision', () => {
  let f: ElectionFixture;
  beforeEach(() => {
    f = new ElectionFixture();
  });
  afterEach(() => f.stopAll());

  /** Replicas a (leader), b, c of revision `v1`, started together; the term then runs a while. */
  async function oldReplicas(termAgeMs = 60_000) {
    const a = await f.started('a', { ...T, revision: 'v1' });
    const b = await f.started('b', { ...T, revision: 'v1' });
    const c = await f.started('c', { ...T, revision: 'v1' });
    await f.clock.advance(termAgeMs);
    expect(f.leaders()).toEqual(['a']);
    return { a, b, c };
  }

  it('a new replica announces itself once; its leader carries it on and names it when it releases', async () => {
    const { a } = await oldReplicas();
    const n = await f.started('n', { ...T, revision: 'v2' });
    expect(f.calls('n').update).toBe(1); // the announcement
    expect(f.store.current()!.candidates).toEqual([{ identity: 'n', revision: 'v2' }]);
    expect(f.store.current()!.holderIdentity).toBe('a');
    const leaderUpdates = f.calls('a').update;
    const leaderReads = f.calls('a').get;
    await f.clock.advance(30_000); // renewals based on the announcement: no conflict, no read
    expect(f.calls('n').update).toBe(1);
    expect(f.store.current()!.candidates).toEqual([{ identity: 'n', revision: 'v2' }]);
    expect(f.calls('a').get).toBe(leaderReads);
    expect(f.calls('a').update).toBeGreaterThan(leaderUpdates);
    const before = { b: f.calls('b').update, c: f.calls('c').update };
    await a.elector.stop();
    expect(a.logger.at('log')).toContainEqual(
      expect.stringContaining('naming n (revision v2, the newest replica of another revision)'),
    );
    await f.clock.advance(NAMED_GRACE);
    expect(f.leaders()).toEqual(['n']);
    expect(n.elector.isLeader()).toBe(true);
    // The old followers gave the named successor its grace and never wrote.
    expect([f.calls('b').update, f.calls('c').update]).toEqual([before.b, before.c]);
  });

  it('does not announce when the revision is the leader’s, or when it saw the term begin', async () => {
    const { a } = await oldReplicas();
    await f.started('same', { ...T, revision: 'v1' });
    expect(f.calls('same').update).toBe(0);
    // Nobody announced, so a names nobody; b takes over (random 0: the first to schedule wins).
    await a.elector.stop();
    await f.clock.advance(NAMED_GRACE);
    expect(f.leaders()).toEqual(['b']);
    // Replicas of another revision than b's that saw b's term begin stay quiet; one that arrives
    // in it announces.
    const quiet = [f.calls('c').update, f.calls('same').update];
    const other = await f.started('other', { ...T, revision: 'v0' });
    expect(f.calls('other').update).toBe(1); // it arrived in b's term: it announces
    await f.clock.advance(30_000);
    expect([f.calls('c').update, f.calls('same').update]).toEqual(quiet);
    expect(f.store.current()!.candidates).toEqual([{ identity: 'other', revision: 'v0' }]);
    expect(other.elector.isLeader()).toBe(false);
  });

  it('names the newest announcer when a rollout was interrupted (three revisions)', async () => {
    const { a } = await oldReplicas();
    await f.started('v2-first', { ...T, revision: 'v2' });
    await f.clock.advance(5_000);
    await f.started('v3-newest', { ...T, revision: 'v3' });
    await f.clock.advance(5_000);
    expect(f.store.current()!.candidates!.map((c) => c.identity)).toEqual([
      'v2-first',
      'v3-newest',
    ]);
    await a.elector.stop();
    await f.clock.advance(NAMED_GRACE);
    expect(f.leaders()).toEqual(['v3-newest']);
  });

  it('moves leadership once across a rolling update of three replicas, whichever old one leads', async () => {
    const { a, b, c } = await oldReplicas();
    const transitions = () => f.store.current()!.leaseTransitions;
    const start = transitions();
    // Old followers first, the leader last: the worst order for the timing heuristic.
    for (const old of [b, c, a]) {
      await f.started(`new-${old.id}`, { ...T, revision: 'v2' });
      await f.clock.advance(T.retryPeriod);
      await old.elector.stop();
      await f.clock.advance(NAMED_GRACE);
    }
    expect(f.leaders()).toEqual(['new-a']);
    expect(transitions()).toBe(start! + 1);
    // Every new replica announced itself exactly once, and none after the handover.
    expect(['new-a', 'new-b', 'new-c'].map((id) => f.calls(id).update)).toEqual([2, 1, 1]);
  });

  it('a release that names nobody sends every follower the herd spread alone, without the shift', async () => {
    const { a } = await oldReplicas();
    await f.started('late', { ...T, revision: 'v1' }); // joined late, same revision: not preferred
    await f.clock.advance(T.retryPeriod);
    expect(f.store.current()!.candidates ?? []).toEqual([]);
    await a.elector.stop();
    expect(f.store.current()!.revision).toBe('v1');
    expect(f.store.current()!.preferredHolder ?? undefined).toBeUndefined();
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
    const spec = rollout.announcement(held({ fires: { term: 3, jobs: {} }, leaderAddress }), true)!;
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
    expect(rollout.announcement(held(), true)).toBeUndefined(); // one in flight
    for (let i = 1; i < ANNOUNCE_TRIES; i++) {
      rollout.announced();
      expect(rollout.announcement(held(), true)).toBeDefined();
    }
    rollout.announced();
    expect(rollout.announcement(held(), true)).toBeUndefined();
    // A new term: tries again.
    expect(rollout.announcement(held({ leaseTransitions: 4 }), true)).toBeDefined();
  });

  it('keeps the newest few candidates, drops malformed ones', () => {
    const many = Array.from({ length: MAX_CANDIDATES }, (_, i) => ({
      identity: `c${i}`,
      revision: 'v2',
    }));
    const rollout = new RolloutCandidates({ identity: 'n', revision: 'v3' });
    const spec = rollout.announcement(held({ candidates: many }), true)!;
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
    expect(rollout.successorOf(held({ candidates, holderIdentity: 'other' }))).toBeUndefined();
    expect(
      new RolloutCandidates({ identity: 'leader', revision: undefined }).successorOf(
        held({ candidates }),
      ),
    ).toBeUndefined();
  });
});
