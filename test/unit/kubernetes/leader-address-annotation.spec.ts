// The leader's address in its Lease: bound to the holder and term it was written with, so that
// followers never forward requests to an address left behind by an earlier term or forged for
// another holder.
import type { LeaseRecord, LeaseSpec } from '../../../lib/core/index.js';
import {
  LEADER_ADDRESS_ANNOTATION,
  decodeAnnotations,
  encodeAnnotations,
} from '../../../lib/kubernetes/lease-annotations.js';

const HELD: LeaseSpec = {
  holderIdentity: 'billing-a',
  leaseDurationSeconds: 15,
  acquireTime: new Date('2026-11-30T12:00:10Z'),
  renewTime: new Date('2026-11-30T12:00:12Z'),
  leaseTransitions: 7,
};

type Binding = Pick<LeaseRecord, 'holderIdentity' | 'leaseTransitions'>;
const ours: Binding = { holderIdentity: 'billing-a', leaseTransitions: 7 };
const address = (value: object | string) => ({
  [LEADER_ADDRESS_ANNOTATION]: typeof value === 'string' ? value : JSON.stringify(value),
});
const bound = { holderIdentity: 'billing-a', transitions: 7 };

describe('leader address annotation', () => {
  it('round-trips, bound to the holder and term it was written with', () => {
    const spec = { ...HELD, leaderAddress: { ip: '10.1.2.3', port: 3000 } };
    const encoded = encodeAnnotations(undefined, spec, 'update lease apps/billing');
    expect(encoded).toEqual(
      address('{"ip":"10.1.2.3","port":3000,"holderIdentity":"billing-a","transitions":7}'),
    );
    expect(decodeAnnotations(encoded, spec)).toEqual({
      leaderAddress: { ip: '10.1.2.3', port: 3000 },
    });
  });

  it.each<[string, Record<string, string>, Binding, object]>([
    ['IPv6', address({ ip: 'fd00::1', port: 8080, ...bound }), ours, { ip: 'fd00::1', port: 8080 }],
    [
      'stale: kept by a client-go holder of a later term',
      address({ ip: '10.1.2.3', port: 3000, ...bound }),
      { holderIdentity: 'go-controller', leaseTransitions: 8 },
      {},
    ],
    [
      'stale: our own address from an earlier term',
      address({ ip: '10.1.2.3', port: 3000, ...bound }),
      { holderIdentity: 'billing-a', leaseTransitions: 8 },
      {},
    ],
    [
      'forged for another holder of this term',
      address({ ip: '10.9.9.9', port: 3000, holderIdentity: 'billing-b', transitions: 7 }),
      ours,
      {},
    ],
    ['unbound', address({ ip: '10.1.2.3', port: 3000 }), ours, {}],
    [
      'on a released Lease',
      address({ ip: '10.1.2.3', port: 3000, ...bound }),
      { holderIdentity: '', leaseTransitions: 7 },
      {},
    ],
    ['a host name', address({ ip: 'evil.example', port: 3000, ...bound }), ours, {}],
    ['an IPv6 zone', address({ ip: 'fe80::1%eth0', port: 3000, ...bound }), ours, {}],
    ['port 0', address({ ip: '10.1.2.3', port: 0, ...bound }), ours, {}],
    ['port too large', address({ ip: '10.1.2.3', port: 65536, ...bound }), ours, {}],
    ['port as a string', address({ ip: '10.1.2.3', port: '3000', ...bound }), ours, {}],
    ['malformed JSON', address('{"ip":'), ours, {}],
  ])('%s', (_name, annotations, binding, expected) => {
    const decoded = decodeAnnotations(annotations, binding);
    expect(decoded).toEqual('ip' in expected ? { leaderAddress: expected } : {});
  });
});
