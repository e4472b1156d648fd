// KubernetesLeaseLock against the real API server: encoding, concurrency errors, RBAC error mapping,
// fields it must keep, connection reuse.
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { LockConflictError, LockForbiddenError, type LeaseSpec } from '../../lib/core/index.js';
import { LockAnnotationTooLargeError } from '../../lib/core/errors.js';
import { KubernetesLeaseLock } from '../../lib/kubernetes/index.js';
import {
  MEMBERS_ANNOTATION,
  PREFERRED_HOLDER_ANNOTATION,
} from '../../lib/kubernetes/lease-annotations.js';
import { TcpProxy } from '../chaos/tcp-proxy.js';
import {
  kubeConfigFor,
  kubeConfigThrough,
  type ControlPlaneUser,
} from '../control-plane/control-plane.js';
import { createNamespace } from '../control-plane/rbac.js';
import { loadCluster, uniqueName, type Cluster } from '../support/cluster.js';

const spec = (holder: string, transitions = 0): LeaseSpec => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  acquireTime: new Date('2026-11-23T20:00:00.123Z'),
  renewTime: new Date('2026-11-23T20:00:01.456Z'),
  leaseTransitions: transitions,
});

describe('KubernetesLeaseLock on a real kube-apiserver', () => {
  let cluster: Cluster;
  let namespace: string;
  let admin: CoordinationV1Api;

  beforeAll(async () => {
    cluster = loadCluster();
    namespace = await cluster.uniqueNamespace('lock');
    admin = cluster.kubeConfigs.admin.makeApiClient(CoordinationV1Api);
  });

  const lock = (name: string, user: ControlPlaneUser = 'leaseUser', identity = 'me') =>
    new KubernetesLeaseLock({
      kubeConfig: kubeConfigFor(cluster.state, user),
      namespace,
      name,
      identity,
    });

  it('writes MicroTime with six fractional digits and reads it back', async () => {
    const name = uniqueName('micro');
    const created = await lock(name).create(spec('me'));
    expect(created.holderIdentity).toBe('me');
    expect(created.renewTime?.toISOString()).toBe('2026-11-23T20:00:01.456Z');
    const raw = await admin.readNamespacedLease({ name, namespace });
    expect(String(raw.spec?.acquireTime)).toBe('2026-11-23T20:00:00.123000Z');
    expect(String(raw.spec?.renewTime)).toBe('2026-11-23T20:00:01.456000Z');
  });

  it('maps a stale resourceVersion and an existing object to conflicts; an update of a missing Lease re-creates it unless based on the deleted object', async () => {
    const name = uniqueName('conflict');
    const l = lock(name);
    const first = await l.create(spec('me'));
    await l.update(spec('me', 1), first.resourceVersion);
    await expect(l.update(spec('me', 2), first.resourceVersion)).rejects.toBeInstanceOf(
      LockConflictError,
    );
    await expect(l.create(spec('me'))).rejects.toBeInstanceOf(LockConflictError);
    expect(await lock(uniqueName('absent')).get()).toBeNull();
    // The API server allows create-on-update for Leases, whatever resourceVersion the update names;
    // the new uid tells the engine (see the re-created Lease rule in the README).
    const recreated = await lock(name)
      .update(spec('me', 3), first.resourceVersion)
      .catch((e: unknown) => e);
    expect(recreated).toBeInstanceOf(LockConflictError);
    await admin.deleteNamespacedLease({ name, namespace });
    // A write carries the uid of the object it is based on (as client-go's do): that object is
    // gone, and the server refuses the write instead of re-creating the Lease.
    await expect(l.update(spec('me', 4), first.resourceVersion)).rejects.toBeInstanceOf(
      LockConflictError,
    );
    // A lock that never saw the object has no uid to send: its update re-creates the Lease.
    const again = await lock(name).update(spec('me', 4), first.resourceVersion);
    expect(again.uid).toBeTruthy();
    expect(again.uid).not.toBe(first.uid);
  });

  it('names the missing verb on 403', async () => {
    const name = uniqueName('rbac');
    const created = await lock(name).create(spec('me'));
    const reader = lock(name, 'leaseReader');
    const denied = await reader
      .update(spec('me', 1), created.resourceVersion)
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(LockForbiddenError);
    expect((denied as LockForbiddenError).verb).toBe('update');
    expect((denied as LockForbiddenError).user).toBe('lease-reader');
    expect((denied as Error).message).toContain(
      `may not "update" leases.coordination.k8s.io in namespace "${namespace}"`,
    );
  });

  it('words a denied watch like any other denial, naming the user an earlier denial named', async () => {
    // A namespace where lease-reader has no role at all: get and watch are both denied.
    const bare = uniqueName('bare');
    await createNamespace(cluster.kubeConfigs.admin, bare);
    const reader = new KubernetesLeaseLock({
      kubeConfig: kubeConfigFor(cluster.state, 'leaseReader'),
      namespace: bare,
      name: 'denied',
      identity: 'me',
    });
    const get = (await reader.get().catch((e: unknown) => e)) as LockForbiddenError;
    const watch = await new Promise<LockForbiddenError>((resolve) => {
      reader.watch({
        onEvent: () => undefined,
        onClose: (error) => resolve(error as LockForbiddenError),
      });
    });
    expect(get).toBeInstanceOf(LockForbiddenError);
    expect(watch).toBeInstanceOf(LockForbiddenError);
    expect(watch.user).toBe('lease-reader');
    const wording = (error: Error, verb: string) =>
      error.message.replace(`"${verb}"`, '"<verb>"').replace(/ Server said: .*$/, '');
    expect(wording(watch, 'watch')).toBe(wording(get, 'get'));
    expect(watch.message).not.toContain('Server said: Forbidden');
    reader.close();
  });

  it('keeps labels, annotations and other fields when it replaces the Lease', async () => {
    const name = uniqueName('keep');
    await admin.createNamespacedLease({
      namespace,
      body: {
        metadata: { name, labels: { team: 'billing' }, annotations: { note: 'kept' } },
        spec: { holderIdentity: '', leaseDurationSeconds: 1 },
      },
    });
    const l = lock(name);
    const current = (await l.get())!;
    await l.update(spec('me', 1), current.resourceVersion);
    const after = await admin.readNamespacedLease({ name, namespace });
    expect(after.metadata?.labels).toEqual({ team: 'billing' });
    expect(after.metadata?.annotations).toEqual({ note: 'kept' });
    expect(after.spec?.holderIdentity).toBe('me');
  });

  it('keeps what another writer added when a watch event older than its last write arrives late', async () => {
    const name = uniqueName('basis');
    const owner = await cluster.kubeConfigs.admin
      .makeApiClient(CoreV1Api)
      .createNamespacedConfigMap({ namespace, body: { metadata: { name: `${name}-owner` } } });
    const l = lock(name);
    const renew = (record: { resourceVersion: string }) =>
      l.update({ ...spec('me'), renewTime: new Date() }, record.resourceVersion);
    const created = await l.create(spec('me'));
    // Another writer (an operator, a controller) labels and annotates the Lease and gives it an owner.
    const current = await admin.readNamespacedLease({ name, namespace });
    const edited = await admin.replaceNamespacedLease({
      name,
      namespace,
      body: {
        ...current,
        metadata: {
          ...current.metadata,
          labels: { team: 'billing' },
          annotations: { note: 'kept' },
          ownerReferences: [
            {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              name: owner.metadata!.name!,
              uid: owner.metadata!.uid!,
            },
          ],
        },
      },
    });
    const renewed = await renew((await l.get())!);
    // The watch, behind the writes, delivers the edit only now: an event older than the renew.
    await new Promise<void>((resolve, reject) => {
      const watch = l.watch(
        {
          onEvent: (event) => {
            if (
              event.type !== 'BOOKMARK' &&
              event.record.resourceVersion === edited.metadata!.resourceVersion
            ) {
              watch.close();
              resolve();
            }
          },
          onClose: (error) => reject(error ?? new Error('the watch ended before the edit')),
        },
        { resourceVersion: created.resourceVersion },
      );
    });
    await renew(renewed);
    const after = await admin.readNamespacedLease({ name, namespace });
    expect(after.metadata?.labels).toEqual({ team: 'billing' });
    expect(after.metadata?.annotations).toEqual({ note: 'kept' });
    expect(after.metadata?.ownerReferences?.map((o) => o.uid)).toEqual([owner.metadata!.uid]);
    expect(after.metadata?.resourceVersion).not.toBe(renewed.resourceVersion);
  });

  it('keeps a foreign annotation across its writes; its own stale annotations are dropped or replaced', async () => {
    const name = uniqueName('ours');
    // A client-go holder took the Lease after a release that named "b", keeping the annotations.
    const stale = JSON.stringify({ holder: 'b', transitions: 1 });
    await admin.createNamespacedLease({
      namespace,
      body: {
        metadata: { name, annotations: { note: 'kept', [PREFERRED_HOLDER_ANNOTATION]: stale } },
        spec: { holderIdentity: 'go', leaseDurationSeconds: 15, leaseTransitions: 2 },
      },
    });
    const l = lock(name);
    const found = (await l.get())!;
    expect(found.preferredHolder).toBeUndefined();
    const taken = await l.update(spec('me', 3), found.resourceVersion);
    const annotations = async () =>
      (await admin.readNamespacedLease({ name, namespace })).metadata?.annotations;
    expect(await annotations()).toEqual({ note: 'kept' });
    const released = await l.update(
      { ...spec('', 3), leaseDurationSeconds: 1, preferredHolder: 'c' },
      taken.resourceVersion,
    );
    expect(released.preferredHolder).toBe('c');
    expect(await annotations()).toEqual({
      note: 'kept',
      [PREFERRED_HOLDER_ANNOTATION]: '{"holder":"c","holderIdentity":"","transitions":3}',
    });
    const members = { me: { until: 1_764_560_000_000 } };
    await l.update({ ...spec('', 3), leaseDurationSeconds: 1, members }, released.resourceVersion);
    expect(await annotations()).toEqual({
      note: 'kept',
      [MEMBERS_ANNOTATION]: '{"me":1764560000000}',
    });
  });

  it('refuses before sending a write whose annotations would not fit beside the others; the Lease stays as it was', async () => {
    const name = uniqueName('budget');
    const big = 'x'.repeat(200 * 1024);
    await admin.createNamespacedLease({
      namespace,
      body: {
        metadata: { name, annotations: { 'example.com/big': big } },
        spec: { holderIdentity: '', leaseDurationSeconds: 1 },
      },
    });
    const l = lock(name);
    const current = (await l.get())!;
    // About 80 KiB of members: beside the 200 KiB annotation, over the server's 256 KiB for all.
    const members = Object.fromEntries(
      Array.from({ length: 2000 }, (_, i) => [
        `replica-${String(i).padStart(6, '0')}`,
        { until: 1e12 },
      ]),
    );
    const refused = await l
      .update({ ...spec(''), members }, current.resourceVersion)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LockAnnotationTooLargeError);
    expect((refused as LockAnnotationTooLargeError).annotation).toBe(MEMBERS_ANNOTATION);
    expect((refused as Error).message).toContain(`annotation "${MEMBERS_ANNOTATION}"`);
    const after = await admin.readNamespacedLease({ name, namespace });
    expect(after.metadata?.resourceVersion).toBe(current.resourceVersion);
    expect(after.metadata?.annotations).toEqual({ 'example.com/big': big });
    // Nothing was sent: a write that fits is still based on the same version, and keeps the other.
    const fitting = { a: { until: 1e12 } };
    const written = await l.update({ ...spec(''), members: fitting }, current.resourceVersion);
    expect(written.members).toEqual(fitting);
    const final = await admin.readNamespacedLease({ name, namespace });
    expect(final.metadata?.annotations).toEqual({
      'example.com/big': big,
      [MEMBERS_ANNOTATION]: '{"a":1000000000000}',
    });
  });

  it('reads times written by other clients tolerantly (nine digits from Go, none at all)', async () => {
    const name = uniqueName('tolerant');
    await admin.createNamespacedLease({
      namespace,
      body: { metadata: { name }, spec: { holderIdentity: 'go', leaseDurationSeconds: 15 } },
    });
    const record = (await lock(name).get())!;
    expect(record.holderIdentity).toBe('go');
    expect(record.acquireTime).toBeNull();
    expect(record.renewTime).toBeNull();
    expect(record.leaseTransitions).toBeNull();
  });

  /** A lease-user KubeConfig that reaches the API server through the proxy on `port`. */
  const viaProxy = (port: number) => kubeConfigThrough(cluster.state, 'leaseUser', port);

  it('reuses one connection for successive requests', async () => {
    const proxy = new TcpProxy(cluster.state.ports.kubeApiserver);
    const port = await proxy.listen();
    const l = new KubernetesLeaseLock({
      kubeConfig: viaProxy(port),
      namespace,
      name: uniqueName('keepalive'),
      identity: 'me',
    });
    try {
      let record = await l.create(spec('me'));
      for (let i = 1; i <= 5; i++) record = await l.update(spec('me', i), record.resourceVersion);
      await l.get();
      expect(proxy.accepted).toBe(1);
    } finally {
      l.close();
      await proxy.close();
    }
  });

  it('opens a new connection when the TLS settings change, and after a 401', async () => {
    const proxy = new TcpProxy(cluster.state.ports.kubeApiserver);
    const port = await proxy.listen();
    const kubeConfig = viaProxy(port);
    const l = new KubernetesLeaseLock({
      kubeConfig,
      namespace,
      name: uniqueName('rotate'),
      identity: 'me',
    });
    try {
      let record = await l.create(spec('me'));
      record = await l.update(spec('me', 1), record.resourceVersion);
      expect(proxy.accepted).toBe(1);

      // A new CA bundle (the same CA twice): other TLS settings, so another connection.
      const current = kubeConfig.getCurrentCluster()!;
      const bundle = Buffer.from(current.caData!, 'base64').toString('utf8');
      (current as { caData?: string }).caData = Buffer.from(`${bundle}\n${bundle}`).toString(
        'base64',
      );
      record = await l.update(spec('me', 2), record.resourceVersion);
      record = await l.update(spec('me', 3), record.resourceVersion);
      expect(proxy.accepted).toBe(2);

      // A rejected token: the 401 drops the connection; the next request opens a new one.
      const user = kubeConfig.getCurrentUser()!;
      const token = user.token;
      (user as { token?: string }).token = 'not-a-valid-token';
      await expect(l.get()).rejects.toThrow(/401 Unauthorized/);
      (user as { token?: string }).token = token;
      await l.update(spec('me', 4), record.resourceVersion);
      await l.get();
      expect(proxy.accepted).toBe(3);
    } finally {
      l.close();
      await proxy.close();
    }
  });
});
