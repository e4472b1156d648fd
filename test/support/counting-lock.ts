import type {
  LeaseLock,
  LeaseRecord,
  LeaseSpec,
  LockCallOptions,
  LockOperation,
  LockWatch,
  LockWatchHandlers,
} from '../../lib/core/index.js';

/**
 * Wraps a real lock and counts the requests it sends (each call is one HTTP request to the API
 * server), so tests can assert how many requests an election made.
 */
export class CountingLock implements LeaseLock {
  readonly counts: Record<LockOperation, number> = { get: 0, create: 0, update: 0, watch: 0 };
  /**
   * Since when (Date.now()) the current watch has been answered by the server (opened, or an event
   * came); undefined while no watch is live. What the elector calls a healthy watch.
   */
  watchLiveSince: number | undefined;

  constructor(private readonly inner: LeaseLock) {}

  get identity(): string {
    return this.inner.identity;
  }

  get description(): string {
    return this.inner.description;
  }

  get(options?: LockCallOptions): Promise<LeaseRecord | null> {
    this.counts.get += 1;
    return this.inner.get(options);
  }

  create(spec: LeaseSpec, options?: LockCallOptions): Promise<LeaseRecord> {
    this.counts.create += 1;
    return this.inner.create(spec, options);
  }

  update(
    spec: LeaseSpec,
    resourceVersion: string,
    options?: LockCallOptions,
  ): Promise<LeaseRecord> {
    this.counts.update += 1;
    return this.inner.update(spec, resourceVersion, options);
  }

  watch(handlers: LockWatchHandlers, options?: { resourceVersion?: string }): LockWatch {
    this.counts.watch += 1;
    const live = () => (this.watchLiveSince ??= Date.now());
    return this.inner.watch(
      {
        onOpen: () => {
          live();
          handlers.onOpen?.();
        },
        onEvent: (event) => {
          live();
          handlers.onEvent(event);
        },
        onClose: (error) => {
          this.watchLiveSince = undefined;
          handlers.onClose(error);
        },
      },
      options,
    );
  }

  close(): void {
    this.inner.close?.();
  }

  snapshot() {
    return { ...this.counts };
  }
}
