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
  LeaseEventRecorder,
  assertDnsSubdomain,
  defaultIdentity,
  resolveNamespace,
} from './kubernetes/index.js';
import { Election } from './election.js';
import { assertKnownOptions } from './option-validation.js';
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
  'events',
  'metrics',
]);

/** Validates module options and builds the election; every problem is an InvalidOptionError. */
export function createElection(options: LeaderElectionModuleOptions): Election {
  assertKnownOptions(
    options,
    KNOWN_OPTIONS,
    'LeaderElectionModule',
    'LeaderElectionModule.forRoot() needs an options object',
  );
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

  const events = eventOptions(options.events, options.lock !== undefined);
  if (
    options.metrics !== undefined &&
    (options.metrics === null || typeof options.metrics !== 'object')
  ) {
    throw new InvalidOptionError(
      'metrics',
      "must be an ElectionMetrics object, e.g. new PrometheusElectionMetrics() from 'nestjs-kube-leader/metrics'",
      options.metrics,
    );
  }
  const logger = toElectorLogger(options.logger, name);

  let lock: LeaseLock;
  let namespace: string | undefined;
  let recorder: LeaseEventRecorder | undefined;
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
    const leaseLock = new KubernetesLeaseLock({
      kubeConfig,
      namespace,
      name: options.leaseName,
      identity: options.identity ?? defaultIdentity(),
      labels: options.labels,
    });
    lock = leaseLock;
    if (events) {
      recorder = new LeaseEventRecorder({
        kubeConfig,
        namespace,
        leaseName: options.leaseName,
        identity: leaseLock.identity,
        component: events.component,
        leaseUid: () => leaseLock.uid,
        logger,
      });
    }
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
    logger,
    metrics: options.metrics,
  });
  if (recorder) {
    const events = recorder;
    elector.onChange((event) => events.onLeaderChange(event));
    return new Election(name, options.leaseName, namespace, elector, async () => {
      await events.flush();
      events.close();
    });
  }
  return new Election(name, options.leaseName, namespace, elector);
}

function eventOptions(
  value: LeaderElectionModuleOptions['events'],
  customLock: boolean,
): { component?: string } | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true) {
    const valid =
      typeof value === 'object' &&
      value !== null &&
      Object.keys(value).every((key) => key === 'component') &&
      (value.component === undefined ||
        (typeof value.component === 'string' && value.component.length > 0));
    if (!valid) {
      throw new InvalidOptionError(
        'events',
        'must be a boolean or { component?: string } (a non-empty source component name)',
        value,
      );
    }
  }
  if (customLock) {
    throw new InvalidOptionError(
      'events',
      'records Events on the Kubernetes Lease, so it cannot be combined with a custom "lock"',
    );
  }
  return value === true ? {} : value;
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
