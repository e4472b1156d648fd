import type { Clock, TimerHandle } from './clock.js';
import type { ElectorLogger } from './elector-options.js';
import { WATCH_FAILED, WATCH_NOT_OPENED, WATCH_SILENT, WATCH_STALE } from './elector.messages.js';
import { LockGoneError, LockUnavailableError } from './errors.js';
import { FencingToken } from './fencing-token.js';
import type { LeaseLock, LockWatch, LockWatchEvent } from './lock.js';

/** Longest pause between two attempts to re-open a failing watch (before jitter). */
const MAX_WATCH_BACKOFF = 30_000;

/**
 * Longest silence (no event, no bookmark) an open watch may keep before it is taken for dead and
 * re-opened. The lock asks for bookmarks (`allowWatchBookmarks`), which the API server sends about
 * once a minute, and a held Lease changes every renew interval, so a healthy watch is never silent
 * this long: 2.5 minutes leave room for one missed bookmark plus delays. A black-holed connection
 * (open, but nothing arrives) otherwise keeps the watch forever: client-node 1.x has no idle timeout.
 */
export const WATCH_SILENCE_LIMIT = 150_000;

/**
 * Retry periods a watch may go on delivering nothing at or past a resourceVersion that a read or
 * write of this process has shown, before it is taken for stale, closed and re-opened like a failed
 * one. An API server cut from etcd keeps its watches open with bookmarks at its last
 * resourceVersion, so they are never silent; a healthy watch delivers a write within milliseconds.
 * 8 s with the default timings.
 */
export const STALE_WATCH_RETRY_PERIODS = 4;

/** What a {@link LeaseWatch} needs from its elector. */
export interface LeaseWatchContext {
  readonly lock: LeaseLock;
  readonly clock: Clock;
  readonly random: () => number;
  /** Base of the re-open backoff, and how long a watch must last to count as healthy. */
  readonly retryPeriod: number;
  /** How long a watch may take to open (the server's answer) before it is re-opened. */
  readonly requestTimeout: number;
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
 * exponential backoff after failures. A watch that does not open within the request timeout, or that
 * stays silent for {@link WATCH_SILENCE_LIMIT}, is closed and re-opened like a failed one.
 */
export class LeaseWatch {
  private newest: string | undefined;
  /** The highest resourceVersion any read, write or event has shown. */
  private known: string | undefined;
  /** The highest version the open watch started from or delivered: it covers what is not newer. */
  private covered: string | undefined;
  /** Armed while {@link known} is past {@link covered}: fires after the stale bound. */
  private ahead: TimerHandle | undefined;
  private handle: LockWatch | null = null;
  /** Whether the server answered the open watch (it opened, or an event came). */
  private answered = false;
  private failures = 0;
  /** Since when the watch has been answering without a failure (kept across normal re-watches). */
  private healthySince: number | undefined;
  private reopenTimer: TimerHandle | undefined;
  /** Checks that the open watch opened in time and is not silent (see {@link WATCH_SILENCE_LIMIT}). */
  private watchdog: TimerHandle | undefined;
  private sessions = 0;
  /** The resourceVersion of the last event or bookmark delivered (a resume from it misses nothing). */
  private delivered: string | undefined;

  constructor(private readonly context: LeaseWatchContext) {}

  /** Where the next watch starts: the newest resourceVersion seen by reads, writes or events. */
  get resourceVersion(): string | undefined {
    return this.newest;
  }

  set resourceVersion(version: string | undefined) {
    this.newest = version;
    this.known = higher(this.known, version);
    this.checkAhead();
  }

  /**
   * Arms the stale check while a version past what the open watch covers is known (a read or
   * write went beyond it), and disarms it once the watch delivers that far.
   */
  private checkAhead(): void {
    const behind = this.handle !== null && this.answered && isPast(this.known, this.covered);
    if (!behind) return this.disarmAhead();
    if (this.ahead !== undefined) return;
    const clock = this.context.clock;
    const limit = STALE_WATCH_RETRY_PERIODS * this.context.retryPeriod;
    const handle = this.handle!;
    this.ahead = clock.setTimeout(() => {
      this.ahead = undefined;
      if (this.handle !== handle) return;
      // Stale: closed and re-opened like a failed watch. What is known starts again from the
      // version it re-opens from: an older one (a restored etcd) never re-arms this check alone.
      const error = new LockUnavailableError(
        WATCH_STALE(this.covered ?? '', this.known ?? '', limit),
      );
      this.known = this.newest;
      this.handle = null;
      this.cancelWatchdog();
      handle.close();
      this.onClosed(error, 0, limit);
    }, limit);
  }

  private disarmAhead(): void {
    if (this.ahead === undefined) return;
    this.context.clock.clearTimeout(this.ahead);
    this.ahead = undefined;
  }

  /** True while a watch is open: its events keep the elector's view of the Lease current. */
  get isOpen(): boolean {
    return this.handle !== null;
  }

  /** True while a watch is open and the server has answered it: changes will come through it. */
  get isLive(): boolean {
    return this.handle !== null && this.answered;
  }

  /**
   * Counts the unbroken runs of watches: events of one session are every change of the Lease, in
   * order. A watch resumed from the last event or bookmark delivered continues the session; one
   * opened without a resourceVersion, after a 410, or from a version a read or write set may have
   * missed changes, and starts a new one.
   */
  get session(): number {
    return this.sessions;
  }

  /** How long the watch has been answering without a failure, ms (0 when it is not). */
  healthyFor(now: number): number {
    return this.isLive && this.healthySince !== undefined ? now - this.healthySince : 0;
  }

  /** Opens the watch unless one is open or a re-open is already scheduled. */
  ensureOpen(): void {
    if (!this.handle && this.reopenTimer === undefined) this.open();
  }

  /** Closes the watch and cancels any scheduled re-open; no callback runs afterwards. */
  close(): void {
    const handle = this.handle;
    this.handle = null;
    this.healthySince = undefined;
    this.cancelReopen();
    this.cancelWatchdog();
    this.disarmAhead();
    handle?.close();
  }

  private open(): void {
    const context = this.context;
    if (!context.isRunning() || this.handle) return;
    let opened: LockWatch | null = null;
    const openedAt = context.clock.now();
    let events = 0;
    // Until it opens, the watch must open by `openedAt + requestTimeout`; then it must hear from
    // the server (an event or bookmark) every WATCH_SILENCE_LIMIT.
    let openAt: number | undefined;
    let lastHeard = openedAt;
    const resumed = this.resourceVersion !== undefined && this.resourceVersion === this.delivered;
    this.covered = this.newest;
    this.disarmAhead();
    if (!resumed) this.sessions += 1;
    const check = () => {
      this.watchdog = undefined;
      if (this.handle !== opened || !opened) return;
      const now = context.clock.now();
      const deadline =
        openAt === undefined ? openedAt + context.requestTimeout : lastHeard + WATCH_SILENCE_LIMIT;
      if (now < deadline) {
        this.watchdog = context.clock.setTimeout(check, deadline - now);
        return;
      }
      // Dead: close it (the lock aborts the request) and re-open it like a failed watch.
      const error = new LockUnavailableError(
        openAt === undefined
          ? WATCH_NOT_OPENED(context.requestTimeout)
          : WATCH_SILENT(Math.round((now - lastHeard) / 1000)),
      );
      this.handle = null;
      opened.close();
      this.onClosed(error, events, now - openedAt);
    };
    try {
      opened = context.lock.watch(
        {
          onOpen: () => {
            if (opened === null || this.handle !== opened) return;
            openAt = lastHeard = context.clock.now();
            this.answered = true;
            this.healthySince ??= openAt;
            this.checkAhead();
            context.onReachable();
          },
          onEvent: (event) => {
            if (opened === null || this.handle !== opened) return;
            openAt ??= context.clock.now();
            this.answered = true;
            this.healthySince ??= openAt;
            lastHeard = context.clock.now();
            events += 1;
            this.failures = 0;
            const version =
              event.type === 'BOOKMARK' ? event.resourceVersion : event.record.resourceVersion;
            this.covered = higher(this.covered, version);
            this.resourceVersion = version;
            this.delivered = version;
            context.onReachable();
            context.onEvent(event);
          },
          onClose: (error) => {
            if (opened === null || this.handle !== opened) return;
            this.handle = null;
            this.cancelWatchdog();
            this.onClosed(error, events, context.clock.now() - openedAt);
          },
        },
        { resourceVersion: this.resourceVersion },
      );
      this.handle = opened;
      this.answered = false;
      this.cancelWatchdog();
      this.watchdog = context.clock.setTimeout(check, context.requestTimeout);
    } catch (error) {
      this.onClosed(error, 0, 0);
    }
  }

  private onClosed(error: unknown, events: number, openForMs: number): void {
    const context = this.context;
    if (!context.isRunning()) return;
    if (error) {
      context.onFailed(error);
      this.healthySince = undefined;
    }
    if (error instanceof LockGoneError) {
      // Our resourceVersion is too old: read the current state, then watch from it.
      this.resourceVersion = undefined;
      context.onGone();
      return;
    }
    if (error) {
      this.failures += 1;
      if (this.failures === 1 || this.failures % 10 === 0) {
        context.logger?.warn(WATCH_FAILED(context.name, error));
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

  private cancelWatchdog(): void {
    if (this.watchdog === undefined) return;
    this.context.clock.clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private cancelReopen(): void {
    if (this.reopenTimer === undefined) return;
    this.context.clock.clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
  }
}

/** Whether `a` is a later decimal resourceVersion than `b` (never when either is not decimal). */
function isPast(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || !DECIMAL.test(a) || !DECIMAL.test(b)) return false;
  return FencingToken.compare(FencingToken.parse(a), FencingToken.parse(b)) > 0;
}

/** The later of two resourceVersions (`a` unless `b` is a later decimal one). */
function higher(a: string | undefined, b: string | undefined): string | undefined {
  return a === undefined || isPast(b, a) ? b : a;
}

const DECIMAL = /^[0-9]+$/;
