// RBAC for the two limited test users. Applied as admin; the authorizer works from informer caches, so a
// new binding takes a moment to apply and callers wait for it.
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  RbacAuthorizationV1Api,
  type KubeConfig,
} from '@kubernetes/client-node';
import { sleep } from './processes.js';

/** Static-token user names, as written into tokens.csv. */
export const USER_NAMES = {
  admin: 'admin',
  leaseUser: 'lease-user',
  leaseReader: 'lease-reader',
} as const;

/** Role bound to lease-user: what a leader-election client needs, nothing more. */
export const LEASE_RW_ROLE = 'lease-rw';
/** Role bound to lease-reader: like lease-rw but without update, for negative tests. */
export const LEASE_NO_UPDATE_ROLE = 'lease-no-update';

const grants = [
  { role: LEASE_RW_ROLE, user: USER_NAMES.leaseUser, verbs: ['get', 'create', 'update', 'watch'] },
  {
    role: LEASE_NO_UPDATE_ROLE,
    user: USER_NAMES.leaseReader,
    verbs: ['get', 'create', 'watch', 'list'],
  },
];

/** Creates `namespace` as admin; an existing namespace is fine. */
export async function createNamespace(admin: KubeConfig, namespace: string): Promise<void> {
  await ignoreConflict(() =>
    admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } }),
  );
}

/**
 * Creates Role lease-rw (bound to lease-user) and Role lease-no-update (bound to lease-reader) in
 * `namespace`, as admin. Existing objects are left as they are.
 */
export async function grantLeaseAccess(admin: KubeConfig, namespace: string): Promise<void> {
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  for (const { role, user, verbs } of grants) {
    await ignoreConflict(() =>
      rbac.createNamespacedRole({
        namespace,
        body: {
          metadata: { name: role, namespace },
          rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs }],
        },
      }),
    );
    await ignoreConflict(() =>
      rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name: role, namespace },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
        },
      }),
    );
  }
}

/**
 * Waits until `user` may read leases in `namespace`: a GET of a lease that does not exist answers 404
 * once the binding is effective, 403 before. `lease`: the name to read, for a Role that names its
 * Lease (`resourceNames`); it may exist (200) or not (404).
 */
export async function waitForLeaseAccess(
  user: KubeConfig,
  namespace: string,
  timeoutMs = 30_000,
  lease = 'rbac-probe-does-not-exist',
): Promise<void> {
  const leases = user.makeApiClient(CoordinationV1Api);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      await leases.readNamespacedLease({ name: lease, namespace });
      return;
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return;
      if (!(error instanceof ApiException && error.code === 403)) throw error;
      last = `HTTP ${error.code}`;
    }
    await sleep(100);
  }
  throw new Error(
    `RBAC not effective for user ${user.getCurrentUser()?.name} in namespace ${namespace} after ${timeoutMs} ms (last answer: ${last})`,
  );
}

async function ignoreConflict(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (error instanceof ApiException && error.code === 409) return;
    throw error;
  }
}
