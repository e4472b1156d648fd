import { ReplaySubject, type Observable } from 'rxjs';
import type { ElectorLogger, LeaderChangeEvent, LeaderElector } from './core/index.js';
import { describeError } from './core/errors.js';
import { LeaderChanges } from './leader-changes.js';
import { CHANGES_SUBSCRIBER_FAILED } from './leader-election.messages.js';

/**
 * One election inside an app: the engine plus an rxjs view of its changes. The subject replays the
 * current state to late subscribers and completes when the elector stops.
 */
export class Election {
  private readonly subject = new ReplaySubject<LeaderChangeEvent>(1);
  private readonly stream: Observable<LeaderChangeEvent>;

  constructor(
    /** Name of the election inside the app (decorators, `LeaderService`); default `'default'`. */
    readonly name: string,
    /** Name of the Lease the election runs on. */
    readonly leaseName: string,
    /** Namespace of the Lease; undefined with a custom `lock`. */
    readonly namespace: string | undefined,
    /** The election engine. */
    readonly elector: LeaderElector,
    /** Runs after the elector stopped (e.g. waits for the last Events to be recorded). Never throws. */
    private readonly afterStop?: () => Promise<void>,
    /** Where errors of {@link changes} subscribers (and start-up warnings) are logged. */
    readonly logger?: ElectorLogger,
  ) {
    elector.onChange((event) => this.subject.next(event));
    this.stream = new LeaderChanges<LeaderChangeEvent>(
      (error) => logger?.error(CHANGES_SUBSCRIBER_FAILED(name, describeError(error))),
      (subscriber) => this.subject.subscribe(subscriber),
    );
  }

  /**
   * The election's changes; replays the latest one to a new subscriber, completes on stop. A
   * subscriber that throws is logged and keeps neither the others nor the election from running.
   */
  changes(): Observable<LeaderChangeEvent> {
    return this.stream;
  }

  /**
   * Stops the elector ({@link LeaderElector.stop}: it releases the Lease if it leads, unless
   * `releaseOnShutdown` is false), completes {@link changes}, then (with `events`) waits for the last
   * Kubernetes Events to be recorded. Never rejects.
   */
  async stop(): Promise<void> {
    await this.elector.stop();
    this.subject.complete();
    await this.afterStop?.().catch(() => undefined);
  }
}
