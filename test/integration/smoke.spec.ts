// Smoke tests of the local control plane through @kubernetes/client-node: the API behaviours the lease
// lock relies on (MicroTime precision, optimistic concurrency, RBAC denial, watch events, audit counts).
import {
  ApiException,
  CoordinationV1Api,
  V1MicroTime,
  Watch,
  type V1Lease,
} from '@kubernetes/client-node';
import { readAuditEvents } from '../control-plane/audit.js';
import { loadCluster, uniqueName, type Cluster } from '../support/cluster.js';

const SIX_DIGITS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function leaseBody(name: string, holder: string, extra: Partial<V1Lease['spec']> = {}): V1Lease {
  return {
    metadata: { name },
    spec: { holderIdentity: holder, leaseDurationSeconds: 15, leaseTransitions: 0, ...extra },
  };
}

/** The rejection of `promise`, which must be an ApiException. */
async function apiError(promise: Promise<unknown>): Promise<ApiException<string>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiException) return error as ApiException<string>;
    throw error;
  }
  throw new Error('expected the request to fail');
}

describe('local control plane (kube-apiserver + etcd)', () => {
  let cluster: Cluster;
  let namespace: string;
  let leases: CoordinationV1Api;

  beforeAll(async () => {
    cluster = loadCluster();
    namespace = await cluster.uniqueNamespace('smoke');
    leases = cluster.kubeConfigs.leaseUser.makeApiClient(CoordinationV1Api);
  });

  it('stores Lease MicroTime fields with exactly six fractional digits and returns them as strings', async () => {
    const name = uniqueName('microtime');
    const acquireTime = new V1MicroTime('2026-11-23T20:00:00.123Z');
    const renewTime = '2026-11-23T20:00:01.654321Z';

    await leases.createNamespacedLease({
      namespace,
      // A hand-formatted string is what the API wants; the generated type says Date.
      body: leaseBody(name, 'a', { acquireTime, renewTime: renewTime as unknown as V1MicroTime }),
    });
    const read = await leases.readNamespacedLease({ name, namespace });

    const readAcquire: unknown = read.spec?.acquireTime;
    const readRenew: unknown = read.spec?.renewTime;
    expect(typeof readAcquire).toBe('string');
    expect(readAcquire).toBe('2026-11-23T20:00:00.123000Z');
    expect(readAcquire).toMatch(SIX_DIGITS);
    expect(readRenew).toBe(renewTime);
  });

  it('rejects a plain Date in a MicroTime field (three fractional digits) with 400', async () => {
    const error = await apiError(
      leases.createNamespacedLease({
        namespace,
        body: leaseBody(uniqueName('plain-date'), 'a', { renewTime: new Date() }),
      }),
    );
    expect(error.code).toBe(400);
  });

  it('answers 409 to a replace with a stale resourceVersion', async () => {
    const name = uniqueName('conflict');
    const created = await leases.createNamespacedLease({ namespace, body: leaseBody(name, 'a') });
    const staleVersion = created.metadata?.resourceVersion;

    const renewed = await leases.replaceNamespacedLease({
      name,
      namespace,
      body: { ...created, spec: { ...created.spec, renewTime: new V1MicroTime() } },
    });
    expect(renewed.metadata?.resourceVersion).not.toBe(staleVersion);

    const error = await apiError(
      leases.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...created,
          metadata: { ...created.metadata, resourceVersion: staleVersion },
          spec: { ...created.spec, holderIdentity: 'b' },
        },
      }),
    );
    expect(error.code).toBe(409);
    expect(JSON.parse(error.body).reason).toBe('Conflict');
  });

  it('forbids lease-user to delete or list leases and to touch another namespace', async () => {
    const name = uniqueName('rbac');
    await leases.createNamespacedLease({ namespace, body: leaseBody(name, 'a') });

    expect((await apiError(leases.deleteNamespacedLease({ name, namespace }))).code).toBe(403);
    expect((await apiError(leases.listNamespacedLease({ namespace }))).code).toBe(403);
    expect(
      (await apiError(leases.readNamespacedLease({ name: 'anything', namespace: 'default' }))).code,
    ).toBe(403);
    expect(
      (
        await apiError(
          leases.createNamespacedLease({ namespace: 'default', body: leaseBody(name, 'a') }),
        )
      ).code,
    ).toBe(403);
  });

  it('forbids lease-reader to update a lease it may read', async () => {
    const name = uniqueName('reader');
    const reader = cluster.kubeConfigs.leaseReader.makeApiClient(CoordinationV1Api);
    const created = await reader.createNamespacedLease({ namespace, body: leaseBody(name, 'r') });

    const error = await apiError(
      reader.replaceNamespacedLease({
        name,
        namespace,
        body: { ...created, spec: { ...created.spec, holderIdentity: 'x' } },
      }),
    );
    expect(error.code).toBe(403);
  });

  it('delivers a MODIFIED event to a field-selected watch after an update', async () => {
    const name = uniqueName('watch');
    const created = await leases.createNamespacedLease({ namespace, body: leaseBody(name, 'a') });

    const events: Array<{ type: string; lease: V1Lease }> = [];
    let modified!: (lease: V1Lease) => void;
    const sawModified = new Promise<V1Lease>((resolve) => (modified = resolve));
    let ended!: (error: unknown) => void;
    const watchEnded = new Promise<unknown>((resolve) => (ended = resolve));

    const controller = await new Watch(cluster.kubeConfigs.leaseUser).watch(
      `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
      {
        fieldSelector: `metadata.name=${name}`,
        allowWatchBookmarks: true,
        resourceVersion: created.metadata?.resourceVersion,
      },
      (type, lease: V1Lease) => {
        events.push({ type, lease });
        if (type === 'MODIFIED') modified(lease);
      },
      (error) => ended(error),
    );
    try {
      const updated = await leases.replaceNamespacedLease({
        name,
        namespace,
        body: { ...created, spec: { ...created.spec, holderIdentity: 'b' } },
      });
      const seen = await withTimeout(sawModified, 10_000, 'no MODIFIED event within 10 s');
      expect(seen.spec?.holderIdentity).toBe('b');
      expect(seen.metadata?.resourceVersion).toBe(updated.metadata?.resourceVersion);
      expect(
        events.filter((event) => event.type !== 'BOOKMARK').map((event) => event.type),
      ).toEqual(['MODIFIED']);
    } finally {
      controller.abort();
      await watchEnded;
    }
  });

  it('records each lease request of lease-user in the audit log, once, by the time it returns', async () => {
    const name = uniqueName('audit');
    const since = new Date(Date.now() - 1_000);
    const created = await leases.createNamespacedLease({ namespace, body: leaseBody(name, 'a') });
    await leases.readNamespacedLease({ name, namespace });
    await leases.replaceNamespacedLease({
      name,
      namespace,
      body: { ...created, spec: { ...created.spec, holderIdentity: 'b' } },
    });

    const events = readAuditEvents(cluster.auditLogPath, {
      username: cluster.users.leaseUser,
      namespace,
      name,
      since,
    });
    expect(events.map((event) => [event.verb, event.responseStatus?.code])).toEqual([
      ['create', 201],
      ['get', 200],
      ['update', 200],
    ]);
  });
});

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
