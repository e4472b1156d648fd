// What a watch event makes the elector do, as a table: one row per situation, with our state, the
// event, and the reaction (see reactToWatchEvent). The loop applies the reaction; these rows pin
// down the choice itself.
import type { LeaseRecord } from '../../../lib/core/lease-record.js';
import type { LockWatchEvent } from '../../../lib/core/lock.js';
import {
  reactToWatchEvent,
  type WatchReaction,
  type WatchView,
} from '../../../lib/core/watch-reaction.js';

const EARLIER = new Date('2026-11-30T11:59:50.000Z');
const LATER = new Date('2026-11-30T11:59:58.000Z');

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

const ours = lease({ holderIdentity: 'me', leaseTransitions: 7, resourceVersion: '100' });
/** Our record as a later write of ours left it (only renewTime and the version differ). */
const ourEcho = { ...ours, renewTime: LATER, resourceVersion: '101' };
const free = lease({ holderIdentity: '', resourceVersion: '102' });
const other = lease({ holderIdentity: 'other', resourceVersion: '102', leaseTransitions: 8 });

function view(fields: Partial<WatchView> = {}): WatchView {
  return {
    identity: 'me',
    campaigning: true,
    held: undefined,
    attemptRunning: false,
    isForeign: () => false,
    ...fields,
  };
}

const modified = (record: LeaseRecord): LockWatchEvent => ({ type: 'MODIFIED', record });

interface Row {
  readonly situation: string;
  readonly view: WatchView;
  readonly event: LockWatchEvent;
  readonly expected: WatchReaction;
}

const rows: Row[] = [
  {
    situation: 'a bookmark',
    view: view({ held: ours }),
    event: { type: 'BOOKMARK', resourceVersion: '100' },
    expected: { kind: 'ignore' },
  },
  {
    situation: 'deleted while following: the final state is observed first',
    view: view(),
    event: { type: 'DELETED', record: other },
    expected: { kind: 'deleted', observeFinalState: true },
  },
  {
    situation: 'deleted while holding a term: our own record stays the basis',
    view: view({ held: ours }),
    event: { type: 'DELETED', record: ours },
    expected: { kind: 'deleted', observeFinalState: false },
  },
  {
    situation: 'holding, a newer record under our identity that we did not write',
    view: view({ held: ours, isForeign: () => true }),
    event: modified(ourEcho),
    expected: { kind: 'identity-in-use' },
  },
  {
    situation: 'holding, a foreign-looking record under our identity that is not newer',
    view: view({ held: ourEcho, isForeign: () => true }),
    event: modified(ours),
    expected: { kind: 'own-echo' },
  },
  {
    situation: 'holding, the echo of our own write',
    view: view({ held: ours }),
    event: modified(ourEcho),
    expected: { kind: 'own-echo' },
  },
  {
    situation: 'holding, our record with a shortened lease duration',
    view: view({ held: ours }),
    event: modified({ ...ourEcho, leaseDurationSeconds: 5 }),
    expected: { kind: 'own-edited' },
  },
  {
    situation: 'holding, our record with another acquireTime',
    view: view({ held: ours }),
    event: modified({ ...ourEcho, acquireTime: LATER }),
    expected: { kind: 'own-edited' },
  },
  {
    situation: 'holding, a record naming someone else',
    view: view({ held: ours }),
    event: modified(other),
    expected: { kind: 'check-hold' },
  },
  {
    situation: 'holding while stopping, a record naming someone else',
    view: view({ held: ours, campaigning: false }),
    event: modified(other),
    expected: { kind: 'check-hold' },
  },
  {
    situation: 'not campaigning (stopping or stopped), the Lease free',
    view: view({ campaigning: false }),
    event: modified(free),
    expected: { kind: 'stay' },
  },
  {
    situation: 'following, our own name while an attempt runs (its echo)',
    view: view({ attemptRunning: true }),
    event: { type: 'ADDED', record: { ...ours } },
    expected: { kind: 'stay' },
  },
  {
    situation: 'following, our own name with no attempt running',
    view: view(),
    event: modified(ours),
    expected: { kind: 'attempt' },
  },
  {
    situation: 'following, the Lease free while an attempt runs',
    view: view({ attemptRunning: true }),
    event: modified(free),
    expected: { kind: 'attempt' },
  },
  {
    situation: 'following, the Lease free',
    view: view(),
    event: modified(free),
    expected: { kind: 'takeover-now' },
  },
  {
    situation: 'following, the Lease with a null holder (free)',
    view: view(),
    event: modified({ ...free, holderIdentity: null }),
    expected: { kind: 'takeover-now' },
  },
  {
    situation: 'following, another holder',
    view: view(),
    event: modified(other),
    expected: { kind: 'takeover-at-expiry' },
  },
  {
    situation: 'following, another holder while an attempt runs',
    view: view({ attemptRunning: true }),
    event: modified(other),
    expected: { kind: 'takeover-at-expiry' },
  },
];

describe('reactToWatchEvent', () => {
  it.each(rows.map((row) => [row.situation, row] as const))('%s', (_situation, row) => {
    expect(reactToWatchEvent(row.event, row.view)).toEqual(row.expected);
  });

  it('asks whether a record is foreign only while holding a term', () => {
    const asked: LeaseRecord[] = [];
    const isForeign = (record: LeaseRecord) => {
      asked.push(record);
      return false;
    };
    reactToWatchEvent(modified(ours), view({ isForeign }));
    expect(asked).toEqual([]);
    reactToWatchEvent(modified(ourEcho), view({ held: ours, isForeign }));
    expect(asked).toEqual([ourEcho]);
  });
});
