import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { InvalidOptionError } from './core/index.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from './core/memory-lock.js';
import type { LeaderElectionModuleOptions } from './interfaces/leader-election-options.interface.js';
import {
  NO_KUBECONFIG,
  SERVICE_ACCOUNT_TOKEN_FILE,
  defaultKubeConfigSources,
  kubeConfigFound,
  type KubeConfigSources,
} from './kubernetes/kubeconfig-sources.js';
import { clientNodeProblem } from './kubernetes/client-node-support.js';
import {
  IN_CLUSTER_BY_TOKEN,
  IN_CLUSTER_BY_VARIABLE,
  LOCAL_MODE_IN_CLUSTER,
  LOCAL_MODE_CLIENT_NODE,
  LOCAL_MODE_WITH_LOCK,
} from './leader-election.messages.js';

/** The `local` values: `true`, or local only where no kubeconfig is found (the README's choice). */
export const LOCAL_IF_NO_KUBECONFIG = 'if-no-kubeconfig';

/**
 * Whether this election runs in local mode, and why when it was chosen for want of a kubeconfig:
 * `undefined` for the election on the cluster, `''` for `local: true`, else the reason. With
 * `'if-no-kubeconfig'`, an explicit `kubeConfig` or `lock`, a `KUBECONFIG`, `~/.kube/config` or a pod's
 * service account means the cluster, and so does `NODE_ENV=production` (`npm run start` sets no
 * NODE_ENV, so the mode cannot wait for `development`).
 */
export function localMode(
  options: Pick<LeaderElectionModuleOptions, 'local' | 'kubeConfig' | 'lock'>,
  sources: KubeConfigSources = defaultKubeConfigSources(),
): string | undefined {
  const { local } = options;
  if (local !== undefined && typeof local !== 'boolean' && local !== LOCAL_IF_NO_KUBECONFIG) {
    throw new InvalidOptionError(
      'local',
      `must be a boolean or '${LOCAL_IF_NO_KUBECONFIG}'`,
      local,
    );
  }
  if (local === true) return '';
  if (local !== LOCAL_IF_NO_KUBECONFIG) return undefined;
  if (options.kubeConfig !== undefined || options.lock !== undefined) return undefined;
  // In a pod without a mounted token, or in production, a missing kubeconfig stops the app at
  // start-up as without `local`: there other replicas may run the same jobs.
  const { env } = sources;
  if (kubeConfigFound(sources) || env.KUBERNETES_SERVICE_HOST || env.NODE_ENV === 'production') {
    return undefined;
  }
  return NO_KUBECONFIG(sources);
}

/**
 * `local: true` is for development: refused in a pod, which shows by the variable Kubernetes sets or,
 * where the environment was cleared, by the mounted service-account token (`tokenFile`: for tests).
 */
export function assertLocalAllowed(
  options: Pick<LeaderElectionModuleOptions, 'lock'>,
  env: NodeJS.ProcessEnv = process.env,
  tokenFile: string = SERVICE_ACCOUNT_TOKEN_FILE,
): void {
  if (env.KUBERNETES_SERVICE_HOST) {
    throw new InvalidOptionError('local', LOCAL_MODE_IN_CLUSTER(IN_CLUSTER_BY_VARIABLE));
  }
  if (existsSync(tokenFile)) {
    throw new InvalidOptionError('local', LOCAL_MODE_IN_CLUSTER(IN_CLUSTER_BY_TOKEN(tokenFile)));
  }
  if (options.lock) {
    throw new InvalidOptionError('local', LOCAL_MODE_WITH_LOCK);
  }
}

/** The local mode's Lease: in memory, this process's alone, so it leads at once. */
export function localLock(leaseName: string, identity: string | undefined): InMemoryLeaseLock {
  return new InMemoryLeaseLock(
    new InMemoryLeaseStore(),
    identity ??
      `${
        hostname()
          .replace(/[^\x20-\x7e]/g, '_')
          .slice(0, 200) || 'local'
      }_local`,
    leaseName,
  );
}

/**
 * In local mode client-node never loads, so a client-node too new for this Node would show only at
 * the first start against a cluster: said at once instead, as a warning.
 */
export function localModeClientNodeWarning(
  nodeVersion: string = process.versions.node,
  client?: Parameters<typeof clientNodeProblem>[1],
): string | undefined {
  const problem = clientNodeProblem(nodeVersion, client); // undefined: the installed one
  return problem && LOCAL_MODE_CLIENT_NODE(problem);
}
