import type { ElectorStatus, LeaderChangeEvent, LeaderWork } from './elector-status.js';
import {
  describeError,
  ElectorStoppedError,
  LeaderElectionError,
  LeadershipLostError,
} from './errors.js';
import { ElectionLoop } from './election-loop.js';
import * as messages from './elector.messages.js';
import type { FencingToken } from './fencing-token.js';
import { assertIdentity } from './identity.js';
import type { Leadership } from './leadership.js';
import type { ReleaseSkipReason } from './metrics.js';

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
export class LeaderElector extends ElectionLoop {
  /** Releases this elector's hold on the process (see `Clock.keepAlive`), taken by {@link start}. */
  private releaseProcess: (() => void) | undefined;

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
    this.releaseProcess = this.clock.keepAlive?.();
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

  /**
   * Hands leadership over on purpose: stops admitting leader work at once (the leadership signal
   * aborts), waits up to `shutdownGracePeriod` for admitted work while renewing, then releases the
   * Lease, naming `successor` (an identity) as the preferred next holder when given. Afterwards it
   * holds back: it takes the Lease again only once another instance has acquired it, or one
   * `leaseDuration` later, whichever comes first. With work still running after the grace period
   * it does not release (the Lease expires instead, as on stop). Resolves true when it released;
   * false when it did not lead or did not release. Never rejects.
   */
  async stepDown(options: { successor?: string } = {}): Promise<boolean> {
    if (options.successor !== undefined) assertIdentity('successor', options.successor);
    const leadership = this.leadingTerm();
    if (!leadership) return false;
    this.steppingDown = true;
    this.stepDownSuccessor = options.successor;
    leadership.controller.abort(new LeadershipLostError(`${this.identity} is stepping down`));
    this.emitIfChanged('stepping-down');
    const drained = await this.drainWork();
    if (this.phase !== 'running') {
      // stop() came while the work drained: it releases what we hold (naming our successor), so
      // the Lease is not left to expire; its result is ours.
      await this.stopPromise;
      return this.releasedOnStop;
    }
    this.succession.holdBack(this.clock.now());
    let released = false;
    if (drained && this.leadership === leadership) {
      this.releasing = true;
      this.clearTimer('attempt');
      // Set before any wait: a stop() from now on waits for this release instead of making its own.
      this.stepDownRelease = (async () => {
        if (this.runningAttempt) await this.runningAttempt.catch(() => undefined);
        return this.leadership === leadership && (await this.release(options.successor));
      })();
      released = await this.stepDownRelease;
      this.stepDownRelease = undefined;
      if (this.phase === 'running') this.releasing = false; // stop() keeps it set
    }
    if (this.leadership === leadership) this.dropTerm(leadership);
    this.steppingDown = false;
    this.stepDownSuccessor = undefined;
    this.emitIfChanged(released ? 'released' : 'lost');
    if (this.phase === 'running') this.requestAttempt();
    return released;
  }

  /**
   * Renews now (one conditional write, which takes the place of the next scheduled renew) and
   * resolves whether this instance leads by it: true only when a renew that started after this call
   * succeeded and the term still leads, which it then does until `renewDeadline` after that
   * request's start. For confirmed leader-only runs. Never rejects.
   */
  async confirmLeadership(): Promise<boolean> {
    const from = this.clock.now();
    if (!this.leadingTerm()) return false;
    // An attempt that started before this call proves nothing: wait for it, then run a new one.
    while (this.runningAttempt && this.attemptStartedAt < from) {
      await this.runningAttempt.catch(() => undefined);
    }
    const writes = this.successfulWrites;
    if (!this.runningAttempt) this.requestAttempt();
    await this.runningAttempt?.catch(() => undefined);
    return this.leadingTerm() !== null && this.successfulWrites > writes;
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
    const drained = await this.drainWork();

    // 3. No more attempts: let the running one finish, then release what we hold. A step-down
    // already releasing: its release is ours.
    this.releasing = true;
    this.clearTimer('attempt');
    this.clearTimer('validity');
    const steppingDown = this.stepDownRelease;
    const handedOver = steppingDown ? await steppingDown : false;
    if (this.runningAttempt) await this.runningAttempt.catch(() => undefined);

    const held = this.leadership;
    const released = handedOver || (held !== null && (await this.releaseOnStopOf(held, drained)));
    // The step-down's release failed and left nothing held: release() said why; count it.
    if (steppingDown && !released && held === null) {
      this.metrics.releaseSkipped(this.name, 'not-released');
    }
    this.releasedOnStop = released;

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
    this.releaseProcess?.();
  }

  /** Releases the term stop() found held, or says why not: one log line and a metric. */
  private async releaseOnStopOf(held: Leadership, drained: boolean): Promise<boolean> {
    const skipped = (reason: ReleaseSkipReason, why?: string) => {
      if (why !== undefined)
        this.logger?.warn(messages.RELEASE_SKIPPED(this.name, this.identity, why));
      this.metrics.releaseSkipped(this.name, reason);
      return false;
    };
    if (!this.releaseOnStop) return skipped('disabled', 'releaseOnStop is false');
    // Work may also have been admitted under a leadership that lapsed and was re-acquired while
    // we waited: release only with nothing running (WORK_OUTLIVED_GRACE said why).
    if (!drained) return skipped('work-running');
    if (this.work.inFlight > 0) {
      return skipped('work-running', `${this.work.inFlight} leader-only task(s) still run`);
    }
    if (held.validFrom > this.clock.now()) {
      // An empty holder is free to every peer at once (client-go's rule too), while the leader
      // before us may still lead: leaving our record to expire makes every peer wait for it.
      return skipped('term-not-started', messages.TERM_NOT_STARTED);
    }
    if (await this.release(this.stepDownSuccessor)) return true;
    return skipped('not-released'); // release() said why
  }
}
