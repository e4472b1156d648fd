// Faults of the control plane: the API server or etcd restarted, the replicas' RBAC revoked.
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { grantLeaseAccess } from '../../control-plane/rbac.js';
import { CHAOS_TIMINGS, sleep } from '../timings.js';
import type { FaultFamily } from './fault.js';

export const API_SERVER_FAULTS = {
  'apiserver-restart': async ({ run }) => {
    await run.controlPlane.stopApiServer();
    await sleep(500 + run.random() * 2_000);
    await run.controlPlane.startApiServer();
  },
  'etcd-restart': async ({ run }) => {
    await run.controlPlane.stopEtcd();
    await sleep(500 + run.random() * 2_000);
    await run.controlPlane.startEtcd();
    await run.controlPlane.waitUntilReady(120_000);
  },
  'rbac-revoked': async ({ run }) => {
    const rbac = run.admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.deleteNamespacedRoleBinding({ name: 'lease-rw', namespace: run.namespace });
    await sleep(CHAOS_TIMINGS.leaseDuration + 1_000);
    await grantLeaseAccess(run.admin, run.namespace);
  },
} satisfies FaultFamily;
