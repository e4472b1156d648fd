import type { LoggerService } from '@nestjs/common';
import type { ElectionMetrics, LeaseLock } from '../core/index.js';
import type { KubernetesLeaseLockOptions } from '../kubernetes/index.js';

/**
 * Options of `LeaderElectionModule.forRoot()`. Durations are in milliseconds.
 *
 * | option | default |
 * | --- | --- |
 * | `leaseName` | required: the Lease's name (DNS-1123 subdomain) |
 * | `election` | `'default'`: the name decorators and `LeaderService` use for this election |
 * | `namespace` | the pod's service-account namespace, else the kubeconfig context's, else `default` |
 * | `identity` | `POD_NAME` or `HOSTNAME` plus `_` and 8 random hex digits |
 * | `kubeConfig` | `new KubeConfig().loadFromDefault()` (in-cluster or `~/.kube/config`) |
 * | `leaseDuration` | 15000 (written in whole seconds, rounded up) |
 * | `renewDeadline` | 10000 |
 * | `retryPeriod` | 2000 |
 * | `renewInterval` | renewDeadline / 2 when `renewInterval + requestTimeout + retryPeriod < renewDeadline`, else retryPeriod |
 * | `requestTimeout` | renewDeadline / 4, at least 2000 (at most renewDeadline / 2) |
 * | `releaseOnShutdown` | true |
 * | `shutdownGracePeriod` | 10000: how long shutdown waits for running `@LeaderOnly` work |
 * | `waitForLeadership` | false: when true, bootstrap waits until this instance leads |
 * | `logger` | Nest `Logger` with context `LeaderElection`; `false` silences it |
 * | `events` | false: when true, Kubernetes Events `<identity> became leader` / `stopped leading` on the Lease |
 * | `metrics` | none: an `ElectionMetrics` adapter, e.g. `new PrometheusElectionMetrics()` |
 */
export interface LeaderElectionModuleOptions {
  /** Name of the Lease. Required. */
  readonly leaseName: string;
  /** Name of this election inside the app (decorators, LeaderService). Default `'default'`. */
  readonly election?: string;
  /** Namespace of the Lease. */
  readonly namespace?: string;
  /** This instance's identity, written as the Lease holder. Must be unique per replica. */
  readonly identity?: string;
  /** Cluster access. */
  readonly kubeConfig?: KubernetesLeaseLockOptions['kubeConfig'];
  /**
   * Milliseconds a follower waits after the last observed change before taking over. Default 15000;
   * written to the Lease rounded up to whole seconds.
   */
  readonly leaseDuration?: number;
  /** Milliseconds a leader keeps leading without a successful renew. Default 10000; < leaseDuration. */
  readonly renewDeadline?: number;
  /** Milliseconds between renewals and between retries. Default 2000; renewDeadline > 1.2 x retryPeriod. */
  readonly retryPeriod?: number;
  /**
   * How often the leader renews. Default renewDeadline / 2 (5000) when a timed-out renew can still be
   * retried before the deadline (`renewInterval + requestTimeout + retryPeriod < renewDeadline`), else
   * retryPeriod. See the README's tuning section.
   */
  readonly renewInterval?: number;
  /** Timeout of each API request in milliseconds. Default renewDeadline / 4, at least 2000; at most renewDeadline / 2. */
  readonly requestTimeout?: number;
  /** Release the Lease on `app.close()` so another replica takes over at once. Default true. */
  readonly releaseOnShutdown?: boolean;
  /** Upper bound on waiting for in-flight `@LeaderOnly` work at shutdown. Default 10000. */
  readonly shutdownGracePeriod?: number;
  /**
   * Block application bootstrap until this instance leads. Default false. On a follower this blocks
   * until it leads, which may be never: `app.init()` / `app.listen()` do not return and the
   * `onApplicationBootstrap` hooks Nest runs after this module's wait, so a follower serves no HTTP
   * (readiness probes fail, liveness probes on the HTTP server restart it, a rolling update waiting for
   * a ready pod stalls). For processes without such probes; else wait with
   * `LeaderService.waitForLeadership()`.
   */
  readonly waitForLeadership?: boolean;
  /** Logger; `false` disables logging. */
  readonly logger?: LoggerService | false;
  /** Labels put on the Lease when this instance creates it. */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Development without a cluster: this instance leads alone, at once, on an in-memory Lease (no
   * Kubernetes API, so `kubeConfig`, `namespace` and `events` are not used). Refused at start-up in a
   * pod (`KUBERNETES_SERVICE_HOST` set, or the service-account token file present): even a one-replica
   * Deployment runs two pods during every rollout, and only the election keeps them apart. Default
   * false.
   *
   * `'if-no-kubeconfig'`: local mode only where no kubeconfig is found (no `KUBECONFIG`, no
   * `~/.kube/config`, not in a pod) and `NODE_ENV` is not `production`, else the election on the
   * cluster (or, without a kubeconfig, the start-up error). For development machines, where
   * `npm run start` sets no `NODE_ENV`.
   */
  readonly local?: boolean | 'if-no-kubeconfig';
  /**
   * Advanced: a custom lock instead of the Kubernetes Lease (e.g. an in-memory lock in tests).
   * When set, `kubeConfig`, `namespace` and `identity` are ignored (the lock has its identity).
   */
  readonly lock?: LeaseLock;
  /**
   * Record Kubernetes Events on the Lease when this instance starts and stops leading (client-go's
   * `<identity> became leader` / `<identity> stopped leading`, reason `LeaderElection`). Needs
   * `create` on `events` in the Lease's namespace; a failure to record is logged once and never
   * affects the election. `{ component }` sets the Events' source component (default
   * `nestjs-kube-leader`). Default false. Not available with a custom `lock`.
   */
  readonly events?: boolean | { readonly component?: string };
  /**
   * Metrics adapter, e.g. `new PrometheusElectionMetrics({ registry })` from
   * `nestjs-kube-leader/metrics` (prom-client), or your own {@link ElectionMetrics}. Default: none.
   */
  readonly metrics?: ElectionMetrics;
  /**
   * Spread this election's `@LeaderOnly` jobs over this many shares (1 to 64), each a Lease of its
   * own (`<leaseName>-share-<i>`) with its own leader, so that the replicas share the work: each
   * leads about shares / replicas of them. A job (a method, or `@LeaderOnly({ job })`) always runs
   * on the same share. Replicas list themselves in one more Lease, `<leaseName>-members`. Not with
   * a custom `lock` or `waitForLeadership`. Default: one Lease, one leader for every job.
   */
  readonly shares?: number;
}

/** Implemented by a class passed to `forRootAsync({ useClass })` or `useExisting`. */
export interface LeaderElectionOptionsFactory {
  /** Returns the options of `LeaderElectionModule.forRootAsync({ useClass | useExisting })`. */
  createLeaderElectionOptions(): LeaderElectionModuleOptions | Promise<LeaderElectionModuleOptions>;
}
