import { concat, from, Subject, type Observable } from 'rxjs';
import {
  type LeaderElector,
  type ElectionEngine,
  type ElectorLogger,
  type LeaderChangeEvent,
} from './core/index.js';
import { describeError, SpreadElectionError } from './core/errors.js';
import type { FireEvent } from './fires/fire-events.js';
import type { ResolvedForwarding } from './forwarding/forwarding-options.js';
import { LeaderChanges } from './leader-changes.js';
import { CHANGES_SUBSCRIBER_FAILED, SPREAD_NEEDS_JOB } from './leader-election.messages.js';

/**
 * One election inside an app: its engine (one Lease, or one per share: an {@link ElectionEngine}
 * either way) plus an rxjs view of its changes. The subject replays the current state to late
 * subscribers (each share's, for a spread election) and completes when the election stops.
 */
export class Election {
  private readonly subject = new Subject<LeaderChangeEvent>();
  /** The latest event of each share (of the one Lease, when not spread), replayed to subscribers. */
  private readonly latest = new Map<number, LeaderChangeEvent>();
  private readonly stream: Observable<LeaderChangeEvent>;
  /** Whether this replica has led in this election (see {@link closesConnections}). */
  private hasLed = false;

  constructor(
    /** Name of the election inside the app (decorators, `LeaderService`); default `'default'`. */
    readonly name: string,
    /** Name of the Lease the election runs on (for a spread election, the shares' base name). */
    readonly leaseName: string,
    /** Namespace of the Lease; undefined with a custom `lock`. */
    readonly namespace: string | undefined,
    /** The election engine: `SingleElection` on one Lease, `SpreadElector` over shares. */
    readonly engine: ElectionEngine,
    /** Runs after the elector stopped (e.g. waits for the last Events to be recorded). Never throws. */
    private readonly afterStop?: () => Promise<void>,
    /** Where errors of {@link changes} subscribers (and start-up warnings) are logged. */
    readonly logger?: ElectorLogger,
    /** With `events`: records an Event about `job` on the Lease of its elector. Never throws. */
    private readonly eventRecorder?: (job: string, event: FireEvent) => void,
    /** With the module's `forwarding` option: how followers forward requests to the leader. */
    readonly forwarding?: ResolvedForwarding,
    /** With `leaderService`: the leader keeps the leader-only Service's EndpointSlice. */
    readonly keepsLeaderSlice = false,
  ) {
    this.engine.onChange((event) => {
      if (event.isLeader) this.hasLed = true;
      this.latest.set(event.share ?? 0, event);
      this.subject.next(event);
    });
    this.stream = new LeaderChanges<LeaderChangeEvent>(
      (error) => logger?.error(CHANGES_SUBSCRIBER_FAILED(name, describeError(error))),
      (subscriber) => concat(from([...this.latest.values()]), this.subject).subscribe(subscriber),
    );
  }

  /**
   * Whether a non-leader's answer to a `@LeaderOnly` HTTP handler (refused or forwarded) closes its
   * connection: with `leaderService`, once this replica has led. A client that connected to it
   * through the leader-only Service while it led then connects again, and reaches the leader the
   * slice names by then. A replica that never led was never in the slice: its connections came
   * another way and stay open.
   */
  closesConnections(): boolean {
    return this.keepsLeaderSlice && this.hasLed;
  }

  /**
   * The election's elector. A spread election has one per share: this throws a
   * `SpreadElectionError` (a `LeaderElectionError`), naming the per-job methods to use
   * instead ({@link electorFor}).
   */
  get elector(): LeaderElector {
    const single = this.engine.single;
    if (single) return single;
    throw new SpreadElectionError(SPREAD_NEEDS_JOB(this.name, this.engine.electors.length));
  }

  /** Every elector of the election: one, or one per share. */
  get electors(): readonly LeaderElector[] {
    return this.engine.electors;
  }

  /** The elector that decides where `job` runs: the election's, or its share's. */
  electorFor(job: string): LeaderElector {
    return this.engine.electorFor(job);
  }

  /**
   * Whether `job` is held back here although its elector may lead: replicas with another share
   * count may run it (see `ElectionEngine.holdsBack`). Never for an election on one Lease.
   */
  holdsBack(job: string): boolean {
    return this.engine.holdsBack(job);
  }

  /**
   * Records a Kubernetes Event about a fire of `job` on the Lease deciding it (with the module's
   * `events` option; nothing without).
   */
  recordEvent(job: string, event: FireEvent): void {
    this.eventRecorder?.(job, event);
  }

  /** Every Lease name the election uses (for a spread election, the shares' and the membership's). */
  leaseNames(): string[] {
    return this.engine.leaseNames();
  }

  /**
   * The election's changes (each share's, for a spread election, with `share` set); replays the
   * latest one to a new subscriber, completes on stop. A subscriber that throws is logged and keeps
   * neither the others nor the election from running.
   */
  changes(): Observable<LeaderChangeEvent> {
    return this.stream;
  }

  /** Starts campaigning. */
  start(): void {
    this.engine.start();
  }

  /**
   * Stops the election ({@link ElectionEngine.stop}: every elector releases its Lease if it leads,
   * unless `releaseOnShutdown` is false), completes {@link changes}, then (with `events`) waits for
   * the last Kubernetes Events to be recorded. Never rejects.
   */
  async stop(): Promise<void> {
    await this.engine.stop();
    this.subject.complete();
    await this.afterStop?.().catch(() => undefined);
  }
}
