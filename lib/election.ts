import { ReplaySubject, type Observable } from 'rxjs';
import type { LeaderChangeEvent, LeaderElector } from './core/index.js';

/**
 * One election inside an app: the engine plus an rxjs view of its changes. The subject replays the
 * current state to late subscribers and completes when the elector stops.
 */
export class Election {
  private readonly subject = new ReplaySubject<LeaderChangeEvent>(1);

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
  ) {
    elector.onChange((event) => this.subject.next(event));
  }

  /** The election's changes; replays the latest one to a new subscriber, completes on stop. */
  changes(): Observable<LeaderChangeEvent> {
    return this.subject.asObservable();
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
