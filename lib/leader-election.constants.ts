/** Name of the election registered by `forRoot()` without an `election`. */
export const DEFAULT_ELECTION = 'default';

/** Metadata: the election a `@LeaderOnly()` method or class is gated on. */
export const LEADER_ONLY_METADATA = 'nestjs-kube-leader:leader-only';

/** Metadata: the job name of a `@LeaderOnly()` method (which share runs it, in a spread election). */
export const LEADER_ONLY_JOB_METADATA = 'nestjs-kube-leader:leader-only-job';
/** The `once` options of a `@LeaderOnly({ once: true })` method. */
export const LEADER_ONLY_ONCE_METADATA = 'nestjs-kube-leader:leader-only-once';

/** Metadata: whether a `@LeaderOnly()` handler or class forwards followers' requests to the leader. */
export const LEADER_ONLY_FORWARD_METADATA = 'nestjs-kube-leader:leader-only-forward';

/** Metadata: elections whose changes an `@OnLeaderChange()` method receives. */
export const ON_LEADER_CHANGE_METADATA = 'nestjs-kube-leader:on-leader-change';

/** Property through which `@LeaderOnly()` methods reach their app's election registry. */
export const REGISTRY_PROPERTY = '__nestjsKubeLeaderRegistry';

/** Response header naming the current leader on a 503 from a follower. */
export const LEADER_HEADER = 'X-Leader';

// Metadata keys set by Nest itself (string values of @nestjs/common / websockets / microservices
// constants, which are stable across Nest 11 and 12), used to tell handlers from providers.
export const NEST_CONTROLLER_WATERMARK = '__controller__';
export const NEST_GATEWAY_METADATA = 'websockets:is_gateway';
export const NEST_MESSAGE_PATTERN_METADATA = 'microservices:pattern';
