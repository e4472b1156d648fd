// The control plane that Jest's globalSetup started (or reused), as test files see it.
//
//   const cluster = loadCluster();
//   const namespace = await cluster.uniqueNamespace('lock');
//   const leases = cluster.kubeConfigs.leaseUser.makeApiClient(CoordinationV1Api);
//
// Use a fresh namespace per test: without a kube-controller-manager, namespaces never finish deleting,
// so nothing is cleaned up and names must not collide between tests or runs.
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  CONTROL_PLANE_USERS,
  kubeConfigFor,
  readControlPlaneState,
  type ControlPlaneState,
  type ControlPlaneUser,
} from '../control-plane/control-plane.js';
import { createNamespace, grantLeaseAccess, waitForLeaseAccess } from '../control-plane/rbac.js';

export interface Cluster {
  state: ControlPlaneState;
  /** `https://127.0.0.1:<port>` */
  server: string;
  /** `le-test`, where lease-user and lease-reader have their roles; shared by all tests. */
  namespace: string;
  /** One KubeConfig per user: admin (system:masters), leaseUser (lease get/create/update/watch), leaseReader (no update). */
  kubeConfigs: Record<ControlPlaneUser, KubeConfig>;
  /** Kubeconfig file paths, e.g. for a child process. */
  kubeconfigPaths: Record<ControlPlaneUser, string>;
  /** Kubernetes user names as the audit log shows them: admin, lease-user, lease-reader. */
  users: Record<ControlPlaneUser, string>;
  auditLogPath: string;
  /**
   * Creates a namespace named `<prefix>-<random>` as admin, with Role lease-rw bound to lease-user and Role
   * lease-no-update bound to lease-reader, and waits until both bindings are effective.
   */
  uniqueNamespace(prefix?: string): Promise<string>;
}

/** Reads the state from NKL_CONTROL_PLANE_STATE (set by the integration project's globalSetup). */
export function loadCluster(): Cluster {
  const stateDir = process.env.NKL_CONTROL_PLANE_STATE;
  if (!stateDir) {
    throw new Error(
      'NKL_CONTROL_PLANE_STATE is not set: run integration tests with --selectProjects integration (its globalSetup starts the control plane), or start one with `npm run control-plane -- up` and set NKL_CONTROL_PLANE_STATE=.control-plane',
    );
  }
  const state = readControlPlaneState(stateDir);
  if (!state) {
    throw new Error(
      `no control plane state in ${stateDir}: start one with \`npm run control-plane -- up --state-dir ${stateDir}\``,
    );
  }
  const kubeConfigs = Object.fromEntries(
    CONTROL_PLANE_USERS.map((user) => [user, kubeConfigFor(state, user)]),
  ) as Record<ControlPlaneUser, KubeConfig>;
  return {
    state,
    server: state.server,
    namespace: state.namespace,
    kubeConfigs,
    kubeconfigPaths: { ...state.kubeconfigs },
    users: { ...state.users },
    auditLogPath: state.auditLogPath,
    async uniqueNamespace(prefix = 'it') {
      const namespace = uniqueName(prefix);
      await createNamespace(kubeConfigs.admin, namespace);
      await grantLeaseAccess(kubeConfigs.admin, namespace);
      await waitForLeaseAccess(kubeConfigs.leaseUser, namespace);
      await waitForLeaseAccess(kubeConfigs.leaseReader, namespace);
      return namespace;
    },
  };
}

/** A DNS-1123 label: `<prefix>-<base36 time>-<random hex>`, at most 63 characters. */
export function uniqueName(prefix = 'it'): string {
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'it';
  const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  return `${clean.slice(0, 62 - suffix.length)}-${suffix}`;
}
