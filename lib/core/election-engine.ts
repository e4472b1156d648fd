import type { LeaderChangeEvent } from './elector-status.js';
import type { LeaderElector } from './leader-elector.js';

/**
 * The state of an election spread over shares' membership (who is alive among the replicas), for
 * health checks. Durations in milliseconds, on the engine's monotonic clock.
 */
export interface MembershipStatus {
  /** The membership Lease's name. */
  readonly lease: string;
  /** Live members as last seen, this replica included while it runs. */
  readonly members: readonly string[];
  /**
   * How long the membership's requests (renewals of this replica's entry, its watch) have been
   * failing, or undefined when the last one succeeded (a conflict is an answer, not a failure).
   */
  readonly failingForMs: number | undefined;
  /** The error of the last failed renewal, or else of the current failure streak; cleared by a success. */
  readonly lastError: unknown;
}

/** What an {@link ElectionEngine} reports beyond its electors' own `status()`. */
export interface ElectionEngineStatus {
  /**
   * An election spread over shares: its membership. It only decides how the shares are balanced,
   * never who may lead a share (each share is a Lease with its own election).
   */
  readonly membership?: MembershipStatus;
}

/**
 * One election as an app runs it, whatever its shape: one {@link LeaderElector} on one Lease, or
 * one per share of an election spread over shares. The Nest layer (decorators, `LeaderService`,
 * health, events) holds only this interface: it asks per job ({@link electorFor}) or walks
 * {@link electors}, and never needs to know which engine it has.
 */
export interface ElectionEngine {
  /** Every elector of the election: one per share (by share index) when spread, else the one. */
  readonly electors: readonly LeaderElector[];
  /**
   * The election's one elector, or undefined when it is spread over shares: there is no leader of
   * the election as a whole then, only one per share (ask per job).
   */
  readonly single: LeaderElector | undefined;
  /** This replica's identity (every elector's). */
  readonly identity: string;
  /**
   * The elector that decides whether `job` runs here: the election's, or its share's. This is the
   * per-job seam: what a job needs of its election beyond the elector's own API (e.g. a claim
   * written for each scheduled fire, the leader's address) belongs here.
   */
  electorFor(job: string): LeaderElector;
  /** The share `job` runs on, or undefined when the election is not spread. */
  shareOf(job: string): number | undefined;
  /**
   * Whether `job` must not run here even where {@link electorFor} leads: in an election spread
   * over shares, while replicas with another share count (a rollout changing `shares`) that map
   * the job to another share may run it. Always false for one Lease.
   */
  holdsBack(job: string): boolean;
  /**
   * Calls `listener` with every change of every elector, in order; when spread, each event has
   * `share` set (its Lease is `lease`). Returns an unsubscribe.
   */
  onChange(listener: (event: LeaderChangeEvent) => void): () => void;
  /** Every Lease name the election uses (when spread: the membership Lease's and each share's). */
  leaseNames(): string[];
  /** The engine's own parts beyond the electors (each elector has its `status()`). */
  status(): ElectionEngineStatus;
  /** Starts campaigning on every Lease. */
  start(): void;
  /**
   * Stops every elector (each releases its Lease if it leads, unless `releaseOnStop` is false) and
   * whatever else the engine runs. Never rejects.
   */
  stop(): Promise<void>;
}
