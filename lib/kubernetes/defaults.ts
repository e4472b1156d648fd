import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { InvalidOptionError } from '../core/index.js';
import { MAX_IDENTITY_LENGTH, printable } from '../core/foreign-text.js';
import {
  NO_KUBECONFIG,
  defaultKubeConfigSources,
  kubeConfigFound,
  type KubeConfigSources,
} from './kubeconfig-sources.js';
import {
  INVALID_YAML,
  KUBECONFIG_NOT_FOUND,
  KUBECONFIG_NOT_LOADED,
  NAMESPACE_BY_DEFAULT,
  NAMESPACE_FROM_CONTEXT,
  NAMESPACE_FROM_SERVICE_ACCOUNT,
  UNPARSABLE_SERVER,
} from './kubernetes.messages.js';
import { redact } from './redact.js';

/** Where Kubernetes mounts the pod's service-account namespace. */
export const SERVICE_ACCOUNT_NAMESPACE_FILE =
  '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/**
 * `POD_NAME` (set it from the downward API), else `HOSTNAME`, else the OS host name, plus `_` and a
 * random suffix (8 hex digits, or `randomSuffix`: the Nest module passes one per app, so that its
 * elections share one identity): a restarted process never mistakes its predecessor's lease for its
 * own. Characters outside printable ASCII become `_`, and the name is cut so that the identity keeps
 * to 253 characters.
 */
export function defaultIdentity(
  env: NodeJS.ProcessEnv = process.env,
  randomSuffix: string = randomBytes(4).toString('hex'),
): string {
  const suffix = `_${randomSuffix}`;
  const base = (env.POD_NAME || env.HOSTNAME || hostname() || 'nestjs')
    .replace(/[^\x20-\x7e]/g, '_')
    .slice(0, MAX_IDENTITY_LENGTH - suffix.length);
  return `${base}${suffix}`;
}

/**
 * The namespace to use when none is configured: the pod's service-account namespace, else the
 * kubeconfig's current context namespace, else `default`.
 */
export function resolveNamespace(
  kubeConfig: KubeConfig,
  namespaceFile: string = SERVICE_ACCOUNT_NAMESPACE_FILE,
): string {
  return namespaceAndSource(kubeConfig, namespaceFile).namespace;
}

/** {@link resolveNamespace}, and where the namespace came from (for the start-up log line). */
export function namespaceAndSource(
  kubeConfig: KubeConfig,
  namespaceFile: string = SERVICE_ACCOUNT_NAMESPACE_FILE,
): { namespace: string; source: string } {
  try {
    const fromFile = readFileSync(namespaceFile, 'utf8').trim();
    if (fromFile)
      return { namespace: fromFile, source: NAMESPACE_FROM_SERVICE_ACCOUNT(namespaceFile) };
  } catch {
    // Not in a pod.
  }
  const contextName = kubeConfig.getCurrentContext();
  const context = kubeConfig.getContexts().find((candidate) => candidate.name === contextName);
  const quoted = printable(contextName ?? '', 100);
  return context?.namespace
    ? { namespace: context.namespace, source: NAMESPACE_FROM_CONTEXT(quoted) }
    : { namespace: 'default', source: NAMESPACE_BY_DEFAULT(quoted) };
}

/** The API server's address without credentials (a URL may carry user:password). */
export function serverAddress(kubeConfig: KubeConfig): string {
  const server = kubeConfig.getCurrentCluster()?.server ?? '';
  try {
    const url = new URL(server);
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return UNPARSABLE_SERVER;
  }
}

/**
 * The kubeconfig client-node finds by itself: `KUBECONFIG`, else `~/.kube/config`, else the
 * in-cluster service account. Where none of them exists, client-node would fall back to
 * `http://localhost:8080` and fail on every request: that is refused here, naming the places
 * looked at. A failure is an {@link InvalidOptionError} on `kubeConfig`.
 */
export function loadDefaultKubeConfig(
  sources: KubeConfigSources = defaultKubeConfigSources(),
): KubeConfig {
  if (!kubeConfigFound(sources)) {
    throw new InvalidOptionError(
      'kubeConfig',
      KUBECONFIG_NOT_FOUND(NO_KUBECONFIG(sources), sources.tokenFile),
    );
  }
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromDefault();
  } catch (error) {
    throw new InvalidOptionError('kubeConfig', KUBECONFIG_NOT_LOADED(describeLoadError(error)));
  }
  return kubeConfig;
}

/**
 * Why a kubeconfig did not load, without its contents: js-yaml's message quotes the lines around
 * the error (tokens, passwords, keys), so a YAML error is reported by its reason and position only;
 * any other message is redacted and capped.
 */
function describeLoadError(error: unknown): string {
  const { reason, mark } = (error ?? {}) as {
    reason?: unknown;
    mark?: { line?: unknown; column?: unknown };
  };
  if (typeof reason === 'string' && typeof mark?.line === 'number') {
    const column = typeof mark.column === 'number' ? mark.column + 1 : undefined;
    return INVALID_YAML(printable(reason, 200), mark.line + 1, column);
  }
  return redact(error instanceof Error ? error.message : String(error));
}
