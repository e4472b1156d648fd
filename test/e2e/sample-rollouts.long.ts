// Rolling updates of the sample as shipped (sample/k8s/, three Pods on the test kubelet), on a busy
// machine: each rollout's Pods get their own pod-template-hash, which the Deployment's downward API
// passes as POD_TEMPLATE_HASH (the `revision` option's default). Leadership must move exactly once per
// rollout, from the old leader to a Pod of the new revision, whichever order the rollout stops the old
// Pods in. ROLLOUTS sets how many (3 in npm test; `npm run test:rollouts` runs 10).
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { AppsV1Api, CoordinationV1Api, Watch, type V1Lease } from '@kubernetes/client-node';
import { REVISION_ANNOTATION } from '../../lib/kubernetes/lease-annotations.js';
import { startSamplePods, type SamplePods } from '../kubelet/sample-pods.js';
import type { RunningPod } from '../kubelet/kubelet.js';
import { loadCluster, type Cluster } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { rollingUpdate } from '../support/rolling-update.js';

const LEASE = 'sample-app'; // the Deployment's LEASE_NAME
const ROLLOUTS = Number(process.env.ROLLOUTS ?? 3);
/** How long a new Pod has been Ready before an old one goes (a Deployment's minReadySeconds: 0). */
const READY_MARGIN_MS = 0;

describe('rolling updates of the sample with revisions, on a busy machine', () => {
  let cluster: Cluster;
  let sample: SamplePods;
  let leases: CoordinationV1Api;
  let apps: AppsV1Api;
  const busy: ChildProcess[] = [];

  beforeAll(async () => {
    cluster = loadCluster();
    sample = await startSamplePods({ state: cluster.state });
    leases = cluster.kubeConfigs.admin.makeApiClient(CoordinationV1Api);
    apps = cluster.kubeConfigs.admin.makeApiClient(AppsV1Api);
    // Two busy loops, one per core of the machine the figures come from.
    for (let i = 0; i < 2; i++) {
      busy.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    }
  }, 240_000);

  afterAll(async () => {
    for (const child of busy) child.kill('SIGKILL');
    await sample?.kubelet.stopAll();
  });

  const lease = () => leases.readNamespacedLease({ name: LEASE, namespace: sample.namespace });
  const hashOf = (pod: RunningPod) => pod.object.metadata!.labels!['pod-template-hash'];
  const podOf = (pods: RunningPod[], holder: string | null | undefined) =>
    pods.find((pod) => holder?.startsWith(`${pod.name}_`));

  /** Holders of the Lease in order as a watch sees them (a release's '' left out), until `stop()`. */
  async function watchHolders() {
    const holders: string[] = [];
    const controller = await new Watch(cluster.kubeConfigs.admin).watch(
      `/apis/coordination.k8s.io/v1/namespaces/${sample.namespace}/leases`,
      { fieldSelector: `metadata.name=${LEASE}` },
      (_type: string, object: V1Lease) => {
        const holder = object.spec?.holderIdentity;
        if (holder && holders.at(-1) !== holder) holders.push(holder);
      },
      () => undefined,
    );
    return { holders, stop: () => controller.abort() };
  }

  it(
    `moves leadership exactly once in each of ${ROLLOUTS} rolling updates`,
    async () => {
      const deployment = await apps.readNamespacedDeployment({
        name: 'sample-app',
        namespace: sample.namespace,
      });
      const template = deployment.spec!.template;
      let pods = sample.pods;
      const changes: number[] = [];
      for (let rollout = 1; rollout <= ROLLOUTS; rollout++) {
        await eventually(() => pods.every((pod) => pod.ready), 60_000, 'every pod ready');
        const before = await lease();
        const leader = podOf(pods, before.spec?.holderIdentity);
        expect(leader).toBeDefined();
        // The leader wrote its revision: the pod-template-hash its Pod got through the downward API.
        expect(revisionOf(before)).toBe(hashOf(leader!));
        const hash = `r${rollout}${Date.now().toString(36).slice(-5)}`;
        const fresh: RunningPod[] = [];
        const watch = await watchHolders();
        // Odd rollouts stop the leader first, even ones last: both orders a Deployment may take.
        const old = rollout % 2 ? pods : [...pods.filter((p) => p !== leader), leader!];
        await rollingUpdate<RunningPod>({
          old,
          start: async () => {
            const pod = await sample.kubelet.startPod(`sample-app-${hash}`, template, hash);
            fresh.push(pod);
            return pod;
          },
          follows: async (pod) => {
            await eventually(() => pod.ready, 60_000, `${pod.name} ready`);
            return podOf(pods, (await lease()).spec?.holderIdentity);
          },
          readyMs: READY_MARGIN_MS,
          stop: async (victim) => {
            await sample.kubelet.deletePod(victim.name);
          },
        });
        await eventually(
          async () => podOf(fresh, (await lease()).spec?.holderIdentity) !== undefined,
          30_000,
          'a new pod leading',
          100,
        );
        const after = await lease();
        watch.stop();
        pods = fresh;
        const moves = watch.holders.length - 1;
        changes.push(moves);
        // What the pods said of the handover: who announced itself, whom the release named.
        const said = [...old, ...fresh].flatMap((pod) =>
          pod.logs
            .filter((line) => /announced itself|released lease/.test(line))
            .map((line) => `${pod.name}: ${line.slice(0, 240)}`),
        );
        console.log(
          `rollout ${rollout}: ${moves} change(s): ${watch.holders.join(' -> ')} ` +
            `(load ${os.loadavg()[0].toFixed(1)})\n${said.join('\n')}`,
        );
        expect(revisionOf(after)).toBe(hash);
      }
      expect(changes).toEqual(Array.from({ length: ROLLOUTS }, () => 1));
    },
    120_000 + ROLLOUTS * 90_000,
  );
});

/** The holder's revision as its annotation holds it (bound to holder and term by the codec). */
function revisionOf(lease: V1Lease): string | undefined {
  const text = lease.metadata?.annotations?.[REVISION_ANNOTATION];
  return text ? (JSON.parse(text) as { revision?: string }).revision : undefined;
}
