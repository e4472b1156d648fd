import type { Clock, TimerHandle } from './clock.js';
import { decide, type Decision } from './decide.js';
import {
  resolveElectorOptions,
  type ResolvedElectorOptions,
  type ElectorLogger,
  type LeaderElectorOptions,
} from './elector-options.js';
import type {
  ElectorPhase,
  ElectorStatus,
  LeaderChangeEvent,
  LeaderChangeReason,
  LeaderWork,
} from './elector-status.js';
import {
  describeError,
  ElectorStoppedError,
  LeaderElectionError,
  LeadershipLostError,
  LockConflictError,
  LockError,
  LockForbiddenError,
  LockNotFoundError,
  LockRejectedError,
} from './errors.js';
import { ChangeEvents } from './change-events.js';
import * as messages from './elector.messages.js';
import { isNewerVersion, type FencingToken } from './fencing-token.js';
import { LeaderWorkTracker } from './leader-work.js';
import {
  beginTerm,
  capTerm,
  extendTerm,
  termFieldsEdited,
  termLapsed,
  termLeads,
  type Leadership,
} from './leadership.js';
import { LeadershipWaiters } from './leadership-waiters.js';
import { isFree, type LeaseRecord } from './lease-record.js';
import { expiryOf, observeMissing, observeRecord, type Observation } from './lease-observation.js';
import { LeaseWatch } from './lease-watch.js';
import type { LeaseLock, LockWatchEvent } from './lock.js';
import { IdentityGuard } from './identity-guard.js';
import { ErrorLog, LockRequests } from './lock-requests.js';
import { releaseLease } from './release.js';
import { guardMetrics, type ElectionMetrics } from './metrics.js';
import { takeoverDelay } from './takeover-delay.js';
import { RETRY_JITTER_FACTOR } from './timing.js';

type TimerName = 'attempt' | 'validity' | 'activation';

/**
 * Leader election on one Lease, with client-go's semantics and a watch instead of polling.
 *
 * - A follower watches the Lease and tries to acquire it the moment it is released, and exactly
 *   when it expires: `leaseDurationSeconds` after this process last SAW the record change (local
 *   monotonic clock; the writer's timestamps are never compared with our clock).
 * - A leader renews every `renewInterval` (default `retryPeriod`). It leads only while
 *   `now < start of its last successful renew + renewDeadline`: {@link isLeader} computes this at
 *   call time, so a process that was paused for longer than that sees `false` before any timer runs.
 * - Loss never throws into the host: the leadership signal aborts, a change event is emitted and the
 *   instance campaigns again.
 * - {@link stop} stops admitting leader work, waits (bounded) for in-flight work while still
 *   renewing, then releases the lease if the fresh record still names us.
 *
 * ## States
 *
 * | state | meaning | held in | leaves on |
 * | --- | --- | --- | --- |
 * | idle | not started | `phase` | {@link start} |
 * | following | someone else holds the Lease (or we wait out a deleted holder) | `leadership === null` | the attempt timer at the holder's expiry; a watch event showing it free |
 * | acquiring | an attempt (read, decide, write) is in flight | `runningAttempt` | the write's answer |
 * | activating | we hold the Lease but do not lead yet: we created a Lease we never saw, or re-created a deleted one, whose last holder may still believe it leads | `now < leadership.validFrom` | the activation timer |
 * | leading | we hold the Lease and lead | `validFrom <= now < validUntil`, and the wall clock before `wallValidUntil` | the validity timer at `validUntil`; a record showing another holder (or another process with our identity); {@link stop} |
 * | stopping | no new work; renewing while in-flight work drains, then releasing | `phase` | the release's answer |
 * | stopped | done; the lock is closed | `phase` | never |
 *
 * | timer | runs | does |
 * | --- | --- | --- |
 * | attempt | next renew (leader), a holder's expiry or a retry (follower) | an attempt |
 * | activation | at `validFrom` of an activating term | announces leadership |
 * | validity | at `validUntil` | steps down if no renew extended it |
 * | watch re-open | after a failed watch (in {@link LeaseWatch}) | re-opens the watch |
 * | drain | `shutdownGracePeriod` after {@link stop} (in {@link LeaderWorkTracker}) | stops waiting for work |
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
  private readonly context: ResolvedElectorOptions & {
    readonly metrics: Required<ElectionMetrics>;
    readonly description: string;
  };
  private readonly requests: LockRequests;
  private readonly errors: ErrorLog;
  private readonly work: LeaderWorkTracker;
  private readonly watch: LeaseWatch;

  private phase: ElectorPhase = 'idle';
  private observation: Observation | undefined;
  private leadership: Leadership | null = null;
  private readonly identityGuard: IdentityGuard;

  private attemptTimer: TimerHandle | undefined;
  private activationTimer: TimerHandle | undefined;
  private validityTimer: TimerHandle | undefined;
  private runningAttempt: Promise<void> | null = null;
  private attemptQueued = false;
  /** A version a follower's write conflicted on: the watch owes us a newer one (else read). */
  private conflictedOn: string | undefined;

  private readonly events: ChangeEvents;
  private stopPromise: Promise<void> | undefined;
  private releasing = false;
  private readonly waiters = new LeadershipWaiters();

  constructor(options: LeaderElectorOptions) {
    const resolved = resolveElectorOptions(options);
    ({ lock: this.lock, identity: this.identity, name: this.name } = resolved);
    ({ leaseDuration: this.leaseDuration, renewDeadline: this.renewDeadline } = resolved);
    ({ retryPeriod: this.retryPeriod, renewInterval: this.renewInterval } = resolved);
    ({ requestTimeout: this.requestTimeout, releaseOnStop: this.releaseOnStop } = resolved);
    ({ shutdownGracePeriod: this.shutdownGracePeriod, clock: this.clock } = resolved);
    ({ logger: this.logger, random: this.random } = resolved);
    this.metrics = guardMetrics(resolved.metrics, (hook, error) =>
      this.logger?.warn(messages.METRICS_HOOK_THREW(this.name, hook, error)),
    );
    // What every part of the elector shares: its name, identity, lock, clock, logger, metrics.
    this.context = { ...resolved, metrics: this.metrics, description: this.lock.description };
    const context = this.context;
    this.requests = new LockRequests({
      ...context,
      isStopped: () => this.phase === 'stopped',
    });
    this.errors = new ErrorLog(this.logger, this.name, this.identity);
    this.identityGuard = new IdentityGuard(this.identity, this.name, this.logger);
    this.work = new LeaderWorkTracker(this.clock);
    this.events = new ChangeEvents(context);
    this.watch = new LeaseWatch({
      ...context,
      isRunning: () => this.phase === 'running',
      onReachable: () => this.requests.markReachable(),
      onEvent: (event) => this.onWatchEvent(event),
      onFailed: (error) => this.requests.failed('watch', error),
      onGone: () => this.requestAttempt(),
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Public state

  /**
   * True only while this instance holds the lease AND the last successful renew started less than
   * `renewDeadline` ago (monotonic clock), and the elector is not stopping. Computed at call time.
   */
  isLeader(): boolean {
    return this.leadingTerm() !== null;
  }

  /** The holder of the lease as last observed (null when free, deleted, or not yet read). */
  getLeader(): string | null {
    if (this.isLeader()) return this.identity;
    return this.observation?.record?.holderIdentity || null;
  }

  /** The fencing token of the current term while this instance leads, else null. */
  fencingToken(): FencingToken | null {
    return this.leadingTerm()?.fencingToken ?? null;
  }

  /** A snapshot of the state, for health checks. */
  status(): ElectorStatus {
    const now = this.clock.now();
    const leadership = this.phase === 'stopped' ? null : this.leadership;
    const { lastSuccessAt, failingSince } = this.requests;
    return {
      phase: this.phase,
      isLeader: this.isLeader(),
      holdsLease: leadership !== null,
      leader: this.getLeader(),
      lastRenewAgoMs: leadership ? now - leadership.lastWriteStart : undefined,
      lastSuccessAgoMs: lastSuccessAt === undefined ? undefined : now - lastSuccessAt,
      failingForMs: failingSince === undefined ? undefined : now - failingSince,
      lastError: this.errors.last ?? this.requests.failure,
      leaseDuration: this.leaseDuration,
      renewDeadline: this.renewDeadline,
    };
  }

  /**
   * The last change event emitted, if any: for the testing module, which waits for the first one.
   * Applications read `status()` and subscribe with `onChange()`.
   * @internal
   */
  get currentState(): LeaderChangeEvent | undefined {
    return this.events.current;
  }

  /**
   * Subscribes to change events; returns the unsubscribe function. A listener registered before
   * {@link start} receives the first event. Listener errors are logged, never thrown.
   */
  onChange(listener: (event: LeaderChangeEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  /**
   * An AbortSignal that aborts when the current leadership ends. When this instance does not lead,
   * the signal is already aborted.
   */
  leadershipSignal(): AbortSignal {
    const term = this.leadingTerm();
    if (term) return term.controller.signal;
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
    if (this.phase === 'stopping' || this.phase === 'stopped') {
      return Promise.reject(new ElectorStoppedError(`the elector for ${this.name} is stopped`));
    }
    return this.waiters.wait(options.signal);
  }

  /**
   * Admits one unit of leader-only work, or returns null when this instance does not lead (or is
   * stopping). While admitted work runs, {@link stop} waits for it before releasing the lease.
   * `task` names the work for metrics (`Class.method` for `@LeaderOnly`).
   */
  beginLeaderWork(task?: string): LeaderWork | null {
    const term = this.leadingTerm();
    if (!term) {
      if (task !== undefined) this.metrics.leaderWork(this.name, task, 'skipped');
      return null;
    }
    if (task !== undefined) this.metrics.leaderWork(this.name, task, 'executed');
    return this.work.begin(
      term.controller.signal,
      term.fencingToken,
      () => this.leadingTerm() === term,
    );
  }

  /**
   * Counts, for metrics, a leader-only call that was refused before it reached
   * {@link beginLeaderWork} (a follower answering 503 to a request).
   */
  recordSkippedWork(task: string): void {
    this.metrics.leaderWork(this.name, task, 'skipped');
  }

  /**
   * The term we lead in right now, or null. Computed from the clocks at call time; a term found
   * past its deadline has its signal aborted here and now, so that no signal lags `isLeader()`
   * after a pause (timers run late after one: I/O callbacks come first). The step-down itself
   * (event, log) follows from the validity timer.
   */
  private leadingTerm(): Leadership | null {
    const term = this.leadership;
    if (this.phase !== 'running' || term === null) return null;
    const now = this.clock.now();
    const wallNow = this.clock.wallNow().getTime();
    if (termLeads(term, now, wallNow)) return term;
    if (termLapsed(term, now, wallNow) && !term.controller.signal.aborted) {
      const reason = messages.NO_RENEW_WITHIN_DEADLINE(this.renewDeadline);
      term.controller.abort(
        new LeadershipLostError(`${this.identity} lost ${this.name}: ${reason}`),
      );
      this.scheduleValidityCheck(0); // the step-down itself (event, log) right after this call
    }
    return null;
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle

  /** Starts campaigning. Returns immediately; errors are logged and retried, never thrown. */
  start(): void {
    if (this.phase !== 'idle') {
      throw new LeaderElectionError(
        `the elector for ${this.name} was already started (an elector starts once)`,
      );
    }
    this.phase = 'running';
    this.metrics.started(this.name);
    this.logger?.debug?.(`${this.identity} campaigning for ${this.name}`);
    this.requestAttempt();
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
    if (this.phase === 'idle') {
      this.phase = 'stopped';
      return;
    }
    // 1. Refuse new work and waiters; followers stop campaigning, a leader keeps renewing.
    this.phase = 'stopping';
    this.waiters.rejectAll(new ElectorStoppedError(`the elector for ${this.name} stopped`));
    this.watch.close();
    const leadership = this.leadership;
    if (leadership) {
      leadership.controller.abort(new LeadershipLostError(`${this.identity} is shutting down`));
    } else {
      this.clearTimer('attempt');
    }
    this.emitIfChanged('shutting-down');

    // 2. Wait (bounded) for admitted work.
    let drained = true;
    if (this.work.inFlight > 0) {
      const grace = this.shutdownGracePeriod;
      this.logger?.log(messages.WAITING_FOR_WORK(this.name, grace, this.work.inFlight));
      drained = await this.work.waitForDrain(this.shutdownGracePeriod);
      if (!drained) {
        this.logger?.warn(messages.WORK_OUTLIVED_GRACE(this.name, grace, this.work.inFlight));
      }
    }

    // 3. No more attempts: let the running one finish, then release what we hold.
    this.releasing = true;
    this.clearTimer('attempt');
    this.clearTimer('validity');
    if (this.runningAttempt) await this.runningAttempt.catch(() => undefined);

    const held = this.leadership;
    // Work may also have been admitted under a leadership that lapsed and was re-acquired while
    // we waited: release only with nothing running.
    const released =
      this.releaseOnStop && drained && held && this.work.inFlight === 0 && (await this.release());

    // 4. Tear down.
    held?.controller.abort(new LeadershipLostError(`${this.identity} is shutting down`));
    this.leadership = null;
    this.clearTimer('attempt');
    this.clearTimer('validity');
    this.watch.close();
    this.clearTimer('activation');
    this.requests.abortAll(new ElectorStoppedError('stopped'));
    this.phase = 'stopped';
    try {
      this.lock.close?.();
    } catch (error) {
      this.logger?.warn(`Closing ${this.lock.description} failed: ${describeError(error)}`);
    }
    this.emitIfChanged(released ? 'released' : 'shutting-down');
    this.events.clear();
  }

  /** Releases the Lease; resolves whether it did. */
  private async release(): Promise<boolean> {
    const isOurs = (record: LeaseRecord) => !this.identityGuard.isForeign(record);
    const context = { ...this.context, requests: this.requests, isOurs };
    const written = await releaseLease(context, this.leadership?.record);
    if (written) this.observe(written);
    return written !== undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // The acquire / renew loop

  /** Runs an attempt now, or right after the running one. */
  private requestAttempt(): void {
    if (this.runningAttempt) {
      this.attemptQueued = true;
      return;
    }
    this.clearTimer('attempt');
    this.runningAttempt = this.attempt()
      .catch((error) => this.errors.report('election attempt', error))
      .finally(() => {
        this.runningAttempt = null;
        if (this.attemptQueued && this.canAttempt()) {
          this.attemptQueued = false;
          this.requestAttempt();
        }
        this.attemptQueued = false;
      });
  }

  private canAttempt(): boolean {
    if (this.releasing) return false;
    return this.phase === 'running' || (this.phase === 'stopping' && this.leadership !== null);
  }

  private scheduleAttempt(at: number): void {
    if (!this.canAttempt()) return;
    this.clearTimer('attempt');
    this.attemptTimer = this.clock.setTimeout(() => {
      this.attemptTimer = undefined;
      this.requestAttempt();
    }, at - this.clock.now());
  }

  /** A follower tries at `from` plus its takeover delay (see `takeoverDelay`): spreads the herd. */
  private scheduleTakeover(from: number): void {
    const at = from + takeoverDelay({ random: this.random });
    if (at > this.clock.now()) this.scheduleAttempt(at);
    else this.requestAttempt();
  }

  private retryDelay(): number {
    // client-go's follower cadence: retryPeriod with up to RETRY_JITTER_FACTOR times extra jitter.
    return this.retryPeriod * (1 + RETRY_JITTER_FACTOR * this.random());
  }

  /**
   * One attempt: try to acquire or renew, then schedule the next one. Errors are reported and
   * retried: every `retryPeriod` while we hold the Lease, with jitter while following, and slowly
   * (a lease duration) for errors an operator has to fix (RBAC, configuration).
   */
  private async attempt(): Promise<void> {
    if (!this.canAttempt()) return;
    try {
      await this.tryAcquireOrRenew();
      this.errors.clear();
    } catch (error) {
      this.errors.report(this.leadership ? 'renewing' : 'acquiring', error);
      this.emitIfChanged(); // e.g. a takeover that failed: the Lease is free, nobody leads
      if (
        error instanceof LockForbiddenError ||
        error instanceof LockRejectedError ||
        !(error instanceof LockError)
      ) {
        this.scheduleAttempt(this.clock.now() + Math.max(this.retryDelay(), this.leaseDuration));
      } else {
        this.scheduleAttempt(
          this.clock.now() + (this.leadership ? this.retryPeriod : this.retryDelay()),
        );
      }
    } finally {
      if (this.phase === 'running') this.watch.ensureOpen();
    }
  }

  /**
   * 1. Start from the cached record (our last write, or the watched record), else read.
   * 2. Decide (see `decide`): step down first if the record shows another holder.
   * 3. Wait, or write (create / update based on the record's resourceVersion).
   * 4. On success, take the answer as our term (onWritten). On a conflict or not-found, read again
   *    and go back to 2, at most three rounds; then let the watch catch up and retry shortly.
   */
  private async tryAcquireOrRenew(): Promise<void> {
    let record: LeaseRecord | null | undefined = this.cachedRecord();
    const fromCache = record !== undefined;
    if (record === undefined) record = await this.read();

    for (let round = 0; round < 3; round++) {
      if (!this.canAttempt()) return;
      let decision = this.decideNow(record);
      if (decision.stepDown !== undefined) {
        this.stepDown(decision.stepDown);
        // Listeners ran: decide again on the state they left.
        decision = this.decideNow(record);
      }
      if (decision.why === 'identity-in-use') this.identityGuard.report(record!);
      if (decision.action === 'wait') {
        this.waitAsFollower(decision.until);
        return;
      }
      const active = decision.why === 'renew' && this.clock.now() >= this.leadership!.validFrom;
      this.identityGuard.add(decision.spec.renewTime, !active);
      const requestStart = this.clock.now();
      const wallRequestStart = this.clock.wallNow().getTime();
      const renewing = this.leadership !== null;
      try {
        const written =
          decision.action === 'create'
            ? await this.requests.run('create', (signal) =>
                this.lock.create(decision.spec, { signal }),
              )
            : await this.requests.run('update', (signal) =>
                this.lock.update(decision.spec, decision.basedOn.resourceVersion, { signal }),
              );
        if (renewing) this.metrics.renewed(this.name, this.clock.now() - requestStart, true);
        const recreated =
          decision.action === 'update' &&
          !!decision.basedOn.uid &&
          !!written.uid &&
          written.uid !== decision.basedOn.uid;
        const leadsAfter = recreated ? this.leaseDuration : decision.leadsAfter;
        this.onWritten(written, requestStart, wallRequestStart, leadsAfter, recreated);
        const waiting = this.leadership !== null && this.leadership.validFrom > this.clock.now();
        this.identityGuard.answered(decision.spec.renewTime, waiting);
        return;
      } catch (error) {
        if (renewing) this.metrics.renewed(this.name, this.clock.now() - requestStart, false);
        if (!(error instanceof LockConflictError || error instanceof LockNotFoundError))
          throw error;
        // Someone else wrote (or deleted) the Lease: look again before deciding.
        if (round === 0 && fromCache) this.metrics.slowpathExercised(this.name);
        const lost = !renewing && error instanceof LockConflictError && this.watch.isLive;
        if (lost && decision.action === 'update') {
          // Most likely another follower took it: its record comes through the watch (which
          // re-schedules us), so no read. The retry (a read) covers a watch that brings nothing.
          const seen = this.observation?.record;
          if (!seen || !isNewerVersion(seen, decision.basedOn)) {
            this.conflictedOn = decision.basedOn.resourceVersion;
            return this.scheduleAttempt(this.clock.now() + this.retryDelay());
          }
          record = seen;
          continue;
        }
        record = await this.read();
        const ours = this.leadership?.record;
        if (ours && record?.holderIdentity === this.identity && termFieldsEdited(ours, record)) {
          this.onOwnRecordEdited(record);
        }
      }
    }
    // Three conflicts in a row: let the watch catch up and try again shortly.
    this.scheduleAttempt(this.clock.now() + this.retryDelay());
  }

  private decideNow(record: LeaseRecord | null): Decision {
    return decide(
      {
        identity: this.identity,
        campaigning: this.phase === 'running',
        leaseDuration: this.leaseDuration,
        leadership: this.leadership,
        observation: this.observation,
        sentWrites: this.identityGuard,
        lastSentRenewTime: this.identityGuard.latest,
      },
      record,
      this.clock.now(),
      this.clock.wallNow(),
    );
  }

  /**
   * The record to base a write on without reading first, or undefined to read: our own last write
   * while leading, or the watched record while the watch is open, unless a write already conflicted
   * on it (the watch did not bring the change: it may be dead). A stale one costs a 409 + read.
   */
  private cachedRecord(): LeaseRecord | null | undefined {
    if (this.leadership) return this.leadership.record;
    const watched = this.observation?.record;
    if (!this.watch.isOpen || !this.observation) return undefined;
    return watched && watched.resourceVersion === this.conflictedOn ? undefined : watched;
  }

  private async read(): Promise<LeaseRecord | null> {
    const record = await this.requests.run('get', (signal) => this.lock.get({ signal }));
    if (record) this.observe(record);
    else this.observeLeaseMissing('read');
    return record;
  }

  /**
   * A write succeeded:
   * 1. While we hold the Lease: extend our term to `requestStart + renewDeadline` (never past a
   *    cap set by someone else's edit, unless this write started after we saw the edit).
   * 2. Otherwise a new term begins, unless the write took longer than renewDeadline (renew at once
   *    instead). It leads at once, or is *activating* for `leadsAfter` ms from this answer.
   * 3. Schedule the validity check and the next renew.
   */
  private onWritten(
    written: LeaseRecord,
    requestStart: number,
    wallRequestStart: number,
    leadsAfter: number | undefined,
    recreated: boolean,
  ): void {
    this.observe(written);
    const validUntil = requestStart + this.renewDeadline;
    const now = this.clock.now();
    // A term that ran out before this answer came (a pause) has aborted its signals: it never
    // leads again. This write starts a new term, which keeps any wait the old one still had.
    const lapsed = this.leadership;
    const pendingFrom = lapsed?.validFrom ?? -Infinity;
    if (lapsed && termLapsed(lapsed, now, this.clock.wallNow().getTime())) {
      this.stepDown(messages.NO_RENEW_WITHIN_DEADLINE(this.renewDeadline));
    }
    if (this.leadership) {
      extendTerm(this.leadership, written, requestStart, wallRequestStart, this.renewDeadline);
    } else {
      if (validUntil <= now) {
        // The write took longer than the renew deadline: we must not act on it. Renew at once.
        this.scheduleAttempt(now);
        return;
      }
      // We created a Lease we never saw, or an update re-created a deleted one (the API server
      // creates Leases on update): its last holder may be cut off and believe it leads until its
      // renew deadline, which ends before one lease duration from this answer (the margin
      // leaseDuration - renewDeadline covers clock-rate differences). We hold the Lease, renewing,
      // and lead only then; the old holder's next renew meets our Lease and stops it.
      this.identityGuard.reset();
      const wait = written.neverExistedBefore ? 0 : (leadsAfter ?? 0);
      const validFrom = Math.max(wait > 0 ? now + wait : requestStart, pendingFrom);
      const deadline = this.renewDeadline;
      this.leadership = beginTerm(written, validFrom, requestStart, wallRequestStart, deadline);
      if (this.phase === 'running' && validFrom > now) {
        const message = messages.LEADS_LATER(this.identity, this.name, validFrom - now, recreated);
        if (recreated) this.logger?.warn(message);
        else this.logger?.log(message);
        this.scheduleActivation(this.leadership);
      } else if (this.phase === 'running') {
        this.announceLeadership();
      }
      // While stopping, a write that landed after stop() began still holds the lease for us:
      // recording it lets stop() release it instead of leaving it to expire.
    }
    // A renew can land after validFrom but before the activation timer: announce it first.
    if (this.isLeader() && this.activationTimer !== undefined) this.announceLeadership();
    if (this.isLeader()) this.waiters.resolveAll();
    this.scheduleValidityCheck();
    this.scheduleAttempt(requestStart + this.renewInterval);
  }

  /** Announces an activating term at its `validFrom`; a timer that fires early waits again. */
  private scheduleActivation(leadership: Leadership): void {
    this.activationTimer = this.clock.setTimeout(() => {
      this.activationTimer = undefined;
      if (this.leadership !== leadership) return;
      if (this.clock.now() < leadership.validFrom) this.scheduleActivation(leadership);
      else this.announceLeadership();
    }, leadership.validFrom - this.clock.now());
  }

  private announceLeadership(): void {
    this.clearTimer('activation');
    const leadership = this.leadership;
    // A term whose deadline passed while activating never leads: the validity check steps down.
    if (!leadership || !this.isLeader()) return;
    this.logger?.log(messages.BECAME_LEADER(this.identity, this.lock.description, leadership));
    this.emitIfChanged('acquired');
    if (this.isLeader()) this.waiters.resolveAll();
  }

  /** Steps down when the term's deadline passes by either clock (checked after `delay`, or then). */
  private scheduleValidityCheck(delay?: number): void {
    this.clearTimer('validity');
    const leadership = this.leadership;
    if (!leadership) return;
    const now = this.clock.now();
    const wallNow = this.clock.wallNow().getTime();
    const due = Math.min(leadership.validUntil - now, leadership.wallValidUntil - wallNow);
    this.validityTimer = this.clock.setTimeout(() => {
      this.validityTimer = undefined;
      if (this.leadership !== leadership) return;
      if (termLapsed(leadership, this.clock.now(), this.clock.wallNow().getTime())) {
        this.stepDown(messages.NO_RENEW_WITHIN_DEADLINE(this.renewDeadline));
        this.requestAttempt();
      } else {
        this.scheduleValidityCheck();
      }
    }, delay ?? due);
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
    this.emitIfChanged('lost');
  }

  /** Follower: nothing to do until `until` (expiry of the current holder), if known. */
  private waitAsFollower(until: number | undefined): void {
    if (until !== undefined) this.scheduleTakeover(until);
    else this.clearTimer('attempt');
    this.emitIfChanged();
  }

  // ---------------------------------------------------------------------------------------------
  // Observation and watch events

  private observe(record: LeaseRecord): void {
    this.watch.resourceVersion = record.resourceVersion;
    this.observation = observeRecord(this.observation, record, this.clock.now());
  }

  private observeLeaseMissing(source: 'watch' | 'read'): void {
    const now = this.clock.now();
    this.observation = observeMissing(this.observation, source, now, this.leaseDuration);
  }

  /**
   * A watch event:
   * 1. DELETED: record the deletion; a leader re-creates at once, a follower waits out the
   *    deleted holder (see `decide`).
   * 2. Our own record while we lead: an echo of our write, or an edit by someone else, which caps
   *    our term.
   * 3. Anything else while we lead: renew at once; the answer tells whether we lost the Lease.
   * 4. A follower: acquire at once when free (or naming us), else wait for the holder's expiry.
   */
  private onWatchEvent(event: LockWatchEvent): void {
    if (event.type === 'BOOKMARK') return;
    if (event.type === 'DELETED') {
      // The object's final state first: a change we had not seen yet restarts the countdown.
      if (!this.leadership) this.observe(event.record);
      this.observeLeaseMissing('watch');
      this.requestAttempt();
      return;
    }
    const record = event.record;
    const holder = record.holderIdentity ?? '';
    const ours = this.leadership?.record;
    if (ours && this.identityGuard.isForeign(record) && isNewerVersion(record, ours)) {
      // Another process writes under our identity: stop at once, wait as a follower.
      this.observe(record);
      this.identityGuard.report(record);
      this.stepDown(`another process writes the lease as "${this.identity}"`);
      this.requestAttempt();
      return;
    }
    if (this.leadership && holder === this.identity) {
      // Usually an echo of one of our writes (only renewTime differs). Anything else means someone
      // edited our record, e.g. shortened leaseDurationSeconds: a peer that reads the value literally
      // may take over that long after the edit, so we lead no longer than that after our last write
      // (the edit came after it), and renew at once to restore our fields.
      const ours = this.leadership.record;
      const edited =
        termFieldsEdited(ours, record) ||
        record.acquireTime?.getTime() !== ours.acquireTime?.getTime();
      if (edited) this.onOwnRecordEdited(record);
      return;
    }
    this.observe(record);
    if (this.leadership) {
      // Possibly taken over, or an event older than our last write (watch events and write
      // responses race). Renewing with our resourceVersion tells which: a 409 leads to a re-read
      // and a step-down, success means the event was stale.
      this.requestAttempt();
      return;
    }
    if (this.phase !== 'running') return;
    if (holder === this.identity && this.runningAttempt) {
      // Most likely the echo of the write our running attempt is making; its result decides.
      return;
    }
    if (holder === this.identity || (isFree(record) && this.runningAttempt)) {
      this.requestAttempt();
    } else if (isFree(record)) {
      this.scheduleTakeover(this.clock.now());
    } else {
      this.scheduleTakeover(
        expiryOf(this.observation, record, this.clock.now(), this.leaseDuration),
      );
      this.emitIfChanged();
    }
  }

  private onOwnRecordEdited(record: LeaseRecord): void {
    const leadership = this.leadership;
    if (!leadership) return;
    if (capTerm(leadership, record, this.clock.now())) {
      const seconds = record.leaseDurationSeconds;
      this.logger?.warn(messages.RECORD_EDITED(this.name, this.identity, seconds));
      this.scheduleValidityCheck();
    }
    this.requestAttempt();
  }

  // ---------------------------------------------------------------------------------------------
  // Events and timers

  /** Emits a change event when (whether we lead, who leads) changed since the last one. */
  private emitIfChanged(reason: LeaderChangeReason = 'observed'): void {
    if (this.phase === 'idle') return;
    const leadership = this.leadership;
    const isLeader =
      this.phase === 'running' &&
      leadership !== null &&
      termLeads(leadership, this.clock.now(), this.clock.wallNow().getTime());
    if (this.observation === undefined && !isLeader && this.events.current === undefined) return;
    const record = this.observation?.record;
    this.events.emitIfChanged(
      isLeader,
      isLeader ? this.identity : record?.holderIdentity || null,
      isLeader ? leadership!.fencingToken : null,
      isLeader ? leadership!.term : (record?.leaseTransitions ?? null),
      reason,
    );
  }

  private clearTimer(which: TimerName): void {
    const key = `${which}Timer` as const;
    const handle = this[key];
    if (handle !== undefined) {
      this.clock.clearTimeout(handle);
      this[key] = undefined;
    }
  }
}
