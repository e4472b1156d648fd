// The leader-only Service with the sample's pods on the test kubelet (sample/k8s as shipped: POD_IP,
// the Role rule, the admission policy; tokens bound to each Pod): a client in a pod reads the
// leader's address from the slice, as kube-proxy would, connects, and reaches the leader; the
// leader's Pod is deleted (a graceful shutdown): the slice is emptied, then names the next leader,
// and a client connecting to that address reaches the new leader.
import { DiscoveryV1Api, type V1EndpointSlice } from '@kubernetes/client-node';
import type { RunningPod } from '../kubelet/kubelet.js';
import { itPrintingPodLogs } from '../kubelet/pod-logs.js';
import { startSamplePods, type SamplePods } from '../kubelet/sample-pods.js';
import { loadCluster, type Cluster } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { watchNamed, type Seen } from '../support/pod-tokens.js';

const SLICE = 'sample-app-leader'; // sample/k8s/leader-service.yaml, named like the Service
const HTTP_PORT = 3000;

/** A GET from inside a pod's network namespace: the answer, or why there was none. */
const GET_SCRIPT = `
  const request = require('node:http').get(process.argv[1], { timeout: 3000 }, (res) => {
    let body = '';
    res.setEncoding('utf8').on('data', (chunk) => (body += chunk));
    res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, body })));
  });
  request.on('timeout', () => request.destroy(new Error('timed out')));
  request.on('error', (error) => console.log(JSON.stringify({ error: error.message })));
`;

describe("the leader-only Service with the sample's pods", () => {
  let cluster: Cluster;
  let sample: SamplePods;
  // Jest's `it`, printing what every pod wrote when a test fails.
  const it = itPrintingPodLogs(() => sample?.kubelet);
  const seen: Seen<V1EndpointSlice>[] = [];
  let watch: { stop(): void } | undefined;

  beforeAll(async () => {
    cluster = loadCluster();
    sample = await startSamplePods({ state: cluster.state, replicas: 3 });
    watch = await watchNamed(
      cluster.kubeConfigs.admin,
      `/apis/discovery.k8s.io/v1/namespaces/${sample.namespace}/endpointslices`,
      SLICE,
      seen,
    );
  }, 240_000);

  afterAll(async () => {
    watch?.stop();
    await sample?.kubelet.stopAll();
  });

  const slice = () =>
    cluster.kubeConfigs.admin
      .makeApiClient(DiscoveryV1Api)
      .readNamespacedEndpointSlice({ name: SLICE, namespace: sample.namespace })
      .catch(() => undefined);
  const named = (s: V1EndpointSlice | undefined) =>
    (s?.endpoints ?? []).map((e) => e.targetRef?.name);

  /** What the sample's GET /leader answers at `ip`, asked from inside `from`. */
  async function leaderAt(from: RunningPod, ip: string) {
    const { stdout } = await sample.kubelet.exec(from.name, [
      process.execPath,
      '-e',
      GET_SCRIPT,
      `http://${ip}:${HTTP_PORT}/leader`,
    ]);
    const answer = JSON.parse(stdout) as { status?: number; body?: string; error?: string };
    if (answer.status !== 200) throw new Error(`no answer at ${ip}: ${stdout}`);
    return JSON.parse(answer.body!) as { identity: string; isLeader: boolean };
  }

  it('a client reaches the leader at the address in the slice, before and after a graceful handover', async () => {
    let before: V1EndpointSlice | undefined;
    await eventually(
      async () => named((before = await slice())).length === 1,
      60_000,
      'a leader in the slice',
      200,
    );
    const leader = sample.kubelet.pod(named(before)[0]!);
    expect(before!.endpoints![0].addresses).toEqual([leader.ip]);
    const client = sample.pods.find((pod) => pod !== leader)!;
    const first = await leaderAt(client, leader.ip);
    expect(first.isLeader).toBe(true);
    expect(first.identity).toMatch(new RegExp(`^${leader.name}_`));

    await sample.kubelet.deletePod(leader.name);
    let after: V1EndpointSlice | undefined;
    await eventually(
      async () => {
        after = await slice();
        return named(after).length === 1 && named(after)[0] !== leader.name;
      },
      60_000,
      'the next leader in the slice',
      100,
    );
    const next = sample.kubelet.pod(named(after)[0]!);
    const nextClient = sample.pods.find((pod) => pod !== leader && pod !== next)!;
    const second = await leaderAt(nextClient, after!.endpoints![0].addresses[0]);
    expect(second.isLeader).toBe(true);
    expect(second.identity).toMatch(new RegExp(`^${next.name}_`));
    // The slice went from the old leader to none to the new one: never another pod, never two.
    const states = seen.map((s) => named(s.object).join(',') || '-');
    const collapsed = states.filter((state, i) => i === 0 || state !== states[i - 1]);
    expect(collapsed.slice(collapsed.lastIndexOf(leader.name))).toEqual([
      leader.name,
      '-',
      next.name,
    ]);
  });
});
