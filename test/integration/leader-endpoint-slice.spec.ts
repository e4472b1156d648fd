// The leader's EndpointSlice on the real API server, written with least privilege: a ServiceAccount
// whose Role allows only get, create and patch on the slice's name. The server-side apply to the name
// creates the slice (authorized as `create` of that name) and then updates it (`patch`); a POST create
// is denied with the same Role (a create of a collection has no name to match); without the rule the
// error names the rule to add; the API server's endpoint validation refuses a loopback address.
import {
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { FencingToken } from '../../lib/core/index.js';
import {
  EndpointSliceFencedError,
  EndpointSliceWriteError,
  LeaderEndpointSlice,
} from '../../lib/kubernetes/leader-endpoint-slice.js';
import { loadCluster, uniqueName, type Cluster } from '../support/cluster.js';
import { serviceAccountKubeConfig } from '../support/service-account.js';

const SERVICE = 'billing-leader';
const TERM_1 = FencingToken.parse('100');
const TERM_2 = FencingToken.parse('200');
const PORT = { name: 'grpc', port: 9000 };
const LEADER_RULE = (slice: string): V1PolicyRule => ({
  apiGroups: ['discovery.k8s.io'],
  resources: ['endpointslices'],
  resourceNames: [slice],
  verbs: ['get', 'create', 'patch'],
});

describe('the leader EndpointSlice, by server-side apply with least privilege', () => {
  let cluster: Cluster;
  let namespace: string;
  let admin: DiscoveryV1Api;

  beforeAll(async () => {
    cluster = loadCluster();
    namespace = uniqueName('slice');
    const core = cluster.kubeConfigs.admin.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // Selector-less: no controller writes its endpoints, the leader does.
    await core.createNamespacedService({
      namespace,
      body: { metadata: { name: SERVICE }, spec: { ports: [{ ...PORT, protocol: 'TCP' }] } },
    });
    admin = cluster.kubeConfigs.admin.makeApiClient(DiscoveryV1Api);
  });

  const serviceAccount = (rules: V1PolicyRule[]) =>
    serviceAccountKubeConfig(cluster, namespace, rules);

  /** Waits until the Role's `get` is effective (the authorizer works from a cache): no 403. */
  async function whenAllowed(slice: LeaderEndpointSlice): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await slice.read();
        return;
      } catch (error) {
        if ((error as EndpointSliceWriteError).status !== 403 || Date.now() > deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const writer = (kubeConfig: KubeConfig, sliceName: string) =>
    new LeaderEndpointSlice({ kubeConfig, namespace, serviceName: SERVICE, sliceName, port: PORT });

  it('creates, repoints and empties the slice with get, create and patch on its name only', async () => {
    const sliceName = uniqueName('leader');
    const slice = writer(await serviceAccount([LEADER_RULE(sliceName)]), sliceName);
    await whenAllowed(slice);
    expect(await slice.read()).toBeUndefined();
    expect(await slice.clear(TERM_1)).toBeUndefined(); // nothing to empty yet

    await slice.write(
      { ip: '10.244.0.2', podName: 'billing-a', podUid: 'uid-a', nodeName: 'n1' },
      TERM_1,
    );
    const created = await admin.readNamespacedEndpointSlice({ name: sliceName, namespace });
    expect(created.metadata?.labels).toEqual({
      'kubernetes.io/service-name': SERVICE,
      'endpointslice.kubernetes.io/managed-by': 'nestjs-kube-leader',
    });
    expect(created.addressType).toBe('IPv4');
    expect(created.ports).toEqual([{ name: 'grpc', port: 9000, protocol: 'TCP' }]);
    expect(created.endpoints).toEqual([
      {
        addresses: ['10.244.0.2'],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: { kind: 'Pod', namespace, name: 'billing-a', uid: 'uid-a' },
        nodeName: 'n1',
      },
    ]);
    expect(created.metadata?.managedFields?.map((f) => [f.manager, f.operation])).toEqual([
      ['nestjs-kube-leader', 'Apply'],
      ['nestjs-kube-leader-create', 'Apply'],
    ]);

    await slice.write({ ip: '10.244.0.3', podName: 'billing-b' }, TERM_1);
    const repointed = await admin.readNamespacedEndpointSlice({ name: sliceName, namespace });
    expect(repointed.endpoints?.map((e) => [e.addresses, e.targetRef?.name])).toEqual([
      [['10.244.0.3'], 'billing-b'],
    ]);

    // A new writer (another replica) empties it without having written: it reads the address type.
    await writer(await serviceAccount([LEADER_RULE(sliceName)]), sliceName).clear(TERM_1);
    const emptied = await admin.readNamespacedEndpointSlice({ name: sliceName, namespace });
    expect(emptied.endpoints ?? []).toEqual([]);
    expect(emptied.metadata?.labels?.['kubernetes.io/service-name']).toBe(SERVICE);
  });

  it('is denied a POST create with that Role (a create of the collection names nothing)', async () => {
    const sliceName = uniqueName('leader');
    const kubeConfig = await serviceAccount([LEADER_RULE(sliceName)]);
    await whenAllowed(writer(kubeConfig, sliceName));
    const api = kubeConfig.makeApiClient(DiscoveryV1Api);
    const status = await api
      .createNamespacedEndpointSlice({
        namespace,
        body: {
          metadata: { name: sliceName, labels: { 'kubernetes.io/service-name': SERVICE } },
          addressType: 'IPv4',
          endpoints: [],
        },
      })
      .then(
        () => 201,
        (error: { code?: number }) => error.code,
      );
    expect(status).toBe(403);
    // The apply to the name works with the same Role.
    await writer(kubeConfig, sliceName).write({ ip: '10.244.0.4', podName: 'billing-c' }, TERM_1);
  });

  it('names the rule to add when the Role lacks it', async () => {
    const sliceName = uniqueName('leader');
    const slice = writer(await serviceAccount([]), sliceName);
    const error = await slice
      .write({ ip: '10.244.0.5', podName: 'billing-d' }, TERM_1)
      .catch((e) => e);
    expect(error).toBeInstanceOf(EndpointSliceWriteError);
    expect((error as EndpointSliceWriteError).status).toBe(403);
    expect((error as Error).message).toContain(
      `{ apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], resourceNames: ["${sliceName}"], verbs: ["get", "create", "patch"] } in "${namespace}"`,
    );
  });

  it('cannot create the slice with patch alone: the first apply is a create of the name', async () => {
    const sliceName = uniqueName('leader');
    const slice = writer(
      await serviceAccount([{ ...LEADER_RULE(sliceName), verbs: ['get', 'patch'] }]),
      sliceName,
    );
    await whenAllowed(slice);
    const error = await slice
      .write({ ip: '10.244.0.6', podName: 'billing-e' }, TERM_1)
      .catch((e) => e);
    expect((error as EndpointSliceWriteError).status).toBe(403);
    expect((error as Error).message).toMatch(/cannot create resource "endpointslices"/);
  });

  it("refuses a loopback address (the API server's endpoint validation)", async () => {
    const sliceName = uniqueName('leader');
    const slice = writer(cluster.kubeConfigs.admin, sliceName);
    const error = await slice
      .write({ ip: '127.0.0.1', podName: 'billing-f' }, TERM_1)
      .catch((e) => e);
    expect((error as EndpointSliceWriteError).status).toBe(422);
    // Created without endpoints (the first apply), the refused endpoint never stored.
    expect((await slice.read())?.endpoints ?? []).toEqual([]);
  });

  it("refuses a former leader's write once a later term wrote the slice", async () => {
    const sliceName = uniqueName('leader');
    const former = writer(cluster.kubeConfigs.admin, sliceName);
    const next = writer(cluster.kubeConfigs.admin, sliceName);
    await former.write({ ip: '10.244.0.7', podName: 'billing-g' }, TERM_1);
    await next.write({ ip: '10.244.0.8', podName: 'billing-h' }, TERM_2);

    const write = await former
      .write({ ip: '10.244.0.7', podName: 'billing-g' }, TERM_1)
      .catch((e) => e);
    const clear = await former.clear(TERM_1).catch((e) => e);
    expect(write).toBeInstanceOf(EndpointSliceFencedError);
    expect(clear).toBeInstanceOf(EndpointSliceFencedError);
    expect((write as Error).message).toContain('fencing token 200, ours 100');
    const stored = await admin.readNamespacedEndpointSlice({ name: sliceName, namespace });
    expect(stored.endpoints?.map((e) => e.targetRef?.name)).toEqual(['billing-h']);
    expect(stored.metadata?.annotations?.['nestjs-kube-leader/fencing-token']).toBe('200');
  });

  it('refuses a write whose read came before a later write (the resourceVersion precondition)', async () => {
    const sliceName = uniqueName('leader');
    const former = writer(cluster.kubeConfigs.admin, sliceName);
    await former.write({ ip: '10.244.0.9', podName: 'billing-i' }, TERM_1);
    // The former leader read the slice, then paused: the next leader writes before its apply.
    const readBeforeHandover = await former.read();
    await writer(cluster.kubeConfigs.admin, sliceName).write(
      { ip: '10.244.0.10', podName: 'billing-j' },
      TERM_2,
    );
    former.read = async () => readBeforeHandover;

    const error = await former
      .write({ ip: '10.244.0.9', podName: 'billing-i' }, TERM_1)
      .catch((e) => e);
    expect(error).toBeInstanceOf(EndpointSliceFencedError);
    expect((error as EndpointSliceFencedError).status).toBe(409);
    const stored = await admin.readNamespacedEndpointSlice({ name: sliceName, namespace });
    expect(stored.endpoints?.map((e) => e.targetRef?.name)).toEqual(['billing-j']);
  });

  it("refuses a former leader's first write when the next leader created the slice after its read", async () => {
    const sliceName = uniqueName('leader');
    const former = writer(cluster.kubeConfigs.admin, sliceName);
    // The former leader read: no slice yet. It paused; the next leader created the slice.
    expect(await former.read()).toBeUndefined();
    await writer(cluster.kubeConfigs.admin, sliceName).write(
      { ip: '10.244.0.13', podName: 'billing-m' },
      TERM_2,
    );
    former.read = async () => undefined;

    const error = await former
      .write({ ip: '10.244.0.14', podName: 'billing-n' }, TERM_1)
      .catch((e) => e);
    expect(error).toBeInstanceOf(EndpointSliceFencedError);
    const stored = await admin.readNamespacedEndpointSlice({ name: sliceName, namespace });
    expect(stored.endpoints?.map((e) => e.targetRef?.name)).toEqual(['billing-m']);
    expect(stored.metadata?.annotations?.['nestjs-kube-leader/fencing-token']).toBe('200');
  });

  it('lets the same term write again and a later term take over an older one', async () => {
    const sliceName = uniqueName('leader');
    const slice = writer(cluster.kubeConfigs.admin, sliceName);
    await slice.write({ ip: '10.244.0.11', podName: 'billing-k' }, TERM_1);
    await slice.write({ ip: '10.244.0.11', podName: 'billing-k' }, TERM_1);
    await slice.clear(TERM_1);
    await writer(cluster.kubeConfigs.admin, sliceName).write(
      { ip: '10.244.0.12', podName: 'billing-l' },
      TERM_2,
    );
    const stored = await admin.readNamespacedEndpointSlice({ name: sliceName, namespace });
    expect(stored.endpoints?.map((e) => e.targetRef?.name)).toEqual(['billing-l']);
  });
});
