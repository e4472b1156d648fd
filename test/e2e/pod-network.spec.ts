// Pods with addresses on the test kubelet: two of the sample's pods, each in its own network namespace
// with its own address on the pod network, reported in its Pod's status and given to the container
// by the downward API (POD_IP from status.podIP); one pod reaches the other's HTTP server at that
// address; deleting a pod, and stopping the kubelet, removes its network namespaces.
import { execFileSync } from 'node:child_process';
import { CoreV1Api } from '@kubernetes/client-node';
import type { RunningPod } from '../kubelet/kubelet.js';
import { itPrintingPodLogs } from '../kubelet/pod-logs.js';
import { startSamplePods, type SamplePods } from '../kubelet/sample-pods.js';
import { loadCluster, type Cluster } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';

/** The sample's HTTP port (sample/src/main.ts, the Deployment's containerPort). */
const HTTP_PORT = 3000;
/** The namespaces this process's kubelets created (test/kubelet/pod-addresses.ts names them). */
const ours = () =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter((name) => name.startsWith(`nkl-${process.pid}-`));

/** A GET from inside `from`'s network namespace, as a client in that pod would send it. */
const GET_SCRIPT = `
  const request = require('node:http').get(process.argv[1], { timeout: 3000 }, (res) => {
    let body = '';
    res.setEncoding('utf8').on('data', (chunk) => (body += chunk));
    res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, body })));
  });
  request.on('timeout', () => request.destroy(new Error('timed out')));
  request.on('error', (error) => { console.log(JSON.stringify({ error: error.message })); });
`;

describe('pods with addresses on the test kubelet', () => {
  let cluster: Cluster;
  let sample: SamplePods;
  // Jest's `it`, printing what every pod wrote when a test fails.
  const it = itPrintingPodLogs(() => sample?.kubelet);
  let core: CoreV1Api;

  beforeAll(async () => {
    cluster = loadCluster();
    core = cluster.kubeConfigs.admin.makeApiClient(CoreV1Api);
    sample = await startSamplePods({
      state: cluster.state,
      replicas: 2,
      env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
    });
  }, 240_000);

  afterAll(async () => {
    await sample?.kubelet.stopAll();
  });

  const get = async (from: RunningPod, url: string) => {
    const { stdout, stderr } = await sample.kubelet.exec(from.name, [
      process.execPath,
      '-e',
      GET_SCRIPT,
      url,
    ]);
    if (!stdout) throw new Error(`no answer from the client in ${from.name}: ${stderr}`);
    return JSON.parse(stdout) as { status?: number; body?: string; error?: string };
  };

  it('reports a distinct non-loopback address for each pod, and gives it as POD_IP', async () => {
    const statuses = await Promise.all(
      sample.pods.map((pod) =>
        core.readNamespacedPodStatus({ name: pod.name, namespace: sample.namespace }),
      ),
    );
    const addresses = statuses.map((pod) => pod.status?.podIP);
    expect(addresses).toEqual(sample.pods.map((pod) => pod.ip));
    expect(new Set(addresses).size).toBe(2);
    for (const [index, status] of statuses.entries()) {
      const address = addresses[index]!;
      // Endpoint validation rejects loopback and link-local addresses.
      expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(address).not.toMatch(/^(127\.|169\.254\.|0\.)/);
      expect(status.status?.podIPs).toEqual([{ ip: address }]);
      expect(status.status?.phase).toBe('Running');
    }
    for (const pod of sample.pods) {
      await eventually(() => sample.kubelet.environment(pod.name) !== undefined, 30_000, 'pid');
      expect(sample.kubelet.environment(pod.name)?.POD_IP).toBe(pod.ip);
    }
  });

  it("reaches the other pod's HTTP server at its address, from inside a pod", async () => {
    await eventually(() => sample.pods.every((pod) => pod.ready), 60_000, 'both pods ready');
    const [a, b] = sample.pods;
    for (const [from, to] of [
      [a, b],
      [b, a],
    ]) {
      const answer = await get(from, `http://${to.ip}:${HTTP_PORT}/leader`);
      expect(answer.status).toBe(200);
      // The identity the sample answers with is the pod's name plus a suffix: the other pod answered.
      expect(JSON.parse(answer.body!).identity).toMatch(new RegExp(`^${to.name}_`));
    }
  });

  it("removes a deleted pod's network: its address no longer answers", async () => {
    const [a, b] = sample.pods;
    const before = ours();
    expect(before).toHaveLength(3); // the node namespace (the bridge) and one per pod
    await sample.kubelet.deletePod(b.name);
    expect(ours()).toHaveLength(2);
    const answer = await get(a, `http://${b.ip}:${HTTP_PORT}/leader`);
    expect(answer.status).toBeUndefined();
    expect(answer.error).toBeDefined();
  });

  it('removes every network namespace when the kubelet stops', async () => {
    expect(ours()).toHaveLength(2);
    await sample.kubelet.stopAll();
    expect(ours()).toEqual([]);
  });
});
