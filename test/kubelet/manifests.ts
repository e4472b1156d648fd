// The shipped manifests (sample/k8s/*.yaml) applied as `kubectl apply --server-side` would: every
// object of every file, in file order, into one namespace.
import fs from 'node:fs';
import path from 'node:path';
import {
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';

/** Every object of every `*.yaml` file in `dir`, files in name order. */
export function loadManifests(dir: string): KubernetesObject[] {
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.yaml') || file.endsWith('.yml'))
    .sort()
    .flatMap((file) => loadAllYaml(fs.readFileSync(path.join(dir, file), 'utf8')))
    .filter((object): object is KubernetesObject => Boolean(object?.kind));
}

/** Server-side apply of each object into `namespace`; `dryRun` asks the server to validate only. */
export async function applyManifests(
  kubeConfig: KubeConfig,
  namespace: string,
  objects: KubernetesObject[],
  options: { dryRun?: boolean } = {},
): Promise<KubernetesObject[]> {
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  const applied: KubernetesObject[] = [];
  for (const object of objects) {
    const body = { ...object, metadata: { ...object.metadata, namespace } };
    applied.push(
      await api.patch(
        body,
        undefined,
        options.dryRun ? 'All' : undefined,
        'nestjs-kube-leader-tests',
        true,
        PatchStrategy.ServerSideApply,
      ),
    );
  }
  return applied;
}
