/** Callers of `waitForLeadership()` waiting for this instance to lead. */
export class LeadershipWaiters {
  private readonly waiters = new Set<{
    resolve: () => void;
    reject: (error: unknown) => void;
  }>();

  /** Resolves on {@link resolveAll}; rejects on {@link rejectAll} or with the signal's reason. */
  wait(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.waiters.delete(waiter);
        reject(signal!.reason);
      };
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      this.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** This instance leads: every waiter resolves. */
  resolveAll(): void {
    for (const waiter of this.waiters) waiter.resolve();
    this.waiters.clear();
  }

  /** The elector stops: every waiter rejects with `error`. */
  rejectAll(error: unknown): void {
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters.clear();
  }
}
