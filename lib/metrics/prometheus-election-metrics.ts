import { Counter, Gauge, Histogram, register as defaultRegistry, type Registry } from 'prom-client';
import type {
  ElectionMetrics,
  LeaderWorkOutcome,
  LockErrorKind,
  LockOperation,
  ReleaseSkipReason,
} from '../core/index.js';
import { SetupError } from '../leader-election.errors.js';
import { METRIC_REGISTERED_OTHERWISE } from '../leader-election.messages.js';

/** Options of {@link PrometheusElectionMetrics}. */
export interface PrometheusElectionMetricsOptions {
  /** Registry to register the metrics on. Default: prom-client's default registry (`register`). */
  readonly registry?: Registry;
  /** Buckets of the renew latency histogram, in seconds. */
  readonly renewDurationBuckets?: readonly number[];
}

/** Names of the metrics, for dashboards and alerts. */
export const ELECTION_METRIC_NAMES = Object.freeze({
  masterStatus: 'leader_election_master_status',
  slowpath: 'leader_election_slowpath_total',
  transitions: 'leader_election_transitions_total',
  renewDuration: 'leader_election_renew_duration_seconds',
  apiErrors: 'leader_election_api_errors_total',
  leaderOnlyCalls: 'leader_election_leader_only_calls_total',
  releasesSkipped: 'leader_election_releases_skipped_total',
  fires: 'leader_election_fires_total',
  jobLastRun: 'leader_election_job_last_run_timestamp_seconds',
  forwardedRequests: 'leader_election_forwarded_requests_total',
});

const DEFAULT_RENEW_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * {@link ElectionMetrics} on prom-client. Series (label `name` is the Lease name):
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | `leader_election_master_status` | gauge: 1 while this instance leads, else 0 (client-go's) | `name` |
 * | `leader_election_slowpath_total` | counter: writes based on a stale cached record (409, then a read) (client-go's) | `name` |
 * | `leader_election_transitions_total` | counter: this instance started (`acquired`) or stopped (`lost`) leading | `name`, `transition` |
 * | `leader_election_renew_duration_seconds` | histogram: the leader's renew requests | `name`, `result` (`success`, `failure`) |
 * | `leader_election_api_errors_total` | counter: failed requests | `name`, `operation` (`get`, `create`, `update`, `watch`), `kind` (`conflict`, `not_found`, `forbidden`, `gone`, `rejected`, `unavailable`, `other`) |
 * | `leader_election_leader_only_calls_total` | counter: `@LeaderOnly` calls | `name`, `method` (`Class.method`), `outcome` (`executed`, `skipped`) |
 * | `leader_election_releases_skipped_total` | counter: stops that left the Lease to expire | `name`, `reason` (`disabled`, `work-running`, `term-not-started`, `not-released`) |
 * | `leader_election_fires_total` | counter: fires of `once` jobs by outcome | `name`, `job`, `result` (`ran`, `caught-up`, `coalesced`, `missed`, `interrupted`, `already-ran`) |
 * | `leader_election_forwarded_requests_total` | counter: requests a follower forwarded to the leader, by result | `name`, `result` (`answered`, `retried`, `leading`, `no-leader`, `not-allowed`, `unreachable`, `timeout`, `failed`, `refused`) |
 * | `leader_election_job_last_run_timestamp_seconds` | gauge: the scheduled instant (Unix seconds) of the latest fire of a `once` job that the Lease's ledger records as run to its end (`done`; a fire `interrupted`, or claimed and not ended, is no run), exported by every replica (followers from the watched Lease): alert when it falls behind the job's period | `name`, `job` |
 *
 * Metrics already on the registry under these names (another app in the same process, another
 * instance of this class) are reused, so several apps can share a registry without
 * duplicate-registration errors; apps electing on the same Lease name then share series.
 *
 * @example
 * ```ts
 * import { PrometheusElectionMetrics } from 'nestjs-kube-leader/metrics';
 *
 * LeaderElectionModule.forRoot({ leaseName: 'billing', metrics: new PrometheusElectionMetrics() });
 * // or with your registry: new PrometheusElectionMetrics({ registry })
 * ```
 */
export class PrometheusElectionMetrics implements ElectionMetrics {
  /** The registry the metrics are registered on. */
  readonly registry: Registry;
  private readonly masterStatus: Gauge<'name'>;
  private readonly slowpath: Counter<'name'>;
  private readonly transitions: Counter<'name' | 'transition'>;
  private readonly renewDuration: Histogram<'name' | 'result'>;
  private readonly apiErrors: Counter<'name' | 'operation' | 'kind'>;
  private readonly leaderOnlyCalls: Counter<'name' | 'method' | 'outcome'>;
  private readonly releasesSkipped: Counter<'name' | 'reason'>;
  private readonly fires: Counter<'name' | 'job' | 'result'>;
  private readonly forwarded: Counter<'name' | 'result'>;
  private readonly jobLastRuns: Gauge<'name' | 'job'>;
  /** The latest instant set per series: electors sharing a Lease name never move one back. */
  private readonly lastRunSet = new Map<string, number>();

  constructor(options: PrometheusElectionMetricsOptions = {}) {
    const registry = options.registry ?? defaultRegistry;
    this.registry = registry;
    this.masterStatus = metric(
      registry,
      ELECTION_METRIC_NAMES.masterStatus,
      'gauge',
      ['name'],
      () => {
        return new Gauge({
          name: ELECTION_METRIC_NAMES.masterStatus,
          help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease.",
          labelNames: ['name'],
          registers: [registry],
        });
      },
    );
    this.slowpath = metric(registry, ELECTION_METRIC_NAMES.slowpath, 'counter', ['name'], () => {
      return new Counter({
        name: ELECTION_METRIC_NAMES.slowpath,
        help: "Total number of slow path exercised in renewing leader leases. 'name' is the string used to identify the lease.",
        labelNames: ['name'],
        registers: [registry],
      });
    });
    this.transitions = metric(
      registry,
      ELECTION_METRIC_NAMES.transitions,
      'counter',
      ['name', 'transition'],
      () => {
        return new Counter({
          name: ELECTION_METRIC_NAMES.transitions,
          help: 'Times this instance started (transition="acquired") or stopped (transition="lost") leading the lease.',
          labelNames: ['name', 'transition'],
          registers: [registry],
        });
      },
    );
    this.renewDuration = metric(
      registry,
      ELECTION_METRIC_NAMES.renewDuration,
      'histogram',
      ['name', 'result'],
      () => {
        return new Histogram({
          name: ELECTION_METRIC_NAMES.renewDuration,
          help: "Duration of the leader's lease renew requests, in seconds.",
          labelNames: ['name', 'result'],
          buckets: [...(options.renewDurationBuckets ?? DEFAULT_RENEW_BUCKETS)],
          registers: [registry],
        });
      },
    );
    this.apiErrors = metric(
      registry,
      ELECTION_METRIC_NAMES.apiErrors,
      'counter',
      ['name', 'operation', 'kind'],
      () => {
        return new Counter({
          name: ELECTION_METRIC_NAMES.apiErrors,
          help: 'Failed lease requests to the API server, by operation and kind of error.',
          labelNames: ['name', 'operation', 'kind'],
          registers: [registry],
        });
      },
    );
    this.leaderOnlyCalls = metric(
      registry,
      ELECTION_METRIC_NAMES.leaderOnlyCalls,
      'counter',
      ['name', 'method', 'outcome'],
      () => {
        return new Counter({
          name: ELECTION_METRIC_NAMES.leaderOnlyCalls,
          help: '@LeaderOnly calls, executed on the leader or skipped on a follower.',
          labelNames: ['name', 'method', 'outcome'],
          registers: [registry],
        });
      },
    );
    this.fires = metric(
      registry,
      ELECTION_METRIC_NAMES.fires,
      'counter',
      ['name', 'job', 'result'],
      () => {
        return new Counter({
          name: ELECTION_METRIC_NAMES.fires,
          help: 'Fires of once jobs, by outcome (one per fire; already-ran by a replica whose tick found it claimed).',
          labelNames: ['name', 'job', 'result'],
          registers: [registry],
        });
      },
    );
    this.forwarded = metric(
      registry,
      ELECTION_METRIC_NAMES.forwardedRequests,
      'counter',
      ['name', 'result'],
      () =>
        new Counter({
          name: ELECTION_METRIC_NAMES.forwardedRequests,
          help: 'Requests for leader-only handlers that a follower forwarded to the leader, by result.',
          labelNames: ['name', 'result'],
          registers: [registry],
        }),
    );
    this.jobLastRuns = metric(
      registry,
      ELECTION_METRIC_NAMES.jobLastRun,
      'gauge',
      ['name', 'job'],
      () => {
        return new Gauge({
          name: ELECTION_METRIC_NAMES.jobLastRun,
          help: 'Scheduled instant (Unix seconds) of the latest fire of a once job recorded done in the Lease, as this replica saw it.',
          labelNames: ['name', 'job'],
          registers: [registry],
        });
      },
    );
    this.releasesSkipped = metric(
      registry,
      ELECTION_METRIC_NAMES.releasesSkipped,
      'counter',
      ['name', 'reason'],
      () => {
        return new Counter({
          name: ELECTION_METRIC_NAMES.releasesSkipped,
          help: 'Stops that held the Lease and left it to expire instead of releasing it, by reason.',
          labelNames: ['name', 'reason'],
          registers: [registry],
        });
      },
    );
  }

  started(name: string): void {
    // Create the series at 0 without overwriting another elector's values for the same name.
    this.masterStatus.inc({ name }, 0);
    this.slowpath.inc({ name }, 0);
    this.transitions.inc({ name, transition: 'acquired' }, 0);
    this.transitions.inc({ name, transition: 'lost' }, 0);
  }

  leaderOn(name: string): void {
    this.masterStatus.set({ name }, 1);
    this.transitions.inc({ name, transition: 'acquired' });
  }

  leaderOff(name: string): void {
    this.masterStatus.set({ name }, 0);
    this.transitions.inc({ name, transition: 'lost' });
  }

  slowpathExercised(name: string): void {
    this.slowpath.inc({ name });
  }

  renewed(name: string, durationMs: number, succeeded: boolean): void {
    this.renewDuration.observe(
      { name, result: succeeded ? 'success' : 'failure' },
      durationMs / 1000,
    );
  }

  apiError(name: string, operation: LockOperation, kind: LockErrorKind): void {
    this.apiErrors.inc({ name, operation, kind });
  }

  leaderWork(name: string, task: string, outcome: LeaderWorkOutcome): void {
    this.leaderOnlyCalls.inc({ name, method: task, outcome });
  }

  releaseSkipped(name: string, reason: ReleaseSkipReason): void {
    this.releasesSkipped.inc({ name, reason });
  }

  fire(name: string, job: string, result: string): void {
    this.fires.inc({ name, job, result });
  }

  forwardedRequest(name: string, result: string): void {
    this.forwarded.inc({ name, result });
  }

  jobLastRun(name: string, job: string, scheduledAt: number): void {
    const series = `${name}\0${job}`;
    if (scheduledAt <= (this.lastRunSet.get(series) ?? -1)) return;
    this.lastRunSet.set(series, scheduledAt);
    this.jobLastRuns.set({ name, job }, scheduledAt / 1000);
  }
}

type Kind = 'gauge' | 'counter' | 'histogram';

/**
 * The metric registered as `name`, or a new one made by `create`. A metric of another type or with
 * other labels under that name is a configuration error, reported with its name.
 */
function metric<T>(
  registry: Registry,
  name: string,
  kind: Kind,
  labelNames: readonly string[],
  create: () => T,
): T {
  const existing = registry.getSingleMetric(name);
  if (!existing) return create();
  // Duck-typed: the existing metric may come from another copy of prom-client.
  const shape = existing as unknown as {
    labelNames?: readonly string[];
    set?: unknown;
    inc?: unknown;
    observe?: unknown;
  };
  const sameKind =
    kind === 'gauge'
      ? typeof shape.set === 'function'
      : kind === 'histogram'
        ? typeof shape.observe === 'function'
        : typeof shape.inc === 'function' && typeof shape.set !== 'function';
  const sameLabels =
    Array.isArray(shape.labelNames) &&
    shape.labelNames.length === labelNames.length &&
    labelNames.every((label) => shape.labelNames!.includes(label));
  if (!sameKind || !sameLabels) {
    throw new SetupError(METRIC_REGISTERED_OTHERWISE(name, kind, labelNames));
  }
  return existing as unknown as T;
}
