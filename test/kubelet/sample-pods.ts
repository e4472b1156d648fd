// The sample as a cluster runs it: its image built by the Dockerfile's steps, sample/k8s/ applied into
// a fresh namespace, the Deployment's Pods on the test kubelet.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject, V1Deployment, V1EnvVar } from '@kubernetes/client-node';
import type { BuiltImage } from '../../scripts/docker-steps.js';
import { kubeConfigFor, type ControlPlaneState } from '../control-plane/control-plane.js';
import { createNamespace } from '../control-plane/rbac.js';
import { uniqueName } from '../support/cluster.js';
import { sampleImage } from '../support/sample-image.js';
import { TestKubelet, type Image, type RunningPod } from './kubelet.js';
import { applyManifests, loadManifests } from './manifests.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SAMPLE_MANIFESTS = path.join(ROOT, 'sample', 'k8s');

export interface SamplePods {
  namespace: string;
  kubelet: TestKubelet;
  pods: RunningPod[];
  image: BuiltImage;
}

export async function startSamplePods(options: {
  state: ControlPlaneState;
  replicas?: number;
  /** Variables added to the Deployment's container, as an overlay of the manifests would add them. */
  env?: V1EnvVar[];
  log?: (line: string) => void;
}): Promise<SamplePods> {
  const { state } = options;
  const log = options.log ?? (() => undefined);
  const admin = kubeConfigFor(state, 'admin');
  const image = sampleImage(log);
  const namespace = uniqueName('sample');
  await createNamespace(admin, namespace);
  const manifests = loadManifests(SAMPLE_MANIFESTS).map((object) =>
    withEnv(object, options.env ?? []),
  );
  await applyManifests(admin, namespace, manifests);
  const kubelet = new TestKubelet({
    admin,
    namespace,
    apiServerPort: state.ports.kubeApiserver,
    caFile: state.tls.caFile!,
    image: imageOf(image),
    podsDir: fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-')),
    log,
  });
  const pods = await kubelet.startDeployment('sample-app', options.replicas);
  return { namespace, kubelet, pods, image };
}

/** What the kubelet runs: the final stage's WORKDIR as the image, with its CMD and ENV. */
function imageOf(image: BuiltImage): Image {
  return { dir: image.workdir, command: image.cmd, env: image.env };
}

/** The sample's Deployment with `env` set in its container's (by name); any other object as it is. */
function withEnv(object: KubernetesObject, env: V1EnvVar[]): KubernetesObject {
  if (object.kind !== 'Deployment' || env.length === 0) return object;
  const deployment = structuredClone(object) as V1Deployment;
  const [container] = deployment.spec!.template.spec!.containers;
  // As an overlay's strategic merge does: a variable of the same name is replaced, not repeated.
  const replaced = new Set(env.map((variable) => variable.name));
  container.env = [...(container.env ?? []).filter((v) => !replaced.has(v.name)), ...env];
  return deployment;
}
