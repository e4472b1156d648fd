import type { LoggerService } from '@nestjs/common';
import type { ElectionMetrics, LeaseLock } from '../core/index.js';
import type { KubernetesLeaseLockOptions } from '../kubernetes/index.js';
import type { LeaderEndpointSlicePort } from '../kubernetes/leader-endpoint-slice.js';
import type { ForwardingOptions } from '../forwarding/forwarding-options.js';

/** The `leaderService` option: the selector-less Service whose only endpoint is the leader. */
export interface LeaderServiceOptions {
  /** The Service's name (a DNS-1123 label), in the Lease's namespace. */
  readonly name: string;
  /** The Service port: its `name` (`''` for a single unnamed port), the leader's `port`, `protocol`. */
  readonly port: LeaderEndpointSlicePort;
  /** The EndpointSlice's fixed name, the one the Role's `resourceNames` lists. Default: `name`. */
  readonly sliceName?: string;
  /** This pod's address. Default: `POD_IP` (from `status.podIP` by the downward API). */
  readonly podIP?: string;
  /** This pod's name, the endpoint's `targetRef`. Default: `POD_NAME`. */
  readonly podName?: string;
}

/**
 * Options of `LeaderElectionModule.forRoot()`. Durations are in milliseconds. Each option's default
 * is its `@default` tag, and only there: the README's configuration table repeats them, and a test
 * (test/unit/option-defaults.spec.ts) keeps the two equal.
 */
export interface LeaderElectionModuleOptions {
  /** Name of the Lease (a DNS-1123 subdomain). Required. */
  readonly leaseName: string;
  /**
   * Name of this election inside the app (decorators, LeaderService).
   * @default `'default'`
   */
  readonly election?: string;
  /**
   * Namespace of the Lease.
   * @default the service-account namespace, else the kubeconfig context's, else `default`
   */
  readonly namespace?: string;
  /**
   * This instance's identity, written as the Lease holder. Must be unique per replica.
   * @default `POD_NAME` or `HOSTNAME`, plus `_` and 8 random hex digits
   */
  readonly identity?: string;
  /**
   * Cluster access.
   * @default `new KubeConfig().loadFromDefault()`
   */
  readonly kubeConfig?: KubernetesLeaseLockOptions['kubeConfig'];
  /**
   * Milliseconds a follower waits after the last observed change before taking over; written to the
   * Lease rounded up to whole seconds.
   * @default `15000`
   */
  readonly leaseDuration?: number;
  /**
   * Milliseconds a leader keeps leading without a successful renew; < leaseDuration.
   * @default `10000`
   */
  readonly renewDeadline?: number;
  /**
   * Milliseconds between retries after a failed request (a leader retries a failed renew at this
   * pace until its renew deadline), and a follower's cadence while its watch is down;
   * renewDeadline > 1.2 x retryPeriod.
   * @default `2000`
   */
  readonly retryPeriod?: number;
  /**
   * How often the leader renews: `retryPeriod`, or longer as long as a renew that times out can still
   * be retried before the deadline (`renewInterval + requestTimeout + retryPeriod < renewDeadline`).
   * See docs/tuning.md.
   * @default `renewDeadline / 2` if that keeps the rule, else `retryPeriod`
   */
  readonly renewInterval?: number;
  /**
   * Timeout of each API request in milliseconds; at most renewDeadline / 2.
   * @default `renewDeadline / 4`, at least `2000` (at most `renewDeadline / 2`)
   */
  readonly requestTimeout?: number;
  /**
   * Release the Lease on `app.close()` so another replica takes over at once.
   * @default `true`
   */
  readonly releaseOnShutdown?: boolean;
  /**
   * Upper bound on waiting for in-flight `@LeaderOnly` work at shutdown, in milliseconds.
   * @default `10000`
   */
  readonly shutdownGracePeriod?: number;
  /**
   * This replica's revision: set `POD_TEMPLATE_HASH` from the Pod's `pod-template-hash` label through
   * the downward API (a StatefulSet's: `controller-revision-hash`), as sample/k8s does. In a rolling
   * update the old leader then hands over to the newest replica of the new revision, so leadership
   * moves once (see docs/handover.md). `''`: none. Single elections only (not with `shares`).
   * @default the `POD_TEMPLATE_HASH` environment variable
   */
  readonly revision?: string;
  /**
   * Block application bootstrap until this instance leads. On a follower this blocks
   * until it leads, which may be never: `app.init()` / `app.listen()` do not return and the
   * `onApplicationBootstrap` hooks Nest runs after this module's wait, so a follower serves no HTTP
   * (readiness probes fail, liveness probes on the HTTP server restart it, a rolling update waiting for
   * a ready pod stalls). For processes without such probes; else wait with
   * `LeaderService.waitForLeadership()`.
   * @default `false`
   */
  readonly waitForLeadership?: boolean;
  /**
   * Logger (any Nest `LoggerService`); `false` disables logging.
   * @default Nest `Logger('LeaderElection')`
   */
  readonly logger?: LoggerService | false;
  /**
   * Labels put on the Lease when this instance creates it.
   * @default none
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Development without a cluster: this instance leads alone, at once, on an in-memory Lease (no
   * Kubernetes API, so `kubeConfig`, `namespace` and `events` are not used). Refused at start-up in a
   * pod (`KUBERNETES_SERVICE_HOST` set, or the service-account token file present): even a one-replica
   * Deployment runs two pods during every rollout, and only the election keeps them apart.
   *
   * `'if-no-kubeconfig'`: local mode only where no kubeconfig is found (no `KUBECONFIG`, no
   * `~/.kube/config`, not in a pod) and `NODE_ENV` is not `production`, else the election on the
   * cluster (or, without a kubeconfig, the start-up error). For development machines, where
   * `npm run start` sets no `NODE_ENV`.
   * @default `false`
   */
  readonly local?: boolean | 'if-no-kubeconfig';
  /**
   * Advanced: a custom lock instead of the Kubernetes Lease (e.g. an in-memory lock in tests).
   * When set, `kubeConfig`, `namespace` and `identity` are ignored (the lock has its identity).
   * @default a Kubernetes Lease (`KubernetesLeaseLock`)
   */
  readonly lock?: LeaseLock;
  /**
   * Record Kubernetes Events on the Lease when this instance starts and stops leading (client-go's
   * `<identity> became leader` / `<identity> stopped leading`, reason `LeaderElection`), and one per
   * fire of a `once` job caught up, coalesced, missed or interrupted (reasons `FireCaughtUp`,
   * `FireCoalesced`, `FireMissed`, `FireInterrupted`). Needs
   * `create` on `events` in the Lease's namespace; a failure to record is logged once and never
   * affects the election. `{ component }` sets the Events' source component (default
   * `nestjs-kube-leader`). Not available with a custom `lock`.
   * @default `false`
   */
  readonly events?: boolean | { readonly component?: string };
  /**
   * Metrics adapter, e.g. `new PrometheusElectionMetrics({ registry })` from
   * `nestjs-kube-leader/metrics` (prom-client), or your own {@link ElectionMetrics}.
   * @default none
   */
  readonly metrics?: ElectionMetrics;
  /**
   * Spread this election's `@LeaderOnly` jobs over this many shares (1 to 64), each a Lease of its
   * own (`<leaseName>-share-<i>`) with its own leader, so that the replicas share the work: each
   * leads about shares / replicas of them. A job (a method, or `@LeaderOnly({ job })`) always runs
   * on the same share. Replicas list themselves in one more Lease, `<leaseName>-members`. Not with
   * a custom `lock` or `waitForLeadership`.
   * @default none: one Lease, one leader for every job
   */
  readonly shares?: number;
  /**
   * Keep the EndpointSlice of a selector-less Service whose only endpoint is the leader, so that
   * clients reach the leader through the Service (see docs/leader-service.md): the leader writes
   * it after it starts leading and empties it before it releases the Lease; writes carry the
   * term's fencing token. Needs `get`, `create` and `patch` on `endpointslices` named
   * `sliceName` (group `discovery.k8s.io`). Single elections only (not with `shares`); not with a
   * custom `lock`; unused in local mode.
   * @default none
   */
  readonly leaderService?: LeaderServiceOptions;
  /**
   * Followers forward requests for `@LeaderOnly` HTTP handlers (those marked
   * `@LeaderOnly({ forward: true })`, or all with `allHandlers`) to the leader and pass its answer
   * back, instead of answering 503; the leader advertises its address in the Lease. Needs the app
   * created with `rawBody: true`. See docs/forwarding.md.
   * @default none: followers answer 503
   */
  readonly forwarding?: ForwardingOptions;
}

/** Implemented by a class passed to `forRootAsync({ useClass })` or `useExisting`. */
export interface LeaderElectionOptionsFactory {
  /** Returns the options of `LeaderElectionModule.forRootAsync({ useClass | useExisting })`. */
  createLeaderElectionOptions(): LeaderElectionModuleOptions | Promise<LeaderElectionModuleOptions>;
}
