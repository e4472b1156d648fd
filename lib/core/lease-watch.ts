import type { Clock, TimerHandle } from './clock.js';
import type { ElectorLogger } from './elector-options.js';
import { describeError, LockGoneError } from './errors.js';
import type { LeaseLock, LockWatch, LockWatchEvent } from './lock.js';

/** Longest pause between two attempts to re-open a failing watch (before jitter). */
const MAX_WATCH_BACKOFF = 30_000;

/** What a {@link LeaseWatch} needs from its elector. */
export interface LeaseWatchContext {
  readonly lock: LeaseLock;
  readonly clock: Clock;
  readonly random: () => number;
  /** Base of the re-open backoff, and how long a watch must last to count as healthy. */
  readonly retryPeriod: number;
  /** The election's name, for logs. */
  readonly name: string;
  readonly logger: ElectorLogger | undefined;
  /** Whether the elector still campaigns: no watch is (re-)opened otherwise. */
  isRunning(): boolean;
  /** The server answered (the watch opened, or an event arrived). */
  onReachable(): void;
  /** A change of the Lease; `resourceVersion` already points past it. */
  onEvent(event: LockWatchEvent): void;
  /** The watch ended with an error (counted like a failed request). */
  onFailed(error: unknown): void;
  /** The resourceVersion was too old (410): read the Lease again, the watch re-opens from there. */
  onGone(): void;
}

/**
 * The elector's watch on its Lease: one open watch at a time, resumed from the last
 * resourceVersion seen, re-opened at once after a normal server-side close and with a jittered
 * exponential backoff after failures.
 */
export class LeaseWatch {
  /** Where the next watch starts: the newest resourceVersion seen by reads, writes or events. */
  resourceVersion: string | undefined;
  private handle: LockWatch | null = null;
  private failures = 0;
  private reopenTimer: TimerHandle | undefined;

  constructor(private readonly context: LeaseWatchContext) {}

  /** True while a watch is open: its events keep the elector's view of the Lease current. */
  get isOpen(): boolean {
    return this.handle !== null;
  }

  /** Opens the watch unless one is open or a re-open is already scheduled. */
  ensureOpen(): void {
    if (!this.handle && this.reopenTimer === undefined) this.open();
  }

  /** Closes the watch and cancels any scheduled re-open; no callback runs afterwards. */
  close(): void {
    const handle = this.handle;
    this.handle = null;
    this.cancelReopen();
    handle?.close();
  }

  private open(): void {
    const context = this.context;
    if (!context.isRunning() || this.handle) return;
    let opened: LockWatch | null = null;
    const openedAt = context.clock.now();
    let events = 0;
    try {
      opened = context.lock.watch(
        {
          onOpen: () => {
            if (this.handle === opened) context.onReachable();
          },
          onEvent: (event) => {
            if (this.handle !== opened) return;
            events += 1;
            this.failures = 0;
            this.resourceVersion =
              event.type === 'BOOKMARK' ? event.resourceVersion : event.record.resourceVersion;
            context.onReachable();
            context.onEvent(event);
          },
          onClose: (error) => {
            if (this.handle !== opened) return;
            this.handle = null;
            this.onClosed(error, events, context.clock.now() - openedAt);
          },
        },
        { resourceVersion: this.resourceVersion },
      );
      this.handle = opened;
    } catch (error) {
      this.onClosed(error, 0, 0);
    }
  }

  private onClosed(error: unknown, events: number, openForMs: number): void {
    const context = this.context;
    if (!context.isRunning()) return;
    if (error) context.onFailed(error);
    if (error instanceof LockGoneError) {
      // Our resourceVersion is too old: read the current state, then watch from it.
      this.resourceVersion = undefined;
      context.onGone();
      return;
    }
    if (error) {
      this.failures += 1;
      if (this.failures === 1 || this.failures % 10 === 0) {
        context.logger?.warn(
          `Watch on ${context.name} failed (${describeError(error)}); re-watching`,
        );
      }
    } else if (events > 0 || openForMs >= context.retryPeriod) {
      // A normal server-side close: re-watch from where we were, at once.
      this.failures = 0;
      this.open();
      return;
    } else {
      this.failures += 1;
    }
    const backoff = Math.min(
      context.retryPeriod * 2 ** Math.min(this.failures - 1, 4),
      MAX_WATCH_BACKOFF,
    );
    this.cancelReopen();
    this.reopenTimer = context.clock.setTimeout(
      () => {
        this.reopenTimer = undefined;
        this.open();
      },
      backoff * (0.5 + context.random()),
    );
  }

  private cancelReopen(): void {
    if (this.reopenTimer === undefined) return;
    this.context.clock.clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
  }
}
