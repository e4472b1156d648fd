import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

// No client-node here: the Nest layer asks whether there is a kubeconfig (local: 'if-no-kubeconfig')
// before it decides to load the Kubernetes layer at all.

/** Where Kubernetes mounts the pod's service-account token (client-node's in-cluster signal). */
export const SERVICE_ACCOUNT_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Where client-node looks for a kubeconfig, in its order. */
export interface KubeConfigSources {
  readonly env: NodeJS.ProcessEnv;
  /** `~/.kube/config`. */
  readonly homeConfig: string;
  readonly tokenFile: string;
}

export const defaultKubeConfigSources = (): KubeConfigSources => ({
  env: process.env,
  // HOME first, as client-node's own lookup.
  homeConfig: join(process.env.HOME || homedir(), '.kube', 'config'),
  tokenFile: SERVICE_ACCOUNT_TOKEN_FILE,
});

/** Whether client-node would find a kubeconfig: `KUBECONFIG`, `~/.kube/config` or a pod's token. */
export function kubeConfigFound(sources: KubeConfigSources): boolean {
  return Boolean(
    sources.env.KUBECONFIG || existsSync(sources.homeConfig) || existsSync(sources.tokenFile),
  );
}

/** Why no kubeconfig was found, naming the places looked at (without the pod's token file). */
export const NO_KUBECONFIG = (sources: KubeConfigSources) =>
  `no kubeconfig found: KUBECONFIG is not set, ${sources.homeConfig} does not exist, and this is not a pod`;
