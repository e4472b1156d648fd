// The election's rule as a table, in the style of client-go's tryAcquireOrRenew tests: one row per
// situation, with our state, the Lease as read, and what the elector must do.
import { decide, type Decision, type DecisionState } from '../../../lib/core/decide.js';
import type { LeaseRecord } from '../../../lib/core/lease-record.js';
import { UNKNOWN_HOLDER, type Observation } from '../../../lib/core/lease-observation.js';

const NOW = 1_000_000; // monotonic ms
const WALL = new Date('2026-11-30T12:00:00.000Z');
const EARLIER = new Date('2026-11-30T11:59:50.000Z');

function lease(fields: Partial<LeaseRecord> = {}): LeaseRecord {
  return {
    holderIdentity: 'other',
    leaseDurationSeconds: 15,
    acquireTime: EARLIER,
    renewTime: EARLIER,
    leaseTransitions: 3,
    resourceVersion: '100',
    uid: 'uid-1',
    ...fields,
  };
}

/** We saw `record` change at NOW - ago. */
function seen(
  record: LeaseRecord | null,
  ago: number,
  extra: Partial<Observation> = {},
): Observation {
  return { record, changedAt: NOW - ago, lastTransitions: record?.leaseTransitions, ...extra };
}

const ours = lease({ holderIdentity: 'me', leaseTransitions: 7, acquireTime: EARLIER });
const leading = { term: 7, record: ours };

function state(fields: Partial<DecisionState> = {}): DecisionState {
  return {
    identity: 'me',
    campaigning: true,
    leaseDuration: 15_000,
    leadership: null,
    observation: undefined,
    sentWrites: new Map([[EARLIER.getTime(), { needsActivation: false }]]),
    lastSentRenewTime: undefined,
    ...fields,
  };
}

interface Row {
  readonly situation: string;
  readonly state: DecisionState;
  readonly record: LeaseRecord | null;
  readonly expected: Partial<Decision> & Record<string, unknown>;
}

/** The spec a write of ours carries, with `leaseTransitions` and `acquireTime` as given. */
function ourSpec(leaseTransitions: number, acquireTime: Date = WALL) {
  return {
    holderIdentity: 'me',
    leaseDurationSeconds: 15,
    acquireTime,
    renewTime: WALL,
    leaseTransitions,
  };
}

const free = lease({ holderIdentity: '', leaseDurationSeconds: 1 });
const held = lease();

const rows: Row[] = [
  // Free
  {
    situation: 'free (released): acquire at once, next term',
    state: state({ observation: seen(free, 0) }),
    record: free,
    expected: { action: 'update', why: 'acquire-free', basedOn: free, spec: ourSpec(4) },
  },
  {
    situation: 'free (holder null, never held, no transitions): acquire, term 1',
    state: state(),
    record: lease({ holderIdentity: null, leaseTransitions: null }),
    expected: { action: 'update', why: 'acquire-free', spec: ourSpec(1) },
  },
  // Held by another
  {
    situation: 'held by another, seen unchanged for 5 s: wait for its expiry by our clock',
    state: state({ observation: seen(held, 5_000) }),
    record: held,
    expected: { action: 'wait', why: 'held-by-other', until: NOW + 10_000 },
  },
  {
    situation: 'held by another, unchanged for a lease duration: take over, next term',
    state: state({ observation: seen(held, 15_000) }),
    record: held,
    expected: { action: 'update', why: 'acquire-expired', basedOn: held, spec: ourSpec(4) },
  },
  {
    situation: 'held by another and renewed since we looked: the countdown restarts now',
    state: state({ observation: seen(lease({ renewTime: new Date(0) }), 60_000) }),
    record: held,
    expected: { action: 'wait', why: 'held-by-other', until: NOW + 15_000 },
  },
  {
    situation: 'held by another, first read (fresh process): a full lease duration from now',
    state: state(),
    record: held,
    expected: { action: 'wait', why: 'held-by-other', until: NOW + 15_000 },
  },
  {
    situation: 're-created by another holder (new uid and acquireTime): the countdown restarts',
    state: state({ observation: seen(held, 60_000) }),
    record: lease({ uid: 'uid-2', acquireTime: WALL, renewTime: WALL, leaseTransitions: 0 }),
    expected: { action: 'wait', why: 'held-by-other', until: NOW + 15_000 },
  },
  {
    situation: 'held with a shorter advertised duration (5 s): never before our own 15 s',
    state: state({ observation: seen(lease({ leaseDurationSeconds: 5 }), 10_000) }),
    record: lease({ leaseDurationSeconds: 5 }),
    expected: { action: 'wait', why: 'held-by-other', until: NOW + 5_000 },
  },
  {
    situation: 'held with a longer advertised duration (30 s): the holder’s duration',
    state: state({ observation: seen(lease({ leaseDurationSeconds: 30 }), 20_000) }),
    record: lease({ leaseDurationSeconds: 30 }),
    expected: { action: 'wait', why: 'held-by-other', until: NOW + 10_000 },
  },
  ...([0, -1, null, 2_147_483_647] as const).map((seconds): Row => ({
    situation: `nonsense duration ${String(seconds)}: read as our own 15 s (expired after 15 s)`,
    state: state({ observation: seen(lease({ leaseDurationSeconds: seconds }), 15_000) }),
    record: lease({ leaseDurationSeconds: seconds }),
    expected: { action: 'update', why: 'acquire-expired', spec: ourSpec(4) },
  })),
  {
    situation: 'a duration of exactly one hour is honoured',
    state: state({ observation: seen(lease({ leaseDurationSeconds: 3600 }), 15_000) }),
    record: lease({ leaseDurationSeconds: 3600 }),
    expected: { action: 'wait', why: 'held-by-other', until: NOW + 3_585_000 },
  },
  // Held by us
  {
    situation: 'held by us while we lead: renew, same term and acquireTime',
    state: state({ leadership: leading, observation: seen(ours, 1_000) }),
    record: ours,
    expected: { action: 'update', why: 'renew', basedOn: ours, spec: ourSpec(7, EARLIER) },
  },
  {
    situation:
      'held by us, edited by someone else (duration 1, transitions 0): renew restores ours',
    state: state({ leadership: leading }),
    record: lease({ holderIdentity: 'me', leaseDurationSeconds: 1, leaseTransitions: 0 }),
    expected: { action: 'update', why: 'renew', spec: ourSpec(7, EARLIER) },
  },
  {
    situation: 'held by us while stopping: keep renewing until released',
    state: state({ leadership: leading, campaigning: false }),
    record: ours,
    expected: { action: 'update', why: 'renew' },
  },
  // Lost
  {
    situation: 'held by another while we lead: step down, then wait as a follower',
    state: state({ leadership: leading, observation: seen(held, 0) }),
    record: held,
    expected: {
      action: 'wait',
      why: 'held-by-other',
      until: NOW + 15_000,
      stepDown: 'the lease is now held by "other"',
    },
  },
  {
    situation: 'cleared (holder "") while we lead: step down, acquire again as a new term',
    state: state({ leadership: leading, observation: seen(free, 0) }),
    record: free,
    expected: {
      action: 'update',
      why: 'acquire-free',
      spec: ourSpec(4),
      stepDown: 'the lease is now held by "(nobody)"',
    },
  },
  {
    situation: 'held by another while we lead and stop: step down, acquire nothing',
    state: state({ leadership: leading, campaigning: false }),
    record: held,
    expected: {
      action: 'wait',
      why: 'not-campaigning',
      stepDown: 'the lease is now held by "other"',
    },
  },
  // Missing
  {
    situation: 'missing, deleted under us while we lead: re-create it in our term',
    state: state({ leadership: leading }),
    record: null,
    expected: { action: 'create', why: 'recreate-ours', spec: ourSpec(7) },
  },
  {
    situation: 'missing, deleted (watch) while another held it: wait until its lease would end',
    state: state({
      observation: seen(null, 0, { deletedHolder: 'other', deletedHolderValidUntil: NOW + 5_000 }),
    }),
    record: null,
    expected: { action: 'wait', why: 'deleted-holder-may-lead', until: NOW + 5_000 },
  },
  {
    situation:
      'missing after a gap in the watch: create, and lead a lease duration after the answer (unknown holder)',
    state: state({
      observation: seen(null, 0, {
        deletedHolder: UNKNOWN_HOLDER,
        deletedHolderValidUntil: NOW + 15_000,
        lastTransitions: 4,
        seenExisting: true,
      }),
    }),
    record: null,
    expected: { action: 'create', why: 'create-missing', spec: ourSpec(5), leadsAfter: 15_000 },
  },
  {
    situation: 'missing, the deleted holder’s lease ran out: create, next token',
    state: state({
      observation: seen(null, 20_000, {
        deletedHolder: 'other',
        deletedHolderValidUntil: NOW - 1,
        lastTransitions: 4,
        seenExisting: true,
      }),
    }),
    record: null,
    expected: { action: 'create', why: 'create-missing', spec: ourSpec(5) },
  },
  {
    situation: 'missing while stopping: create nothing',
    state: state({ campaigning: false }),
    record: null,
    expected: { action: 'wait', why: 'not-campaigning' },
  },
  {
    situation: 'free while stopping and not holding: acquire nothing',
    state: state({ campaigning: false }),
    record: free,
    expected: { action: 'wait', why: 'not-campaigning' },
  },
];

// Situations of the security review (../shared/docs/reviews/security.md) that the rule got wrong
// before the engine was hardened: each row was a known failure (test.failing) first.
const hardened: Row[] = [
  {
    // H1: a process that never saw the Lease cannot know whether a cut-off leader still believes
    // it leads (the Lease may have been deleted under it).
    situation:
      'missing, never seen (fresh process): create, but lead only a lease duration after the answer',
    state: state(),
    record: null,
    expected: { action: 'create', why: 'create-missing', leadsAfter: 15_000, spec: ourSpec(0) },
  },
  {
    situation: 'missing after we saw it exist and waited out its holder: create and lead at once',
    state: state({
      observation: seen(null, 20_000, {
        deletedHolder: 'other',
        deletedHolderValidUntil: NOW - 1,
        lastTransitions: 4,
        seenExisting: true,
      }),
    }),
    record: null,
    expected: { action: 'create', why: 'create-missing', spec: ourSpec(5) },
  },
  {
    // M1: two replicas with one identity, or a restart with a fixed identity: a record naming us
    // that we never wrote is not ours to lead on.
    situation:
      'names us but we never wrote it (same identity twice, or a restart): wait for expiry',
    state: state({
      observation: seen(lease({ holderIdentity: 'me' }), 5_000),
      sentWrites: new Map(),
    }),
    record: lease({ holderIdentity: 'me' }),
    expected: { action: 'wait', why: 'identity-in-use', until: NOW + 10_000 },
  },
  {
    situation: 'names us with a write of ours whose answer was lost: take it back, same term',
    state: state({ observation: seen(lease({ holderIdentity: 'me' }), 5_000) }),
    record: lease({ holderIdentity: 'me' }),
    expected: { action: 'update', why: 'reclaim-own', spec: ourSpec(3, EARLIER) },
  },
  {
    situation: 'someone else writes as us while we lead: step down, wait for expiry',
    state: state({ leadership: leading }),
    record: lease({ holderIdentity: 'me', renewTime: WALL }),
    expected: {
      action: 'wait',
      why: 'identity-in-use',
      until: NOW + 15_000,
      stepDown: 'another process writes the lease as "me"',
    },
  },
  {
    // L3: leaseTransitions is an int32 on the API server.
    situation: 'expired at leaseTransitions 2147483647: the next term wraps to 0',
    state: state({ observation: seen(lease({ leaseTransitions: 2_147_483_647 }), 15_000) }),
    record: lease({ leaseTransitions: 2_147_483_647 }),
    expected: { action: 'update', why: 'acquire-expired', spec: ourSpec(0) },
  },
  {
    // L9: followers detect renewals by a changed renewTime; a wall clock that stands still or
    // steps back must not make our renewals invisible.
    situation: 'our wall clock stepped back: renewTime still later than our last write',
    state: state({ leadership: leading, lastSentRenewTime: WALL.getTime() + 5_000 }),
    record: ours,
    expected: {
      action: 'update',
      why: 'renew',
      spec: expect.objectContaining({ renewTime: new Date(WALL.getTime() + 5_001) }),
    },
  },
  {
    // A Lease deleted while held and added again free (a GitOps re-apply) is not a release.
    situation: 'added again free after a deletion while held: wait out the deleted holder',
    state: state({
      observation: seen(free, 0, { deletedHolder: 'other', deletedHolderValidUntil: NOW + 5_000 }),
    }),
    record: free,
    expected: { action: 'wait', why: 'deleted-holder-may-lead', until: NOW + 5_000 },
  },
];

describe('decide', () => {
  it.each(rows)('$situation', ({ state, record, expected }) => {
    const decision = decide(state, record, NOW, WALL);
    expect(decision).toEqual(expect.objectContaining(expected));
    if (!('stepDown' in expected)) expect(decision.stepDown).toBeUndefined();
    if (!('leadsAfter' in expected)) expect(decision).not.toHaveProperty('leadsAfter');
  });

  it.each(hardened)('$situation', ({ state, record, expected }) => {
    const decision = decide(state, record, NOW, WALL);
    expect(decision).toEqual(expect.objectContaining(expected));
    if (!('stepDown' in expected)) expect(decision.stepDown).toBeUndefined();
    if (!('leadsAfter' in expected)) expect(decision).not.toHaveProperty('leadsAfter');
  });

  it('has no side effects: the same inputs give the same decision', () => {
    const input = state({ observation: seen(held, 5_000) });
    // A deep copy that keeps Maps and Dates (JSON would turn sentWrites into {}).
    const before = structuredClone(input);
    const record = structuredClone(held);
    expect(decide(input, held, NOW, WALL)).toEqual(decide(input, held, NOW, WALL));
    expect(input).toEqual(before);
    expect(held).toEqual(record);
  });
});
