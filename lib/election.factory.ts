import { Logger, type LoggerService } from '@nestjs/common';
import { KubeConfig } from '@kubernetes/client-node';
import {
  InvalidOptionError,
  LeaderElector,
  type ElectorLogger,
  type LeaseLock,
} from './core/index.js';
import {
  KubernetesLeaseLock,
  assertDnsSubdomain,
  defaultIdentity,
  resolveNamespace,
} from './kubernetes/index.js';
import { Election } from './election.js';
import type { LeaderElectionModuleOptions } from './interfaces/leader-election-options.interface.js';
import { DEFAULT_ELECTION } from './leader-election.constants.js';

const KNOWN_OPTIONS = new Set<string>([
  'leaseName',
  'name',
  'namespace',
  'identity',
  'kubeConfig',
  'leaseDuration',
  'renewDeadline',
  'retryPeriod',
  'renewInterval',
  'requestTimeout',
  'releaseOnShutdown',
  'shutdownGracePeriod',
  'waitForLeadership',
  'logger',
  'labels',
  'lock',
]);

/** Validates module options and builds the election; every problem is an InvalidOptionError. */
export function createElection(options: LeaderElectionModuleOptions): Election {
  if (!options || typeof options !== 'object') {
    throw new InvalidOptionError(
      'options',
      'LeaderElectionModule.forRoot() needs an options object',
      options,
    );
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new InvalidOptionError(
        key,
        `is not an option of LeaderElectionModule (known: ${[...KNOWN_OPTIONS].join(', ')})`,
      );
    }
  }
  assertDnsSubdomain('leaseName', options.leaseName);
  const name = options.name ?? DEFAULT_ELECTION;
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidOptionError('name', 'must be a non-empty string', options.name);
  }
  for (const flag of ['releaseOnShutdown', 'waitForLeadership'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') {
      throw new InvalidOptionError(flag, 'must be a boolean', options[flag]);
    }
  }
  if (
    options.identity !== undefined &&
    (typeof options.identity !== 'string' || !options.identity.trim())
  ) {
    throw new InvalidOptionError('identity', 'must be a non-empty string', options.identity);
  }

  let lock: LeaseLock;
  let namespace: string | undefined;
  if (options.lock) {
    lock = options.lock;
  } else {
    const kubeConfig = options.kubeConfig ?? loadDefaultKubeConfig();
    if (!(kubeConfig instanceof Object) || typeof kubeConfig.getCurrentCluster !== 'function') {
      throw new InvalidOptionError(
        'kubeConfig',
        'must be a KubeConfig from @kubernetes/client-node',
      );
    }
    namespace = options.namespace ?? resolveNamespace(kubeConfig);
    lock = new KubernetesLeaseLock({
      kubeConfig,
      namespace,
      name: options.leaseName,
      identity: options.identity ?? defaultIdentity(),
      labels: options.labels,
    });
  }

  const elector = new LeaderElector({
    lock,
    name: options.leaseName,
    leaseDuration: options.leaseDuration,
    renewDeadline: options.renewDeadline,
    retryPeriod: options.retryPeriod,
    renewInterval: options.renewInterval,
    requestTimeout: options.requestTimeout,
    releaseOnStop: options.releaseOnShutdown ?? true,
    shutdownGracePeriod: options.shutdownGracePeriod,
    logger: toElectorLogger(options.logger, name),
  });
  return new Election(name, options.leaseName, namespace, elector);
}

function loadDefaultKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromDefault();
  } catch (error) {
    throw new InvalidOptionError(
      'kubeConfig',
      `could not load the default kubeconfig (KUBECONFIG, ~/.kube/config or the in-cluster service account): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return kubeConfig;
}

function toElectorLogger(
  logger: LoggerService | false | undefined,
  name: string,
): ElectorLogger | undefined {
  if (logger === false) return undefined;
  const target: LoggerService =
    logger ?? new Logger(name === DEFAULT_ELECTION ? 'LeaderElection' : `LeaderElection:${name}`);
  return {
    log: (message) => target.log(message),
    warn: (message) => target.warn(message),
    error: (message) => target.error(message),
    debug: (message) => target.debug?.(message),
  };
}
