import { Logger, type LoggerService } from '@nestjs/common';
import {
  InvalidOptionError,
  LeaderElector,
  type ElectionEngine,
  type ElectorLogger,
  type LeaseLock,
} from './core/index.js';
import { assertIdentity } from './core/identity.js';
import {
  assertShareCount,
  membersLeaseName,
  shareLeaseName,
  spreadLeaseNames,
} from './core/spread/shares.js';
import { SingleElection } from './core/single-election.js';
import { SpreadElector } from './core/spread/spread-elector.js';
import type { LeaseEventRecorder } from './kubernetes/index.js';
import type { LeaseLockSetup } from './kubernetes/create-lease-lock.js';
import { assertDnsSubdomain, assertNamespace } from './kubernetes/names.js';
import { Election } from './election.js';
import { assertLeaderService, keepLeaderSlice, leaderServiceSlice } from './leader-service.js';
import { resolveForwarding } from './forwarding/forwarding-options.js';
import type { FireEvent } from './fires/fire-events.js';
import { assertKnownOptions, optionKeys } from './option-validation.js';
import type { LeaderElectionModuleOptions } from './interfaces/leader-election-options.interface.js';
import { DEFAULT_ELECTION } from './leader-election.constants.js';
import { CAMPAIGNING, LOCAL_MODE, SPREAD_WITHOUT_REVISION } from './leader-election.messages.js';
import {
  assertLocalAllowed,
  localLock,
  localMode,
  localModeClientNodeWarning,
} from './local-mode.js';

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
  revision: true,
  waitForLeadership: true,
  logger: true,
  labels: true,
  lock: true,
  local: true,
  events: true,
  metrics: true,
  shares: true,
  leaderService: true,
  forwarding: true,
});

/**
 * Validates module options and builds the election; every problem is an InvalidOptionError.
 * Asynchronous because the Kubernetes layer (and with it client-node) is loaded only when the
 * election runs on a Lease, not when the app brings its own `lock`. Without an `identity`, the
 * default one ends in `identitySuffix` (the app's, so that its elections share one identity).
 */
export async function createElection(
  options: LeaderElectionModuleOptions,
  identitySuffix?: string,
): Promise<Election> {
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
  for (const flag of ['releaseOnShutdown', 'waitForLeadership'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') {
      throw new InvalidOptionError(flag, 'must be a boolean', options[flag]);
    }
  }
  if (options.identity !== undefined) assertIdentity('identity', options.identity);

  // Checked before any kubeconfig is looked for: the option's own error comes first.
  if (options.namespace !== undefined && !options.lock)
    assertNamespace('namespace', options.namespace);
  const local = localMode(options);
  if (local !== undefined) assertLocalAllowed(options);
  const events =
    local !== undefined ? undefined : eventOptions(options.events, options.lock !== undefined);
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
  const forwarding = resolveForwarding(options.forwarding);

  const shares = options.shares;
  if (shares !== undefined) assertSpreadOptions(options, shares);
  const leaderEndpoint =
    options.leaderService === undefined || local !== undefined
      ? undefined
      : assertLeaderService(options.leaderService, options);
  const { lockFor, recorders, namespace, kubeConfig } = await lockFactory(
    { ...options, identitySuffix },
    local,
    events,
    logger,
    shares,
  );

  const electorOptions = {
    leaseDuration: options.leaseDuration,
    renewDeadline: options.renewDeadline,
    retryPeriod: options.retryPeriod,
    renewInterval: options.renewInterval,
    requestTimeout: options.requestTimeout,
    releaseOnStop: options.releaseOnShutdown ?? true,
    shutdownGracePeriod: options.shutdownGracePeriod,
    logger,
    metrics: options.metrics,
  };
  const engine: ElectionEngine =
    shares === undefined
      ? new SingleElection(
          new LeaderElector({
            ...electorOptions,
            lock: lockFor(options.leaseName, true),
            leaseName: options.leaseName,
            revision: options.revision,
          }),
        )
      : new SpreadElector({
          ...electorOptions,
          leaseName: options.leaseName,
          shares,
          lockFor: (name) => lockFor(name, name !== membersLeaseName(options.leaseName)),
        });
  let keepsSlice = false;
  if (leaderEndpoint && options.leaderService && kubeConfig && namespace && engine.single) {
    const { requestTimeout } = engine.single;
    const service = options.leaderService;
    const slice = await leaderServiceSlice(service, kubeConfig, namespace, requestTimeout);
    const sliceName = `${namespace}/${service.sliceName ?? service.name}`;
    keepLeaderSlice(engine.single, slice, leaderEndpoint, sliceName, logger);
    keepsSlice = true;
  }
  for (const elector of engine.electors) {
    const recorder = recorders.get(elector.lock);
    if (recorder) elector.onChange((event) => recorder.onLeaderChange(event));
  }
  const afterStop =
    recorders.size === 0
      ? undefined
      : async () => {
          await Promise.all([...recorders.values()].map((r) => r.flush()));
          for (const recorder of recorders.values()) recorder.close();
        };
  const recordEvent = fireEventRecorder(engine, recorders);
  return new Election(
    name,
    options.leaseName,
    namespace,
    engine,
    afterStop,
    logger,
    recordEvent,
    forwarding,
    keepsSlice,
  );
}

/**
 * With `events` (a recorder per Lease): records the Events about a job's fires on the Lease of the
 * elector deciding the job (its share's, in a spread election). Undefined without recorders.
 */
export function fireEventRecorder(
  engine: Pick<ElectionEngine, 'electorFor'>,
  recorders: ReadonlyMap<LeaseLock, Pick<LeaseEventRecorder, 'record'>>,
): ((job: string, event: FireEvent) => void) | undefined {
  if (recorders.size === 0) return undefined;
  return (job, event) =>
    recorders.get(engine.electorFor(job).lock)?.record(event.message, event.reason, event.type);
}

/** `shares` and what it cannot be combined with. */
function assertSpreadOptions(options: LeaderElectionModuleOptions, shares: unknown): void {
  assertShareCount('shares', shares);
  spreadLeaseNames('leaseName', options.leaseName, shares);
  if (options.revision !== undefined && options.revision !== '') {
    throw new InvalidOptionError('revision', SPREAD_WITHOUT_REVISION, options.revision);
  }
  if (options.lock) {
    throw new InvalidOptionError(
      'shares',
      'needs the Kubernetes Lease (or local: true): a custom "lock" is one Lease, each share is one',
    );
  }
  if (options.waitForLeadership) {
    throw new InvalidOptionError(
      'waitForLeadership',
      'cannot be combined with "shares": each job has its own leader',
    );
  }
}

/**
 * The locks of the election's Leases, all with one identity, namespace and client; with `events`,
 * a recorder per share (the membership Lease records none).
 */
async function lockFactory(
  options: LeaderElectionModuleOptions & { identitySuffix?: string },
  local: string | undefined,
  events: { component?: string } | undefined,
  logger: ElectorLogger | undefined,
  shares: number | undefined,
): Promise<{
  lockFor: (leaseName: string, withEvents: boolean) => LeaseLock;
  recorders: Map<LeaseLock, LeaseEventRecorder>;
  namespace: string | undefined;
  kubeConfig?: LeaseLockSetup['kubeConfig'];
}> {
  const recorders = new Map<LeaseLock, LeaseEventRecorder>();
  const described =
    shares === undefined
      ? options.leaseName
      : `${shareLeaseName(options.leaseName, 0)} to ${shareLeaseName(options.leaseName, shares - 1)}`;
  if (options.lock) {
    const lock = options.lock;
    return { lockFor: () => lock, recorders, namespace: undefined };
  }
  if (local !== undefined) {
    logger?.warn(LOCAL_MODE(localLock(described, options.identity).identity, described, local));
    const clientNode = localModeClientNodeWarning();
    if (clientNode) logger?.warn(clientNode);
    return {
      lockFor: (leaseName) => localLock(leaseName, options.identity),
      recorders,
      namespace: undefined,
    };
  }
  // Before client-node loads: a client-node too new for this Node fails here, naming the fix.
  const { assertClientNodeRuns } = await import('./kubernetes/client-node-support.js');
  assertClientNodeRuns();
  const { createLeaseLock } = await import('./kubernetes/create-lease-lock.js');
  const setup = (leaseName: string, base?: LeaseLockSetup) =>
    createLeaseLock({
      kubeConfig: base?.kubeConfig ?? options.kubeConfig,
      namespace: base?.namespace ?? options.namespace,
      identity: base?.lock.identity ?? options.identity,
      identitySuffix: options.identitySuffix,
      leaseName,
      labels: options.labels,
      events,
      logger,
    });
  // The first Lease resolves kubeconfig, namespace and identity; the others reuse them.
  const first = setup(
    shares === undefined ? options.leaseName : shareLeaseName(options.leaseName, 0),
  );
  logger?.log(
    CAMPAIGNING(
      first.lock.identity,
      first.namespace,
      described,
      first.server,
      first.namespaceSource,
    ),
  );
  const made = new Map<string, LeaseLockSetup>([[first.lock.name, first]]);
  const lockFor = (leaseName: string, withEvents: boolean) => {
    let made1 = made.get(leaseName);
    if (!made1) made.set(leaseName, (made1 = setup(leaseName, first)));
    if (withEvents && made1.recorder) recorders.set(made1.lock, made1.recorder);
    else made1.recorder?.close();
    return made1.lock;
  };
  return { lockFor, recorders, namespace: first.namespace, kubeConfig: first.kubeConfig };
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
