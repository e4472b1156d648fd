import type { FencingToken } from './fencing-token.js';

/** What an elector reports about itself: change events, status snapshots, admitted work. */

/**
 * Why a {@link LeaderChangeEvent} was emitted:
 * - `acquired`: this instance started leading;
 * - `lost`: it stopped leading (renew deadline passed, another holder, another process with its
 *   identity);
 * - `shutting-down`: it is stopping (no new leader work; while it waits for in-flight work, the
 *   Lease still names it) or stopped without releasing;
 * - `stepping-down`: it steps down on purpose (`stepDown()`): no new leader work while it waits for
 *   in-flight work, then it releases;
 * - `released`: it released the Lease (stopping, or stepping down);
 * - `observed`: another instance's change (a new holder, a release, an expiry, a deletion).
 */
export type LeaderChangeReason =
  'acquired' | 'lost' | 'shutting-down' | 'stepping-down' | 'released' | 'observed';

/** Emitted once per real change of (who leads, whether we lead), in order, on every instance. */
export interface LeaderChangeEvent {
  /** Name of the election (the Lease name unless configured otherwise). */
  readonly lease: string;
  /** This instance's identity. */
  readonly identity: string;
  /** Whether this instance leads now. */
  readonly isLeader: boolean;
  /** The current holder as observed, or null when the lease is free or unknown. */
  readonly leader: string | null;
  /** The holder named by the previous event, or null. */
  readonly previousLeader: string | null;
  /**
   * While this instance leads: the fencing token of its term (the resourceVersion of the write
   * that acquired it). Pass it to downstream systems so they can reject writes from a stale
   * leader. Null while following.
   */
  readonly fencingToken: FencingToken | null;
  /**
   * The term as people count it: `leaseTransitions` of our term (while leading) or of the record
   * as observed (while following). Informational: it restarts when the Lease is re-created.
   */
  readonly term: number | null;
  /** Why the event was emitted: see {@link LeaderChangeReason}. */
  readonly reason: LeaderChangeReason;
  /**
   * In an election spread over shares (`shares` option): the share whose leadership changed (its
   * Lease is `lease`). Undefined in an election of one Lease.
   */
  readonly share?: number;
  /** Wall-clock time of the change. */
  readonly at: Date;
}

/**
 * A snapshot of an elector's state for health checks ({@link LeaderElector.status}). Durations in
 * milliseconds, measured on the elector's monotonic clock.
 */
export interface ElectorStatus {
  /** idle (not started), running, stopping or stopped. */
  readonly phase: ElectorPhase;
  /** Whether this instance leads now (same as {@link LeaderElector.isLeader}). */
  readonly isLeader: boolean;
  /**
   * Whether this instance holds the lease by its own account. Normally equal to `isLeader`; true
   * while `isLeader` is false when the renew deadline has passed but the elector has not yet
   * reacted (its timers did not run: a stalled event loop or a stuck elector).
   */
  readonly holdsLease: boolean;
  /** The holder as last observed, or null. */
  readonly leader: string | null;
  /** Time since the start of the last successful renew, while holding the lease. */
  readonly lastRenewAgoMs: number | undefined;
  /** Time since the last successful request or watch event, if any. */
  readonly lastSuccessAgoMs: number | undefined;
  /**
   * How long requests to the API server have been failing (network errors, 5xx, timeouts, 401/403,
   * rejected requests; a conflict is an answer, not a failure), or undefined when the last one
   * succeeded.
   */
  readonly failingForMs: number | undefined;
  /**
   * The error of the last failed election attempt (e.g. an RBAC denial on update while the watch
   * works), or else of the current failure streak of requests (e.g. a failing watch); cleared by
   * the next success.
   */
  readonly lastError: unknown;
  /** The elector's `leaseDuration` (the watchdog's base). */
  readonly leaseDuration: number;
  /** The elector's `renewDeadline`. */
  readonly renewDeadline: number;
}

/** A unit of leader-only work admitted by {@link LeaderElector.beginLeaderWork}. */
export interface LeaderWork {
  /**
   * Aborted when leadership ends (loss or shutdown): a notification. It aborts no later than
   * `isCurrent()` or `isLeader()` first answer false, but a process that was paused learns of it
   * only when it next asks: call {@link LeaderWork.isCurrent} right before each side effect.
   */
  readonly signal: AbortSignal;
  /** The fencing token of the leadership term the work runs in. */
  readonly fencingToken: FencingToken;
  /**
   * Whether the leadership term this work was admitted in still leads, computed from the clocks
   * now (false after a pause past the renew deadline, before any timer ran; the signal is then
   * aborted too). Check it right before each side effect.
   */
  isCurrent(): boolean;
  /** Must be called exactly once when the work ends. */
  end(): void;
}

/** Phase of the elector's life. */
export type ElectorPhase = 'idle' | 'running' | 'stopping' | 'stopped';
