import { LockUnavailableError } from '../../lib/core/errors.js';
import type { LeaseRecord, LeaseSpec } from '../../lib/core/lease-record.js';
import { sameElectionState } from '../../lib/core/lease-record.js';
import { MAIN_LEASE } from './elector-replica.js';
import type { Host } from './network.js';
import type { Random } from './random.js';
import type { LeaderView, Replica, SimContext } from './sim-context.js';
import { SimLock } from './sim-lock.js';

/** What one run of the client-go process knows; a restarted process starts with a new one. */
class ClientGoState {
  /** The record last seen, and when (our monotonic clock) it was seen to change. */
  observed: LeaseRecord | null = null;
  observedTime = 0;
  /** Our last answer from the server (client-go's LeaseLock keeps it for the next update). */
  cached: LeaseRecord | null = null;
  leading = false;
  token: string | null = null;
  /** Start of the last tryAcquireOrRenew that wrote successfully (our clock). */
  lastSuccessStart = Number.NEGATIVE_INFINITY;
  stopped = false;
}

/**
 * A peer on the single Lease that follows client-go's rule (`tools/leaderelection`,
 * `tryAcquireOrRenew`): it polls every retryPeriod (with client-go's jitter), takes the Lease when
 * the holder is empty, or when the record has not changed for the record's own
 * `leaseDurationSeconds` since it last saw it change (the time of the read's answer), or when it is
 * missing; as leader it renews every retryPeriod and gives up when a renew cycle does not succeed
 * within renewDeadline, and then exits and starts again (as client-go apps do).
 *
 * Two departures, both so that a failure the checker reports is ours and not client-go's:
 * - it leads (for the checker) only until renewDeadline after the start of its last successful
 *   write, by its own clock, as a client-go app that checks its context's deadline before each side
 *   effect; client-go itself notices a missed deadline only when its timer runs.
 * - its role may not `create` the Lease (RBAC without that verb): client-go creates a missing Lease
 *   and leads at once, which no peer can make safe against a leader cut off while its Lease was
 *   deleted (the README says so). It still re-creates a deleted Lease by update, as client-go's
 *   renew does on the API server.
 */
export class ClientGoPeer implements Replica {
  readonly kind = 'client-go';
  readonly host: Host;
  readonly views: readonly LeaderView[];
  private readonly lock: SimLock;
  private readonly random: Random;
  private state = new ClientGoState();

  constructor(
    private readonly context: SimContext,
    readonly identity: string,
    private readonly processName: string,
    rate: number,
  ) {
    this.host = context.newHost(processName, rate);
    this.random = context.random(`client-go ${processName}`);
    this.lock = new SimLock(context.network, this.host, context.lease(MAIN_LEASE), identity);
    this.views = [
      {
        lease: MAIN_LEASE,
        who: processName,
        leads: () => this.leads(),
        token: () => (this.leads() ? this.state.token : null),
      },
    ];
  }

  start(): void {
    this.campaign(this.state);
  }

  /** client-go's ReleaseOnCancel: a leader writes an empty holder, then the process ends. */
  async stop(): Promise<void> {
    const state = this.state;
    state.stopped = true;
    const cached = state.cached;
    const wasLeading = state.leading;
    state.leading = false;
    if (!wasLeading || !cached || cached.holderIdentity !== this.identity) return;
    const now = this.host.clock.wallNow();
    const spec: LeaseSpec = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: cached.leaseTransitions ?? 0,
    };
    await this.timed(this.lock.update(spec, cached.resourceVersion)).catch(() => undefined);
  }

  holds(): string[] {
    return this.state.leading ? [MAIN_LEASE] : [];
  }

  logSince() {
    return [];
  }

  private leads(): boolean {
    const { renewDeadline } = this.context.timings;
    const state = this.state;
    return state.leading && this.host.clock.now() < state.lastSuccessStart + renewDeadline;
  }

  /** client-go's acquire loop: JitterUntil(tryAcquireOrRenew, retryPeriod, 1.2, sliding). */
  private campaign(state: ClientGoState): void {
    void this.tryAcquireOrRenew(state).then((acquired) => {
      if (state.stopped) return;
      if (acquired) return this.startLeading(state);
      const { retryPeriod } = this.context.timings;
      this.after(retryPeriod * (1 + 1.2 * this.random.next()), () => this.campaign(state));
    });
  }

  private startLeading(state: ClientGoState): void {
    state.leading = true;
    this.context.trace.add(this.processName, `client-go: started leading, token ${state.token}`);
    this.renewCycle(state);
  }

  /** One renew cycle: retry every retryPeriod until a renew succeeds or renewDeadline passes. */
  private renewCycle(state: ClientGoState): void {
    const { renewDeadline, retryPeriod } = this.context.timings;
    const deadline = this.host.clock.now() + renewDeadline;
    let done = false;
    this.after(renewDeadline, () => {
      if (done || state.stopped) return;
      done = true;
      this.restart(state);
    });
    const poll = () => {
      if (done || state.stopped) return;
      void this.tryAcquireOrRenew(state).then((renewed) => {
        if (done || state.stopped) return;
        if (renewed) {
          done = true;
          this.after(retryPeriod, () => this.renewCycle(state));
        } else if (this.host.clock.now() + retryPeriod < deadline) {
          this.after(retryPeriod, poll);
        }
      });
    };
    poll();
  }

  /** client-go's OnStoppedLeading: the process exits; it comes back with a fresh state. */
  private restart(state: ClientGoState): void {
    state.leading = false;
    state.stopped = true;
    this.context.trace.add(
      this.processName,
      'client-go: stopped leading (renew deadline); restarting',
    );
    const next = new ClientGoState();
    this.state = next;
    this.after(this.random.uniform(500, 3000), () => this.campaign(next));
  }

  private async tryAcquireOrRenew(state: ClientGoState): Promise<boolean> {
    const clock = this.host.clock;
    const now = clock.now();
    const wallNow = clock.wallNow();
    const { leaseDuration } = this.context.timings;
    const isLeader = () => state.observed?.holderIdentity === this.identity;
    const leaseValid = () =>
      state.observed !== null &&
      state.observedTime + (state.observed.leaseDurationSeconds ?? 0) * 1000 > now;
    const desired = (acquireTime: Date, transitions: number): LeaseSpec => ({
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.round(leaseDuration / 1000),
      acquireTime,
      renewTime: wallNow,
      leaseTransitions: transitions,
    });
    // Fast path of a leader: update the record it last wrote, no read.
    if (isLeader() && leaseValid() && state.cached && state.observed) {
      const spec = desired(
        state.observed.acquireTime ?? wallNow,
        state.observed.leaseTransitions ?? 0,
      );
      if (await this.write(state, spec, state.cached.resourceVersion, now, false)) return true;
    }
    let old: LeaseRecord | null;
    try {
      old = await this.timed(this.lock.get());
    } catch {
      return false;
    }
    if (state.stopped) return false;
    if (old === null) return false; // may not create (see the class comment)
    state.cached = old;
    if (!state.observed || !sameElectionState(state.observed, old)) {
      state.observed = old;
      state.observedTime = clock.now();
    }
    if (old.holderIdentity && leaseValid() && !isLeader()) return false;
    const renewing = isLeader();
    const spec = renewing
      ? desired(old.acquireTime ?? wallNow, old.leaseTransitions ?? 0)
      : desired(wallNow, (old.leaseTransitions ?? 0) + 1);
    return this.write(state, spec, old.resourceVersion, now, !renewing);
  }

  /**
   * An update; on success the record is ours. `acquiring`: it takes the Lease from someone else
   * (or nobody), which starts a term with this write's token, also inside client-go's renew loop.
   */
  private async write(
    state: ClientGoState,
    spec: LeaseSpec,
    resourceVersion: string,
    start: number,
    acquiring: boolean,
  ): Promise<boolean> {
    try {
      const written = await this.timed(this.lock.update(spec, resourceVersion));
      if (state.stopped) return false;
      state.cached = written;
      state.observed = written;
      state.observedTime = this.host.clock.now();
      state.lastSuccessStart = start;
      if (acquiring || state.token === null) {
        state.token = written.resourceVersion;
        if (state.leading) {
          this.context.trace.add(
            this.processName,
            `client-go: took the Lease again, token ${state.token}`,
          );
        }
      }
      return true;
    } catch {
      return false;
    }
  }

  /** client-go's requests end with their context: a retry period at most here. */
  private timed<T>(request: Promise<T>): Promise<T> {
    const { retryPeriod } = this.context.timings;
    return new Promise<T>((resolve, reject) => {
      const timer = this.host.clock.setTimeout(
        () => reject(new LockUnavailableError('client-go request timed out')),
        retryPeriod,
      );
      request.then(
        (value) => {
          this.host.clock.clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          this.host.clock.clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  private after(delay: number, run: () => void): void {
    this.host.clock.setTimeout(run, delay);
  }
}
