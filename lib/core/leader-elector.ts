import { systemClock, type Clock, type TimerHandle } from './clock.js';
import {
  ElectorStoppedError,
  InvalidOptionError,
  LeaderElectionError,
  LeadershipLostError,
  LockConflictError,
  LockError,
  LockForbiddenError,
  LockGoneError,
  LockNotFoundError,
  LockRejectedError,
  LockUnavailableError,
} from './errors.js';
import { isFree, sameElectionState, type LeaseRecord, type LeaseSpec } from './lease-record.js';
import type { LeaseLock, LockWatch, LockWatchEvent } from './lock.js';
import {
  guardMetrics,
  lockErrorKind,
  type ElectionMetrics,
  type LockOperation,
} from './metrics.js';
import { DEFAULT_TIMINGS, leaseDurationSeconds, validateTimings } from './timing.js';

/**
 * The longest `leaseDurationSeconds` of another holder that is taken at face value (one hour).
 * Longer values are treated as invalid, like zero or negative ones: see the README.
 */
export const MAX_HONORED_LEASE_DURATION_SECONDS = 3600;

/** Stands for "someone we do not know" as the holder of a Lease that vanished while we looked away. */
const UNKNOWN_HOLDER = '\u0000unknown';

/** Emitted once per real change of (who leads, whether we lead), in order, on every instance. */
export interface LeaderChangeEvent {
  /** Name of the election (the Lease name unless configured otherwise). */
  readonly lease: string;
  /** This instance's identity. */
  readonly identity: string;
  /** Whether this instance leads now. */
  readonly isLeader: boolean;
  /** The current holder as observed, or null when the lease is free or unknown. */
  readonly leader: string | null;
  /** The holder named by the previous event, or null. */
  readonly previousLeader: string | null;
  /**
   * `leaseTransitions` when this instance acquired the lease (while it leads), or the record's
   * `leaseTransitions` as observed (while it follows). Pass it to downstream systems so they can
   * reject writes from a stale leader.
   */
  readonly fencingToken: number | null;
  /** Wall-clock time of the change. */
  readonly at: Date;
}

/** Minimal logger; Nest's `Logger` fits. */
export interface ElectorLogger {
  /** Transitions: became leader, released, requests succeeding again. */
  log(message: string): void;
  /** Trouble the elector rides out: unreachable API server, a failed watch, stopped leading. */
  warn(message: string): void;
  /** Failed requests other than unavailability (e.g. RBAC denials, rejected writes); throwing listeners. */
  error(message: string): void;
  /** Optional: repeats of the same error and other details. */
  debug?(message: string): void;
}

/** Options of a {@link LeaderElector}. Durations in milliseconds. */
export interface LeaderElectorOptions {
  /** The lock the election runs on; its identity is this candidate's. */
  readonly lock: LeaseLock;
  /** Name used in events and logs. Default: the lock's description. */
  readonly name?: string;
  /** Default 15000. Written to the Lease rounded UP to whole seconds. */
  readonly leaseDuration?: number;
  /** Default 10000. Must be < leaseDuration. */
  readonly renewDeadline?: number;
  /** Default 2000. renewDeadline must be > 1.2 * retryPeriod. */
  readonly retryPeriod?: number;
  /**
   * How often the leader renews after a successful renew. Default: `retryPeriod` (client-go's
   * cadence). A longer interval (up to renewDeadline - retryPeriod) cuts the leader's API requests
   * at the cost of fewer retries before renewDeadline when the API server misbehaves; safety does
   * not depend on it. After a failed renew the leader retries every `retryPeriod`.
   */
  readonly renewInterval?: number;
  /** Timeout of each lock request. Default and maximum: renewDeadline / 2. */
  readonly requestTimeout?: number;
  /** Release the lease on {@link LeaderElector.stop}. Default true. */
  readonly releaseOnStop?: boolean;
  /** How long {@link LeaderElector.stop} waits for in-flight leader work. Default 10000. */
  readonly shutdownGracePeriod?: number;
  /** Default: the process clock. */
  readonly clock?: Clock;
  /** Default: silent. */
  readonly logger?: ElectorLogger;
  /** Random source for retry jitter, in [0, 1). Default Math.random. */
  readonly random?: () => number;
  /**
   * Metrics hooks (e.g. `PrometheusElectionMetrics` from `nestjs-kube-leader/metrics`). Default: none.
   * A hook that throws is logged once and otherwise ignored.
   */
  readonly metrics?: ElectionMetrics;
}

/**
 * A snapshot of an elector's state for health checks ({@link LeaderElector.status}). Durations in
 * milliseconds, measured on the elector's monotonic clock.
 */
export interface ElectorStatus {
  /** idle (not started), running, stopping or stopped. */
  readonly phase: ElectorPhase;
  /** Whether this instance leads now (same as {@link LeaderElector.isLeader}). */
  readonly isLeader: boolean;
  /**
   * Whether this instance holds the lease by its own account. Normally equal to `isLeader`; true
   * while `isLeader` is false when the renew deadline has passed but the elector has not yet
   * reacted (its timers did not run: a stalled event loop or a stuck elector).
   */
  readonly holdsLease: boolean;
  /** The holder as last observed, or null. */
  readonly leader: string | null;
  /** Time since the start of the last successful renew, while holding the lease. */
  readonly lastRenewAgoMs: number | undefined;
  /** Time since the last successful request or watch event, if any. */
  readonly lastSuccessAgoMs: number | undefined;
  /**
   * How long requests to the API server have been failing (network errors, 5xx, timeouts, 401/403,
   * rejected requests; a conflict is an answer, not a failure), or undefined when the last one
   * succeeded.
   */
  readonly failingForMs: number | undefined;
  /** The error of the current failure streak, if any. */
  readonly lastError: unknown;
  /** The elector's `leaseDuration` (the watchdog's base). */
  readonly leaseDuration: number;
  /** The elector's `renewDeadline`. */
  readonly renewDeadline: number;
}

/** A unit of leader-only work admitted by {@link LeaderElector.beginLeaderWork}. */
export interface LeaderWork {
  /** Aborted when leadership ends (loss or shutdown). */
  readonly signal: AbortSignal;
  /** The fencing token of the leadership term the work runs in. */
  readonly fencingToken: number;
  /** Must be called exactly once when the work ends. */
  end(): void;
}

/** Phase of the elector's life. */
export type ElectorPhase = 'idle' | 'running' | 'stopping' | 'stopped';

interface Observation {
  /** The last record seen, or null when the Lease does not exist. */
  readonly record: LeaseRecord | null;
  /** Monotonic time at which the election state last changed as seen by this process. */
  readonly changedAt: number;
  /** When the Lease was seen deleted: until when its last holder may still believe it leads. */
  readonly deletedHolderValidUntil?: number;
  readonly deletedHolder?: string | null;
  readonly lastTransitions?: number | null;
}

interface Leadership {
  /**
   * Monotonic time from which we lead. Normally the acquisition itself; later when the acquisition
   * re-created a deleted Lease (see onWritten).
   */
  readonly validFrom: number;
  /** Monotonic deadline: we lead only while now < validUntil. */
  validUntil: number;
  readonly fencingToken: number;
  readonly controller: AbortController;
  /** Our last successful write, and when its request started. */
  record: LeaseRecord;
  lastWriteStart: number;
  /**
   * Set when someone else edited our record (e.g. shortened leaseDurationSeconds): we lead at most
   * until `capUntil`, until a renew that started after we saw the edit succeeds.
   */
  cap?: { readonly until: number; readonly seenAt: number };
}

type Decision =
  | { readonly action: 'create'; readonly spec: LeaseSpec }
  | { readonly action: 'update'; readonly spec: LeaseSpec; readonly basedOn: LeaseRecord }
  | { readonly action: 'wait'; readonly until?: number };

/**
 * Leader election on one Lease, with client-go's semantics and a watch instead of polling.
 *
 * - A follower watches the Lease and tries to acquire it the moment it is released, and exactly
 *   when it expires: `leaseDurationSeconds` after this process last SAW the record change (local
 *   monotonic clock; the writer's timestamps are never compared with our clock).
 * - A leader renews every `renewInterval` (default `retryPeriod`). It leads only while `now < start of its last successful
 *   renew + renewDeadline`: {@link isLeader} computes this at call time, so a process that was
 *   paused for longer than that sees `false` before any timer runs.
 * - Loss never throws into the host: the leadership signal aborts, a change event is emitted and the
 *   instance campaigns again.
 * - {@link stop} stops admitting leader work, waits (bounded) for in-flight work while still
 *   renewing, then releases the lease if the fresh record still names us.
 *
 * @example
 * ```ts
 * const elector = new LeaderElector({ lock, leaseDuration: 15000, renewDeadline: 10000, retryPeriod: 2000 });
 * elector.onChange((e) => console.log(e.isLeader ? 'leading' : `following ${e.leader}`));
 * elector.start();
 * const work = elector.beginLeaderWork();
 * if (work) try { await job(work.signal); } finally { work.end(); }
 * await elector.stop();
 * ```
 */
export class LeaderElector {
  /** Name used in events and logs (the `name` option, or the lock's description). */
  readonly name: string;
  /** This candidate's identity, the lock's. */
  readonly identity: string;
  /** Effective lease duration in ms (the Lease carries it rounded up to whole seconds). */
  readonly leaseDuration: number;
  /** Effective renew deadline in ms: a leader leads only this long after its last successful renew. */
  readonly renewDeadline: number;
  /** Effective retry period in ms: between renewals by default, and between retries after errors. */
  readonly retryPeriod: number;
  /** Effective interval in ms between a successful renew and the next one. */
  readonly renewInterval: number;
  /** Effective timeout in ms of each lock request. */
  readonly requestTimeout: number;
  /** How long in ms {@link LeaderElector.stop} waits for in-flight leader work. */
  readonly shutdownGracePeriod: number;
  /** Whether {@link LeaderElector.stop} releases the Lease. */
  readonly releaseOnStop: boolean;

  /** The lock the election runs on. */
  readonly lock: LeaseLock;
  private readonly clock: Clock;
  private readonly logger: ElectorLogger | undefined;
  private readonly random: () => number;
  private readonly metrics: Required<ElectionMetrics>;

  private phaseValue: ElectorPhase = 'idle';
  private observation: Observation | undefined;
  private leadership: Leadership | null = null;
  private watchHandle: LockWatch | null = null;
  private watchFailures = 0;
  private lastResourceVersion: string | undefined;

  private attemptTimer: TimerHandle | undefined;
  private activationTimer: TimerHandle | undefined;
  private validityTimer: TimerHandle | undefined;
  private watchTimer: TimerHandle | undefined;
  private attemptRunning: Promise<void> | null = null;
  private attemptQueued = false;
  private readonly inflightRequests = new Set<AbortController>();

  private inflightWork = 0;
  private drainWaiters: (() => void)[] = [];
  private readonly listeners = new Set<(event: LeaderChangeEvent) => void>();
  private lastEvent: LeaderChangeEvent | undefined;
  private lastErrorKey: string | undefined;
  private lastErrorValue: unknown;
  private lastSuccessAtValue: number | undefined;
  private failingSince: number | undefined;
  private failure: unknown;
  private stopPromise: Promise<void> | undefined;
  private releasing = false;
  private readonly leadershipWaiters = new Set<{
    resolve: () => void;
    reject: (error: unknown) => void;
  }>();

  constructor(options: LeaderElectorOptions) {
    if (!options || typeof options !== 'object') {
      throw new InvalidOptionError('options', 'must be an object');
    }
    if (!options.lock) throw new InvalidOptionError('lock', 'is required');
    if (typeof options.lock.identity !== 'string' || options.lock.identity.trim() === '') {
      throw new InvalidOptionError('identity', 'must be a non-empty string', options.lock.identity);
    }
    const timings = validateTimings({
      leaseDuration: options.leaseDuration ?? DEFAULT_TIMINGS.leaseDuration,
      renewDeadline: options.renewDeadline ?? DEFAULT_TIMINGS.renewDeadline,
      retryPeriod: options.retryPeriod ?? DEFAULT_TIMINGS.retryPeriod,
    });
    const maxRequestTimeout = timings.renewDeadline / 2;
    const requestTimeout = options.requestTimeout ?? maxRequestTimeout;
    if (
      !Number.isFinite(requestTimeout) ||
      requestTimeout <= 0 ||
      requestTimeout > maxRequestTimeout
    ) {
      throw new InvalidOptionError(
        'requestTimeout',
        `must be > 0 and <= renewDeadline / 2 (${maxRequestTimeout} ms), so one hung request cannot use up the renew deadline`,
        options.requestTimeout,
      );
    }
    const grace = options.shutdownGracePeriod ?? 10_000;
    if (!Number.isFinite(grace) || grace < 0) {
      throw new InvalidOptionError(
        'shutdownGracePeriod',
        'must be a finite number of milliseconds >= 0',
        grace,
      );
    }
    this.lock = options.lock;
    this.identity = options.lock.identity;
    this.name = options.name ?? options.lock.description;
    this.leaseDuration = timings.leaseDuration;
    this.renewDeadline = timings.renewDeadline;
    this.retryPeriod = timings.retryPeriod;
    const renewInterval = options.renewInterval ?? timings.retryPeriod;
    if (
      !Number.isFinite(renewInterval) ||
      renewInterval < timings.retryPeriod ||
      renewInterval > timings.renewDeadline - timings.retryPeriod
    ) {
      throw new InvalidOptionError(
        'renewInterval',
        `must be between retryPeriod (${timings.retryPeriod} ms) and renewDeadline - retryPeriod (${timings.renewDeadline - timings.retryPeriod} ms), so that a failed renew is retried before renewDeadline`,
        options.renewInterval,
      );
    }
    this.renewInterval = renewInterval;
    this.requestTimeout = requestTimeout;
    this.shutdownGracePeriod = grace;
    this.releaseOnStop = options.releaseOnStop ?? true;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.random = options.random ?? Math.random;
    this.metrics = guardMetrics(options.metrics, (hook, error) =>
      this.logger?.warn(
        `The metrics hook ${hook} of ${this.name} threw (further errors are ignored; the election is not affected): ${describe(error)}`,
      ),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Public state

  /** Current phase: idle (not started), running, stopping, stopped. */
  get phase(): ElectorPhase {
    return this.phaseValue;
  }

  /**
   * True only while this instance holds the lease AND the last successful renew started less than
   * `renewDeadline` ago (monotonic clock), and the elector is not stopping. Computed at call time.
   */
  isLeader(): boolean {
    if (this.phaseValue !== 'running' || this.leadership === null) return false;
    const now = this.clock.now();
    return now >= this.leadership.validFrom && now < this.leadership.validUntil;
  }

  /** The holder of the lease as last observed (null when free, deleted, or not yet read). */
  getLeader(): string | null {
    if (this.isLeader()) return this.identity;
    return this.observation?.record?.holderIdentity || null;
  }

  /** The fencing token of the current term while this instance leads, else null. */
  fencingToken(): number | null {
    return this.isLeader() ? this.leadership!.fencingToken : null;
  }

  /** The last error met by the election (cleared by the next success), for health reporting. */
  get lastError(): unknown {
    return this.lastErrorValue;
  }

  /**
   * Monotonic time (the elector's clock) of the last successful request to the lock or watch
   * event, or undefined before the first one. A conflict counts as success: the server answered.
   */
  get lastSuccessAt(): number | undefined {
    return this.lastSuccessAtValue;
  }

  /** A snapshot of the state, for health checks. */
  status(): ElectorStatus {
    const now = this.clock.now();
    const leadership = this.phaseValue === 'stopped' ? null : this.leadership;
    return {
      phase: this.phaseValue,
      isLeader: this.isLeader(),
      holdsLease: leadership !== null,
      leader: this.getLeader(),
      lastRenewAgoMs: leadership ? now - leadership.lastWriteStart : undefined,
      lastSuccessAgoMs:
        this.lastSuccessAtValue === undefined ? undefined : now - this.lastSuccessAtValue,
      failingForMs: this.failingSince === undefined ? undefined : now - this.failingSince,
      lastError: this.failingSince === undefined ? undefined : this.failure,
      leaseDuration: this.leaseDuration,
      renewDeadline: this.renewDeadline,
    };
  }

  /** The last change event emitted (the current state), if any. */
  get currentState(): LeaderChangeEvent | undefined {
    return this.lastEvent;
  }

  /**
   * Monotonic time of our last successful write while leading, or undefined. Exposed for health
   * checks (a leader that has not renewed for too long is unhealthy).
   */
  get lastRenewAt(): number | undefined {
    return this.leadership ? this.leadership.validUntil - this.renewDeadline : undefined;
  }

  /**
   * Subscribes to change events; returns the unsubscribe function. A listener registered before
   * {@link start} receives the first event. Listener errors are logged, never thrown.
   */
  onChange(listener: (event: LeaderChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * An AbortSignal that aborts when the current leadership ends. When this instance does not lead,
   * the signal is already aborted.
   */
  leadershipSignal(): AbortSignal {
    if (this.isLeader()) return this.leadership!.controller.signal;
    return AbortSignal.abort(
      new LeadershipLostError(`${this.identity} does not lead ${this.name}`),
    );
  }

  /**
   * Resolves when this instance leads. Rejects with the signal's reason when `signal` aborts, or
   * with {@link ElectorStoppedError} when the elector stops first.
   */
  waitForLeadership(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.isLeader()) return Promise.resolve();
    if (this.phaseValue === 'stopping' || this.phaseValue === 'stopped') {
      return Promise.reject(new ElectorStoppedError(`the elector for ${this.name} is stopped`));
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.leadershipWaiters.delete(waiter);
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
      this.leadershipWaiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Admits one unit of leader-only work, or returns null when this instance does not lead (or is
   * stopping). While admitted work runs, {@link stop} waits for it before releasing the lease.
   * `task` names the work for metrics (`Class.method` for `@LeaderOnly`).
   */
  beginLeaderWork(task?: string): LeaderWork | null {
    if (!this.isLeader()) {
      if (task !== undefined) this.metrics.leaderWork(this.name, task, 'skipped');
      return null;
    }
    const leadership = this.leadership!;
    if (task !== undefined) this.metrics.leaderWork(this.name, task, 'executed');
    this.inflightWork += 1;
    let ended = false;
    return {
      signal: leadership.controller.signal,
      fencingToken: leadership.fencingToken,
      end: () => {
        if (ended) return;
        ended = true;
        this.inflightWork -= 1;
        if (this.inflightWork === 0) {
          for (const waiter of this.drainWaiters.splice(0)) waiter();
        }
      },
    };
  }

  /**
   * Counts, for metrics, a leader-only call that was refused before it reached
   * {@link beginLeaderWork} (a follower answering 503 to a request).
   */
  recordSkippedWork(task: string): void {
    this.metrics.leaderWork(this.name, task, 'skipped');
  }

  /** Number of admitted leader work units still running. */
  get inflightLeaderWork(): number {
    return this.inflightWork;
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle

  /** Starts campaigning. Returns immediately; errors are logged and retried, never thrown. */
  start(): void {
    if (this.phaseValue !== 'idle') {
      throw new LeaderElectionError(
        `the elector for ${this.name} was already started (an elector starts once)`,
      );
    }
    this.phaseValue = 'running';
    this.metrics.started(this.name);
    this.logger?.debug?.(`${this.identity} campaigning for ${this.name}`);
    this.kick();
  }

  /**
   * Stops: refuses new leader work at once, waits up to `shutdownGracePeriod` for in-flight leader
   * work (renewing meanwhile), then releases the lease if the fresh record still names us. When
   * the grace period runs out with work still running, the lease is NOT released: it expires one
   * lease duration after the last renew, which gives that work that much longer before another
   * instance can start. Never rejects.
   */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  private async doStop(): Promise<void> {
    if (this.phaseValue === 'idle') {
      this.phaseValue = 'stopped';
      return;
    }
    this.phaseValue = 'stopping';
    for (const waiter of this.leadershipWaiters) {
      waiter.reject(new ElectorStoppedError(`the elector for ${this.name} stopped`));
    }
    this.leadershipWaiters.clear();
    this.closeWatch();
    const leadership = this.leadership;
    if (leadership) {
      leadership.controller.abort(new LeadershipLostError(`${this.identity} is shutting down`));
    } else {
      this.clearTimer('attempt');
    }
    this.emitIfChanged();

    let drained = true;
    if (this.inflightWork > 0) {
      this.logger?.log(
        `Waiting up to ${this.shutdownGracePeriod} ms for ${this.inflightWork} leader-only task(s) before releasing ${this.name}`,
      );
      drained = await this.waitForDrain(this.shutdownGracePeriod);
      if (!drained) {
        this.logger?.warn(
          `${this.inflightWork} leader-only task(s) still running after ${this.shutdownGracePeriod} ms; ` +
            `not releasing ${this.name} so that no other instance starts leader work while they run (the lease expires instead)`,
        );
      }
    }

    this.releasing = true;
    this.clearTimer('attempt');
    this.clearTimer('validity');
    if (this.attemptRunning) await this.attemptRunning.catch(() => undefined);

    const held = this.leadership;
    // Work may also have been admitted under a leadership that lapsed and was re-acquired while
    // we waited: release only with nothing running.
    if (this.releaseOnStop && drained && held && this.inflightWork === 0) {
      await this.release();
    }
    held?.controller.abort(new LeadershipLostError(`${this.identity} is shutting down`));
    this.leadership = null;
    this.clearTimer('attempt');
    this.clearTimer('validity');
    this.clearTimer('watch');
    this.clearTimer('activation');
    for (const controller of this.inflightRequests)
      controller.abort(new ElectorStoppedError('stopped'));
    this.phaseValue = 'stopped';
    try {
      this.lock.close?.();
    } catch (error) {
      this.logger?.warn(`Closing ${this.lock.description} failed: ${describe(error)}`);
    }
    this.emitIfChanged();
    this.listeners.clear();
  }

  private waitForDrain(timeout: number): Promise<boolean> {
    if (this.inflightWork === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.drainWaiters = this.drainWaiters.filter((waiter) => waiter !== done);
        resolve(false);
      }, timeout);
      const done = () => {
        this.clock.clearTimeout(timer);
        resolve(true);
      };
      this.drainWaiters.push(done);
    });
  }

  /** Hands the lease back: holder "", duration 1 s, transitions kept; only if it still names us. */
  private async release(): Promise<void> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const record = await this.request('get', (signal) => this.lock.get({ signal }));
        if (!record || record.holderIdentity !== this.identity) {
          this.logger?.debug?.(`${this.name} no longer names ${this.identity}; nothing to release`);
          return;
        }
        const now = this.clock.wallNow();
        const written = await this.request('update', (signal) =>
          this.lock.update(
            {
              holderIdentity: '',
              leaseDurationSeconds: 1,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: record.leaseTransitions ?? 0,
            },
            record.resourceVersion,
            { signal },
          ),
        );
        this.observe(written);
        this.logger?.log(`${this.identity} released ${this.name}`);
        return;
      } catch (error) {
        if (error instanceof LockConflictError) continue;
        this.logger?.warn(
          `Could not release ${this.name}: ${describe(error)}. Followers take over when it expires.`,
        );
        return;
      }
    }
    this.logger?.warn(`Could not release ${this.name} after 3 conflicts; it will expire instead`);
  }

  // ---------------------------------------------------------------------------------------------
  // The acquire / renew loop

  /** Runs an attempt now, or right after the running one. */
  private kick(): void {
    if (this.attemptRunning) {
      this.attemptQueued = true;
      return;
    }
    this.clearTimer('attempt');
    this.attemptRunning = this.attempt()
      .catch((error) => this.reportError('election attempt', error))
      .finally(() => {
        this.attemptRunning = null;
        if (this.attemptQueued && this.canAttempt()) {
          this.attemptQueued = false;
          this.kick();
        }
        this.attemptQueued = false;
      });
  }

  private canAttempt(): boolean {
    if (this.releasing) return false;
    return (
      this.phaseValue === 'running' || (this.phaseValue === 'stopping' && this.leadership !== null)
    );
  }

  private scheduleAttempt(at: number): void {
    if (!this.canAttempt()) return;
    this.clearTimer('attempt');
    this.attemptTimer = this.clock.setTimeout(() => {
      this.attemptTimer = undefined;
      this.kick();
    }, at - this.clock.now());
  }

  private retryDelay(): number {
    // client-go's follower cadence: retryPeriod with up to 1.2x extra jitter.
    return this.retryPeriod * (1 + 1.2 * this.random());
  }

  private async attempt(): Promise<void> {
    if (!this.canAttempt()) return;
    try {
      await this.tryAcquireOrRenew();
      this.clearError();
    } catch (error) {
      this.reportError(this.leadership ? 'renewing' : 'acquiring', error);
      if (
        error instanceof LockForbiddenError ||
        error instanceof LockRejectedError ||
        !(error instanceof LockError)
      ) {
        // Not transient: retry slowly, the operator has to fix RBAC or configuration.
        this.scheduleAttempt(this.clock.now() + Math.max(this.retryDelay(), this.leaseDuration));
      } else {
        this.scheduleAttempt(
          this.clock.now() + (this.leadership ? this.retryPeriod : this.retryDelay()),
        );
      }
    } finally {
      if (!this.watchHandle && this.phaseValue === 'running' && this.watchTimer === undefined) {
        this.openWatch();
      }
    }
  }

  private async tryAcquireOrRenew(): Promise<void> {
    let record: LeaseRecord | null | undefined = this.cachedRecord();
    const fromCache = record !== undefined;
    if (record === undefined) record = await this.read();

    for (let round = 0; round < 3; round++) {
      if (!this.canAttempt()) return;
      const decision = this.decide(record, this.clock.now());
      if (decision.action === 'wait') {
        this.followerWait(decision.until);
        return;
      }
      const requestStart = this.clock.now();
      const renewing = this.leadership !== null;
      try {
        const written =
          decision.action === 'create'
            ? await this.request('create', (signal) => this.lock.create(decision.spec, { signal }))
            : await this.request('update', (signal) =>
                this.lock.update(decision.spec, decision.basedOn.resourceVersion, { signal }),
              );
        if (renewing) this.metrics.renewed(this.name, this.clock.now() - requestStart, true);
        const recreated =
          decision.action === 'update' &&
          !!decision.basedOn.uid &&
          !!written.uid &&
          written.uid !== decision.basedOn.uid;
        this.onWritten(written, requestStart, recreated);
        return;
      } catch (error) {
        if (renewing) this.metrics.renewed(this.name, this.clock.now() - requestStart, false);
        if (error instanceof LockConflictError || error instanceof LockNotFoundError) {
          // Someone else wrote (or deleted) the Lease: look again before deciding.
          if (round === 0 && fromCache) this.metrics.slowpathExercised(this.name);
          record = await this.read();
          const ours = this.leadership?.record;
          if (
            ours &&
            record &&
            record.holderIdentity === this.identity &&
            (record.leaseDurationSeconds !== ours.leaseDurationSeconds ||
              record.leaseTransitions !== ours.leaseTransitions)
          ) {
            this.onOwnRecordEdited(record);
          }
          continue;
        }
        throw error;
      }
    }
    // Three conflicts in a row: let the watch catch up and try again shortly.
    this.scheduleAttempt(this.clock.now() + this.retryDelay());
  }

  /**
   * The record to base a write on without reading first, or undefined to read: our own last write
   * while leading, or the watched record while the watch is open. A stale one costs a 409 + read.
   */
  private cachedRecord(): LeaseRecord | null | undefined {
    if (this.leadership) return this.leadership.record;
    if (this.watchHandle && this.observation) return this.observation.record;
    return undefined;
  }

  private async read(): Promise<LeaseRecord | null> {
    const record = await this.request('get', (signal) => this.lock.get({ signal }));
    if (record) this.observe(record);
    else this.observeMissing('read');
    return record;
  }

  private decide(record: LeaseRecord | null, now: number): Decision {
    const durationSeconds = leaseDurationSeconds(this.leaseDuration);
    const wallNow = this.clock.wallNow();
    const leading = this.leadership;

    if (record === null) {
      if (leading) {
        // Our Lease was deleted under us while we still lead: recreate it, same term.
        return {
          action: 'create',
          spec: {
            holderIdentity: this.identity,
            leaseDurationSeconds: durationSeconds,
            acquireTime: wallNow,
            renewTime: wallNow,
            leaseTransitions: leading.fencingToken,
          },
        };
      }
      if (this.phaseValue !== 'running') return { action: 'wait' };
      const observation = this.observation;
      if (
        observation?.deletedHolder &&
        observation.deletedHolder !== this.identity &&
        observation.deletedHolderValidUntil !== undefined &&
        now < observation.deletedHolderValidUntil
      ) {
        // Deleted while someone held it: that holder may still believe it leads until its lease
        // would have expired. Creating now could make two leaders.
        return { action: 'wait', until: observation.deletedHolderValidUntil };
      }
      const previous = observation?.lastTransitions;
      return {
        action: 'create',
        spec: {
          holderIdentity: this.identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: wallNow,
          renewTime: wallNow,
          // Keep fencing tokens increasing across a deletion.
          leaseTransitions: previous === undefined || previous === null ? 0 : previous + 1,
        },
      };
    }

    const holder = record.holderIdentity ?? '';
    if (holder === this.identity) {
      if (!leading && this.phaseValue !== 'running') return { action: 'wait' };
      return {
        action: 'update',
        basedOn: record,
        spec: {
          holderIdentity: this.identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: (leading ? leading.record.acquireTime : record.acquireTime) ?? wallNow,
          renewTime: wallNow,
          // While leading, our own term: an edit of leaseTransitions never moves fencing backwards.
          leaseTransitions: leading ? leading.fencingToken : (record.leaseTransitions ?? 0),
        },
      };
    }

    if (leading) {
      // Someone else holds it now: we lost it.
      this.stepDown(`the lease is now held by "${holder || '(nobody)'}"`);
    }
    if (this.phaseValue !== 'running') return { action: 'wait' };

    if (!isFree(record)) {
      const expiresAt = this.expiryOf(record);
      if (now < expiresAt) return { action: 'wait', until: expiresAt };
    }
    return {
      action: 'update',
      basedOn: record,
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: wallNow,
        renewTime: wallNow,
        leaseTransitions: (record.leaseTransitions ?? 0) + 1,
      },
    };
  }

  /** Monotonic time at which the observed record expires for us. */
  private expiryOf(record: LeaseRecord): number {
    const changedAt =
      this.observation?.record && sameElectionState(this.observation.record, record)
        ? this.observation.changedAt
        : this.clock.now();
    return changedAt + this.holderDurationMs(record);
  }

  /**
   * The duration advertised by the holder. A missing, zero, negative or non-numeric value is
   * treated as our own lease duration: expiring such a record at once (as a literal reading would)
   * could start a second leader while the holder still works. So is a value above one hour
   * ({@link MAX_HONORED_LEASE_DURATION_SECONDS}): no leader election runs with such a lease, and
   * honoring, say, 2147483647 s written by mistake would block the election for decades once its
   * holder is gone.
   */
  private holderDurationMs(record: LeaseRecord): number {
    const own = leaseDurationSeconds(this.leaseDuration) * 1000;
    const seconds = record.leaseDurationSeconds;
    if (
      typeof seconds !== 'number' ||
      !Number.isFinite(seconds) ||
      seconds <= 0 ||
      seconds > MAX_HONORED_LEASE_DURATION_SECONDS
    ) {
      return own;
    }
    // Never earlier than our own lease duration either: a shorter value (written by an
    // administrator, or by a peer with other timings) may be shorter than its holder's renew
    // deadline. Waiting longer than advertised is always safe.
    return Math.max(seconds * 1000, own);
  }

  private onWritten(written: LeaseRecord, requestStart: number, recreated = false): void {
    this.observe(written);
    const validUntil = requestStart + this.renewDeadline;
    const now = this.clock.now();
    if (this.leadership) {
      const leadership = this.leadership;
      leadership.record = written;
      leadership.lastWriteStart = Math.max(leadership.lastWriteStart, requestStart);
      let extended = Math.max(leadership.validUntil, validUntil);
      if (leadership.cap) {
        // Only a write that started after we saw the edit supersedes it.
        if (requestStart > leadership.cap.seenAt) leadership.cap = undefined;
        else extended = Math.min(extended, leadership.cap.until);
      }
      leadership.validUntil = extended;
    } else {
      if (validUntil <= now) {
        // The write took longer than the renew deadline: we must not act on it. Renew at once.
        this.scheduleAttempt(now);
        return;
      }
      // An update that re-created a deleted Lease (the API server creates Leases on update) was based
      // on a record we saw before the deletion. A renewal we did not see may have preceded the
      // deletion, so its holder may believe it leads until at most renewDeadline from now: we hold
      // the Lease but lead only after that. The old holder's next renew meets our Lease and stops.
      const validFrom = recreated ? requestStart + this.renewDeadline : requestStart;
      this.leadership = {
        validFrom,
        lastWriteStart: requestStart,
        validUntil,
        fencingToken: written.leaseTransitions ?? 0,
        controller: new AbortController(),
        record: written,
      };
      if (this.phaseValue === 'running' && validFrom > now) {
        this.logger?.warn(
          `${this.identity} acquired ${this.name} by re-creating a deleted Lease; it leads only after renewDeadline (${this.renewDeadline} ms), when any previous holder has stopped`,
        );
        const leadership = this.leadership;
        this.activationTimer = this.clock.setTimeout(() => {
          this.activationTimer = undefined;
          if (this.leadership !== leadership) return;
          this.announceLeadership();
        }, validFrom - now);
      } else if (this.phaseValue === 'running') {
        this.announceLeadership();
      }
      // While stopping, a write that landed after stop() began still holds the lease for us:
      // recording it lets stop() release it instead of leaving it to expire.
    }
    if (this.isLeader()) this.resolveWaiters();
    this.scheduleValidityCheck();
    this.scheduleAttempt(requestStart + this.renewInterval);
  }

  private announceLeadership(): void {
    const leadership = this.leadership;
    if (!leadership) return;
    this.logger?.log(
      `${this.identity} became leader of ${this.name} (fencing token ${leadership.fencingToken})`,
    );
    this.emitIfChanged();
    if (this.isLeader()) this.resolveWaiters();
  }

  private resolveWaiters(): void {
    for (const waiter of this.leadershipWaiters) waiter.resolve();
    this.leadershipWaiters.clear();
  }

  private scheduleValidityCheck(): void {
    this.clearTimer('validity');
    const leadership = this.leadership;
    if (!leadership) return;
    this.validityTimer = this.clock.setTimeout(() => {
      this.validityTimer = undefined;
      if (this.leadership === leadership && this.clock.now() >= leadership.validUntil) {
        this.stepDown(`no successful renew within renewDeadline (${this.renewDeadline} ms)`);
        this.kick();
      } else {
        this.scheduleValidityCheck();
      }
    }, leadership.validUntil - this.clock.now());
  }

  private stepDown(reason: string): void {
    const leadership = this.leadership;
    if (!leadership) return;
    this.leadership = null;
    this.clearTimer('validity');
    this.clearTimer('activation');
    this.logger?.warn(`${this.identity} stopped leading ${this.name}: ${reason}`);
    leadership.controller.abort(
      new LeadershipLostError(`${this.identity} lost ${this.name}: ${reason}`),
    );
    this.emitIfChanged();
  }

  /** Follower: nothing to do until `until` (expiry of the current holder), if known. */
  private followerWait(until: number | undefined): void {
    if (until !== undefined) this.scheduleAttempt(until);
    else this.clearTimer('attempt');
    this.emitIfChanged();
  }

  // ---------------------------------------------------------------------------------------------
  // Observation and watch

  private observe(record: LeaseRecord): void {
    this.lastResourceVersion = record.resourceVersion;
    const previous = this.observation?.record;
    const changed = !previous || !sameElectionState(previous, record);
    this.observation = {
      record,
      changedAt: changed ? this.clock.now() : this.observation!.changedAt,
      lastTransitions: record.leaseTransitions,
    };
  }

  /**
   * Records that the Lease does not exist. From a DELETED event of a continuous watch we know its
   * last state and when it last changed, so its holder's lease runs out `duration` after that.
   * From a read (after a gap in the watch, a 410, a 404) we may have missed renewals, or even a new
   * holder: whoever held it may believe it leads until up to one lease duration from now.
   */
  private observeMissing(source: 'watch' | 'read'): void {
    const previous = this.observation;
    if (previous && previous.record === null) return;
    const record = previous?.record ?? null;
    const now = this.clock.now();
    let deletedHolder = record?.holderIdentity ?? null;
    let deletedHolderValidUntil: number | undefined;
    if (source === 'watch') {
      if (record && previous && !isFree(record)) {
        deletedHolderValidUntil = previous.changedAt + this.holderDurationMs(record);
      }
    } else if (previous) {
      deletedHolder = UNKNOWN_HOLDER;
      deletedHolderValidUntil =
        now +
        (record ? this.holderDurationMs(record) : leaseDurationSeconds(this.leaseDuration) * 1000);
    }
    this.observation = {
      record: null,
      changedAt: now,
      deletedHolder,
      deletedHolderValidUntil,
      lastTransitions: previous?.lastTransitions ?? null,
    };
  }

  private openWatch(): void {
    if (this.phaseValue !== 'running' || this.watchHandle) return;
    let opened: LockWatch | null = null;
    const openedAt = this.clock.now();
    let events = 0;
    try {
      opened = this.lock.watch(
        {
          onOpen: () => {
            if (this.watchHandle === opened) this.markReachable();
          },
          onEvent: (event) => {
            if (this.watchHandle !== opened) return;
            events += 1;
            this.watchFailures = 0;
            this.markReachable();
            this.onWatchEvent(event);
          },
          onClose: (error) => {
            if (this.watchHandle !== opened) return;
            this.watchHandle = null;
            this.onWatchClosed(error, events, this.clock.now() - openedAt);
          },
        },
        { resourceVersion: this.lastResourceVersion },
      );
      this.watchHandle = opened;
    } catch (error) {
      this.onWatchClosed(error, 0, 0);
    }
  }

  private onWatchEvent(event: LockWatchEvent): void {
    if (event.type === 'BOOKMARK') {
      this.lastResourceVersion = event.resourceVersion;
      return;
    }
    if (event.type === 'DELETED') {
      // The object's final state first: a change we had not seen yet restarts the countdown.
      if (!this.leadership) this.observe(event.record);
      this.lastResourceVersion = event.record.resourceVersion;
      this.observeMissing('watch');
      // Leader: recreate at once. Follower: decide() waits for the deleted holder's expiry.
      this.kick();
      return;
    }
    const record = event.record;
    const holder = record.holderIdentity ?? '';
    if (this.leadership && holder === this.identity) {
      this.lastResourceVersion = record.resourceVersion;
      // Usually an echo of one of our writes (only renewTime differs). Anything else means someone
      // edited our record, e.g. shortened leaseDurationSeconds: a peer that reads the value literally
      // may take over that long after the edit, so we lead no longer than that after our last write
      // (the edit came after it), and renew at once to restore our fields.
      const ours = this.leadership.record;
      const edited =
        record.leaseDurationSeconds !== ours.leaseDurationSeconds ||
        record.leaseTransitions !== ours.leaseTransitions ||
        record.acquireTime?.getTime() !== ours.acquireTime?.getTime();
      if (edited) this.onOwnRecordEdited(record);
      return;
    }
    this.observe(record);
    if (this.leadership) {
      // Possibly taken over, or an event older than our last write (watch events and write
      // responses race). Renewing with our resourceVersion tells which: a 409 leads to a re-read
      // and a step-down, success means the event was stale.
      this.kick();
      return;
    }
    if (this.phaseValue !== 'running') return;
    if (holder === this.identity && this.attemptRunning) {
      // Most likely the echo of the write our running attempt is making; its result decides.
      return;
    }
    if (isFree(record) || holder === this.identity) {
      this.kick();
    } else {
      this.scheduleAttempt(this.expiryOf(record));
      this.emitIfChanged();
    }
  }

  private onOwnRecordEdited(record: LeaseRecord): void {
    const leadership = this.leadership;
    if (!leadership) return;
    const literal = record.leaseDurationSeconds;
    const advertisedMs =
      typeof literal === 'number' && Number.isFinite(literal) ? Math.max(0, literal) * 1000 : 0;
    const until = Math.min(
      leadership.cap?.until ?? Infinity,
      leadership.lastWriteStart + advertisedMs,
    );
    leadership.cap = { until, seenAt: this.clock.now() };
    if (until < leadership.validUntil) {
      leadership.validUntil = until;
      this.logger?.warn(
        `${this.name} was edited by someone else (leaseDurationSeconds ${String(literal)}); ${this.identity} leads at most until that expires, and renews now`,
      );
      this.scheduleValidityCheck();
    }
    this.kick();
  }

  private onWatchClosed(error: unknown, events: number, openForMs: number): void {
    if (this.phaseValue !== 'running') return;
    if (error) this.onRequestFailed('watch', error);
    if (error instanceof LockGoneError) {
      // Our resourceVersion is too old: read the current state, then watch from it.
      this.lastResourceVersion = undefined;
      this.kick();
      return;
    }
    if (error) {
      this.watchFailures += 1;
      if (this.watchFailures === 1 || this.watchFailures % 10 === 0) {
        this.logger?.warn(`Watch on ${this.name} failed (${describe(error)}); re-watching`);
      }
    } else if (events > 0 || openForMs >= this.retryPeriod) {
      // A normal server-side close: re-watch from where we were, at once.
      this.watchFailures = 0;
      this.openWatch();
      return;
    } else {
      this.watchFailures += 1;
    }
    const backoff = Math.min(this.retryPeriod * 2 ** Math.min(this.watchFailures - 1, 4), 30_000);
    this.clearTimer('watch');
    this.watchTimer = this.clock.setTimeout(
      () => {
        this.watchTimer = undefined;
        this.openWatch();
      },
      backoff * (0.5 + this.random()),
    );
  }

  private closeWatch(): void {
    const handle = this.watchHandle;
    this.watchHandle = null;
    this.clearTimer('watch');
    handle?.close();
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /** Runs one lock request with the per-request timeout. */
  private async request<T>(
    operation: LockOperation,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    this.inflightRequests.add(controller);
    let timer: TimerHandle | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(() => {
        const error = new LockUnavailableError(
          `request to ${this.lock.description} timed out after ${this.requestTimeout} ms`,
        );
        controller.abort(error);
        reject(error);
      }, this.requestTimeout);
    });
    try {
      const result = await Promise.race([run(controller.signal), timeout]);
      this.markReachable();
      return result;
    } catch (error) {
      // Requests aborted by stop() are not failures of the API server.
      if (this.phaseValue !== 'stopped') this.onRequestFailed(operation, error);
      throw error;
    } finally {
      if (timer !== undefined) this.clock.clearTimeout(timer);
      this.inflightRequests.delete(controller);
    }
  }

  private onRequestFailed(operation: LockOperation, error: unknown): void {
    const kind = lockErrorKind(error);
    this.metrics.apiError(this.name, operation, kind);
    // A conflict, a 404 or a 410 is the server answering: it is reachable and working.
    if (kind === 'conflict' || kind === 'not_found' || kind === 'gone') {
      this.markReachable();
    } else {
      this.failingSince ??= this.clock.now();
      this.failure = error;
    }
  }

  private markReachable(): void {
    this.lastSuccessAtValue = this.clock.now();
    this.failingSince = undefined;
    this.failure = undefined;
  }

  private emitIfChanged(): void {
    const isLeader =
      this.phaseValue === 'running' &&
      this.leadership !== null &&
      this.clock.now() >= this.leadership.validFrom;
    const leader = isLeader ? this.identity : this.observation?.record?.holderIdentity || null;
    if (this.phaseValue === 'idle') return;
    if (this.observation === undefined && !isLeader && this.lastEvent === undefined) return;
    const previous = this.lastEvent;
    if (previous && previous.isLeader === isLeader && previous.leader === leader) return;
    if ((previous?.isLeader ?? false) !== isLeader) {
      if (isLeader) this.metrics.leaderOn(this.name);
      else this.metrics.leaderOff(this.name);
    }
    const event: LeaderChangeEvent = {
      lease: this.name,
      identity: this.identity,
      isLeader,
      leader,
      previousLeader: previous?.leader ?? null,
      fencingToken: isLeader
        ? this.leadership!.fencingToken
        : (this.observation?.record?.leaseTransitions ?? null),
      at: this.clock.wallNow(),
    };
    this.lastEvent = event;
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.logger?.error(`A leader change listener of ${this.name} threw: ${describe(error)}`);
      }
    }
  }

  private reportError(context: string, error: unknown): void {
    this.lastErrorValue = error;
    const key = `${context}:${errorName(error)}:${error instanceof Error ? error.message : String(error)}`;
    if (key === this.lastErrorKey) {
      this.logger?.debug?.(`${context} ${this.name} failed again: ${describe(error)}`);
      return;
    }
    this.lastErrorKey = key;
    const message = `Error ${context} ${this.name} as ${this.identity}: ${describe(error)}`;
    if (error instanceof LockUnavailableError) this.logger?.warn(message);
    else this.logger?.error(message);
  }

  private clearError(): void {
    if (this.lastErrorKey !== undefined) {
      this.logger?.log(`${this.name}: API requests succeed again`);
    }
    this.lastErrorKey = undefined;
    this.lastErrorValue = undefined;
  }

  private clearTimer(which: 'attempt' | 'validity' | 'watch' | 'activation'): void {
    const key = `${which}Timer` as const;
    const handle = this[key];
    if (handle !== undefined) {
      this.clock.clearTimeout(handle);
      this[key] = undefined;
    }
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
