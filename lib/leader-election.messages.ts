import { describeError } from './core/errors.js';
import { printable } from './core/foreign-text.js';

export const UNKNOWN_ELECTION = (name: string, known: readonly string[]) =>
  `No leader election named "${name}" is registered (registered: ${known.length ? known.map((n) => `"${n}"`).join(', ') : 'none'}). ` +
  `Register it with LeaderElectionModule.forRoot({ election: '${name}', leaseName: '...' }).`;

export const DUPLICATE_ELECTION = (name: string) =>
  `A leader election named "${name}" is already registered in this application. ` +
  `Give each LeaderElectionModule.forRoot() its own "election" (the default is "default").`;

export const SPREAD_NEEDS_JOB = (name: string, shares: number) =>
  `The leader election "${name}" is spread over ${shares} shares: each job has its own leader. ` +
  `Ask per job (LeaderService.isLeaderFor(job, '${name}'), getLeaderFor(job, '${name}')).`;

export const LEASE_NAME_TAKEN = (lease: string, first: string, second: string) =>
  `The leader elections "${first}" and "${second}" would both use the Lease "${lease}". ` +
  `Give them Lease names that do not overlap (an election with shares also uses <leaseName>-members ` +
  `and <leaseName>-share-<i>).`;

export const LEADER_ONLY_NOT_A_METHOD = (target: string, key: string) =>
  `@LeaderOnly() can only decorate methods or classes, but ${target}.${key} is not a method.`;

export const ON_LEADER_CHANGE_NOT_A_METHOD = (target: string, key: string) =>
  `@OnLeaderChange() can only decorate methods, but ${target}.${key} is not a method.`;

export const LEADER_ONLY_WITHOUT_REGISTRY = (target: string, key: string) =>
  `@LeaderOnly() on ${target}.${key} was called on an instance that Nest did not create in an application importing ` +
  `LeaderElectionModule.forRoot(). Register ${target} as a provider (or controller) of that application.`;

export const LEADER_ONLY_REQUEST_SCOPED = (target: string, key: string) =>
  `@LeaderOnly() on ${target}.${key}: ${target} is request- or transient-scoped. The gate works per call, ` +
  `but scheduled jobs (@Cron/@Interval/@Timeout) are not supported on such providers; make it a singleton.`;

export const SKIPPED_NOT_CONFIRMED = (
  target: string,
  key: string,
  election: string,
  leader: string | null,
) =>
  `Skipped ${target}.${key}: leadership of election "${election}" could not be confirmed by a renew (leader: ${leader === null ? 'none' : printable(leader)})`;

/** Said once per job and leader term: a job on a timer would otherwise say it at every tick. */
const ONCE = 'said once per job and term';

export const SKIPPED_NOT_LEADER = (
  target: string,
  key: string,
  election: string,
  lease: string,
  leader: string | null,
) =>
  `Skipped ${target}.${key}: this instance does not lead election "${election}" (${lease}, leader: ${leader === null ? 'none' : printable(leader)}; ${ONCE})`;

/** The Lease names this instance, which does not lead yet (the first-election wait). */
export const SKIPPED_NOT_LEADER_YET = (
  target: string,
  key: string,
  election: string,
  lease: string,
) =>
  `Skipped ${target}.${key}: this instance does not lead election "${election}" yet (${lease}): it ` +
  'holds the Lease and leads one lease duration after creating it, once no earlier leader can still ' +
  `be running (${ONCE})`;

/** The Lease names this instance's identity, but not as a term of this process. */
export const SKIPPED_IDENTITY_ELSEWHERE = (
  target: string,
  key: string,
  election: string,
  lease: string,
) =>
  `Skipped ${target}.${key}: this instance does not lead election "${election}" (${lease}): the ` +
  "Lease still names this instance's identity, but it holds no current term (its renew failed, or " +
  `another process uses its identity) (${ONCE})`;

/** The start-up line of an election on a Kubernetes Lease. */
export const CAMPAIGNING = (
  identity: string,
  namespace: string,
  leaseName: string,
  server: string,
  namespaceSource: string,
) =>
  `${identity} campaigning for lease ${namespace}/${leaseName} on ${server} (namespace from ${namespaceSource})`;

export const NOT_LEADER_RESPONSE = (election: string) =>
  `This instance does not lead "${election}"; send the request to the leader.`;

export const ON_LEADER_CHANGE_FAILED = (target: string, key: string, error: unknown) =>
  `@OnLeaderChange() handler ${target}.${key} failed: ${error instanceof Error ? error.message : String(error)}`;

export const ON_LEADER_CHANGE_REQUEST_SCOPED = (target: string, key: string) =>
  `@OnLeaderChange() on ${target}.${key} is ignored: ${target} is request- or transient-scoped`;

/** The rule of an argument that names something: an election, a job, an identity. */
export const NON_EMPTY_STRING = 'must be a non-empty string';

/** A decorator's `election` (or `job`) argument that is not a non-empty string. */
export const DECORATOR_ARGUMENT_NOT_A_NAME = (usage: string, argument: string, value: unknown) =>
  `${usage}: ${argument} ${NON_EMPTY_STRING}, got ${String(value)}`;

export const CHANGES_SUBSCRIBER_FAILED = (election: string, error: string) =>
  `A changes() subscriber of "${election}" threw (the election and the other subscribers go on): ${error}`;

export const NO_SHUTDOWN_HOOKS = (leaseName: string) =>
  `Nothing handles SIGTERM, so it will not release "${leaseName}": another replica then takes over one lease ` +
  'duration later instead of at once. Call app.enableShutdownHooks() after creating the app (or set ' +
  'releaseOnShutdown: false to silence this).';

export const API_NOT_REACHED = (lease: string, renewDeadline: number, lastError: unknown) =>
  `${lease} has not reached the API server within the renew deadline (${renewDeadline / 1000} s) of ` +
  'its start, so this instance cannot lead; it keeps retrying. ' +
  (lastError === undefined
    ? 'No request has completed yet.'
    : `Last error: ${describeError(lastError)}`);

export const SCHEDULED_WITHOUT_SCHEDULER = (target: string, key: string, decorator: string) =>
  `@LeaderOnly() ${target}.${key} has ${decorator}, but no ScheduleModule is imported: it never runs. ` +
  "Import ScheduleModule.forRoot() from '@nestjs/schedule'.";

const SCHEDULERS = (count: number, importers: readonly string[]) =>
  `ScheduleModule.forRoot() is imported ${count} times` +
  (importers.length ? ` (by ${importers.join(', ')})` : '') +
  ', and each import schedules every @Cron, @Interval and @Timeout of the app';
const IMPORT_SCHEDULE_ONCE =
  'Import ScheduleModule.forRoot() once, in the root module (it is global: the other modules need no import).';

export const LEADER_ONLY_SCHEDULED_TWICE = (
  jobs: readonly string[],
  count: number,
  importers: readonly string[],
) =>
  `@LeaderOnly() ${jobs.join(', ')} would run ${count} times per tick: ${SCHEDULERS(count, importers)}. ` +
  IMPORT_SCHEDULE_ONCE;

export const SCHEDULE_MODULE_TWICE = (count: number, importers: readonly string[]) =>
  `${SCHEDULERS(count, importers)}: each job runs ${count} times per tick. ${IMPORT_SCHEDULE_ONCE}`;

export const LOCAL_MODE = (identity: string, leaseName: string, why: string) =>
  `Local mode${why ? ` (${why})` : ''}: ${identity} leads "${leaseName}" alone, on an in-memory Lease (no Kubernetes API, no other ` +
  'replica). For development only: it is refused in a cluster.';

export const LOCAL_MODE_CLIENT_NODE = (problem: string) =>
  `${problem} Local mode runs without it; against a cluster the app would stop at start-up.`;

/** `local: true` in a pod; `why` is what showed it (the variable, or the service-account token). */
export const LOCAL_MODE_IN_CLUSTER = (why: string) =>
  `must not be true in a cluster (${why}): even a one-replica Deployment runs two ` +
  'pods during every rollout, and only the election keeps them apart. Set it from your development ' +
  "configuration only, or use local: 'if-no-kubeconfig' (local only where no kubeconfig is found)";

export const IN_CLUSTER_BY_VARIABLE = 'KUBERNETES_SERVICE_HOST is set';

export const IN_CLUSTER_BY_TOKEN = (tokenFile: string) => `this is a pod: ${tokenFile} exists`;

export const LOCAL_MODE_WITH_LOCK = 'cannot be combined with a custom "lock"';

export const UNKNOWN_OPTION = (owner: string, known: ReadonlySet<string>) =>
  `is not an option of ${owner} (known: ${[...known].join(', ')})`;

export const METRIC_REGISTERED_OTHERWISE = (
  name: string,
  kind: string,
  labelNames: readonly string[],
) =>
  `The metric "${name}" is already registered on this registry as something else ` +
  `(expected a ${kind} with labels ${labelNames.join(', ')}). ` +
  `Pass PrometheusElectionMetrics another registry, or remove that metric.`;

// LeaderElectionTestingModule and LeaderElectionTestingService.

export const MUST_BE_BOOLEAN = 'must be a boolean';

export const TESTING_FOR_ROOT_TAKES_OBJECT =
  'LeaderElectionTestingModule.forRoot() takes an object';

export const OTHER_LEADER_IS_IDENTITY = (identity: string) =>
  `must differ from identity ("${identity}")`;

export const SET_LEADER_NEEDS_IDENTITY = `setLeader(identity): identity ${NON_EMPTY_STRING}`;

export const NOT_A_TESTING_ELECTION = (election: string) =>
  `The election "${election}" was not registered by LeaderElectionTestingModule.forRoot(); ` +
  `import LeaderElectionTestingModule.forRoot(${election === 'default' ? '' : `{ election: '${election}' }`}) instead of LeaderElectionModule in the test.`;

export const TESTING_ELECTION_NOT_STARTED = (election: string) =>
  `The election "${election}" has not started: call \`await moduleRef.init()\` (or \`app.init()\`) first; ` +
  '`Test.createTestingModule(...).compile()` alone does not run lifecycle hooks.';

export const TESTING_ELECTION_STOPPED = (election: string) =>
  `The election "${election}" is stopped (the app was closed).`;

export const TESTING_CHANGE_TIMED_OUT = (
  ms: number,
  what: string,
  leader: string | null | undefined,
  phase: string,
) =>
  `LeaderElectionTestingModule: timed out after ${ms} ms waiting for ${what} ` +
  `(leader: ${leader ?? 'none'}, phase: ${phase}). Jest fake timers that fake ` +
  '`queueMicrotask` or `setImmediate` stop the in-memory Lease: keep them real.';

/** The reason of `LeaderService.leadershipSignalFor`'s aborted signal for a job held back. */
export const JOB_HELD_BACK = (job: string, election: string) =>
  `job ${printable(job)} of election "${election}" is held back here: replicas with another share count ` +
  '(a rollout changing shares) may run it';

export const SPREAD_WITHOUT_REVISION =
  'applies to single elections only: with shares, each share hands over by its own plan (a ' +
  'replica below its quota). Leave it unset (POD_TEMPLATE_HASH is then ignored)';

// The leader-only Service (leader-service.ts).

export const LEADER_SERVICE_WITH_SHARES =
  'applies to single elections only: with "shares" each share has its own leader, so no one ' +
  'replica is the leader a Service could name. Remove one of the two options';

export const LEADER_SERVICE_WITH_LOCK =
  'needs the Kubernetes Lease: a custom "lock" has no cluster to write the EndpointSlice to';

export const LEADER_SERVICE_SHAPE =
  'must be { name, port: { name, port, protocol? }, sliceName?, podIP?, podName? }: the ' +
  "selector-less Service's name and its port";

export const LEADER_SERVICE_POD_IP =
  "must be this pod's IPv4 or IPv6 address: set POD_IP from status.podIP through the downward " +
  'API (as sample/k8s/deployment.yaml does), or pass leaderService.podIP';

export const LEADER_SERVICE_POD_NAME =
  "must be this pod's name (the endpoint's targetRef): set POD_NAME from metadata.name through " +
  'the downward API, or pass leaderService.podName';

export const LEADER_SLICE_WRITTEN = (slice: string, ip: string, token: string) =>
  `The leader's EndpointSlice ${slice} names this pod (${ip}, fencing token ${token})`;

export const LEADER_SLICE_EMPTIED = (slice: string) =>
  `The leader's EndpointSlice ${slice} emptied before the release`;

export const LEADER_SLICE_FAILED = (action: 'write' | 'empty', error: string) =>
  `Could not ${action} the leader's EndpointSlice (the election goes on): ${error}`;
