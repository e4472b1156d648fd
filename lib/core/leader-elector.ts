import type { FireClaimAnswer, FireClaimRequest } from './fires/fire-claims.js';
import type { FireLedger } from './fires/fire-ledger.js';
import { Confirmations } from './confirm-leadership.js';
import { ElectionLoop } from './election-loop.js';
import * as messages from './elector.messages.js';
import type { LeaderElectorOptions } from './elector-options.js';
import type { ElectorStatus, LeaderChangeEvent, LeaderWork } from './elector-status.js';
import { ElectorStoppedError, LeaderElectionError, LeadershipLostError } from './errors.js';
import type { FencingToken } from './fencing-token.js';
import type { LeaseLock } from './lock.js';
import type { LeaderAddress } from './lease-record.js';
import { Lifecycle } from './lifecycle.js';

/**
 * Leader election on one Lease, with client-go's semantics and a watch instead of polling.
 *
 * - A follower watches the Lease and tries to acquire it the moment it is released, and exactly
 *   when it expires: `leaseDurationSeconds` after this process last SAW the record change (local
 *   monotonic clock; the writer's timestamps are never compared with our clock).
 * - A leader renews every `renewInterval` (default `renewDeadline / 2`). It leads only while
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
 * | standby | a drawn time in a term's first `retryPeriod` (follower, with revisions) | announces itself as the term's standby successor if the term has none |
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
  /** Name used in events and logs (the `leaseName` option, or the lock's description). */
  readonly name: string;
  /** This candidate's identity, the lock's. */
  readonly identity: string;
  /** Effective lease duration in ms (the Lease carries it rounded up to whole seconds). */
  readonly leaseDuration: number;
  /** Effective renew deadline in ms: a leader leads only this long after its last successful renew. */
  readonly renewDeadline: number;
  /** Effective retry period in ms: between a follower's tries, and between retries after errors. */
  readonly retryPeriod: number;
  /** Effective interval in ms between a successful renew and the next one. */
  readonly renewInterval: number;
  /** Effective timeout in ms of each lock request. */
  readonly requestTimeout: number;
  /** How long in ms {@link stop} waits for in-flight leader work. */
  readonly shutdownGracePeriod: number;
  /** Whether {@link stop} releases the Lease. */
  readonly releaseOnStop: boolean;
  /** The lock the election runs on. */
  readonly lock: LeaseLock;

  /** The acquire / renew loop and the state it keeps. */
  private readonly loop: ElectionLoop;
  /** Start, step-down and stop on the loop's state. */
  private readonly lifecycle: Lifecycle;
  /** Confirmed runs' renews, shared between callers. */
  private readonly confirmations: Confirmations;

  constructor(options: LeaderElectorOptions) {
    const loop = new ElectionLoop(options);
    this.loop = loop;
    this.lifecycle = new Lifecycle(loop);
    this.confirmations = new Confirmations(loop);
    const resolved = loop.context;
    ({ name: this.name, identity: this.identity, lock: this.lock } = resolved);
    ({ leaseDuration: this.leaseDuration, renewDeadline: this.renewDeadline } = resolved);
    ({ retryPeriod: this.retryPeriod, renewInterval: this.renewInterval } = resolved);
    ({ requestTimeout: this.requestTimeout, releaseOnStop: this.releaseOnStop } = resolved);
    this.shutdownGracePeriod = resolved.shutdownGracePeriod;
  }

  // ---------------------------------------------------------------------------------------------
  // Public state

  /**
   * True only while this instance holds the lease AND the last successful renew started less than
   * `renewDeadline` ago (monotonic clock), and the elector is not stopping. Computed at call time.
   */
  isLeader(): boolean {
    return this.loop.leadingTerm() !== null;
  }

  /** The holder of the lease as last observed (null when free, deleted, or not yet read). */
  getLeader(): string | null {
    if (this.isLeader()) return this.identity;
    return this.loop.observation?.record?.holderIdentity || null;
  }

  /**
   * Where the current leader serves requests forwarded to it, as its Lease advertises it for its
   * term (the Kubernetes lock reads an address back only with the holder and `leaseTransitions` it
   * was written with); undefined when nobody else leads or the leader advertises none. Whoever may
   * update the Lease can write it: check it before sending anything there.
   */
  leaderAddress(): LeaderAddress | undefined {
    if (this.isLeader()) return undefined;
    const record = this.loop.observation?.record;
    if (!record?.holderIdentity || record.holderIdentity === this.identity) return undefined;
    return record.leaderAddress ?? undefined;
  }

  /**
   * Advertises where this replica serves forwarded requests (an IP literal and a port), or stops
   * advertising (`undefined`): every write of its terms carries it from the next one on, which is
   * at once (a renew) when it leads already.
   */
  advertise(address: LeaderAddress | undefined): void {
    this.loop.advertised = address;
    if (this.isLeader()) void this.confirmLeadership();
  }

  /**
   * Resolves once this replica has seen the Lease and, when it announces itself as a successor (a
   * rolling update: see the `revision` option), that write has ended; or after `timeoutMs`, or at
   * once without a revision. The Nest module awaits it at bootstrap: a new Pod becomes ready (and
   * the rollout stops an old one) only once the old leader can name it. Never rejects.
   */
  whenSettled(timeoutMs: number): Promise<void> {
    const loop = this.loop;
    if (!loop.rollout.enabled || loop.phase !== 'running') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = loop.clock.setTimeout(done, timeoutMs);
      function done() {
        loop.clock.clearTimeout(timer);
        const index = loop.settleWaiters.indexOf(done);
        if (index >= 0) loop.settleWaiters.splice(index, 1);
        resolve();
      }
      loop.settleWaiters.push(done);
      loop.notifySettled();
    });
  }

  /** The fencing token of the current term while this instance leads, else null. */
  fencingToken(): FencingToken | null {
    return this.loop.leadingTerm()?.fencingToken ?? null;
  }

  /** A snapshot of the state, for health checks. */
  status(): ElectorStatus {
    const now = this.loop.clock.now();
    const leadership = this.loop.phase === 'stopped' ? null : this.loop.leadership;
    const { lastSuccessAt, failingSince } = this.loop.requests;
    return {
      phase: this.loop.phase,
      isLeader: this.isLeader(),
      holdsLease: leadership !== null,
      leader: this.getLeader(),
      lastRenewAgoMs: leadership ? now - leadership.lastWriteStart : undefined,
      lastSuccessAgoMs: lastSuccessAt === undefined ? undefined : now - lastSuccessAt,
      failingForMs: failingSince === undefined ? undefined : now - failingSince,
      lastError: this.loop.errors.last ?? this.loop.requests.failure,
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
    return this.loop.events.current;
  }

  /**
   * Subscribes to change events; returns the unsubscribe function. A listener registered before
   * {@link start} receives the first event. Listener errors are logged, never thrown.
   */
  onChange(listener: (event: LeaderChangeEvent) => void): () => void {
    return this.loop.events.subscribe(listener);
  }

  /**
   * Registers `hook` to run just before this elector releases the Lease (step-down, stop), while it
   * still holds it, with the releasing term's fencing token: e.g. to empty what points clients at
   * the leader before the next one takes over. Bounded by `requestTimeout`: a hook that fails or
   * hangs is logged and the release goes on. Returns the function that removes the hook.
   */
  beforeRelease(hook: (token: FencingToken) => Promise<void>): () => void {
    return this.loop.beforeRelease.add(hook);
  }

  /**
   * An AbortSignal that aborts when the current leadership ends. When this instance does not lead,
   * the signal is already aborted.
   */
  leadershipSignal(): AbortSignal {
    const term = this.loop.leadingTerm();
    if (term) return term.controller.signal;
    return AbortSignal.abort(
      new LeadershipLostError(messages.DOES_NOT_LEAD(this.identity, this.name)),
    );
  }

  /**
   * Resolves when this instance leads. Rejects with the signal's reason when `signal` aborts, or
   * with {@link ElectorStoppedError} when the elector stops first.
   */
  waitForLeadership(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.isLeader()) return Promise.resolve();
    if (this.loop.phase === 'stopping' || this.loop.phase === 'stopped') {
      return Promise.reject(new ElectorStoppedError(messages.ELECTOR_IS_STOPPED(this.name)));
    }
    return this.loop.waiters.wait(options.signal);
  }

  /**
   * Admits one unit of leader-only work, or returns null when this instance does not lead (or is
   * stopping). While admitted work runs, {@link stop} waits for it before releasing the lease.
   * `task` names the work for metrics (`Class.method` for `@LeaderOnly`).
   */
  beginLeaderWork(task?: string): LeaderWork | null {
    const term = this.loop.leadingTerm();
    if (!term) {
      if (task !== undefined) this.loop.metrics.leaderWork(this.name, task, 'skipped');
      return null;
    }
    if (task !== undefined) this.loop.metrics.leaderWork(this.name, task, 'executed');
    return this.loop.work.begin(
      term.controller.signal,
      term.fencingToken,
      () => this.loop.leadingTerm() === term,
    );
  }

  /**
   * Counts, for metrics, a leader-only call that was refused before it reached
   * {@link beginLeaderWork} (a follower answering 503 to a request).
   */
  recordSkippedWork(task: string): void {
    this.loop.metrics.leaderWork(this.name, task, 'skipped');
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle

  /** Starts campaigning. Returns immediately; errors are logged and retried, never thrown. */
  start(): void {
    if (this.loop.phase !== 'idle') {
      throw new LeaderElectionError(messages.ALREADY_STARTED(this.name));
    }
    this.lifecycle.start();
  }

  /**
   * Stops: refuses new leader work at once, waits up to `shutdownGracePeriod` for in-flight leader
   * work (renewing meanwhile), then releases the lease if the fresh record still names us. When
   * the grace period runs out with work still running, the lease is NOT released: it expires one
   * lease duration after the last renew, which gives that work that much longer before another
   * instance can start. Never rejects.
   */
  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  /**
   * Hands leadership over on purpose: stops admitting leader work at once (the leadership signal
   * aborts), waits up to `shutdownGracePeriod` for admitted work while renewing, then releases the
   * Lease, naming `successor` (an identity) as the preferred next holder when given. Afterwards it
   * holds back: it takes the Lease again only once another instance has acquired it, or one
   * `leaseDuration` later, whichever comes first. With work still running after the grace period
   * it does not release (the Lease expires instead, as on stop). Resolves true when it released;
   * false when it did not lead or did not release. Never rejects.
   */
  stepDown(options: { successor?: string } = {}): Promise<boolean> {
    return this.lifecycle.stepDown(options.successor);
  }

  /**
   * Renews now (one conditional write, which takes the place of the next scheduled renew) and
   * resolves whether this instance leads by it: true only when a renew that started after this call
   * succeeded and the term still leads, which it then does until `renewDeadline` after that
   * request's start. For confirmed leader-only runs. Callers share renews: the renews that
   * confirmations start are at least 100 ms apart, so under load a call
   * waits for the next one. Never rejects.
   */
  confirmLeadership(): Promise<boolean> {
    return this.confirmations.confirm();
  }

  // ---------------------------------------------------------------------------------------------
  // Fires of `once` jobs

  /**
   * Claims fires of `once` jobs in the Lease's ledger: one conditional write that renews the term
   * (fires claimed within a few ms of each other share it). A fire is run only on a `claimed`
   * answer; the ledger is monotonic per job, so a fire (or an earlier one) claimed before, by any
   * replica, answers `already-claimed`. Never rejects.
   */
  claimFires(requests: readonly FireClaimRequest[]): Promise<FireClaimAnswer[]> {
    return this.loop.fires.claim(requests);
  }

  /** Counts a fire's outcome for metrics (`ElectionMetrics.fire`). */
  countFire(job: string, result: string): void {
    this.loop.metrics.fire(this.name, job, result);
  }

  /** Counts a request a follower forwarded to the leader, by result, for metrics. */
  countForwarded(result: string): void {
    this.loop.metrics.forwardedRequest(this.name, result);
  }

  /** Records how a claimed fire's run ended; written with the Lease's next write. */
  recordFireEnd(job: string, at: number, state: 'done' | 'interrupted'): void {
    this.loop.fires.recordEnd(job, at, state);
  }

  /**
   * The ledger of fires as this replica last saw it (followers too, through the watch), or
   * undefined when the Lease has none.
   */
  fireLedger(): FireLedger | undefined {
    return this.loop.fires.ledger();
  }

  /**
   * While this replica leads: its term, when the term began (its acquisition's wall time), whether
   * the holder before it kept the ledger, and the ledger. Undefined when it does not lead.
   */
  fireTerm(): FireTerm | undefined {
    const term = this.loop.leadingTerm();
    if (!term) return undefined;
    return {
      term: term.term,
      since: term.record.acquireTime ?? this.loop.clock.wallNow(),
      keptBefore: this.loop.fires.keptBefore(term.term),
      ledger: this.loop.fires.ledger(),
    };
  }
}

/** See {@link LeaderElector.fireTerm}. */
export interface FireTerm {
  readonly term: number;
  readonly since: Date;
  readonly keptBefore: boolean;
  readonly ledger: FireLedger | undefined;
}
