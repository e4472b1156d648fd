// Pods of the sample as API objects only (nothing runs them) and ServiceAccount tokens bound to them,
// as a kubelet would mount them: the token's user carries the Pod's name
// (userInfo.extra 'authentication.kubernetes.io/pod-name'), which the slice's admission policy reads.
import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import type { Cluster } from './cluster.js';

/** Creates Pod `name` of ServiceAccount `serviceAccount` and returns a KubeConfig with its token. */
export async function podKubeConfig(
  cluster: Cluster,
  namespace: string,
  serviceAccount: string,
  name: string,
): Promise<KubeConfig> {
  const core = cluster.kubeConfigs.admin.makeApiClient(CoreV1Api);
  const pod = await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
      spec: { serviceAccountName: serviceAccount, containers: [{ name: 'app', image: 'none' }] },
    },
  });
  const request = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: {
      spec: {
        audiences: [],
        expirationSeconds: 600,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name, uid: pod.metadata!.uid },
      },
    },
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: cluster.server, caFile: cluster.state.tls.caFile! }],
    users: [{ name, token: request.status!.token }],
    contexts: [{ name: 'c', cluster: 'c', user: name, namespace }],
    currentContext: 'c',
  });
  return kubeConfig;
}

/** One object as a watch delivered it: when it arrived (monotonic ms) and its resourceVersion. */
export interface Seen<T> {
  readonly at: number;
  readonly resourceVersion: bigint;
  readonly object: T;
}

/** Watches one named object (`path` is its collection); `stop()` ends the watch. */
export async function watchNamed<T extends { metadata?: { resourceVersion?: string } }>(
  kubeConfig: KubeConfig,
  path: string,
  name: string,
  seen: Seen<T>[],
): Promise<{ stop(): void }> {
  const request = await new Watch(kubeConfig).watch(
    path,
    { fieldSelector: `metadata.name=${name}` },
    (type: string, object: T) => {
      if (type === 'BOOKMARK' || type === 'ERROR') return;
      const at = performance.now();
      seen.push({ at, resourceVersion: BigInt(object.metadata!.resourceVersion!), object });
    },
    () => undefined,
  );
  return { stop: () => request.abort() };
}
