import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import type { ElectionEngine, ElectionEngineStatus } from '../election-engine.js';
import type { ElectorLogger, LeaderElectorOptions } from '../elector-options.js';
import type { LeaderChangeEvent } from '../elector-status.js';
import { LeaderElector } from '../leader-elector.js';
import type { MemberEntry } from '../lease-record.js';
import type { LeaseLock } from '../lock.js';
import { Membership } from './membership.js';
import { planHandover } from './share-balance.js';
import { ShareCountGate } from './share-count-gate.js';
import { assertShareCount, membersLeaseName, shareLeaseName, spreadLeaseNames } from './shares.js';
import * as messages from './spread.messages.js';

/** Options of a {@link SpreadElector}: those of each share's elector, and how to spread. */
export interface SpreadElectorOptions extends Omit<
  LeaderElectorOptions,
  'lock' | 'leaseName' | 'revision'
> {
  /** The election's Lease name; share `i` runs on `<leaseName>-share-<i>`. */
  readonly leaseName: string;
  /** How many shares (Leases) the jobs are spread over, 1 to 64. */
  readonly shares: number;
  /** The lock of the Lease named `name`, with this replica's identity (one per share, and one more). */
  readonly lockFor: (name: string) => LeaseLock;
  /**
   * How often a replica renews its membership entry, ms; an entry counts for three intervals.
   * Default `2 * leaseDuration` (30 s at the default timings: two writes a minute per replica).
   */
  readonly membershipInterval?: number;
}

/**
 * The most shares one replica hands over per minute: one every 5 s on average. Balancing needs
 * few (a replica joining two others on 64 shares gets its 21 from both in about a minute), and it
 * bounds what entries that never take a share (forged, or of a stuck replica) can cost.
 */
export const HANDOVERS_PER_MINUTE = 12;

/**
 * An election spread over shares: one {@link LeaderElector} per share, each on its own Lease with
 * every guarantee of a single election (one leader per share, fencing token, release on stop), and
 * a job always runs on the same share (`shareOf`). Every replica is a candidate on every share, so a
 * share whose leader crashed is taken by any live replica when its Lease expires; the replicas then
 * even out how many shares each leads ({@link planHandover}): a replica above its quota steps down
 * from one share and names a replica below its quota as successor, one share at a time.
 */
export class SpreadElector implements ElectionEngine {
  /** One elector per share, by share index. */
  readonly electors: readonly LeaderElector[];
  /** Spread: no elector of the election as a whole, one per share. */
  readonly single = undefined;
  readonly membership: Membership;
  /** The membership Lease's name. */
  readonly membershipLeaseName: string;
  /** How often this replica renews its membership entry, ms. */
  readonly membershipInterval: number;
  readonly identity: string;
  private readonly clock: Clock;
  private readonly logger: ElectorLogger | undefined;
  private readonly checkInterval: number;
  private timer: TimerHandle | undefined;
  private handingOver = false;
  /** The last handover, until its successor is seen holding the share (or it failed). */
  private pending:
    { readonly share: number; readonly successor: string; readonly at: number } | undefined;
  /**
   * Members that did not take a share handed to them (crashed, cut off, stuck), with their entry's
   * value at that moment: not named again, nor given a quota, until they renew their entry. A dead replica otherwise stays a member until its entry expires, and every check would
   * hand it a share that another replica then takes back.
   */
  private readonly suspects = new Map<string, number | undefined>();
  /** Names `stepDown` refused as a successor: never named again. */
  private readonly refused = new Set<string>();
  /** When the handovers of the last minute started (monotonic), at most {@link HANDOVERS_PER_MINUTE}. */
  private handovers: number[] = [];
  private pausedNoted = false;
  private running = false;
  private readonly gate: ShareCountGate;
  /** The jobs whose hold was last logged as holding (a line per change, not per call). */
  private readonly heldSaid = new Set<string>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(readonly options: SpreadElectorOptions) {
    assertShareCount('shares', options.shares);
    spreadLeaseNames('leaseName', options.leaseName, options.shares);
    const { shares, lockFor, leaseName, membershipInterval, ...electorOptions } = options;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.gate = new ShareCountGate(shares);
    this.electors = Array.from({ length: shares }, (_, index) => {
      const name = shareLeaseName(leaseName, index);
      // Shares hand over by their own plan (a replica below its quota): no revisions.
      return new LeaderElector({
        ...electorOptions,
        revision: '',
        leaseName: name,
        lock: lockFor(name),
      });
    });
    // Timings as the electors resolved them: every share's elector has the same options.
    const { identity, leaseDuration, retryPeriod, requestTimeout } = this.electors[0];
    this.identity = identity;
    const interval = membershipInterval ?? 2 * leaseDuration;
    this.membershipInterval = interval;
    this.checkInterval = retryPeriod;
    this.membershipLeaseName = membersLeaseName(leaseName);
    this.membership = new Membership({
      lock: lockFor(this.membershipLeaseName),
      name: this.membershipLeaseName,
      clock: this.clock,
      interval,
      ttl: 3 * interval,
      shares,
      requestTimeout,
      retryPeriod,
      random: options.random ?? Math.random,
      logger: options.logger,
      metrics: options.metrics,
    });
  }

  /** The share `job` runs on. */
  shareOf(job: string): number {
    return this.gate.shareOf(job, this.electors.length);
  }

  /**
   * Whether `job` must not run here although this replica may lead its share: replicas with
   * another share count that maps it to another share may run it ({@link ShareCountGate}). The
   * leader of its share logs each change (held back, runs again), once.
   */
  holdsBack(job: string): boolean {
    const entries = [...this.membership.entries().values()];
    const reason = this.gate.holdReason(job, {
      joinedAmong: this.membership.joinedAmong(),
      liveCounts: new Set(entries.flatMap(({ shares }) => (shares === undefined ? [] : [shares]))),
      failing: this.membership.isFailing(),
    });
    const elector = this.electorFor(job);
    if (elector.isLeader() && (reason !== undefined) !== this.heldSaid.has(job)) {
      const share = this.shareOf(job);
      if (reason === undefined) {
        this.heldSaid.delete(job);
        this.logger?.log(messages.JOB_RUNS_AGAIN(job, share, elector.name));
      } else {
        this.heldSaid.add(job);
        this.logger?.log(messages.JOB_HELD_BACK(job, share, elector.name, reason));
      }
    }
    return reason !== undefined;
  }

  /** The elector of the share `job` runs on. */
  electorFor(job: string): LeaderElector {
    return this.electors[this.shareOf(job)];
  }

  /** Each share's changes, with `share` set. */
  onChange(listener: (event: LeaderChangeEvent) => void): () => void {
    const unsubscribe = this.electors.map((elector, share) =>
      elector.onChange((event) => listener({ ...event, share })),
    );
    return () => unsubscribe.forEach((stop) => stop());
  }

  /** The membership Lease's name, then each share's. */
  leaseNames(): string[] {
    return [this.membershipLeaseName, ...this.electors.map((elector) => elector.name)];
  }

  /** The membership's state (the shares' electors report theirs). */
  status(): ElectionEngineStatus {
    return { membership: this.membership.status() };
  }

  /** The shares this replica leads now. */
  ledShares(): number[] {
    return this.electors.flatMap((elector, index) => (elector.isLeader() ? [index] : []));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.membership.start();
    for (const elector of this.electors) {
      this.unsubscribe.push(elector.onChange(() => this.checkSoon()));
      elector.start();
    }
    this.unsubscribe.push(this.membership.onChange(() => this.checkSoon()));
    this.schedule(this.checkInterval);
  }

  /**
   * Stops every share's elector (each releases its Lease if it leads, once its work ended), then
   * leaves the membership: a replica with another share count that waits for this one's count to
   * leave ({@link holdsBack}) starts a job only after this one's work has ended.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.unsubscribe.splice(0).forEach((unsubscribe) => unsubscribe());
    await Promise.all(this.electors.map((e) => e.stop()));
    await this.membership.stop();
  }

  /** A change was seen: check the balance shortly (changes come in bursts). */
  private checkSoon(): void {
    this.schedule(Math.min(this.checkInterval, 100));
  }

  private schedule(delay: number): void {
    if (!this.running) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => void this.check(), delay);
  }

  /** Hands one share over when this replica leads more than its quota. */
  private async check(): Promise<void> {
    this.timer = undefined;
    if (!this.running || this.handingOver) return;
    const holders = this.electors.map((elector) => elector.getLeader());
    const entries = this.membership.entries();
    this.settlePending(holders, entries);
    // Only a renewed entry shows a suspect is running: a share it still seems to hold may be one
    // it held before it died, until that Lease expires.
    for (const [member, until] of this.suspects) {
      if (entries.get(member)?.until !== until) this.suspects.delete(member);
    }
    const plan =
      this.pending || !this.mayHandOver()
        ? undefined // one handover at a time: wait until its successor holds the share
        : planHandover({
            self: this.identity,
            members: this.membership
              .members()
              .filter((member) => !this.suspects.has(member) && !this.refused.has(member)),
            holders,
            led: this.ledShares(),
            shareCounts: new Map(
              [...entries].flatMap(([member, { shares }]) =>
                shares === undefined ? [] : [[member, shares]],
              ),
            ),
          });
    if (plan) {
      this.handingOver = true;
      this.handovers.push(this.clock.now());
      try {
        this.logger?.log(
          messages.HANDING_SHARE_OVER(plan.share, this.electors[plan.share].name, plan.successor),
        );
        if (await this.electors[plan.share].stepDown({ successor: plan.successor })) {
          this.pending = { ...plan, at: this.clock.now() };
        }
      } catch (error) {
        this.refused.add(plan.successor);
        this.logger?.warn(messages.SHARE_NOT_HANDED_OVER(plan.share, error));
      } finally {
        this.handingOver = false;
      }
    }
    if (this.pending) this.checkSoon();
    else this.schedule(this.checkInterval);
  }

  /** Whether a handover may start now: fewer than {@link HANDOVERS_PER_MINUTE} in the last minute. */
  private mayHandOver(): boolean {
    const now = this.clock.now();
    this.handovers = this.handovers.filter((at) => now - at < 60_000);
    const may = this.handovers.length < HANDOVERS_PER_MINUTE;
    if (!may && !this.pausedNoted)
      this.logger?.warn(messages.HANDOVERS_PAUSED(HANDOVERS_PER_MINUTE));
    this.pausedNoted = !may;
    return may;
  }

  /**
   * Whether the last handover's successor took the share: yes once it holds it; no when another
   * replica took it, or when it is still free after one retry period (the others give a named
   * successor 100 ms). A successor that did not take it becomes a suspect.
   */
  private settlePending(
    holders: readonly (string | null)[],
    entries: Map<string, MemberEntry>,
  ): void {
    const pending = this.pending;
    if (!pending) return;
    const holder = holders[pending.share];
    if (holder === pending.successor) {
      this.pending = undefined;
      return;
    }
    if (holder !== null || this.clock.now() - pending.at > this.checkInterval) {
      this.pending = undefined;
      this.suspects.set(pending.successor, entries.get(pending.successor)?.until);
      const lease = this.electors[pending.share].name;
      this.logger?.warn(messages.SUCCESSOR_DID_NOT_TAKE(pending.successor, pending.share, lease));
    }
  }
}
