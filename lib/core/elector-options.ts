import { systemClock, type Clock } from './clock.js';
import { InvalidOptionError } from './errors.js';
import { assertIdentity } from './identity.js';
import { isRevision } from './rollout-candidates.js';
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

/**
 * Options of a {@link LeaderElector}. Durations in milliseconds. Each option's default is its
 * `@default` tag; test/unit/option-defaults.spec.ts checks them against the resolved options
 * and against the module options of the same name.
 */
export interface LeaderElectorOptions {
  /** The lock the election runs on; its identity is this candidate's. */
  readonly lock: LeaseLock;
  /**
   * The Lease's name as change events (`LeaderChangeEvent.lease`), logs and metrics show it.
   * @default the lock's description
   */
  readonly leaseName?: string;
  /**
   * How long a follower waits after the last observed change before taking over. Written to the
   * Lease rounded UP to whole seconds.
   * @default `15000`
   */
  readonly leaseDuration?: number;
  /**
   * How long a leader keeps leading without a successful renew. Must be < leaseDuration.
   * @default `10000`
   */
  readonly renewDeadline?: number;
  /**
   * Pause between retries after a failed request (a leader retries a failed renew at this pace
   * until its renew deadline), and a follower's cadence while its watch is down. renewDeadline must
   * be > 1.2 * retryPeriod.
   * @default `2000`
   */
  readonly retryPeriod?: number;
  /**
   * How often the leader renews after a successful renew: `retryPeriod` (client-go's cadence), or
   * longer as long as a renew that times out still has a retry before the deadline
   * (`renewInterval + requestTimeout + retryPeriod < renewDeadline`). The default is 5 s at the
   * default timings: 12 renewals a minute instead of client-go's 30. Safety does not depend on it;
   * after a failed renew the leader retries every `retryPeriod`.
   * @default `renewDeadline / 2` if that keeps the rule, else `retryPeriod`
   */
  readonly renewInterval?: number;
  /**
   * Timeout of each lock request; at most `renewDeadline / 2`.
   * @default `renewDeadline / 4`, at least `2000` (at most `renewDeadline / 2`)
   */
  readonly requestTimeout?: number;
  /**
   * Release the lease on {@link LeaderElector.stop}.
   * @default `true`
   */
  readonly releaseOnStop?: boolean;
  /**
   * How long {@link LeaderElector.stop} waits for in-flight leader work.
   * @default `10000`
   */
  readonly shutdownGracePeriod?: number;
  /**
   * The clock the election measures time with.
   * @default the process clock
   */
  readonly clock?: Clock;
  /**
   * Where the elector logs.
   * @default none: silent
   */
  readonly logger?: ElectorLogger;
  /**
   * Random source for retry jitter, in [0, 1).
   * @default `Math.random`
   */
  readonly random?: () => number;
  /**
   * Metrics hooks (e.g. `PrometheusElectionMetrics` from `nestjs-kube-leader/metrics`). A hook
   * that throws is logged once and otherwise ignored.
   * @default none
   */
  readonly metrics?: ElectionMetrics;
  /**
   * This replica's revision: a Deployment Pod's `pod-template-hash` label (a StatefulSet Pod's
   * `controller-revision-hash`), passed through the downward API. In a rolling update, followers
   * of a new revision announce themselves and the old leader hands over to the newest of them,
   * so leadership moves once. `''`: none (the successor is then guessed from when a follower joined).
   * @default the `POD_TEMPLATE_HASH` environment variable
   */
  readonly revision?: string;
}

/** Default of {@link LeaderElectorOptions.shutdownGracePeriod}. */
const DEFAULT_SHUTDOWN_GRACE_PERIOD = 10_000;
/** The shortest default request timeout (ms): what an API server under load can take to answer. */
const MIN_DEFAULT_REQUEST_TIMEOUT = 2_000;

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
  readonly revision: string | undefined;
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
  // A quarter of renewDeadline leaves room for a longer renew interval (see renewInterval), but
  // not below 2 s, which an API server under load can take to answer.
  const requestTimeout =
    options.requestTimeout ??
    Math.min(maxRequestTimeout, Math.max(timings.renewDeadline / 4, MIN_DEFAULT_REQUEST_TIMEOUT));
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

  // Longer than this, a renew that times out could not be retried before renewDeadline.
  const longestInterval = timings.renewDeadline - requestTimeout - timings.retryPeriod;
  const halfDeadline = timings.renewDeadline / 2;
  const renewInterval =
    options.renewInterval ?? (halfDeadline < longestInterval ? halfDeadline : timings.retryPeriod);
  if (
    !Number.isFinite(renewInterval) ||
    renewInterval < timings.retryPeriod ||
    (renewInterval > timings.retryPeriod && renewInterval >= longestInterval)
  ) {
    throw new InvalidOptionError(
      'renewInterval',
      `must be retryPeriod (${timings.retryPeriod} ms), or longer but below renewDeadline - ` +
        `requestTimeout - retryPeriod (${longestInterval} ms), so that a renew that times out is ` +
        'still retried before renewDeadline',
      options.renewInterval,
    );
  }

  const revision = options.revision ?? globalThis.process?.env?.POD_TEMPLATE_HASH;
  if (revision !== undefined && revision !== '' && !isRevision(revision)) {
    throw new InvalidOptionError(
      options.revision === undefined ? 'revision (from POD_TEMPLATE_HASH)' : 'revision',
      "must be a label value (at most 63 characters of letters, digits, '-', '_' and '.', " +
        "beginning and ending with a letter or digit), like the Pod's pod-template-hash",
      revision,
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
    revision: revision || undefined,
  };
}
