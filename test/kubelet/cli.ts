// npm run kubelet [-- --replicas N] [--state-dir DIR]
// npm run kubelet -- down
//
// Runs the sample as a cluster would: starts a local control plane (or uses the one running in
// DIR), builds the sample's image with its Dockerfile's steps (scripts/docker-steps.ts), applies
// sample/k8s/ into a fresh namespace, and runs the Deployment's Pods on the test kubelet, each with
// its own address (NKL_POD_SUBNET, default 10.244.0.0/24). Prints who leads and where every two
// seconds; Ctrl-C (or SIGTERM) deletes the Pods (SIGTERM, then SIGKILL after the grace period) and
// stops what it started.
//
// `down` removes what a test kubelet that is gone (a crashed run) left: its network namespaces, with
// the veth pairs and the bridge in them, and the processes still running there.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoordinationV1Api } from '@kubernetes/client-node';
import {
  DEFAULT_STATE_DIR,
  isControlPlaneRunning,
  kubeConfigFor,
  readControlPlaneState,
  startControlPlane,
  stopControlPlane,
} from '../control-plane/control-plane.js';
import { sweepStaleNetns } from './pod-network.js';
import { startSamplePods } from './sample-pods.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const option = (name: string) => {
  const index = argv.indexOf(name);
  return index >= 0 ? argv[index + 1] : undefined;
};
const stateDir = path.resolve(option('--state-dir') ?? DEFAULT_STATE_DIR);
const replicas = option('--replicas') === undefined ? undefined : Number(option('--replicas'));
const say = (line: string) => console.log(`[kubelet] ${line}`);

async function main() {
  if (argv[0] === 'down') {
    const removed = sweepStaleNetns(say);
    if (removed.length === 0) say('no network namespace of a test kubelet that is gone');
    return;
  }
  let state = readControlPlaneState(stateDir);
  let startedHere = false;
  if (!state || !isControlPlaneRunning(state)) {
    say(`starting a local control plane in ${path.relative(ROOT, stateDir) || stateDir}`);
    await startControlPlane({ stateDir, log: (line) => say(line) });
    state = readControlPlaneState(stateDir)!;
    startedHere = true;
  }
  const admin = kubeConfigFor(state, 'admin');
  const sample = await startSamplePods({ state, replicas, log: say });
  say(`namespace ${sample.namespace}; pods: ${sample.pods.map((p) => p.name).join(', ')}`);

  const leases = admin.makeApiClient(CoordinationV1Api);
  const timer = setInterval(() => {
    void leases
      .readNamespacedLease({ name: 'sample-app', namespace: sample.namespace })
      .then((lease) => {
        const ready = sample.pods.map(
          (p) => `${p.name} ${p.ip}${sample.kubelet.pod(p.name).ready ? ' (ready)' : ''}`,
        );
        say(`leader: ${lease.spec?.holderIdentity ?? '-'}; ${ready.join(', ')}`);
      })
      .catch((error: Error) => say(`no Lease yet (${error.message.split('\n')[0]})`));
  }, 2000);

  const stop = () => {
    clearInterval(timer);
    void (async () => {
      for (const pod of sample.pods) {
        const exit = await sample.kubelet.deletePod(pod.name);
        say(`${pod.name} deleted (${exit.signal ?? `exit code ${exit.code}`})`);
      }
      if (startedHere) await stopControlPlane(stateDir);
      process.exit(0);
    })();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
