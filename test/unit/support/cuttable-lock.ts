import {
  LockUnavailableError,
  type LeaseRecord,
  type LeaseSpec,
  type LockCallOptions,
  type LockWatch,
  type LockWatchEvent,
  type LockWatchHandlers,
} from '../../../lib/core/index.js';
import { InMemoryLeaseLock } from '../../../lib/core/memory-lock.js';

/**
 * An in-memory lock that can be cut off on its own, whatever its identity (two processes that share
 * one identity), and whose watch can fall behind: while `buffering`, events wait in a queue that
 * {@link deliver} hands over later in one synchronous burst, as a slow connection delivers them.
 */
export class CuttableLock extends InMemoryLeaseLock {
  /** While true, every request fails as unreachable (the watch stays open). */
  cut = false;
  /** While true, watch events are queued instead of delivered. */
  buffering = false;
  private readonly queued: { handlers: LockWatchHandlers; event: LockWatchEvent }[] = [];

  /** Hands over the first `count` queued events (all by default) in one synchronous loop. */
  deliver(count = this.queued.length): void {
    for (const { handlers, event } of this.queued.splice(0, count)) handlers.onEvent(event);
  }

  /** Types of the queued events, for assertions on the set-up. */
  get queuedTypes(): string[] {
    return this.queued.map(({ event }) => event.type);
  }

  override get(options?: LockCallOptions): Promise<LeaseRecord | null> {
    return this.unlessCut(() => super.get(options));
  }

  override create(spec: LeaseSpec, options?: LockCallOptions): Promise<LeaseRecord> {
    return this.unlessCut(() => super.create(spec, options));
  }

  override update(
    spec: LeaseSpec,
    resourceVersion: string,
    options?: LockCallOptions,
  ): Promise<LeaseRecord> {
    return this.unlessCut(() => super.update(spec, resourceVersion, options));
  }

  override watch(handlers: LockWatchHandlers, options?: { resourceVersion?: string }): LockWatch {
    return super.watch(
      {
        ...handlers,
        onEvent: (event) => {
          if (this.buffering) this.queued.push({ handlers, event });
          else handlers.onEvent(event);
        },
      },
      options,
    );
  }

  private async unlessCut<T>(request: () => Promise<T>): Promise<T> {
    await Promise.resolve();
    if (this.cut) throw new LockUnavailableError('connection refused (cut off)');
    return request();
  }
}
