import { concat, from, Subject, type Observable } from 'rxjs';
import type { ElectorLogger, LeaderChangeEvent, LeaderElector } from './core/index.js';
import { describeError } from './core/errors.js';
import type { SpreadElector } from './core/spread/spread-elector.js';
import { LeaderChanges } from './leader-changes.js';
import { CHANGES_SUBSCRIBER_FAILED, SPREAD_NEEDS_JOB } from './leader-election.messages.js';

/**
 * One election inside an app: the engine (one Lease, or a {@link SpreadElector} over shares) plus
 * an rxjs view of its changes. The subject replays the current state to late subscribers (each
 * share's, for a spread election) and completes when the election stops.
 */
export class Election {
  private readonly subject = new Subject<LeaderChangeEvent>();
  /** The latest event of each share (of the one Lease, when not spread), replayed to subscribers. */
  private readonly latest = new Map<number, LeaderChangeEvent>();
  private readonly stream: Observable<LeaderChangeEvent>;
  private readonly single: LeaderElector | undefined;

  constructor(
    /** Name of the election inside the app (decorators, `LeaderService`); default `'default'`. */
    readonly name: string,
    /** Name of the Lease the election runs on (for a spread election, the shares' base name). */
    readonly leaseName: string,
    /** Namespace of the Lease; undefined with a custom `lock`. */
    readonly namespace: string | undefined,
    /** The election engine: one elector, or one per share. */
    readonly engine: LeaderElector | SpreadElector,
    /** Runs after the elector stopped (e.g. waits for the last Events to be recorded). Never throws. */
    private readonly afterStop?: () => Promise<void>,
    /** Where errors of {@link changes} subscribers (and start-up warnings) are logged. */
    readonly logger?: ElectorLogger,
  ) {
    const electors = 'electors' in engine ? engine.electors : [engine];
    this.single = 'electors' in engine ? undefined : engine;
    electors.forEach((elector, share) =>
      elector.onChange((event) => {
        const shared = this.single ? event : { ...event, share };
        this.latest.set(share, shared);
        this.subject.next(shared);
      }),
    );
    this.stream = new LeaderChanges<LeaderChangeEvent>(
      (error) => logger?.error(CHANGES_SUBSCRIBER_FAILED(name, describeError(error))),
      (subscriber) => concat(from([...this.latest.values()]), this.subject).subscribe(subscriber),
    );
  }

  /** The spread engine, when the election is spread over shares. */
  get spread(): SpreadElector | undefined {
    return this.single ? undefined : (this.engine as SpreadElector);
  }

  /**
   * The election's elector. A spread election has one per share: this throws, naming the per-job
   * methods to use instead ({@link electorFor}).
   */
  get elector(): LeaderElector {
    if (this.single) return this.single;
    const spread = this.engine as SpreadElector;
    throw new Error(SPREAD_NEEDS_JOB(this.name, spread.electors.length));
  }

  /** Every elector of the election: one, or one per share. */
  get electors(): readonly LeaderElector[] {
    return this.single ? [this.single] : (this.engine as SpreadElector).electors;
  }

  /** The elector that decides where `job` runs: the election's, or its share's. */
  electorFor(job: string): LeaderElector {
    return this.single ?? (this.engine as SpreadElector).electorFor(job);
  }

  /** Every Lease name the election uses (for a spread election, the shares' and the membership's). */
  leaseNames(): string[] {
    const spread = this.spread;
    if (!spread) return [this.leaseName];
    return [spread.membershipLeaseName, ...spread.electors.map((elector) => elector.name)];
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
   * Stops the election ({@link LeaderElector.stop}: every elector releases its Lease if it leads,
   * unless `releaseOnShutdown` is false), completes {@link changes}, then (with `events`) waits for
   * the last Kubernetes Events to be recorded. Never rejects.
   */
  async stop(): Promise<void> {
    await this.engine.stop();
    this.subject.complete();
    await this.afterStop?.().catch(() => undefined);
  }
}
