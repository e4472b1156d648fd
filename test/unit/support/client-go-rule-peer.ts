import type { LeaseLock, TimerHandle } from '../../../lib/core/index.js';
import type { FakeClock } from '../../../lib/core/fake-clock.js';
import { sameElectionState, type LeaseRecord } from '../../../lib/core/lease-record.js';

/**
 * A peer that follows client-go's leaderelection rule, for mixed-fleet tests: it polls with a GET
 * every `retryPeriod`; a missing Lease is created at once; an empty holder is free at once; another
 * holder's record is expired `leaseDuration` after this peer last saw the record change (its own
 * clock); it leads while its last successful write started less than `renewDeadline` ago.
 */
export class ClientGoRulePeer {
  private observed: { record: LeaseRecord; at: number } | undefined;
  private lastWriteStart: number | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    readonly identity: string,
    private readonly lock: LeaseLock,
    private readonly clock: FakeClock,
    private readonly timing: { leaseDuration: number; renewDeadline: number; retryPeriod: number },
  ) {}

  start(): void {
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
  }

  isLeader(): boolean {
    return (
      !this.stopped &&
      this.lastWriteStart !== undefined &&
      this.clock.now() < this.lastWriteStart + this.timing.renewDeadline
    );
  }

  private async tick(): Promise<void> {
    try {
      await this.tryAcquireOrRenew();
    } catch {
      // client-go logs and retries at the next period
    }
    if (!this.stopped) {
      this.timer = this.clock.setTimeout(() => void this.tick(), this.timing.retryPeriod);
    }
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const start = this.clock.now();
    const wall = this.clock.wallNow();
    const seconds = Math.ceil(this.timing.leaseDuration / 1000);
    const record = await this.lock.get();
    if (record === null) {
      await this.lock.create({
        holderIdentity: this.identity,
        leaseDurationSeconds: seconds,
        acquireTime: wall,
        renewTime: wall,
        leaseTransitions: 0,
      });
      this.lastWriteStart = start;
      return;
    }
    if (!this.observed || !sameElectionState(this.observed.record, record)) {
      this.observed = { record, at: this.clock.now() };
    }
    const holder = record.holderIdentity ?? '';
    const mine = holder === this.identity;
    if (
      holder !== '' &&
      !mine &&
      this.observed.at + (record.leaseDurationSeconds ?? seconds) * 1000 > this.clock.now()
    ) {
      return;
    }
    await this.lock.update(
      {
        holderIdentity: this.identity,
        leaseDurationSeconds: seconds,
        acquireTime: mine ? (record.acquireTime ?? wall) : wall,
        renewTime: wall,
        leaseTransitions: mine
          ? (record.leaseTransitions ?? 0)
          : (record.leaseTransitions ?? 0) + 1,
      },
      record.resourceVersion,
    );
    if (!mine) this.observed = undefined;
    this.lastWriteStart = start;
  }
}
