import type { Clock, TimerHandle } from './clock.js';
import { decide, type Decision } from './decide.js';
import {
  resolveElectorOptions,
  type ResolvedElectorOptions,
  type ElectorLogger,
  type LeaderElectorOptions,
} from './elector-options.js';
import type { ElectorPhase, LeaderChangeReason } from './elector-status.js';
import {
  LeadershipLostError,
  LockConflictError,
  LockError,
  LockForbiddenError,
  LockNotFoundError,
  LockRejectedError,
} from './errors.js';
import { ChangeEvents } from './change-events.js';
import { CreateConfirmation } from './create-confirmation.js';
import * as messages from './elector.messages.js';
import type { LeadsLaterCause } from './elector.messages.js';
import { isNewerVersion } from './fencing-token.js';
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
import { expiredHolder, isFree, type ExpiredHolder, type LeaseRecord } from './lease-record.js';
import { expiryOf, observeMissing, observeRecord, type Observation } from './lease-observation.js';
import { LeaseWatch } from './lease-watch.js';
import type { LeaseLock, LockWatchEvent } from './lock.js';
import { IdentityGuard } from './identity-guard.js';
import { ErrorLog, LockRequests } from './lock-requests.js';
import { releaseLease } from './release.js';
import { guardMetrics, type ElectionMetrics } from './metrics.js';
import { Succession } from './succession.js';
import { RETRY_JITTER_FACTOR } from './timing.js';

type TimerName = 'attempt' | 'validity' | 'activation';

/**
 * The election loop under {@link LeaderElector}: options and shared state, the acquire / renew loop,
 * what the Lease looks like to this process (reads, writes, watch events), the term's timers and
 * change events. `LeaderElector` adds the public API and the lifecycle (start, stop, step down).
 */
export abstract class ElectionLoop {
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
  protected readonly clock: Clock;
  protected readonly logger: ElectorLogger | undefined;
  protected readonly random: () => number;
  protected readonly metrics: Required<ElectionMetrics>;
  protected readonly context: ResolvedElectorOptions & {
    readonly metrics: Required<ElectionMetrics>;
    readonly description: string;
  };
  protected readonly requests: LockRequests;
  protected readonly errors: ErrorLog;
  protected readonly work: LeaderWorkTracker;
  protected readonly watch: LeaseWatch;

  protected phase: ElectorPhase = 'idle';
  protected observation: Observation | undefined;
  protected leadership: Leadership | null = null;
  protected readonly identityGuard: IdentityGuard;

  protected attemptTimer: TimerHandle | undefined;
  protected activationTimer: TimerHandle | undefined;
  protected validityTimer: TimerHandle | undefined;
  protected runningAttempt: Promise<void> | null = null;
  protected attemptQueued = false;
  /** A version a follower's write conflicted on: the watch owes us a newer one (else read). */
  protected conflictedOn: string | undefined;
  /** Whether a follower's create after a deletion was free from the deletion on (see its doc). */
  protected readonly confirmation = new CreateConfirmation();
  /** An activating term that leads as soon as the watch confirms its create. */
  protected awaitingConfirmation: { term: Leadership; resourceVersion: string } | undefined;

  protected readonly events: ChangeEvents;
  protected stopPromise: Promise<void> | undefined;
  protected releasing = false;
  protected readonly waiters = new LeadershipWaiters();
  protected readonly succession: Succession;
  /** Set by stepDown() from its start until it released: no leader work meanwhile. */
  protected steppingDown = false;
  /** The successor a running stepDown() names: stop() names it too when it takes the release over. */
  protected stepDownSuccessor: string | undefined;
  /** The release a running stepDown() is making: stop() waits for it instead of releasing twice. */
  protected stepDownRelease: Promise<boolean> | undefined;
  /** Whether stop() released the Lease (a stepDown() interrupted by stop() answers with it). */
  protected releasedOnStop = false;
  /** When the running attempt started, and how many writes succeeded (for confirmLeadership()). */
  protected attemptStartedAt = Number.NEGATIVE_INFINITY;
  protected successfulWrites = 0;
  /** The holder whose expired Lease the last acquiring write took over, for the announcement. */
  protected tookOverExpired: ExpiredHolder | undefined;

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
    this.succession = new Succession({
      ...context,
      watchHealthyFor: () => this.watch.healthyFor(this.clock.now()),
    });
    this.watch = new LeaseWatch({
      ...context,
      isRunning: () => this.phase === 'running',
      onReachable: () => this.requests.markReachable(),
      onEvent: (event) => this.onWatchEvent(event),
      onFailed: (error) => this.requests.failed('watch', error),
      onGone: () => this.requestAttempt(),
    });
  }

  /**
   * The term we lead in right now, or null. Computed from the clocks at call time; a term found
   * past its deadline has its signal aborted here and now, so that no signal lags `isLeader()`
   * after a pause (timers run late after one: I/O callbacks come first). The step-down itself
   * (event, log) follows from the validity timer.
   */
  protected leadingTerm(): Leadership | null {
    const term = this.leadership;
    if (this.phase !== 'running' || term === null || this.steppingDown) return null;
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

  /** Waits (bounded by `shutdownGracePeriod`) for admitted work; resolves whether it all ended. */
  protected async drainWork(): Promise<boolean> {
    if (this.work.inFlight === 0) return true;
    const grace = this.shutdownGracePeriod;
    this.logger?.log(messages.WAITING_FOR_WORK(this.name, grace, this.work.inFlight));
    const drained = await this.work.waitForDrain(grace);
    if (!drained)
      this.logger?.warn(messages.WORK_OUTLIVED_GRACE(this.name, grace, this.work.inFlight));
    return drained;
  }

  /** Ends our term locally without a step-down warning (we released it, or let it expire). */
  protected dropTerm(leadership: Leadership): void {
    this.leadership = null;
    this.clearTimer('validity');
    this.clearTimer('activation');
    leadership.controller.abort(new LeadershipLostError(`${this.identity} stepped down`));
  }

  /** Releases the Lease; resolves whether it did. */
  protected async release(successor?: string): Promise<boolean> {
    const isOurs = (record: LeaseRecord) => !this.identityGuard.isForeign(record);
    const context = { ...this.context, requests: this.requests, isOurs };
    const written = await releaseLease(context, this.leadership?.record, successor);
    // The watch may have shown the successor's acquisition before the release's answer arrived.
    if (written) this.observeAnswer(written);
    return written !== undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // The acquire / renew loop

  /** Runs an attempt now, or right after the running one. */
  protected requestAttempt(): void {
    if (this.runningAttempt) {
      this.attemptQueued = true;
      return;
    }
    this.clearTimer('attempt');
    this.attemptStartedAt = this.clock.now();
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

  protected canAttempt(): boolean {
    if (this.releasing) return false;
    return this.phase === 'running' || (this.phase === 'stopping' && this.leadership !== null);
  }

  protected scheduleAttempt(at: number): void {
    if (!this.canAttempt()) return;
    this.clearTimer('attempt');
    this.attemptTimer = this.clock.setTimeout(() => {
      this.attemptTimer = undefined;
      this.requestAttempt();
    }, at - this.clock.now());
  }

  /**
   * A follower tries at `from` plus its takeover delay: the herd is spread, and a preferred
   * successor (see `Succession`) goes first.
   */
  protected scheduleTakeover(from: number): void {
    const record = this.observation?.record ?? undefined;
    const at = from + this.succession.delay(record, record !== undefined && isFree(record));
    if (at > this.clock.now()) this.scheduleAttempt(at);
    else this.requestAttempt();
  }

  protected retryDelay(): number {
    // client-go's follower cadence: retryPeriod with up to RETRY_JITTER_FACTOR times extra jitter.
    return this.retryPeriod * (1 + RETRY_JITTER_FACTOR * this.random());
  }

  /**
   * One attempt: try to acquire or renew, then schedule the next one. Errors are reported and
   * retried: every `retryPeriod` while we hold the Lease, with jitter while following, and slowly
   * (a lease duration) for errors an operator has to fix (RBAC, configuration).
   */
  protected async attempt(): Promise<void> {
    if (!this.canAttempt()) return;
    try {
      await this.tryAcquireOrRenew();
      this.errors.clear();
    } catch (error) {
      this.errors.report(this.leadership ? 'renewing' : 'acquiring', error);
      this.emitIfChanged(); // e.g. a takeover that failed: the Lease is free, nobody leads
      if (this.leadership) {
        // Whatever the error (a 401 whose token is re-read, a 403 from a policy being rolled out, a
        // 422 from an admission webhook, a 5xx), a holder retries every retryPeriod until its renew
        // deadline: one failed renew must not end a term that the next one could keep.
        this.scheduleAttempt(this.clock.now() + this.retryPeriod);
      } else if (
        error instanceof LockForbiddenError ||
        error instanceof LockRejectedError ||
        !(error instanceof LockError)
      ) {
        this.scheduleAttempt(this.clock.now() + Math.max(this.retryDelay(), this.leaseDuration));
      } else {
        this.scheduleAttempt(this.clock.now() + this.retryDelay());
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
  protected async tryAcquireOrRenew(): Promise<void> {
    let record: LeaseRecord | null | undefined = this.cachedRecord();
    const fromCache = record !== undefined;
    if (record === undefined) record = await this.read();

    for (let round = 0; round < 3; round++) {
      if (!this.canAttempt()) return;
      let decision = this.decideNow(record);
      if (decision.stepDown !== undefined) {
        this.loseLeadership(decision.stepDown);
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
      // A follower creating a Lease it saw deleted: only its watch can tell whether nobody held
      // the Lease in between (see CreateConfirmation).
      const confirming =
        decision.action === 'create' && !renewing && decision.leadsAfter === undefined;
      if (confirming) this.confirmation.begin(this.watch.isLive ? this.watch.session : -1);
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
        let leadsAfter = recreated ? this.leaseDuration : decision.leadsAfter;
        let cause: LeadsLaterCause = recreated
          ? 'recreated'
          : this.observation?.seenExisting
            ? 'unconfirmed'
            : 'never-seen';
        if (confirming) {
          const verdict = this.confirmation.verdict(written.resourceVersion, this.watch.session);
          if (verdict !== 'confirmed') leadsAfter = this.leaseDuration;
          cause = verdict === 'unknown' ? 'awaiting-watch' : 'unconfirmed';
          if (verdict !== 'unknown') this.confirmation.clear();
        }
        this.tookOverExpired =
          decision.why === 'acquire-expired' ? expiredHolder(record) : undefined;
        this.onWritten(written, requestStart, wallRequestStart, leadsAfter, cause);
        if (cause === 'awaiting-watch' && this.leadership?.record === written) {
          this.awaitingConfirmation = {
            term: this.leadership,
            resourceVersion: written.resourceVersion,
          };
        }
        const waiting = this.leadership !== null && this.leadership.validFrom > this.clock.now();
        this.identityGuard.answered(decision.spec.renewTime, waiting);
        return;
      } catch (error) {
        if (confirming) this.confirmation.clear();
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

  protected decideNow(record: LeaseRecord | null): Decision {
    const decision = decide(
      {
        identity: this.identity,
        campaigning: this.phase === 'running',
        leaseDuration: this.leaseDuration,
        leadership: this.leadership,
        observation: this.observation,
        sentWrites: this.identityGuard,
        lastSentRenewTime: this.identityGuard.latest,
        duplicateSeen: this.identityGuard.duplicateSeen,
      },
      record,
      this.clock.now(),
      this.clock.wallNow(),
    );
    const heldBackUntil = this.succession.heldBackUntil(this.clock.now());
    if (this.leadership || decision.action === 'wait' || heldBackUntil === undefined) {
      return decision;
    }
    return { action: 'wait', until: heldBackUntil, why: 'held-back' };
  }

  /**
   * The record to base a write on without reading first, or undefined to read: our own last write
   * while leading, or the watched record while the watch is open, unless a write already conflicted
   * on it (the watch did not bring the change: it may be dead). A stale one costs a 409 + read.
   */
  protected cachedRecord(): LeaseRecord | null | undefined {
    if (this.leadership) return this.leadership.record;
    const watched = this.observation?.record;
    if (!this.watch.isOpen || !this.observation) return undefined;
    return watched && watched.resourceVersion === this.conflictedOn ? undefined : watched;
  }

  protected async read(): Promise<LeaseRecord | null> {
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
  protected onWritten(
    written: LeaseRecord,
    requestStart: number,
    wallRequestStart: number,
    leadsAfter: number | undefined,
    cause: LeadsLaterCause,
  ): void {
    this.observeAnswer(written);
    this.successfulWrites += 1;
    const validUntil = requestStart + this.renewDeadline;
    const now = this.clock.now();
    // A term that ran out before this answer came (a pause) has aborted its signals: it never
    // leads again. This write starts a new term, which keeps any wait the old one still had.
    const lapsed = this.leadership;
    const pendingFrom = lapsed?.validFrom ?? -Infinity;
    if (lapsed && termLapsed(lapsed, now, this.clock.wallNow().getTime())) {
      this.loseLeadership(messages.NO_RENEW_WITHIN_DEADLINE(this.renewDeadline));
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
        const message = messages.LEADS_LATER(this.identity, this.name, validFrom - now, cause);
        if (cause === 'recreated') this.logger?.warn(message);
        else if (cause === 'awaiting-watch') this.logger?.debug?.(message);
        else this.logger?.log(message);
        this.scheduleActivation(this.leadership);
      } else if (this.phase === 'running') {
        this.announceLeadership();
      }
      // While stopping, a write that landed after stop() began still holds the lease for us:
      // recording it lets stop() release it instead of leaving it to expire.
    }
    // A renew can land after validFrom but before the activation timer: announce it first.
    if (this.leadingTerm() !== null && this.activationTimer !== undefined)
      this.announceLeadership();
    if (this.leadingTerm() !== null) this.waiters.resolveAll();
    this.scheduleValidityCheck();
    this.scheduleAttempt(requestStart + this.renewInterval);
  }

  /** Announces an activating term at its `validFrom`; a timer that fires early waits again. */
  protected scheduleActivation(leadership: Leadership): void {
    this.activationTimer = this.clock.setTimeout(() => {
      this.activationTimer = undefined;
      if (this.leadership !== leadership) return;
      if (this.clock.now() < leadership.validFrom) this.scheduleActivation(leadership);
      else this.announceLeadership();
    }, leadership.validFrom - this.clock.now());
  }

  protected announceLeadership(): void {
    this.clearTimer('activation');
    const leadership = this.leadership;
    // A term whose deadline passed while activating never leads: the validity check steps down.
    if (!leadership || !(this.leadingTerm() !== null)) return;
    const { description } = this.lock;
    this.logger?.log(
      messages.BECAME_LEADER(this.identity, description, leadership, this.tookOverExpired),
    );
    this.tookOverExpired = undefined;
    this.emitIfChanged('acquired');
    if (this.leadingTerm() !== null) this.waiters.resolveAll();
  }

  /** Steps down when the term's deadline passes by either clock (checked after `delay`, or then). */
  protected scheduleValidityCheck(delay?: number): void {
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
        this.loseLeadership(messages.NO_RENEW_WITHIN_DEADLINE(this.renewDeadline));
        this.requestAttempt();
      } else {
        this.scheduleValidityCheck();
      }
    }, delay ?? due);
  }

  protected loseLeadership(reason: string): void {
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
  protected waitAsFollower(until: number | undefined): void {
    if (until !== undefined) this.scheduleTakeover(until);
    else this.clearTimer('attempt');
    this.emitIfChanged();
  }

  // ---------------------------------------------------------------------------------------------
  // Observation and watch events

  /**
   * Observes the answer of one of our writes, unless the watch already showed a newer record (the
   * answer is then older and must not replace it: the view would name the wrong holder).
   */
  protected observeAnswer(written: LeaseRecord): void {
    const seen = this.observation?.record;
    if (seen && isNewerVersion(seen, written) && !isNewerVersion(written, seen)) return;
    this.observe(written);
  }

  protected observe(record: LeaseRecord): void {
    this.watch.resourceVersion = record.resourceVersion;
    this.observation = observeRecord(this.observation, record, this.clock.now());
    this.succession.observe(record);
  }

  protected observeLeaseMissing(source: 'watch' | 'read'): void {
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
  protected onWatchEvent(event: LockWatchEvent): void {
    if (event.type === 'BOOKMARK') return;
    this.confirmation.seen(event, this.watch.session);
    this.activateIfConfirmed();
    if (event.type === 'DELETED') {
      // The object's final state first: a change we had not seen yet restarts the countdown.
      if (!this.leadership) this.observe(event.record);
      this.observeLeaseMissing('watch');
      // Decide once the events already delivered with this one were seen: a late burst may hold
      // a re-creation and a second deletion after it, and we act on the newest state.
      queueMicrotask(() => this.requestAttempt());
      return;
    }
    const record = event.record;
    const holder = record.holderIdentity ?? '';
    const ours = this.leadership?.record;
    if (ours && this.identityGuard.isForeign(record) && isNewerVersion(record, ours)) {
      // Another process writes under our identity: stop at once, wait as a follower.
      this.observe(record);
      this.identityGuard.report(record);
      this.loseLeadership(`another process writes the lease as "${this.identity}"`);
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

  /** Leads at once when the watch confirmed the create of an activating term (or says why not). */
  protected activateIfConfirmed(): void {
    const awaiting = this.awaitingConfirmation;
    if (!awaiting) return;
    const term = this.leadership;
    const now = this.clock.now();
    if (term !== awaiting.term || term.validFrom <= now) {
      this.awaitingConfirmation = undefined;
      return;
    }
    const verdict = this.confirmation.verdict(awaiting.resourceVersion, this.watch.session);
    if (verdict === 'unknown') return;
    this.awaitingConfirmation = undefined;
    this.confirmation.clear();
    if (verdict === 'confirmed') {
      term.validFrom = now;
      this.announceLeadership();
      return;
    }
    const message = messages.LEADS_LATER(
      this.identity,
      this.name,
      term.validFrom - now,
      'unconfirmed',
    );
    this.logger?.log(message);
  }

  protected onOwnRecordEdited(record: LeaseRecord): void {
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
  protected emitIfChanged(reason: LeaderChangeReason = 'observed'): void {
    if (this.phase === 'idle') return;
    const leadership = this.leadership;
    const isLeader =
      this.phase === 'running' &&
      !this.steppingDown &&
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

  protected clearTimer(which: TimerName): void {
    const key = `${which}Timer` as const;
    const handle = this[key];
    if (handle !== undefined) {
      this.clock.clearTimeout(handle);
      this[key] = undefined;
    }
  }
}
