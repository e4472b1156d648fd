import type { KubeConfig } from '@kubernetes/client-node';
import { InvalidOptionError, type ElectorLogger } from '../core/index.js';
import {
  defaultIdentity,
  loadDefaultKubeConfig,
  namespaceAndSource,
  serverAddress,
} from './defaults.js';
import { KubernetesLeaseLock } from './kubernetes-lease-lock.js';
import { LeaseEventRecorder } from './lease-event-recorder.js';

/** What {@link createLeaseLock} needs: the Kubernetes part of the Nest module's options. */
export interface LeaseLockSetupOptions {
  /** A KubeConfig, or undefined for the default one; anything else is rejected. */
  readonly kubeConfig?: unknown;
  readonly namespace?: string;
  readonly leaseName: string;
  readonly identity?: string;
  /** The random suffix of the default identity (the app's); a new one when not given. */
  readonly identitySuffix?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Record Events on the Lease (with this source component); undefined: no Events. */
  readonly events?: { readonly component?: string };
  readonly logger?: ElectorLogger;
}

/** The lock on the Lease, its namespace and, with `events`, the Event recorder. */
export interface LeaseLockSetup {
  readonly lock: KubernetesLeaseLock;
  /** The KubeConfig it uses (the default one when none was given). */
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly recorder?: LeaseEventRecorder;
  /** The API server, without credentials. */
  readonly server: string;
  /** Where the namespace came from, in words (for the start-up line). */
  readonly namespaceSource: string;
}

/**
 * Builds the Lease lock from module options, filling in the defaults (kubeconfig, namespace,
 * identity). The Nest module loads this file only when an app does not bring its own lock, so that
 * client-node is never loaded otherwise.
 */
export function createLeaseLock(options: LeaseLockSetupOptions): LeaseLockSetup {
  const kubeConfig = (options.kubeConfig ?? loadDefaultKubeConfig()) as KubeConfig;
  if (!(kubeConfig instanceof Object) || typeof kubeConfig.getCurrentCluster !== 'function') {
    throw new InvalidOptionError('kubeConfig', 'must be a KubeConfig from @kubernetes/client-node');
  }
  const resolved = options.namespace === undefined ? namespaceAndSource(kubeConfig) : undefined;
  const namespace = options.namespace ?? resolved!.namespace;
  const where = {
    server: serverAddress(kubeConfig),
    namespaceSource: resolved?.source ?? 'the namespace option',
  };
  const lock = new KubernetesLeaseLock({
    kubeConfig,
    namespace,
    name: options.leaseName,
    identity: options.identity ?? defaultIdentity(process.env, options.identitySuffix),
    labels: options.labels,
  });
  if (!options.events) return { lock, kubeConfig, namespace, ...where };
  const recorder = new LeaseEventRecorder({
    kubeConfig,
    namespace,
    leaseName: options.leaseName,
    identity: lock.identity,
    component: options.events.component,
    leaseUid: () => lock.uid,
    logger: options.logger,
  });
  return { lock, kubeConfig, namespace, recorder, ...where };
}
