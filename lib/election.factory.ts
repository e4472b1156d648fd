import { Logger, type LoggerService } from '@nestjs/common';
import {
  InvalidOptionError,
  LeaderElector,
  type ElectorLogger,
  type LeaseLock,
} from './core/index.js';
import { assertIdentity } from './core/identity.js';
import type { LeaseEventRecorder } from './kubernetes/index.js';
import { assertDnsSubdomain, assertNamespace } from './kubernetes/names.js';
import { Election } from './election.js';
import { assertKnownOptions, optionKeys } from './option-validation.js';
import type { LeaderElectionModuleOptions } from './interfaces/leader-election-options.interface.js';
import { DEFAULT_ELECTION } from './leader-election.constants.js';
import { CAMPAIGNING, LOCAL_MODE } from './leader-election.messages.js';
import { assertLocalAllowed, localLock } from './local-mode.js';

const KNOWN_OPTIONS = optionKeys<LeaderElectionModuleOptions>({
  leaseName: true,
  election: true,
  namespace: true,
  identity: true,
  kubeConfig: true,
  leaseDuration: true,
  renewDeadline: true,
  retryPeriod: true,
  renewInterval: true,
  requestTimeout: true,
  releaseOnShutdown: true,
  shutdownGracePeriod: true,
  waitForLeadership: true,
  logger: true,
  labels: true,
  lock: true,
  local: true,
  events: true,
  metrics: true,
});

/**
 * Validates module options and builds the election; every problem is an InvalidOptionError.
 * Asynchronous because the Kubernetes layer (and with it client-node) is loaded only when the
 * election runs on a Lease, not when the app brings its own `lock`.
 */
export async function createElection(options: LeaderElectionModuleOptions): Promise<Election> {
  assertKnownOptions(
    options,
    KNOWN_OPTIONS,
    'LeaderElectionModule',
    'LeaderElectionModule.forRoot() needs an options object',
  );
  assertDnsSubdomain('leaseName', options.leaseName);
  const name = options.election ?? DEFAULT_ELECTION;
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidOptionError('election', 'must be a non-empty string', options.election);
  }
  for (const flag of ['releaseOnShutdown', 'waitForLeadership', 'local'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') {
      throw new InvalidOptionError(flag, 'must be a boolean', options[flag]);
    }
  }
  if (options.identity !== undefined) assertIdentity('identity', options.identity);

  // Checked before any kubeconfig is looked for: the option's own error comes first.
  if (options.namespace !== undefined && !options.lock)
    assertNamespace('namespace', options.namespace);
  if (options.local) assertLocalAllowed(options);
  const events = options.local
    ? undefined
    : eventOptions(options.events, options.lock !== undefined);
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
  } else if (options.local) {
    lock = localLock(options.leaseName, options.identity);
    logger?.warn(LOCAL_MODE(lock.identity, options.leaseName));
  } else {
    // Before client-node loads: a client-node too new for this Node fails here, naming the fix.
    const { assertClientNodeRuns } = await import('./kubernetes/client-node-support.js');
    assertClientNodeRuns();
    const { createLeaseLock } = await import('./kubernetes/create-lease-lock.js');
    const setup = createLeaseLock({
      kubeConfig: options.kubeConfig,
      namespace: options.namespace,
      leaseName: options.leaseName,
      identity: options.identity,
      labels: options.labels,
      events,
      logger,
    });
    ({ lock, namespace, recorder } = setup);
    logger?.log(
      CAMPAIGNING(
        lock.identity,
        setup.namespace,
        options.leaseName,
        setup.server,
        setup.namespaceSource,
      ),
    );
  }

  const elector = new LeaderElector({
    lock,
    leaseName: options.leaseName,
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
    const afterStop = async () => {
      await events.flush();
      events.close();
    };
    return new Election(name, options.leaseName, namespace, elector, afterStop, logger);
  }
  return new Election(name, options.leaseName, namespace, elector, undefined, logger);
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
