// The Lease object <-> LeaseRecord / LeaseSpec round trip of KubernetesLeaseLock, in the style of
// client-go's leaselock_test.go (LeaseSpecToLeaderElectionRecord / LeaderElectionRecordToLeaseSpec):
// one row per Lease as stored, and the body each write sends. The object API is replaced by a
// recording stub: no API server, no network.
import { KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { LeaseRecord, LeaseSpec } from '../../../lib/core/index.js';
import { KubernetesLeaseLock, decodeLease } from '../../../lib/kubernetes/kubernetes-lease-lock.js';
import { LockAnnotationTooLargeError } from '../../../lib/core/errors.js';
import {
  MEMBERS_ANNOTATION,
  PREFERRED_HOLDER_ANNOTATION,
} from '../../../lib/kubernetes/lease-annotations.js';

const ACQUIRED = '2026-11-30T11:59:00.250000Z';
const RENEWED = '2026-11-30T12:00:00.750000Z';

/** A Lease as the API server returns it (client-node passes MicroTime through as a string). */
function storedLease(spec: Record<string, unknown> = {}, metadata: object = {}): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: 'billing-leader',
      namespace: 'apps',
      uid: '0b9e0cf4-5a2c-4c4e-9d0c-4f3f4d1b2a11',
      resourceVersion: '4711',
      creationTimestamp: new Date('2026-11-30T11:00:00Z'),
      labels: { 'app.kubernetes.io/name': 'billing' },
      annotations: { 'example.com/owner': 'team-billing' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'billing',
          uid: 'd-1',
          controller: true,
        },
      ],
      ...metadata,
    },
    spec: {
      holderIdentity: 'billing-7d9f-abcde',
      leaseDurationSeconds: 15,
      acquireTime: ACQUIRED as unknown as Date,
      renewTime: RENEWED as unknown as Date,
      leaseTransitions: 3,
      ...spec,
    },
  } as V1Lease;
}

const record = (fields: Partial<LeaseRecord>): LeaseRecord => ({
  holderIdentity: 'billing-7d9f-abcde',
  leaseDurationSeconds: 15,
  acquireTime: new Date('2026-11-30T11:59:00.250Z'),
  renewTime: new Date('2026-11-30T12:00:00.750Z'),
  leaseTransitions: 3,
  resourceVersion: '4711',
  uid: '0b9e0cf4-5a2c-4c4e-9d0c-4f3f4d1b2a11',
  ...fields,
});

describe('decodeLease', () => {
  it.each<[string, V1Lease, LeaseRecord]>([
    ['every field', storedLease(), record({})],
    [
      'times already deserialized to Date',
      storedLease({
        acquireTime: new Date('2026-11-30T11:59:00.250Z'),
        renewTime: new Date('2026-11-30T12:00:00.750Z'),
      }),
      record({}),
    ],
    [
      'times written by Go with nine digits and an offset',
      storedLease({
        acquireTime: '2026-11-30T12:59:00.250999999+01:00',
        renewTime: '2026-11-30T12:00:00.75Z',
      }),
      record({}),
    ],
    [
      'a released Lease (holder "")',
      storedLease({ holderIdentity: '', leaseDurationSeconds: 1 }),
      record({ holderIdentity: '', leaseDurationSeconds: 1 }),
    ],
    [
      'no spec at all (created by hand)',
      { metadata: { name: 'billing-leader', resourceVersion: '1', uid: 'u-1' } },
      {
        holderIdentity: null,
        leaseDurationSeconds: null,
        acquireTime: null,
        renewTime: null,
        leaseTransitions: null,
        resourceVersion: '1',
        uid: 'u-1',
      },
    ],
    [
      'fields of the wrong type are null, not a failure',
      storedLease({
        holderIdentity: 42,
        leaseDurationSeconds: '15',
        leaseTransitions: 1.5,
        acquireTime: 'yesterday',
        renewTime: 1_764_504_000,
      }),
      record({
        holderIdentity: null,
        leaseDurationSeconds: null,
        leaseTransitions: null,
        acquireTime: null,
        renewTime: null,
      }),
    ],
    [
      'no metadata: resourceVersion "" and uid null',
      { spec: storedLease().spec },
      record({ resourceVersion: '', uid: null }),
    ],
  ])('%s', (_name, lease, expected) => {
    expect(decodeLease(lease)).toEqual(expected);
  });
});

/**
 * The lock with its object API replaced by a stub that records each request: a read answers `read`,
 * a write answers its body as the server stores it (a new resourceVersion, the uid kept or new).
 */
function lockWithStub(read: V1Lease = storedLease(), labels?: Record<string, string>) {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: false }],
    users: [{ name: 'u', token: 'not-a-real-token' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  const lock = new KubernetesLeaseLock({
    kubeConfig,
    namespace: 'apps',
    name: 'billing-leader',
    identity: 'billing-new',
    labels,
  });
  const sent: { verb: string; body: V1Lease }[] = [];
  let version = 4711;
  const write = async (verb: string, body: V1Lease): Promise<V1Lease> => {
    sent.push({ verb, body: structuredClone(body) });
    version += 1;
    return {
      ...body,
      metadata: {
        ...body.metadata,
        uid: body.metadata?.uid ?? 'new-uid',
        resourceVersion: String(version),
      },
    };
  };
  const api = {
    readNamespacedLease: async () => read,
    createNamespacedLease: ({ body }: { body: V1Lease }) => write('create', body),
    replaceNamespacedLease: ({ body }: { body: V1Lease }) => write('update', body),
  };
  Object.assign(lock as unknown as { api: unknown }, { api });
  return { lock, sent };
}

const SPEC: LeaseSpec = {
  holderIdentity: 'billing-new',
  leaseDurationSeconds: 15,
  acquireTime: new Date('2026-11-30T12:00:10.001Z'),
  renewTime: new Date('2026-11-30T12:00:10.002Z'),
  leaseTransitions: 4,
};

const ENCODED = {
  holderIdentity: 'billing-new',
  leaseDurationSeconds: 15,
  acquireTime: '2026-11-30T12:00:10.001000Z',
  renewTime: '2026-11-30T12:00:10.002000Z',
  leaseTransitions: 4,
};

describe('KubernetesLeaseLock writes', () => {
  it('update keeps labels, annotations, owner references and other spec fields of the Lease read', async () => {
    const read = storedLease({ strategy: 'OldestEmulationVersion', preferredHolder: 'billing-x' });
    const { lock, sent } = lockWithStub(read);
    expect(await lock.get()).toEqual(record({}));
    const answer = await lock.update(SPEC, '4711');

    expect(sent).toHaveLength(1);
    expect(sent[0].verb).toBe('update');
    expect(sent[0].body.metadata).toEqual(read.metadata);
    expect(sent[0].body.spec).toEqual({
      ...ENCODED,
      strategy: 'OldestEmulationVersion',
      preferredHolder: 'billing-x',
    });
    expect(answer).toEqual({
      holderIdentity: 'billing-new',
      leaseDurationSeconds: 15,
      acquireTime: SPEC.acquireTime,
      renewTime: SPEC.renewTime,
      leaseTransitions: 4,
      resourceVersion: '4712',
      uid: read.metadata!.uid,
    });
    expect(lock.uid).toBe(read.metadata!.uid);
  });

  it('update on a resourceVersion other than the one last seen sends only what it knows', async () => {
    const { lock, sent } = lockWithStub();
    await lock.get(); // last seen: resourceVersion 4711
    await lock.update(SPEC, '5000');
    expect(sent.at(-1)!.body).toEqual({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'billing-leader', namespace: 'apps', resourceVersion: '5000' },
      spec: ENCODED,
    });
  });

  it('each write is based on the answer to the previous one', async () => {
    const { lock, sent } = lockWithStub();
    await lock.get();
    const first = await lock.update(SPEC, '4711');
    await lock.update(
      { ...SPEC, renewTime: new Date('2026-11-30T12:00:12Z') },
      first.resourceVersion,
    );
    const body = sent.at(-1)!.body;
    expect(body.metadata?.resourceVersion).toBe('4712');
    expect(body.metadata?.labels).toEqual({ 'app.kubernetes.io/name': 'billing' });
    expect(body.spec?.renewTime).toBe('2026-11-30T12:00:12.000000Z');
  });

  it.each<[string, Record<string, string> | undefined, object]>([
    ['with the configured labels', { team: 'billing' }, { labels: { team: 'billing' } }],
    ['without labels when none are configured', undefined, {}],
  ])(
    'create sends a new Lease %s by PUT to its name, no resourceVersion',
    async (_name, labels, extra) => {
      const { lock, sent } = lockWithStub(undefined, labels);
      const answer = await lock.create(SPEC);
      // A PUT (replace) without resourceVersion: RBAC checks it as `create` of this name, and the
      // server refuses it when the Lease exists (see the integration test).
      expect(sent).toEqual([
        {
          verb: 'update',
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: 'billing-leader', namespace: 'apps', ...extra },
            spec: ENCODED,
          },
        },
      ]);
      expect(answer.resourceVersion).toBe('4712');
      expect(answer.uid).toBe('new-uid');
      expect(answer.neverExistedBefore).toBeUndefined();
    },
  );

  it('a release writes holder "" and every other field', async () => {
    const { lock, sent } = lockWithStub();
    await lock.get();
    const released: LeaseSpec = { ...SPEC, holderIdentity: '', leaseDurationSeconds: 1 };
    const answer = await lock.update(released, '4711');
    expect(sent.at(-1)!.body.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(answer.holderIdentity).toBe('');
  });

  it("a release naming a successor writes it in an annotation with the release's transitions; the next write drops it", async () => {
    const { lock, sent } = lockWithStub();
    await lock.get();
    const released: LeaseSpec = {
      ...SPEC,
      holderIdentity: '',
      leaseDurationSeconds: 1,
      preferredHolder: 'billing-next',
    };
    const answer = await lock.update(released, '4711');
    const body = sent.at(-1)!.body;
    expect(body.spec?.holderIdentity).toBe('');
    expect(body.metadata?.annotations?.[PREFERRED_HOLDER_ANNOTATION]).toBe(
      '{"holder":"billing-next","holderIdentity":"","transitions":4}',
    );
    expect(answer.preferredHolder).toBe('billing-next');
    await lock.update(SPEC, answer.resourceVersion);
    expect(sent.at(-1)!.body.metadata?.annotations?.[PREFERRED_HOLDER_ANNOTATION]).toBeUndefined();
  });

  it('ignores a successor annotation carried into a later term (a client-go holder keeps annotations)', () => {
    const annotated = (transitions: number) =>
      decodeLease({
        metadata: {
          resourceVersion: '1',
          annotations: {
            [PREFERRED_HOLDER_ANNOTATION]: JSON.stringify({ holder: 'b', transitions: 4 }),
          },
        },
        spec: { holderIdentity: '', leaseTransitions: transitions },
      }).preferredHolder;
    expect(annotated(4)).toBe('b');
    expect(annotated(5)).toBeUndefined();
    expect(
      decodeLease({
        metadata: { resourceVersion: '1', annotations: { [PREFERRED_HOLDER_ANNOTATION]: 'b' } },
        spec: { holderIdentity: '' },
      }).preferredHolder,
    ).toBeUndefined();
  });

  it('ignores a successor annotation on a record with another holder (bound to holder "" too)', () => {
    const annotated = (holderIdentity: string) =>
      decodeLease({
        metadata: {
          resourceVersion: '1',
          annotations: {
            [PREFERRED_HOLDER_ANNOTATION]: JSON.stringify({
              holder: 'b',
              holderIdentity: '',
              transitions: 4,
            }),
          },
        },
        spec: { holderIdentity, leaseTransitions: 4 },
      }).preferredHolder;
    expect(annotated('')).toBe('b');
    expect(annotated('go')).toBeUndefined();
  });

  it.each<[string, 'create' | 'update']>([
    ['an update', 'update'],
    ['a create', 'create'],
  ])('never sends %s whose annotations would exceed their budget', async (_name, verb) => {
    const big = { 'example.com/big': 'x'.repeat(200 * 1024) };
    const { lock, sent } = lockWithStub(storedLease({}, { annotations: big }));
    await lock.get();
    const members = Object.fromEntries(
      Array.from({ length: 9000 }, (_, i) => [
        `replica-${String(i).padStart(6, '0')}`,
        { until: 1e12 },
      ]),
    );
    const spec = { ...SPEC, holderIdentity: '', members };
    const write = verb === 'update' ? lock.update(spec, '4711') : lock.create(spec);
    const error = (await write.catch((e: unknown) => e)) as LockAnnotationTooLargeError;
    expect(error).toBeInstanceOf(LockAnnotationTooLargeError);
    expect(error.annotation).toBe(MEMBERS_ANNOTATION);
    expect(error.message).toMatch(
      new RegExp(
        `^${verb} lease apps/billing-leader: not sent: annotation "${MEMBERS_ANNOTATION}"`,
      ),
    );
    expect(sent).toEqual([]);
  });
});
