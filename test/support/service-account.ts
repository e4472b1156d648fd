// A ServiceAccount as a pod has one: its own Role, and a token from the TokenRequest API.
import {
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { uniqueName, type Cluster } from './cluster.js';

/**
 * Creates a ServiceAccount in `namespace` bound to a Role of `rules` (no Role when there are none),
 * as admin, and returns a KubeConfig with a 10-minute token for it. The binding takes a moment to
 * apply: callers wait for the first allowed request.
 */
export async function serviceAccountKubeConfig(
  cluster: Cluster,
  namespace: string,
  rules: V1PolicyRule[],
): Promise<KubeConfig> {
  const admin = cluster.kubeConfigs.admin;
  const name = uniqueName('sa');
  const core = admin.makeApiClient(CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  if (rules.length > 0) {
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace }],
      },
    });
  }
  const request = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 600 } },
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: cluster.server, caFile: cluster.state.tls.caFile! }],
    users: [{ name, token: request.status!.token }],
    contexts: [{ name: 'c', cluster: 'c', user: name }],
    currentContext: 'c',
  });
  return kubeConfig;
}
