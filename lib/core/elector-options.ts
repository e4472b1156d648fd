import { systemClock, type Clock } from './clock.js';
import { InvalidOptionError } from './errors.js';
import { assertIdentity } from './identity.js';
import type { LeaseLock } from './lock.js';
import type { ElectionMetrics } from './metrics.js';
import { DEFAULT_TIMINGS, validateTimings } from './timing.js';

/** Minimal logger; Nest's `Logger` fits. */
export interface ElectorLogger {
  /** Transitions: became leader, released, requests succeeding again. */
  log(message: string): void;
  /** Trouble the elector rides out: unreachable API server, a failed watch, stopped leading. */
  warn(message: string): void;
  /** Failed requests other than unavailability (e.g. RBAC denials, rejected writes); throwing listeners. */
  error(message: string): void;
  /** Optional: repeats of the same error and other details. */
  debug?(message: string): void;
}

/** Options of a {@link LeaderElector}. Durations in milliseconds. */
export interface LeaderElectorOptions {
  /** The lock the election runs on; its identity is this candidate's. */
  readonly lock: LeaseLock;
  /**
   * The Lease's name as change events (`LeaderChangeEvent.lease`), logs and metrics show it.
   * Default: the lock's description.
   */
  readonly leaseName?: string;
  /** Default 15000. Written to the Lease rounded UP to whole seconds. */
  readonly leaseDuration?: number;
  /** Default 10000. Must be < leaseDuration. */
  readonly renewDeadline?: number;
  /** Default 2000. renewDeadline must be > 1.2 * retryPeriod. */
  readonly retryPeriod?: number;
  /**
   * How often the leader renews after a successful renew. Default: `retryPeriod` (client-go's
   * cadence). A longer interval (up to renewDeadline - retryPeriod) cuts the leader's API requests
   * at the cost of fewer retries before renewDeadline when the API server misbehaves; safety does
   * not depend on it. After a failed renew the leader retries every `retryPeriod`.
   */
  readonly renewInterval?: number;
  /** Timeout of each lock request. Default and maximum: renewDeadline / 2. */
  readonly requestTimeout?: number;
  /** Release the lease on {@link LeaderElector.stop}. Default true. */
  readonly releaseOnStop?: boolean;
  /** How long {@link LeaderElector.stop} waits for in-flight leader work. Default 10000. */
  readonly shutdownGracePeriod?: number;
  /** Default: the process clock. */
  readonly clock?: Clock;
  /** Default: silent. */
  readonly logger?: ElectorLogger;
  /** Random source for retry jitter, in [0, 1). Default Math.random. */
  readonly random?: () => number;
  /**
   * Metrics hooks (e.g. `PrometheusElectionMetrics` from `nestjs-kube-leader/metrics`). Default: none.
   * A hook that throws is logged once and otherwise ignored.
   */
  readonly metrics?: ElectionMetrics;
}

/** Default of {@link LeaderElectorOptions.shutdownGracePeriod}. */
const DEFAULT_SHUTDOWN_GRACE_PERIOD = 10_000;

/** The options with defaults applied and every rule checked. */
export interface ResolvedElectorOptions {
  readonly lock: LeaseLock;
  readonly identity: string;
  readonly name: string;
  readonly leaseDuration: number;
  readonly renewDeadline: number;
  readonly retryPeriod: number;
  readonly renewInterval: number;
  readonly requestTimeout: number;
  readonly shutdownGracePeriod: number;
  readonly releaseOnStop: boolean;
  readonly clock: Clock;
  readonly logger: ElectorLogger | undefined;
  readonly random: () => number;
  readonly metrics: ElectionMetrics | undefined;
}

/**
 * Applies the defaults and checks every option, throwing an {@link InvalidOptionError} that names
 * the option and the rule. Timings follow client-go's rules (see `validateTimings`); the request
 * timeout and renew interval are bounded so that a failed renew is retried before renewDeadline.
 */
export function resolveElectorOptions(options: LeaderElectorOptions): ResolvedElectorOptions {
  if (!options || typeof options !== 'object') {
    throw new InvalidOptionError('options', 'must be an object');
  }
  if (!options.lock) throw new InvalidOptionError('lock', 'is required');
  assertIdentity('identity', options.lock.identity);
  const timings = validateTimings({
    leaseDuration: options.leaseDuration ?? DEFAULT_TIMINGS.leaseDuration,
    renewDeadline: options.renewDeadline ?? DEFAULT_TIMINGS.renewDeadline,
    retryPeriod: options.retryPeriod ?? DEFAULT_TIMINGS.retryPeriod,
  });

  const maxRequestTimeout = timings.renewDeadline / 2;
  const requestTimeout = options.requestTimeout ?? maxRequestTimeout;
  if (
    !Number.isFinite(requestTimeout) ||
    requestTimeout <= 0 ||
    requestTimeout > maxRequestTimeout
  ) {
    throw new InvalidOptionError(
      'requestTimeout',
      `must be > 0 and <= renewDeadline / 2 (${maxRequestTimeout} ms), ` +
        'so one hung request cannot use up the renew deadline',
      options.requestTimeout,
    );
  }

  const shutdownGracePeriod = options.shutdownGracePeriod ?? DEFAULT_SHUTDOWN_GRACE_PERIOD;
  if (!Number.isFinite(shutdownGracePeriod) || shutdownGracePeriod < 0) {
    throw new InvalidOptionError(
      'shutdownGracePeriod',
      'must be a finite number of milliseconds >= 0',
      shutdownGracePeriod,
    );
  }

  const renewInterval = options.renewInterval ?? timings.retryPeriod;
  const maxRenewInterval = timings.renewDeadline - timings.retryPeriod;
  if (
    !Number.isFinite(renewInterval) ||
    renewInterval < timings.retryPeriod ||
    renewInterval > maxRenewInterval
  ) {
    throw new InvalidOptionError(
      'renewInterval',
      `must be between retryPeriod (${timings.retryPeriod} ms) and renewDeadline - retryPeriod ` +
        `(${maxRenewInterval} ms), so that a failed renew is retried before renewDeadline`,
      options.renewInterval,
    );
  }

  return {
    lock: options.lock,
    identity: options.lock.identity,
    name: options.leaseName ?? options.lock.description,
    ...timings,
    renewInterval,
    requestTimeout,
    shutdownGracePeriod,
    releaseOnStop: options.releaseOnStop ?? true,
    clock: options.clock ?? systemClock,
    logger: options.logger,
    random: options.random ?? Math.random,
    metrics: options.metrics,
  };
}
