// The leader-only Service on the real API server, with the sample's manifests (sample/k8s: the Role
// that allows get, create and patch on the slice's name only, and the admission policy that pins the
// slice's labels and its endpoint to the writing Pod): Pods as API objects, each election with a
// token bound to its Pod, as a kubelet mounts it. The Lease and the slice are watched; writes are
// ordered by resourceVersion (one etcd revision counter for all of them), never by wall clock.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DiscoveryV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type V1EndpointSlice,
  type V1Lease,
} from '@kubernetes/client-node';
import { FencingToken } from '../../lib/core/index.js';
import { createElection } from '../../lib/election.factory.js';
import type { Election } from '../../lib/election.js';
import {
  LeaderEndpointSlice,
  leaderEndpointSliceBody,
} from '../../lib/kubernetes/leader-endpoint-slice.js';
import { createNamespace } from '../control-plane/rbac.js';
import { applyManifests, loadManifests } from '../kubelet/manifests.js';
import { loadCluster, uniqueName, type Cluster } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { podKubeConfig, watchNamed, type Seen } from '../support/pod-tokens.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVICE = 'sample-app-leader';
const LEASE = 'sample-app';
const PORT = { name: 'http', port: 3000 };
const TIMINGS = { leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 };
const PROBE_TOKEN = FencingToken.parse('1'); // lower than any term's: a real term overrides the probe

const endpointsOf = (slice: V1EndpointSlice | undefined) =>
  (slice?.endpoints ?? []).map((e) => e.targetRef?.name);
const tokenOf = (slice: V1EndpointSlice | undefined) =>
  slice?.metadata?.annotations?.['nestjs-kube-leader/fencing-token'];

describe('the leader-only Service on the API server, with the sample Role and admission policy', () => {
  let cluster: Cluster;
  let namespace: string;
  const pods = new Map<string, { kubeConfig: KubeConfig; ip: string }>();
  const slices: Seen<V1EndpointSlice>[] = [];
  const leases: Seen<V1Lease>[] = [];
  const watches: { stop(): void }[] = [];
  const elections: Election[] = [];

  beforeAll(async () => {
    cluster = loadCluster();
    const admin = cluster.kubeConfigs.admin;
    namespace = uniqueName('leader-svc');
    await createNamespace(admin, namespace);
    await applyManifests(admin, namespace, loadManifests(path.join(ROOT, 'sample', 'k8s')));
    for (const [i, name] of ['pod-a', 'pod-b', 'pod-c'].entries()) {
      pods.set(name, {
        kubeConfig: await podKubeConfig(cluster, namespace, 'sample-app', name),
        ip: `10.244.9.${i + 2}`,
      });
    }
    // The Role binding and the policy take effect through caches: wait until pod-a may read the
    // slice and the policy refuses it a slice naming pod-b (a dry run: the slice is not created,
    // so the first test sees a Pod's first write create it).
    const probe = writer('pod-a');
    await eventually(
      async () =>
        await probe.read().then(
          () => true,
          () => false,
        ),
      30_000,
      'the Role in effect',
    );
    const namingPodB = leaderEndpointSliceBody(
      { namespace, serviceName: SERVICE, port: PORT },
      'IPv4',
      { ip: '10.244.9.3', podName: 'pod-b' },
    );
    await eventually(
      async () =>
        /^422 .*names only the Pod that writes it/.test(await apply('pod-a', namingPodB, 'All')),
      30_000,
      'the admission policy in effect',
      200,
    );
    watches.push(
      await watchNamed(
        admin,
        `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
        SERVICE,
        slices,
      ),
    );
    watches.push(
      await watchNamed(
        admin,
        `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
        LEASE,
        leases,
      ),
    );
  });

  afterAll(async () => {
    await Promise.all(elections.map((e) => e.stop()));
    for (const watch of watches) watch.stop();
  });

  function writer(pod: string): LeaderEndpointSlice {
    return new LeaderEndpointSlice({
      kubeConfig: pods.get(pod)!.kubeConfig,
      namespace,
      serviceName: SERVICE,
      port: PORT,
    });
  }

  /** A server-side apply of `slice` with `pod`'s token: 'applied', or the status and the reason. */
  function apply(pod: string, slice: V1EndpointSlice, dryRun?: 'All'): Promise<string> {
    return KubernetesObjectApi.makeApiClient(pods.get(pod)!.kubeConfig)
      .patch(
        { ...slice, apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice' },
        undefined,
        dryRun,
        'nestjs-kube-leader',
        true,
        PatchStrategy.ServerSideApply,
      )
      .then(
        () => 'applied',
        (error: { code?: number; body?: unknown }) => `${error.code} ${String(error.body)}`,
      );
  }

  /** An election of the sample's app election on `pod`'s token, with the leaderService option. */
  async function candidate(pod: string, releaseOnShutdown = true): Promise<Election> {
    const election = await createElection({
      leaseName: LEASE,
      namespace,
      kubeConfig: pods.get(pod)!.kubeConfig,
      identity: pod,
      ...TIMINGS,
      releaseOnShutdown,
      logger: false,
      leaderService: { name: SERVICE, port: PORT, podIP: pods.get(pod)!.ip, podName: pod },
    });
    elections.push(election);
    // Once it led, its refusals of `@LeaderOnly` HTTP handlers close their connections
    // (test/unit/nest/closing-connections.spec.ts).
    expect(election.keepsLeaderSlice).toBe(true);
    election.start();
    return election;
  }

  const stored = () =>
    cluster.kubeConfigs.admin
      .makeApiClient(DiscoveryV1Api)
      .readNamespacedEndpointSlice({ name: SERVICE, namespace });

  /** The slice names exactly `pod`, with its term's token. */
  async function namesExactly(election: Election, pod: string): Promise<boolean> {
    const slice = await stored();
    const token = election.elector.fencingToken();
    return (
      token !== null &&
      JSON.stringify(endpointsOf(slice)) === JSON.stringify([pod]) &&
      slice.endpoints?.[0]?.addresses?.[0] === pods.get(pod)!.ip &&
      tokenOf(slice) === token.toString()
    );
  }

  /** The first watched write after resourceVersion `after` that matches. */
  function firstAfter<T>(seen: Seen<T>[], after: bigint, match: (object: T) => boolean): Seen<T> {
    const found = seen.find((s) => s.resourceVersion > after && match(s.object));
    if (!found) throw new Error('no such write was watched');
    return found;
  }

  it("denies a POST create with the shipped Role; a Pod's first write, an apply to the name, creates the slice through the Role and the admission policy", async () => {
    const slice = writer('pod-a');
    expect(await slice.read()).toBeUndefined();
    const post = await pods
      .get('pod-a')!
      .kubeConfig.makeApiClient(DiscoveryV1Api)
      .createNamespacedEndpointSlice({
        namespace,
        body: leaderEndpointSliceBody({ namespace, serviceName: SERVICE, port: PORT }, 'IPv4', {
          ip: pods.get('pod-a')!.ip,
          podName: 'pod-a',
        }),
      })
      .then(
        () => 201,
        (error: { code?: number }) => error.code,
      );
    expect(post).toBe(403);
    expect(await slice.read()).toBeUndefined();
    // Created by an apply to its name without endpoints, then written with pod-a as its endpoint.
    await slice.write({ ip: pods.get('pod-a')!.ip, podName: 'pod-a' }, PROBE_TOKEN);
    const created = await stored();
    expect(endpointsOf(created)).toEqual(['pod-a']);
    expect(created.metadata?.managedFields?.map((f) => f.manager).sort()).toEqual([
      'nestjs-kube-leader',
      'nestjs-kube-leader-create',
    ]);
    // Emptied (stored without endpoints), it takes a write that leaves the endpoints out.
    await slice.clear(PROBE_TOKEN);
    const { endpoints: _none, ...labelsAndPort } = leaderEndpointSliceBody(
      { namespace, serviceName: SERVICE, port: PORT },
      'IPv4',
      null,
    );
    expect(await apply('pod-a', labelsAndPort as V1EndpointSlice)).toBe('applied');
    expect(endpointsOf(await stored())).toEqual([]);
  });

  it('refuses, by the admission policy, a slice relabelled to another Service, naming another Pod, or with two endpoints', async () => {
    const own = leaderEndpointSliceBody({ namespace, serviceName: SERVICE, port: PORT }, 'IPv4', {
      ip: '10.244.9.2',
      podName: 'pod-a',
    });
    const relabelled = structuredClone(own);
    relabelled.metadata!.labels!['kubernetes.io/service-name'] = 'sample-app';
    const extraLabel = structuredClone(own);
    extraLabel.metadata!.labels!.team = 'billing';
    const twoEndpoints = structuredClone(own);
    twoEndpoints.endpoints = [
      ...own.endpoints!,
      { ...own.endpoints![0], addresses: ['10.244.9.9'] },
    ];
    const elsewhere = structuredClone(own);
    elsewhere.endpoints![0].targetRef!.name = 'pod-b';

    expect(await apply('pod-a', relabelled)).toMatch(/^422 .*keeps exactly its labels/);
    expect(await apply('pod-a', extraLabel)).toMatch(/^422 .*keeps exactly its labels/);
    expect(await apply('pod-a', twoEndpoints)).toMatch(/^422 .*at most one endpoint/);
    expect(await apply('pod-a', elsewhere)).toMatch(/^422 .*names only the Pod that writes it/);
    expect(await apply('pod-a', own)).toBe('applied');
    expect((await stored()).metadata?.labels?.['kubernetes.io/service-name']).toBe(SERVICE);
  });

  it('names the leader, is emptied before a graceful release, names the next leader after it acquires, and after a crash', async () => {
    const a = await candidate('pod-a');
    await eventually(() => namesExactly(a, 'pod-a'), 30_000, 'the slice naming pod-a', 100);
    const b = await candidate('pod-b', false); // b "crashes" below: it stops without a release
    const c = await candidate('pod-c');
    // Followers never write: the slice stays pod-a's while they campaign.
    await eventually(
      () => b.elector.status().leader === 'pod-a' && c.elector.status().leader === 'pod-a',
    );
    expect(await namesExactly(a, 'pod-a')).toBe(true);

    // A graceful handover, a to b.
    const tokenA = a.elector.fencingToken()!.toString();
    const before = (await stored()).metadata!.resourceVersion!;
    await a.elector.stepDown({ successor: 'pod-b' });
    await eventually(
      () => b.elector.isLeader() && namesExactly(b, 'pod-b'),
      30_000,
      'pod-b in the slice',
      50,
    );
    const from = BigInt(before);
    const emptied = firstAfter(slices, from, (s) => endpointsOf(s).length === 0);
    const released = firstAfter(leases, from, (l) => l.spec?.holderIdentity === '');
    const acquired = firstAfter(leases, from, (l) => l.spec?.holderIdentity === 'pod-b');
    const written = firstAfter(slices, from, (s) => endpointsOf(s)[0] === 'pod-b');
    expect(tokenOf(emptied.object)).toBe(tokenA);
    expect([emptied, released, acquired, written].map((s) => s.resourceVersion)).toEqual(
      [emptied, released, acquired, written]
        .map((s) => s.resourceVersion)
        .sort((x, y) => (x < y ? -1 : 1)),
    );
    // No other write of the slice between the release and b's write: nobody else named.
    expect(
      slices.filter(
        (s) =>
          s.resourceVersion > emptied.resourceVersion &&
          s.resourceVersion < written.resourceVersion,
      ),
    ).toEqual([]);
    console.log(
      `graceful handover: slice emptied ${(released.at - emptied.at).toFixed(1)} ms before the release was watched; ` +
        `b's write watched ${(written.at - acquired.at).toFixed(1)} ms after its acquisition, ` +
        `${(written.at - released.at).toFixed(1)} ms after the release`,
    );

    // A crash of b: no release, nothing empties the slice; it names b until the next leader writes.
    const crashedAt = performance.now();
    const crashRv = BigInt((await stored()).metadata!.resourceVersion!);
    await b.stop();
    expect(endpointsOf(await stored())).toEqual(['pod-b']);
    await eventually(
      async () =>
        (a.elector.isLeader() && (await namesExactly(a, 'pod-a'))) ||
        (c.elector.isLeader() && (await namesExactly(c, 'pod-c'))),
      30_000,
      'the next leader in the slice',
      50,
    );
    const next = a.elector.isLeader() ? 'pod-a' : 'pod-c';
    const takeover = firstAfter(leases, crashRv, (l) => l.spec?.holderIdentity === next);
    const rewritten = firstAfter(slices, crashRv, (s) => endpointsOf(s)[0] === next);
    expect(takeover.resourceVersion < rewritten.resourceVersion).toBe(true);
    expect(
      slices.filter(
        (s) => s.resourceVersion > crashRv && s.resourceVersion < rewritten.resourceVersion,
      ),
    ).toEqual([]);
    const lastRenewal = leases.findLast(
      (l) =>
        l.resourceVersion < takeover.resourceVersion && l.object.spec?.holderIdentity === 'pod-b',
    )!;
    console.log(
      `crash: ${next} in the slice ${(rewritten.at - crashedAt).toFixed(0)} ms after b stopped, ` +
        `${(rewritten.at - lastRenewal.at).toFixed(0)} ms after b's last renewal was watched ` +
        `(leaseDuration ${TIMINGS.leaseDuration} ms, retryPeriod ${TIMINGS.retryPeriod} ms), ` +
        `${(rewritten.at - takeover.at).toFixed(1)} ms after its acquisition`,
    );

    // Shutdown of the leader: emptied, then released.
    const leader = next === 'pod-a' ? a : c;
    const lastRv = BigInt((await stored()).metadata!.resourceVersion!);
    await leader.stop();
    await eventually(() =>
      leases.some((l) => l.resourceVersion > lastRv && l.object.spec?.holderIdentity === ''),
    );
    const cleared = firstAfter(slices, lastRv, (s) => endpointsOf(s).length === 0);
    const releasedOnStop = firstAfter(leases, lastRv, (l) => l.spec?.holderIdentity === '');
    expect(cleared.resourceVersion < releasedOnStop.resourceVersion).toBe(true);

    // Every write of the slice while the elections ran named nobody or the Lease's holder as of
    // that write (resourceVersion order): never a follower, a former leader or two pods.
    const electionsFrom = leases[0]!.resourceVersion;
    const holderAt = (rv: bigint) =>
      leases.findLast((l) => l.resourceVersion < rv)?.object.spec?.holderIdentity;
    const writes = slices.filter((s) => s.resourceVersion > electionsFrom);
    expect(writes.length).toBeGreaterThanOrEqual(5); // a, emptied, b, the next leader, emptied
    expect(
      writes
        .map((s) => ({ named: endpointsOf(s.object), holder: holderAt(s.resourceVersion) }))
        .filter(
          ({ named, holder }) => named.length > 0 && !(named.length === 1 && named[0] === holder),
        ),
    ).toEqual([]);
  });
});
