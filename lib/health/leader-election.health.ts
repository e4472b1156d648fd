import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { describeError } from '../core/errors.js';
import { printable } from '../core/foreign-text.js';
import { LeaderElectionRegistry } from '../leader-election.registry.js';

/** Options of {@link LeaderElectionHealthIndicator.isHealthy}. Durations in milliseconds. */
export interface LeaderElectionHealthOptions {
  /** The election to check (the `election` given to `forRoot()`). Default: the unnamed election. */
  readonly election?: string;
  /**
   * How long past `leaseDuration` a leader may go without a successful renew before the check
   * reports down: client-go's `maxTolerableExpiredLease` ("watchdog"). Default 20000 (what
   * kube-controller-manager uses).
   */
  readonly renewTolerance?: number;
  /**
   * How long the elector's requests to the API server may keep failing (unreachable, 5xx,
   * timeouts, 401/403) before the check reports down. `Infinity` disables it. Default 60000.
   * Pass `Infinity` on a liveness probe: an API server outage hits every replica at once and
   * restarting them does not help.
   */
  readonly maxApiFailureDuration?: number;
  /**
   * Whether the result carries the details ({@link LeaderElectionHealthDetails}: this instance's
   * identity, the holders, the last API error). Default true. `false` reports only `status`, and
   * `message` when down: for a health endpoint that callers outside the cluster can reach.
   */
  readonly details?: boolean;
}

/** Defaults of {@link LeaderElectionHealthOptions}. */
export const DEFAULT_HEALTH_OPTIONS = Object.freeze({
  renewTolerance: 20_000,
  maxApiFailureDuration: 60_000,
});

/**
 * What the indicator reports under its key, besides `status`:
 * - `role`: `leader` or `follower`; `holder`: the current holder as observed (or null; control
 *   characters escaped, cut after 253 characters);
 * - `state`: `starting` (before bootstrap), `running`, `shutting_down` (during and after `app.close()`);
 * - `lastRenewAgoMs`: while holding the lease, time since the start of the last successful renew;
 * - `apiFailingForMs` and `lastError`: while requests to the API server fail;
 * - `message`: why the status is `down`.
 */
export type LeaderElectionHealthDetails = {
  readonly election: string;
  readonly lease: string;
  readonly identity: string;
  readonly role: 'leader' | 'follower';
  readonly holder: string | null;
  readonly state: 'starting' | 'running' | 'shutting_down';
  readonly lastRenewAgoMs?: number;
  readonly apiFailingForMs?: number;
  readonly lastError?: string;
  readonly message?: string;
  /**
   * In an election spread over shares: each share's Lease, this instance's role and the holder
   * (at most 64 entries); the fields above then describe the election as a whole (`role` is
   * `leader` when this instance leads at least one share, `holder` is null).
   */
  readonly shares?: readonly LeaderElectionShareHealth[];
  /**
   * In an election spread over shares, while the requests of its membership (on
   * `<leaseName>-members`) fail: for how long and why. A detail only: the membership decides how
   * the shares are balanced, never who may lead one, so it never makes the check `down`.
   */
  readonly membership?: {
    readonly lease: string;
    readonly apiFailingForMs: number;
    readonly lastError?: string;
  };
};

/** One share of a spread election in {@link LeaderElectionHealthDetails.shares}. */
export type LeaderElectionShareHealth = {
  readonly share: number;
  readonly lease: string;
  readonly role: 'leader' | 'follower';
  readonly holder: string | null;
  readonly lastRenewAgoMs?: number;
};

/**
 * A `@nestjs/terminus` health indicator (terminus 11 or 12) for an election. It reports `up` for a
 * leader and for a follower alike (following is healthy), and `down` when:
 *
 * - this instance holds the lease but has not renewed it for `leaseDuration + renewTolerance`
 *   (client-go's watchdog: the elector is stuck, restart it);
 * - the elector's requests to the API server have been failing for longer than
 *   `maxApiFailureDuration` (an instance that cannot reach the API server can never lead);
 * - the app is shutting down (`state: 'shutting_down'`).
 *
 * The failing membership of an election spread over shares shows under `membership` and leaves
 * the check `up`: the shares are still elected one by one (each leader renews its own Lease), only
 * their balance over the replicas waits for it. An API server this instance cannot reach fails the
 * shares' requests too, which makes the check `down` as above.
 *
 * Import it from `nestjs-kube-leader/health` (the main entry never loads terminus), and provide it
 * in a module that imports `TerminusModule`, or import {@link LeaderElectionHealthModule}.
 *
 * @example
 * ```ts
 * @Controller('health')
 * class HealthController {
 *   constructor(
 *     private readonly health: HealthCheckService,
 *     private readonly leaderElection: LeaderElectionHealthIndicator,
 *   ) {}
 *
 *   @Get('live')
 *   @HealthCheck()
 *   live() {
 *     const options = { maxApiFailureDuration: Infinity }; // the watchdog only
 *     return this.health.check([() => this.leaderElection.isHealthy('leader-election', options)]);
 *   }
 *
 *   @Get('ready')
 *   @HealthCheck()
 *   ready() {
 *     return this.health.check([() => this.leaderElection.isHealthy('leader-election')]);
 *   }
 * }
 * ```
 */
@Injectable()
export class LeaderElectionHealthIndicator {
  constructor(
    private readonly registry: LeaderElectionRegistry,
    private readonly healthIndicatorService: HealthIndicatorService,
  ) {}

  /** Checks the election `options.election` (default: the unnamed one) and reports under `key`. */
  isHealthy<const Key extends string>(
    key: Key,
    options: LeaderElectionHealthOptions = {},
  ): HealthIndicatorResult<Key> {
    const renewTolerance = duration(
      'renewTolerance',
      options.renewTolerance,
      DEFAULT_HEALTH_OPTIONS.renewTolerance,
    );
    const maxApiFailureDuration = duration(
      'maxApiFailureDuration',
      options.maxApiFailureDuration,
      DEFAULT_HEALTH_OPTIONS.maxApiFailureDuration,
    );
    if (options.details !== undefined && typeof options.details !== 'boolean') {
      throw new TypeError(
        `LeaderElectionHealthIndicator.isHealthy(): details must be true or false, got ${String(options.details)}`,
      );
    }
    const check = this.healthIndicatorService.check(key);
    // Without details: the status, and why it is down.
    const shown = (all: LeaderElectionHealthDetails): Partial<LeaderElectionHealthDetails> =>
      options.details === false ? (all.message === undefined ? {} : { message: all.message }) : all;
    const indicator = {
      up: (all: LeaderElectionHealthDetails) => check.up(shown(all)),
      down: (all: LeaderElectionHealthDetails) => check.down(shown(all)),
    };
    const election = this.registry.get(options.election);
    const electors = election.electors;
    const statuses = electors.map((elector) => elector.status());
    const status = statuses[0];
    const state =
      status.phase === 'idle'
        ? 'starting'
        : status.phase === 'running'
          ? 'running'
          : 'shutting_down';
    const failing = statuses.filter((s) => s.failingForMs !== undefined);
    const failingForMs = failing.length
      ? Math.max(...failing.map((s) => s.failingForMs!))
      : undefined;
    const lastError = failing.find((s) => s.failingForMs === failingForMs)?.lastError;
    const spread = election.engine.single === undefined;
    const at = (lease: string) => (election.namespace ? `${election.namespace}/${lease}` : lease);
    const membership = election.engine.status().membership;
    const renewAgo = (s: (typeof statuses)[number]) =>
      s.lastRenewAgoMs === undefined ? {} : { lastRenewAgoMs: Math.round(s.lastRenewAgoMs) };
    const details: LeaderElectionHealthDetails = {
      election: election.name,
      lease: at(election.leaseName),
      identity: electors[0].identity,
      role: statuses.some((s) => s.isLeader) ? 'leader' : 'follower',
      holder: spread || status.leader === null ? null : printable(status.leader),
      state,
      ...(spread ? {} : renewAgo(status)),
      ...(failingForMs === undefined
        ? {}
        : {
            apiFailingForMs: Math.round(failingForMs),
            lastError: lastError === undefined ? undefined : describeError(lastError),
          }),
      ...(spread
        ? {
            shares: statuses.map((s, share) => ({
              share,
              lease: at(electors[share].name),
              role: s.isLeader ? ('leader' as const) : ('follower' as const),
              holder: s.leader === null ? null : printable(s.leader),
              ...renewAgo(s),
            })),
          }
        : {}),
      ...(membership?.failingForMs === undefined
        ? {}
        : {
            membership: {
              lease: at(membership.lease),
              apiFailingForMs: Math.round(membership.failingForMs),
              ...(membership.lastError === undefined
                ? {}
                : { lastError: describeError(membership.lastError) }),
            },
          }),
    };

    if (state === 'shutting_down') {
      return indicator.down({ ...details, message: 'shutting down' });
    }
    for (const [share, s] of statuses.entries()) {
      const watchdog = s.leaseDuration + renewTolerance;
      if (s.holdsLease && s.lastRenewAgoMs !== undefined && s.lastRenewAgoMs > watchdog) {
        const which = spread ? `of share ${share} ` : '';
        return indicator.down({
          ...details,
          message: `the leader ${which}has not renewed the lease for ${Math.round(s.lastRenewAgoMs)} ms (more than leaseDuration ${s.leaseDuration} ms + renewTolerance ${renewTolerance} ms)`,
        });
      }
    }
    if (failingForMs !== undefined && failingForMs > maxApiFailureDuration) {
      return indicator.down({
        ...details,
        message: `requests to the API server have been failing for ${Math.round(failingForMs)} ms (more than ${maxApiFailureDuration} ms)`,
      });
    }
    return indicator.up(details);
  }
}

function duration(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new TypeError(
      `LeaderElectionHealthIndicator.isHealthy(): ${option} must be a number of milliseconds >= 0 (or Infinity), got ${String(value)}`,
    );
  }
  return value;
}
