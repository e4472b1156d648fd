import type { ElectorLogger } from './elector-options.js';
import {
  IDENTITY_IN_USE,
  IDENTITY_OF_PREVIOUS_RUN,
  IDENTITY_STILL_ELSEWHERE,
} from './elector.messages.js';
import type { LeaseRecord } from './lease-record.js';

/** What is remembered of a write this process sent. */
export interface SentWrite {
  /** Whether a term resting on this write must still wait before leading. */
  readonly needsActivation: boolean;
}

/** How many of our latest writes are remembered: far more than can be in flight or unanswered. */
const REMEMBERED_WRITES = 64;

/**
 * Tells our writes from writes made under our identity by someone else. Every `renewTime` we send
 * is recorded before the request goes out (so a write whose answer was lost is ours too); a record
 * naming our identity with any other `renewTime` was written by another replica configured with
 * the same identity, or by a previous run of ours. The first is an error (both would lead), the
 * second a restart with a fixed identity (the record expires): each is logged once.
 */
export class IdentityGuard {
  /** renewTime (ms) → whether the term that write belongs to still had to wait before leading. */
  private readonly sent = new Map<number, SentWrite>();
  private newest: number | undefined;
  private inUse: { firstRenewTime: number | undefined; errorLogged: boolean } | undefined;
  private reported = false;

  constructor(
    private readonly identity: string,
    private readonly name: string,
    private readonly logger: ElectorLogger | undefined,
  ) {}

  /** The latest `renewTime` sent (ms), if any: the next one must be later. */
  get latest(): number | undefined {
    return this.newest;
  }

  /**
   * Records a write about to be sent. `needsActivation`: whether a term resting on it must wait
   * before leading (it may create or re-create the Lease, or its term is still activating); kept
   * when the answer is lost, so that reclaiming the write waits too.
   */
  add(renewTime: Date, needsActivation: boolean): void {
    const time = renewTime.getTime();
    this.sent.set(time, { needsActivation });
    this.newest = Math.max(this.newest ?? time, time);
    if (this.sent.size > REMEMBERED_WRITES) this.sent.delete(this.sent.keys().next().value!);
  }

  /** The write's answer came: whether its term still waits before leading. */
  answered(renewTime: Date, needsActivation: boolean): void {
    const time = renewTime.getTime();
    if (this.sent.has(time)) this.sent.set(time, { needsActivation });
  }

  /** The write with this `renewTime` (ms) if this process sent it. */
  get(time: number): SentWrite | undefined {
    return this.sent.get(time);
  }

  /** Whether `record` names our identity with a write we never sent. */
  isForeign(record: LeaseRecord): boolean {
    return (
      (record.holderIdentity ?? '') === this.identity &&
      (record.renewTime === null || !this.sent.has(record.renewTime.getTime()))
    );
  }

  /**
   * Whether another live process was ever seen writing under our identity (never forgotten): a
   * record carrying one of our `renewTime`s may then still be its. A previous run's record alone
   * does not count.
   */
  get duplicateSeen(): boolean {
    return this.reported;
  }

  /** We lead again: a later foreign write is reported anew. */
  reset(): void {
    this.inUse = undefined;
  }

  /** Logs a foreign record naming our identity: a warning after a restart, else an error, once. */
  report(record: LeaseRecord): void {
    const renewed = record.renewTime?.getTime();
    const seen = this.inUse;
    if (seen === undefined && this.newest === undefined) {
      this.inUse = { firstRenewTime: renewed, errorLogged: false };
      this.logger?.warn(IDENTITY_OF_PREVIOUS_RUN(this.name, this.identity));
      return;
    }
    // Renewed since we first saw it: someone is alive under our identity.
    if (seen && (seen.errorLogged || renewed === seen.firstRenewTime)) {
      this.logger?.debug?.(IDENTITY_STILL_ELSEWHERE(this.name, this.identity));
      return;
    }
    this.inUse = { firstRenewTime: seen?.firstRenewTime ?? renewed, errorLogged: true };
    this.reported = true;
    this.logger?.error(IDENTITY_IN_USE(this.name, this.identity));
  }
}
