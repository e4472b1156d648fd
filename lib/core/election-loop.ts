import { BeforeReleaseHooks } from './before-release.js';
import type { Clock } from './clock.js';
import { decide, type Decision } from './decide.js';
import {
  resolveElectorOptions,
  type ResolvedElectorOptions,
  type ElectorLogger,
  type LeaderElectorOptions,
} from './elector-options.js';
import type { ElectorPhase, LeaderChangeReason } from './elector-status.js';
import { LeadershipLostError, LockError, LockForbiddenError, LockRejectedError } from './errors.js';
import { acquireOrRenew } from './acquire-or-renew.js';
import { ChangeEvents } from './change-events.js';
import { CreateConfirmation } from './create-confirmation.js';
import * as messages from './elector.messages.js';
import type { LeadsLaterCause } from './elector.messages.js';
import { isNewerVersion } from './fencing-token.js';
import { FireClaims } from './fires/fire-claims.js';
import { LastRuns } from './fires/last-runs.js';
import { LeaderWorkTracker } from './leader-work.js';
import type { LeaderAddress } from './lease-record.js';
import {
  beginTerm,
  capTerm,
  extendTerm,
  termLapsed,
  termLeads,
  type Leadership,
} from './leadership.js';
import { LeadershipWaiters } from './leadership-waiters.js';
import { isFree, type ExpiredHolder, type LeaseRecord } from './lease-record.js';
import { observeMissing, observeRecord, type Observation } from './lease-observation.js';
import { LeaseWatch } from './lease-watch.js';
import type { LeaseLock } from './lock.js';
import { IdentityGuard } from './identity-guard.js';
import { ErrorLog, LockRequests } from './lock-requests.js';
import { guardMetrics, type ElectionMetrics } from './metrics.js';
import { announceCandidate } from './announce-candidate.js';
import { RolloutCandidates } from './rollout-candidates.js';
import { Succession } from './succession.js';
import { TermTimers } from './term-timers.js';
import { RETRY_JITTER_FACTOR } from './timing.js';
import { onWatchEvent } from './watch-events.js';

/**
 * The acquire / renew loop of one {@link LeaderElector}: its state (phase, the term, what the Lease
 * looks like to this process), the attempts (read, decide, write), watch events, and change events.
 * The elector owns one and adds the public API; `Lifecycle` adds start, step-down and stop on the
 * same state; `TermTimers` owns the timers. Internal: its members are the elector's parts, not an API.
 * @internal
 */
export class ElectionLoop {
  /** Name used in events and logs (the `leaseName` option, or the lock's description). */
  readonly name: string;
  /** This candidate's identity, the lock's. */
  readonly identity: string;
  /** The lock the election runs on. */
  readonly lock: LeaseLock;
  readonly clock: Clock;
  readonly logger: ElectorLogger | undefined;
  readonly random: () => number;
  readonly metrics: Required<ElectionMetrics>;
  readonly context: ResolvedElectorOptions & {
    readonly metrics: Required<ElectionMetrics>;
    readonly description: string;
  };
  readonly requests: LockRequests;
  readonly errors: ErrorLog;
  readonly work: LeaderWorkTracker;
  readonly watch: LeaseWatch;

  phase: ElectorPhase = 'idle';
  observation: Observation | undefined;
  leadership: Leadership | null = null;
  readonly identityGuard: IdentityGuard;

  readonly timers: TermTimers;
  runningAttempt: Promise<void> | null = null;
  attemptQueued = false;
  /** A version a follower's write conflicted on: the watch owes us a newer one (else read). */
  conflictedOn: string | undefined;
  /** Whether a follower's create after a deletion was free from the deletion on (see its doc). */
  readonly confirmation = new CreateConfirmation();
  /** An activating term that leads as soon as the watch confirms its create. */
  awaitingConfirmation: { term: Leadership; resourceVersion: string } | undefined;

  readonly events: ChangeEvents;
  /** Set while a step-down or stop releases (and from stop on): no more attempts. */
  releasing = false;
  readonly waiters = new LeadershipWaiters();
  /** Run before a release while we still hold the Lease (see `LeaderElector.beforeRelease`). */
  readonly beforeRelease = new BeforeReleaseHooks();
  readonly succession: Succession;
  /** Succession by revision: announcements and the successor a release names. */
  readonly rollout: RolloutCandidates;
  /** Callers of `LeaderElector.whenSettled()`, until this replica has seen the Lease and announced. */
  readonly settleWaiters: (() => void)[] = [];
  /** Set by stepDown() from its start until it released: no leader work meanwhile. */
  steppingDown = false;
  /** When the running attempt started, and how many writes succeeded (for confirmLeadership()). */
  attemptStartedAt = Number.NEGATIVE_INFINITY;
  successfulWrites = 0;
  /** The holder whose expired Lease the last acquiring write took over, for the announcement. */
  tookOverExpired: ExpiredHolder | undefined;
  /** Claims of `once` jobs' fires, carried by our writes (see `FireClaims`). */
  readonly fires: FireClaims;
  /** Where this replica serves forwarded requests, written with each write of its terms. */
  advertised: LeaderAddress | undefined;
  /** The last finished run of each `once` job seen in the ledger (the `jobLastRun` hook). */
  private readonly lastRuns = new LastRuns();

  constructor(options: LeaderElectorOptions) {
    const resolved = resolveElectorOptions(options);
    ({ lock: this.lock, identity: this.identity, name: this.name } = resolved);
    this.clock = resolved.clock;
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
    this.timers = new TermTimers(this.clock, {
      heldTerm: () => this.leadership,
      onActivation: () => this.announceLeadership(),
      onLapsed: () => {
        this.loseLeadership(messages.NO_RENEW_WITHIN_DEADLINE(this.context.renewDeadline));
        this.requestAttempt();
      },
    });
    this.events = new ChangeEvents(context);
    this.succession = new Succession({
      ...context,
      watchHealthyFor: () => this.watch.healthyFor(this.clock.now()),
      supersededBy: (named, release) => this.rollout.supersededBy(named, release),
    });
    this.rollout = new RolloutCandidates({ identity: this.identity, revision: resolved.revision });
    this.fires = new FireClaims({
      identity: this.identity,
      clock: this.clock,
      leadingTerm: () => this.leadingTerm(),
      requestAttempt: () => this.requestAttempt(),
      lastRecord: () => this.leadership?.record ?? this.observation?.record,
    });
    this.watch = new LeaseWatch({
      ...context,
      isRunning: () => this.phase === 'running',
      onReachable: () => this.requests.markReachable(),
      onEvent: (event) => onWatchEvent(this, event),
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
  leadingTerm(): Leadership | null {
    const term = this.leadership;
    if (this.phase !== 'running' || term === null || this.steppingDown) return null;
    const now = this.clock.now();
    const wallNow = this.clock.wallNow().getTime();
    if (termLeads(term, now, wallNow)) return term;
    if (termLapsed(term, now, wallNow) && !term.controller.signal.aborted) {
      const reason = messages.NO_RENEW_WITHIN_DEADLINE(this.context.renewDeadline);
      term.controller.abort(
        new LeadershipLostError(messages.LOST(this.identity, this.name, reason)),
      );
      this.timers.scheduleValidityCheck(0); // the step-down itself (event, log) right after this call
    }
    return null;
  }

  /** Ends our term locally without a step-down warning (we released it, or let it expire). */
  dropTerm(leadership: Leadership): void {
    this.leadership = null;
    this.timers.clear('validity');
    this.timers.clear('activation');
    leadership.controller.abort(new LeadershipLostError(messages.STEPPED_DOWN(this.identity)));
  }

  // ---------------------------------------------------------------------------------------------
  // The acquire / renew loop

  /** Runs an attempt now, or right after the running one. */
  requestAttempt(): void {
    if (this.runningAttempt) {
      this.attemptQueued = true;
      return;
    }
    this.timers.clear('attempt');
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

  canAttempt(): boolean {
    if (this.releasing) return false;
    return this.phase === 'running' || (this.phase === 'stopping' && this.leadership !== null);
  }

  scheduleAttempt(at: number): void {
    if (!this.canAttempt()) return;
    this.timers.clear('attempt');
    this.timers.set('attempt', at - this.clock.now(), () => this.requestAttempt());
  }

  /**
   * A follower tries at `from` plus its takeover delay: the herd is spread, and a preferred
   * successor (see `Succession`) goes first.
   */
  scheduleTakeover(from: number): void {
    const record = this.observation?.record ?? undefined;
    const at = from + this.succession.delay(record, record !== undefined && isFree(record));
    if (at > this.clock.now()) this.scheduleAttempt(at);
    else this.requestAttempt();
  }

  retryDelay(): number {
    // client-go's follower cadence: retryPeriod with up to RETRY_JITTER_FACTOR times extra jitter.
    return this.context.retryPeriod * (1 + RETRY_JITTER_FACTOR * this.random());
  }

  /**
   * One attempt: try to acquire or renew, then schedule the next one. Errors are reported and
   * retried: every `retryPeriod` while we hold the Lease, with jitter while following, and slowly
   * (a lease duration) for errors an operator has to fix (RBAC, configuration).
   */
  async attempt(): Promise<void> {
    if (!this.canAttempt()) return;
    try {
      await acquireOrRenew(this);
      this.errors.clear();
    } catch (error) {
      this.errors.report(this.leadership ? 'renewing' : 'acquiring', error);
      this.emitIfChanged(); // e.g. a takeover that failed: the Lease is free, nobody leads
      if (this.leadership) {
        // Whatever the error (a 401 whose token is re-read, a 403 from a policy being rolled out, a
        // 422 from an admission webhook, a 5xx), a holder retries every retryPeriod until its renew
        // deadline: one failed renew must not end a term that the next one could keep.
        this.scheduleAttempt(this.clock.now() + this.context.retryPeriod);
      } else if (
        error instanceof LockForbiddenError ||
        error instanceof LockRejectedError ||
        !(error instanceof LockError)
      ) {
        this.scheduleAttempt(
          this.clock.now() + Math.max(this.retryDelay(), this.context.leaseDuration),
        );
      } else {
        this.scheduleAttempt(this.clock.now() + this.retryDelay());
      }
    } finally {
      if (this.phase === 'running') this.watch.ensureOpen();
    }
  }

  decideNow(record: LeaseRecord | null): Decision {
    const decision = decide(
      {
        identity: this.identity,
        campaigning: this.phase === 'running',
        leaseDuration: this.context.leaseDuration,
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
  cachedRecord(): LeaseRecord | null | undefined {
    if (this.leadership) return this.leadership.record;
    const watched = this.observation?.record;
    if (!this.watch.isOpen || !this.observation) return undefined;
    return watched && watched.resourceVersion === this.conflictedOn ? undefined : watched;
  }

  async read(): Promise<LeaseRecord | null> {
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
  onWritten(
    written: LeaseRecord,
    requestStart: number,
    wallRequestStart: number,
    leadsAfter: number | undefined,
    cause: LeadsLaterCause,
  ): void {
    this.observeAnswer(written);
    this.successfulWrites += 1;
    const validUntil = requestStart + this.context.renewDeadline;
    const now = this.clock.now();
    // A term that ran out before this answer came (a pause) has aborted its signals: it never
    // leads again. This write starts a new term, which keeps any wait the old one still had.
    const lapsed = this.leadership;
    const pendingFrom = lapsed?.validFrom ?? -Infinity;
    if (lapsed && termLapsed(lapsed, now, this.clock.wallNow().getTime())) {
      this.loseLeadership(messages.NO_RENEW_WITHIN_DEADLINE(this.context.renewDeadline));
    }
    if (this.leadership) {
      extendTerm(
        this.leadership,
        written,
        requestStart,
        wallRequestStart,
        this.context.renewDeadline,
      );
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
      const deadline = this.context.renewDeadline;
      this.leadership = beginTerm(written, validFrom, requestStart, wallRequestStart, deadline);
      if (this.phase === 'running' && validFrom > now) {
        const message = messages.LEADS_LATER(this.identity, this.name, validFrom - now, cause);
        if (cause === 'recreated') this.logger?.warn(message);
        else if (cause === 'awaiting-watch') this.logger?.debug?.(message);
        else this.logger?.log(message);
        this.timers.scheduleActivation(this.leadership);
      } else if (this.phase === 'running') {
        this.announceLeadership();
      }
      // While stopping, a write that landed after stop() began still holds the lease for us:
      // recording it lets stop() release it instead of leaving it to expire.
    }
    // A renew can land after validFrom but before the activation timer: announce it first.
    if (this.leadingTerm() !== null && this.timers.isSet('activation')) this.announceLeadership();
    if (this.leadingTerm() !== null) this.waiters.resolveAll();
    this.timers.scheduleValidityCheck();
    this.scheduleAttempt(requestStart + this.context.renewInterval);
  }

  announceLeadership(): void {
    this.timers.clear('activation');
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

  loseLeadership(reason: string): void {
    const leadership = this.leadership;
    if (!leadership) return;
    this.leadership = null;
    this.timers.clear('validity');
    this.timers.clear('activation');
    this.logger?.warn(messages.STOPPED_LEADING(this.identity, this.name, reason));
    leadership.controller.abort(
      new LeadershipLostError(messages.LOST(this.identity, this.name, reason)),
    );
    this.emitIfChanged('lost');
  }

  /** Follower: nothing to do until `until` (expiry of the current holder), if known. */
  waitAsFollower(until: number | undefined): void {
    if (until !== undefined) this.scheduleTakeover(until);
    else this.timers.clear('attempt');
    this.emitIfChanged();
  }

  // ---------------------------------------------------------------------------------------------
  // Observation and watch events

  /**
   * Observes the answer of one of our writes, unless the watch already showed a newer record (the
   * answer is then older and must not replace it: the view would name the wrong holder).
   */
  observeAnswer(written: LeaseRecord): void {
    const seen = this.observation?.record;
    if (seen && isNewerVersion(seen, written) && !isNewerVersion(written, seen)) return;
    this.observe(written);
  }

  observe(record: LeaseRecord): void {
    this.watch.resourceVersion = record.resourceVersion;
    this.observation = observeRecord(this.observation, record, this.clock.now());
    this.succession.observe(record);
    this.rollout.observe(record);
    for (const [job, at] of this.lastRuns.changes(record.fires)) {
      this.metrics.jobLastRun(this.name, job, at);
    }
    announceCandidate(this, record);
    this.notifySettled();
  }

  /** Wakes `whenSettled()` callers once the Lease was seen and no announcement is in flight. */
  notifySettled(): void {
    if (this.observation === undefined || this.rollout.announcing) return;
    for (const resolve of this.settleWaiters.splice(0)) resolve();
  }

  observeLeaseMissing(source: 'watch' | 'read'): void {
    const now = this.clock.now();
    this.observation = observeMissing(this.observation, source, now, this.context.leaseDuration);
    this.notifySettled();
  }

  onOwnRecordEdited(record: LeaseRecord): void {
    const leadership = this.leadership;
    if (!leadership) return;
    if (capTerm(leadership, record, this.clock.now())) {
      const seconds = record.leaseDurationSeconds;
      this.logger?.warn(messages.RECORD_EDITED(this.name, this.identity, seconds));
      this.timers.scheduleValidityCheck();
    }
    this.requestAttempt();
  }

  // ---------------------------------------------------------------------------------------------
  // Change events

  /** Emits a change event when (whether we lead, who leads) changed since the last one. */
  emitIfChanged(reason: LeaderChangeReason = 'observed'): void {
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
}
